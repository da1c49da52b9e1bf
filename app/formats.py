"""Feeds built from query results: TimelineJS3 JSON, RFC 7946 GeoJSON and CSV rows.

Each takes event summaries (or ORM rows) produced by the same `events_query` as
`/events`, so a feed always holds exactly the events the list would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable
from functools import lru_cache
from html import escape
from typing import Any, Literal

from app.dates import Span, display_date, interval_ends, parse_edtf
from app.schemas import EventSummary

GroupBy = Literal["none", "type", "actor", "place"]

CSV_COLUMNS = (
    "id",
    "title",
    "date",
    "display_date",
    "precision",
    "start",
    "end",
    "approximate",
    "uncertain",
    "type",
    "summary",
    "actors",
    "actor_ids",
    "places",
    "place_ids",
    "tags",
    "sources",
)


# --- TimelineJS3 ---------------------------------------------------------------------


def _tl_date(span: Span, side: Literal["start", "end"]) -> dict[str, int]:
    """A TimelineJS date object with only the parts the precision has."""
    day = span.start if side == "start" else span.end
    parts = {"year": day.year}
    if span.precision in ("day", "month", "season"):
        parts["month"] = day.month
    if span.precision == "day":
        parts["day"] = day.day
    return parts


def _tl_dates(span: Span) -> tuple[dict[str, int], dict[str, int] | None]:
    if span.precision == "range":
        first, last = interval_ends(span.edtf)
        if first is None:
            # Known only to precede its end: a point in the end's year (its display date
            # says "…–7 July 2017"), neither a slide from the year 1 nor an invented day.
            return {"year": span.end.year}, None
        if last is None:  # open-ended (`2015/..`): a point at its start, not a slide to 9999
            return _tl_date(first, "start"), None
        return _tl_date(first, "start"), _tl_date(last, "end")
    start = _tl_date(span, "start")
    end = _tl_date(span, "end")
    # A single day, month or year is one point on the timeline; longer spans get an end.
    return start, (end if end != start else None)


def _needs_display_date(span: Span) -> bool:
    plain = span.precision in ("day", "month", "year")
    return not plain or span.approximate or span.uncertain


def _html_text(text: str) -> str:
    """Text for a TimelineJS field that the widget renders as (sanitized) HTML: `<`, `>`
    and `&` escaped so they show as typed; quotes stay plain, since they need no escape
    outside attributes."""
    return escape(text, quote=False)


def _group(summary: EventSummary, group_by: GroupBy) -> str:
    if group_by == "actor":
        return summary["actors"][0]["name"] if summary["actors"] else "No actor named"
    if group_by == "place":
        return summary["places"][0]["name"] if summary["places"] else "No place named"
    return summary["type"].replace("_", " ")


@lru_cache(maxsize=65_536)
def _slide_dates(edtf: str) -> tuple[dict[str, int], dict[str, int] | None, str | None]:
    """Start, end and display date of a slide (dates repeat a lot: worth remembering)."""
    span = parse_edtf(edtf)
    start, end = _tl_dates(span)
    return start, end, display_date(span) if _needs_display_date(span) else None


def _slide_text(summary: EventSummary, escaped_titles: dict[str, str]) -> str:
    sources = ", ".join(escaped_titles.get(s) or _html_text(s) for s in summary["sources"])
    body = f"<p>{_html_text(summary['summary'])}</p>"
    if summary["actors"]:
        actors = ", ".join(
            f"{_html_text(a['name'])} ({_html_text(a['role'])})" for a in summary["actors"]
        )
        body += f"<p>Actors: {actors}</p>"
    return body + f"<p>Sources: {sources}</p>"


def timelinejs(
    summaries: Iterable[EventSummary],
    *,
    title: str,
    description: str,
    source_titles: dict[str, str],
    group_by: GroupBy = "none",
) -> dict[str, Any]:
    """A TimelineJS3 document: never a null date, numeric date parts, string ids.

    With `group_by="none"` slides carry no `group`, so the widget draws one band of
    markers instead of a labelled row per group (which crowds a small embed).
    """
    events = []
    titles = {source: _html_text(title) for source, title in source_titles.items()}
    for summary in summaries:
        start, end, shown = _slide_dates(summary["date"])
        slide: dict[str, Any] = {
            "start_date": start,
            "text": {
                "headline": _html_text(summary["title"]),
                "text": _slide_text(summary, titles),
            },
            "unique_id": summary["id"],
        }
        if group_by != "none":
            slide["group"] = _group(summary, group_by)
        if end is not None:
            slide["end_date"] = end
        if shown is not None:
            slide["display_date"] = shown
        events.append(slide)
    return {
        "title": {"text": {"headline": _html_text(title), "text": _html_text(description)}},
        "events": events,
    }


# --- GeoJSON ----------------------------------------------------------------------------


def geojson(
    summaries: Iterable[EventSummary], allowed_places: Collection[str] | None = None
) -> dict[str, Any]:
    """One Point Feature per event and located place; unlocated events are counted.

    With `allowed_places` (a `place` filter's places and everything inside them), only
    those places become points: an event in Dushanbe and Moscow filtered by Tajikistan is
    drawn in Dushanbe alone.
    """
    features: list[dict[str, Any]] = []
    events = without = 0
    for summary in summaries:
        events += 1
        located = [
            p
            for p in summary["places"]
            if p["lat"] is not None
            and p["lon"] is not None
            and (allowed_places is None or p["id"] in allowed_places)
        ]
        if not located:
            without += 1
        properties = {k: v for k, v in summary.items() if k != "places"}
        for place in located:
            features.append(
                {
                    "type": "Feature",
                    "id": f"{summary['id']}@{place['id']}",
                    "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},
                    "properties": {
                        **properties,
                        "place_id": place["id"],
                        "place_name": place["name"],
                        "place_kind": place["kind"],
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "events": events,
        "events_without_coordinates": without,
    }


# --- CSV ------------------------------------------------------------------------------


def csv_header() -> str:
    """The CSV header line."""
    return _csv_lines([list(CSV_COLUMNS)])


def csv_rows(summaries: Iterable[EventSummary]) -> str:
    """CSV lines (RFC 4180 quoting) for events; lists are joined with '; '."""
    rows = []
    for s in summaries:
        actors, places = s["actors"], s["places"]
        rows.append(
            [
                s["id"],
                s["title"],
                s["date"],
                s["display_date"],
                s["precision"],
                s["start"],
                s["end"],
                str(s["approximate"]).lower(),
                str(s["uncertain"]).lower(),
                s["type"],
                s["summary"],
                "; ".join(f"{a['name']} ({a['role']})" for a in actors),
                "; ".join(a["id"] for a in actors),
                "; ".join(p["name"] for p in places),
                "; ".join(p["id"] for p in places),
                "; ".join(s["tags"]),
                "; ".join(s["sources"]),
            ]
        )
    return _csv_lines(rows)


def _csv_lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(_defuse(row) for row in rows)
    return buffer.getvalue()


def _defuse(row: list[str]) -> list[str]:
    # Spreadsheets run cells starting with = + - @ as formulas; a leading quote stops that.
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in row]
