"""/timelinejs, /events.geojson, /events.csv: same filters as /events; caching headers."""

from __future__ import annotations

import csv
import io

import pytest

from app.dates import parse_edtf


def event_ids(client, query: str = "") -> list[str]:
    return [e["id"] for e in client.get(f"/events?limit=500&{query}").json()["items"]]


@pytest.mark.parametrize(
    "query",
    ["", "place=Tajikistan", "actor=irpt&from=2015-09", "q=osce", "type=killing&sort=-date"],
)
def test_every_feed_holds_exactly_the_events_of_the_list(client, query):
    expected = event_ids(client, query)
    timeline = client.get(f"/timelinejs?{query}").json()
    assert [e["unique_id"] for e in timeline["events"]] == expected
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/events.csv?{query}").content.decode("utf-8-sig")))
    )
    assert [r["id"] for r in rows] == expected
    geo = client.get(f"/events.geojson?{query}").json()
    assert geo["events"] == len(expected)
    assert {f["properties"]["id"] for f in geo["features"]} <= set(expected)


def test_timelinejs_maps_every_event(client):
    doc = client.get("/timelinejs").json()
    assert doc["title"] == {"text": {"headline": "tajik-timeline", "text": "15 events"}}
    items = client.get("/events?limit=500").json()["items"]
    for slide, item in zip(doc["events"], items, strict=True):
        span = parse_edtf(item["date"])
        assert slide["unique_id"] == item["id"]
        assert slide["start_date"]["year"] == span.start.year
        assert None not in slide["start_date"].values()
        assert ("day" in slide["start_date"]) == (item["precision"] == "day")
        if "end_date" in slide:
            assert slide["end_date"]["year"] == span.end.year
        assert "group" not in slide  # one row by default: readable in a small embed
        assert slide["text"]["headline"]
    by_id = {s["unique_id"]: s for s in doc["events"]}
    assert by_id["2015-03-quvvatov-killed-istanbul"]["start_date"] == {"year": 2015, "month": 3}
    assert by_id["2014-summer-embassy-attack"]["display_date"] == "Summer 2014"
    assert by_id["1992-civil-war"]["end_date"] == {"year": 1997}


def test_timelinejs_group_by_and_limit(client):
    doc = client.get("/timelinejs?group_by=place&limit=2").json()
    assert [e["group"] for e in doc["events"]] == ["Tajikistan", "Moscow"]
    assert doc["title"]["text"]["text"] == "2 of 15 events"
    assert client.get("/timelinejs?group_by=colour").status_code == 422
    by_type = client.get("/timelinejs?group_by=type&limit=1").json()["events"][0]
    assert isinstance(by_type["group"], str) and by_type["group"]
    none = client.get("/timelinejs?group_by=none").json()["events"]
    assert none and all("group" not in slide for slide in none)


def test_timelinejs_title_says_what_was_filtered(client):
    doc = client.get("/timelinejs?actor=Kuvvatov&from=2015&to=2017").json()
    assert doc["title"]["text"] == {
        "headline": "Events: actor Kuvvatov, 2015–2017",
        "text": "1 event",
    }
    doc = client.get("/timelinejs?type=killing&type=arrest&place=Tajikistan&from=2014").json()
    assert doc["title"]["text"]["headline"] == (
        "Events: place Tajikistan, type killing or arrest, from 2014"
    )
    doc = client.get("/timelinejs?q=%3Cb%3E%20Istanbul&to=2016").json()  # typed text stays text
    assert doc["title"]["text"]["headline"] == "Events: matching “&lt;b&gt; Istanbul”, until 2016"
    assert client.get("/timelinejs?limit=0").status_code == 422


def test_geojson_features(client):
    response = client.get("/events.geojson")
    assert response.headers["content-type"] == "application/geo+json"
    doc = response.json()
    assert (doc["type"], doc["events"], doc["events_without_coordinates"]) == (
        "FeatureCollection",
        15,
        4,
    )
    feature = next(f for f in doc["features"] if f["properties"]["id"] == "2016-asylum-warsaw")
    assert feature["geometry"] == {"type": "Point", "coordinates": [21.0122, 52.2297]}
    assert feature["properties"]["place_name"] == "Warsaw"


def test_csv_download(client):
    response = client.get("/events.csv?actor=Kuvvatov")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="events.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("id,title,date,display_date,precision,start,end,")  # plain UTF-8
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert next(iter(row)) == "id"  # what csv, pandas and csvkit read as the first column
    assert row["actors"] == "Umarali Quvvatov (victim)"
    assert (row["date"], row["start"], row["end"], row["precision"]) == (
        "2015-03",
        "2015-03-01",
        "2015-03-31",
        "month",
    )
    assert client.get("/events.csv?limit=3").text.count("\r\n") == 4


def test_csv_byte_order_mark_on_request(client):
    """For Excel, which reads a CSV without one in the local code page."""
    plain = client.get("/events.csv?actor=Kuvvatov").content
    marked = client.get("/events.csv?actor=Kuvvatov&bom=true").content
    assert marked == b"\xef\xbb\xbf" + plain
    assert client.get("/events.csv?actor=Kuvvatov&bom=false").content == plain


def test_feeds_refuse_bad_filters_as_json(client):
    for path in ("/timelinejs", "/events.geojson", "/events.csv", "/facets"):
        response = client.get(f"{path}?from=2015-13")
        assert response.status_code == 422, path
        assert response.json()["details"][0]["parameter"] == "from"


def test_etag_and_not_modified(client):
    first = client.get("/events?type=killing")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/events?type=killing", headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    other = client.get("/events?type=arrest", headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    assert client.get("/timelinejs", headers={"If-None-Match": "*"}).status_code == 304


@pytest.fixture
def own_client(database_url):
    """An app over its own copy of the fixture dataset, which a test may change."""
    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    engine = make_engine(database_url)
    load(engine, read_dataset(FIXTURE_DATA))
    settings = Settings(database_url=database_url, cors_origins=["https://example.org"])
    with TestClient(create_app(settings)) as client:
        yield client, engine
    engine.dispose()


def _delete_events_behind_the_apps_back(engine):
    from sqlalchemy import text

    with engine.begin() as connection:
        for table in ("key_stats", "event_keys", "event_order"):
            connection.execute(text(f"DELETE FROM {table}"))
        for table in ("event_relations", "figures", "citations", "event_tags"):
            connection.execute(text(f"DELETE FROM {table}"))
        for table in ("event_places", "event_actors", "events"):
            connection.execute(text(f"DELETE FROM {table}"))


def test_a_url_asked_again_is_answered_from_memory(own_client):
    """The same dataset and URL give the same bytes, so the second answer runs no query:
    rows removed without a reload (never done in practice) do not show through it."""
    client, engine = own_client
    first = client.get("/events?type=killing")
    assert first.json()["total"] > 0
    _delete_events_behind_the_apps_back(engine)
    again = client.get("/events?type=killing")
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert client.get("/events?type=arrest").json()["total"] == 0  # a new URL is queried


def test_kept_answers_carry_no_other_clients_cors_headers(own_client):
    client, _ = own_client
    mine = client.get("/events?tag=osce", headers={"Origin": "https://example.org"})
    assert mine.headers["access-control-allow-origin"] == "https://example.org"
    theirs = client.get("/events?tag=osce")
    assert theirs.content == mine.content
    assert "access-control-allow-origin" not in theirs.headers
    assert theirs.headers["x-content-type-options"] == "nosniff"


def test_response_memory_can_be_turned_off(database_url):
    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    engine = make_engine(database_url)
    load(engine, read_dataset(FIXTURE_DATA))
    settings = Settings(database_url=database_url, response_cache_mb=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/events?type=killing").json()["total"] > 0
        _delete_events_behind_the_apps_back(engine)
        assert client.get("/events?type=killing").json()["items"] == []
    engine.dispose()


def test_response_memory_keeps_the_most_recent_within_its_budget():
    from app.caching import ResponseCache

    cache = ResponseCache(max_bytes=100, max_item=60)
    cache.put("a", [], b"x" * 40)
    cache.put("b", [], b"x" * 40)
    assert cache.get("a") is not None  # now the most recent
    cache.put("c", [], b"x" * 40)  # over budget: the least recent ("b") goes
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    cache.put("big", [], b"x" * 61)  # larger than one item may be
    assert cache.get("big") is None


def test_errors_carry_no_etag(client):
    response = client.get("/events?limit=0")
    assert "etag" not in response.headers


def test_cors_preflight_for_every_feed(client):
    for path in ("/events", "/timelinejs", "/events.csv", "/events.geojson", "/facets"):
        response = client.options(
            path,
            headers={
                "Origin": "https://example.org",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        )
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_geojson_draws_only_the_filtered_places(database_url, tmp_path):
    """An event in Dushanbe and Moscow, filtered by Tajikistan, is one point: Dushanbe."""
    import shutil

    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    root = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, root)
    events = root / "events" / "2014.yaml"
    text = events.read_text(encoding="utf-8")
    assert "  places: [dushanbe]\n" in text
    events.write_text(text.replace("  places: [dushanbe]\n", "  places: [dushanbe, moscow]\n", 1))
    engine = make_engine(database_url)
    load(engine, read_dataset(root))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        everywhere = client.get("/events.geojson").json()["features"]

        def at(place):
            return {
                f["properties"]["id"] for f in everywhere if f["properties"]["place_id"] == place
            }

        both = at("moscow") & at("dushanbe")
        assert both == {"2014-summer-embassy-attack"}
        inside = client.get("/events.geojson?place=Tajikistan").json()
        places = {f["properties"]["place_id"] for f in inside["features"]}
        assert "moscow" not in places
        assert places <= {"tajikistan", "gorno-badakhshan", "khorog", "dushanbe"}
        assert both <= {f["properties"]["id"] for f in inside["features"]}
        russia = client.get("/events.geojson?place=Russia&place=Khorog").json()
        assert {f["properties"]["place_id"] for f in russia["features"]} == {"moscow", "khorog"}
