"""Feed formats: TimelineJS3 date objects, GeoJSON features, CSV quoting."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from pydantic import TypeAdapter

from app.dates import parse_edtf
from app.formats import csv_header, csv_rows, geojson, timelinejs
from app.schemas import EventSummary


def summary(edtf: str = "2015-03", **overrides) -> EventSummary:
    """A list item as the API builds it: the documented model's JSON form."""
    span = parse_edtf(edtf)
    fields = {
        "id": "e1",
        "title": "Title <b>",
        "date": edtf,
        "display_date": "x",
        "precision": span.precision,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "approximate": span.approximate,
        "uncertain": span.uncertain,
        "type": "armed_clash",
        "summary": "Summary & more",
        "actors": [],
        "places": [],
        "tags": [],
        "sources": ["s1"],
        "added_in": 1,
        "changed_in": 1,
    }
    fields.update(overrides)
    return TypeAdapter(EventSummary).validate_python(fields)


def slide(edtf: str, **overrides):
    doc = timelinejs(
        [summary(edtf, **overrides)], title="T", description="D", source_titles={"s1": "Source One"}
    )
    return doc["events"][0]


@pytest.mark.parametrize(
    ("edtf", "start", "end", "display"),
    [
        ("2015-03-05", {"year": 2015, "month": 3, "day": 5}, None, None),
        ("2015-03", {"year": 2015, "month": 3}, None, None),
        ("2015", {"year": 2015}, None, None),
        ("2014-21", {"year": 2014, "month": 3}, {"year": 2014, "month": 5}, "Spring 2014"),
        ("2014-24", {"year": 2014, "month": 12}, {"year": 2015, "month": 2}, "Winter 2014"),
        ("2003~/2005", {"year": 2003}, {"year": 2005}, "c. 2003–2005"),
        (
            "2015-09/2016-06",
            {"year": 2015, "month": 9},
            {"year": 2016, "month": 6},
            "September 2015–June 2016",
        ),
        ("2002-11~", {"year": 2002, "month": 11}, None, "c. November 2002"),
        ("2014?", {"year": 2014}, None, "2014?"),
        # Known only to precede its end: a point there, not a slide from the year 1.
        ("../2017-07-07", {"year": 2017}, None, "…–7 July 2017"),
        ("201X", {"year": 2010}, {"year": 2019}, "2010s"),
    ],
)
def test_timelinejs_dates_carry_only_their_precision(edtf, start, end, display):
    result = slide(edtf)
    assert result["start_date"] == start
    assert result.get("end_date") == end
    assert result.get("display_date") == display
    for part in [*start.values(), *(end or {}).values()]:
        assert isinstance(part, int)


def test_timelinejs_slide_text_is_escaped_and_cites_sources():
    result = slide(
        "2015", actors=[{"id": "a", "name": "A & B", "kind": "person", "role": "victim"}]
    )
    assert result["text"] == {
        "headline": "Title &lt;b&gt;",
        "text": "<p>Summary &amp; more</p><p>Actors: A &amp; B (victim)</p>"
        "<p>Sources: Source One</p>",
    }
    assert result["unique_id"] == "e1" and "group" not in result


@pytest.mark.parametrize(
    ("group_by", "group"),
    [("type", "armed clash"), ("actor", "No actor named"), ("place", "Khorog")],
)
def test_timelinejs_groups(group_by, group):
    place = {"id": "khorog", "name": "Khorog", "kind": "city", "lat": 1.0, "lon": 2.0}
    doc = timelinejs(
        [summary(places=[place])], title="T", description="D", source_titles={}, group_by=group_by
    )
    assert doc["events"][0]["group"] == group
    assert doc["title"] == {"text": {"headline": "T", "text": "D"}}


def test_geojson_uses_lon_lat_and_counts_unlocated_events():
    located = {"id": "khorog", "name": "Khorog", "kind": "city", "lat": 37.49, "lon": 71.55}
    unlocated = {"id": "poland", "name": "Poland", "kind": "country", "lat": None, "lon": None}
    doc = geojson(
        [
            summary(places=[located, unlocated]),
            summary(id="e2", places=[unlocated]),
            summary(id="e3"),
        ]
    )
    assert (doc["events"], doc["events_without_coordinates"]) == (3, 2)
    [feature] = doc["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [71.55, 37.49]}
    assert feature["properties"]["place_id"] == "khorog"
    assert feature["properties"]["start"] == "2015-03-01"


def test_csv_round_trips_through_a_csv_reader():
    text = csv_header() + csv_rows(
        [
            summary(
                title='Quote "here", comma',
                summary="line one\nline two",
                actors=[{"id": "a", "name": "Ä", "kind": "person", "role": "victim"}],
            ),
            summary(id="e2", summary="=HYPERLINK(1)"),
        ]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["title"] == 'Quote "here", comma'
    assert rows[0]["summary"] == "line one\nline two"
    assert (rows[0]["actors"], rows[0]["actor_ids"]) == ("Ä (victim)", "a")
    assert (rows[0]["start"], rows[0]["end"]) == (date(2015, 3, 1).isoformat(), "2015-03-31")
    assert rows[1]["summary"] == "'=HYPERLINK(1)"  # not a formula in a spreadsheet


def test_timelinejs_text_escapes_only_what_html_needs():
    """TimelineJS renders headlines and texts as (sanitized) HTML: `<`, `>` and `&` must be
    escaped to show as typed, while quotes and apostrophes stay readable in the JSON."""
    title = "O'Brien's \"Group 24\" <b>&"
    result = slide("2015", title=title)
    assert result["text"]["headline"] == "O'Brien's \"Group 24\" &lt;b&gt;&amp;"
    doc = timelinejs([], title=title, description="a & b", source_titles={})
    assert doc["title"]["text"] == {
        "headline": "O'Brien's \"Group 24\" &lt;b&gt;&amp;",
        "text": "a &amp; b",
    }
