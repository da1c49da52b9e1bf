"""Reading what the load made ready: event documents by rank, and one event in full. No
web framework here; filters are planned in `app.planner`, directories are `app.directory`."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic_core import from_json

from app.db import ReadSession
from app.errors import NotFound
from app.planner import Plan, cursor_rank, encode_cursor, page_sql
from app.prepared import iso, run
from app.schemas import EventDetail, EventSummary

_DOC_COLUMNS = "o.rank, o.date_start, o.date_end, o.event_id, d.doc"
_DOCS = "JOIN event_docs d ON d.rank = o.rank"
Row = tuple[int, str, str, str, str]


def _row(r: tuple[Any, ...]) -> Row:
    return int(r[0]), iso(r[1]), iso(r[2]), str(r[3]), str(r[4])


def _docs(session: ReadSession, plan: Plan, size: int, after: int | None) -> list[Row]:
    """(rank, start, end, id, document) of the first `size` matching events after
    `after`, in the plan's order: the page's ranks and their documents in one statement."""
    if plan.strategy == "nothing" or size <= 0:
        return []
    ranks, values = page_sql(plan, after)
    direction = "" if plan.sort == "date" else " DESC"
    rows = run(
        session,
        f"SELECT {_DOC_COLUMNS} FROM ({ranks}) AS p JOIN event_order o ON o.rank = p.rank"
        f" {_DOCS} ORDER BY o.rank{direction}",
        **values,
        size=size,
    )
    return [_row(r) for r in rows]


def _docs_at(session: ReadSession, ranks: list[int]) -> list[Row]:
    """The same rows for the events at `ranks`, in that order."""
    if not ranks:
        return []
    names = ", ".join(f":r{i}" for i in range(len(ranks)))
    rows = run(
        session,
        f"SELECT {_DOC_COLUMNS} FROM event_order o {_DOCS} WHERE o.rank IN ({names})",
        **{f"r{i}": rank for i, rank in enumerate(ranks)},
    )
    by_rank = {int(r[0]): _row(r) for r in rows}
    return [by_rank[rank] for rank in ranks if rank in by_rank]


def page_documents(
    session: ReadSession, plan: Plan, limit: int, cursor: str | None
) -> tuple[list[str], str | None]:
    """One page of event documents (JSON text) after `cursor`, and the next cursor."""
    after = cursor_rank(session, cursor, plan.sort) if cursor else None
    return _page(_docs(session, plan, limit + 1, after), limit, plan)


def counted_first_page(
    session: ReadSession, plan: Plan, limit: int
) -> tuple[list[str], str | None, int, bool]:
    """The first page, its next cursor and the total (up to the count limit for words)
    from one walk: the first matching ranks up to that limit, in order. Finding the
    matches of words is the costly part; this finds them once for both."""
    cap = plan.thresholds.words_count_limit
    ranks: list[int] = []
    if plan.strategy != "nothing":
        sql, values = page_sql(plan, None)
        ranks = [int(r[0]) for r in run(session, sql, **values, size=max(cap, limit) + 1)]
    docs, next_cursor = _page(_docs_at(session, ranks[: limit + 1]), limit, plan)
    return docs, next_cursor, min(len(ranks), cap), len(ranks) <= cap


def _page(rows: list[Row], limit: int, plan: Plan) -> tuple[list[str], str | None]:
    if len(rows) > limit:
        _, start, end, event_id, _ = rows[limit - 1]
        return [r[4] for r in rows[:limit]], encode_cursor((start, end, event_id), plan.sort)
    return [r[4] for r in rows], None


def page_body(docs: list[str], total: int, exact: bool, next_cursor: str | None) -> bytes:
    """A page's JSON, the stored documents spliced in as they are."""
    tail = json.dumps(
        {"total": total, "total_exact": exact, "next_cursor": next_cursor}, separators=(",", ":")
    )
    return ('{"items":[' + ",".join(docs) + "]," + tail[1:]).encode()


def iter_summaries(
    session: ReadSession, plan: Plan, limit: int | None, batch: int = 1000
) -> Iterator[EventSummary]:
    """Every matching event's summary (up to `limit`), read a batch at a time: the feeds
    derive from the same documents the lists send."""
    after: int | None = None
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        rows = _docs(session, plan, size, after)
        for row in rows:
            yield from_json(row[4])
        if len(rows) < size:
            return
        after = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)


# One event in full, in one statement: the document and notes, then its places' parents,
# citations, figures and related events, each as a JSON array of arrays that lead with
# their sort key (an aggregate's order is not guaranteed on SQLite).
_DETAIL = (
    "SELECT d.doc, e.notes,"
    " (SELECT {agg}({arr}(p.depth, t.place_id, p.id, p.name, p.kind, p.lat, p.lon))"
    " FROM event_places ep JOIN place_tree t ON t.place_id = ep.place_id"
    " JOIN places p ON p.id = t.ancestor_id"
    " WHERE ep.event_id = o.event_id AND t.ancestor_id != t.place_id),"
    " (SELECT {agg}({arr}(c.position, c.quote, c.claimed_date, s.id, s.title, s.author,"
    " s.publisher, s.published, s.url)) FROM citations c JOIN sources s ON s.id = c.source_id"
    " WHERE c.event_id = o.event_id),"
    " (SELECT {agg}({arr}(f.position, f.metric, f.value, f.low, f.high, f.approximate, f.unit,"
    " f.source_id, f.quote)) FROM figures f WHERE f.event_id = o.event_id),"
    " (SELECT {agg}({arr}(r.rank, x.id, x.title, x.edtf, x.type)) FROM event_order r"
    " JOIN events x ON x.id = r.event_id WHERE r.event_id IN"
    " (SELECT related_id FROM event_relations WHERE event_id = o.event_id"
    " UNION SELECT event_id FROM event_relations WHERE related_id = o.event_id))"
    " FROM event_order o JOIN event_docs d ON d.rank = o.rank JOIN events e ON e.id = o.event_id"
    " WHERE o.event_id = :id"
)
_JSON = {
    "sqlite": {"agg": "json_group_array", "arr": "json_array"},
    "postgresql": {"agg": "json_agg", "arr": "json_build_array"},
}


def _sorted(found: Any) -> list[list[Any]]:
    """A JSON array of arrays (text on SQLite, parsed by the driver on PostgreSQL; null
    for none there), in the order of their first items."""
    rows: list[list[Any]] = (from_json(found) if isinstance(found, str) else found) or []
    return sorted(rows, key=lambda row: row[0])


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def event_detail(session: ReadSession, event_id: str) -> EventDetail:
    """One event in full: its document, places with their parents, citations with their
    sources, figures, related events and notes."""
    dialect = session.dialect.name
    rows = run(session, _DETAIL.format(**_JSON.get(dialect, _JSON["postgresql"])), id=event_id)
    if not rows:
        raise NotFound("event", event_id)
    doc, notes, parents, citations, figures, related = rows[0]
    detail: Any = from_json(doc)
    chains: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, place_id, parent_id, name, kind, lat, lon in _sorted(parents):
        chains[place_id].append(
            {"id": parent_id, "name": name, "kind": kind, "lat": _number(lat), "lon": _number(lon)}
        )
    detail["places"] = [{**p, "parents": chains.get(p["id"], [])} for p in detail["places"]]
    detail["citations"] = [
        {
            "source": {
                "id": source_id,
                "title": title,
                "author": author,
                "publisher": publisher,
                "published": published,
                "url": url,
            },
            "quote": quote,
            "claimed_date": claimed,
        }
        for _, quote, claimed, source_id, title, author, publisher, published, url in _sorted(
            citations
        )
    ]
    detail["figures"] = [
        {
            "metric": metric,
            "value": _number(value),
            "low": _number(low),
            "high": _number(high),
            "approximate": bool(approximate),
            "unit": unit,
            "source": source,
            "quote": quote,
        }
        for _, metric, value, low, high, approximate, unit, source, quote in _sorted(figures)
    ]
    detail["related"] = [
        {"id": i, "title": t, "date": d, "type": ty} for _, i, t, d, ty in _sorted(related)
    ]
    detail["notes"] = notes
    return detail  # type: ignore[no-any-return]


def places_inside(session: ReadSession, place_ids: Sequence[str]) -> set[str]:
    """The places and every place inside them (Tajikistan -> its regions -> its cities)."""
    if not place_ids:
        return set()
    names = ", ".join(f":p{i}" for i in range(len(place_ids)))
    rows = run(
        session,
        f"SELECT place_id FROM place_tree WHERE ancestor_id IN ({names})",
        **{f"p{i}": p for i, p in enumerate(place_ids)},
    )
    return {str(row[0]) for row in rows}
