"""/health, /facets, docs, CORS and the error shape for unknown paths."""

from __future__ import annotations

from app.reader import read_dataset
from tests.conftest import FIXTURE_DATA, schema_head


def test_health(client):
    body = client.get("/health").json()
    keys = ("status", "events", "dataset_hash", "schema_revision", "version")
    assert {k: body[k] for k in keys} == {
        "status": "ok",
        "events": 15,
        "dataset_hash": read_dataset(FIXTURE_DATA).hash,
        "schema_revision": schema_head(),
        "version": 1,
    }
    assert body["loaded_at"].endswith(("+00:00", "Z"))


def test_facets_describe_the_same_filters(client):
    body = client.get("/facets?place=Tajikistan").json()
    assert body["total"] == 8
    assert body["type"] == [
        {"value": "armed_clash", "label": "armed_clash", "count": 3},
        {"value": "arrest", "label": "arrest", "count": 1},
        {"value": "attack_on_mission", "label": "attack_on_mission", "count": 1},
        {"value": "ban", "label": "ban", "count": 1},
        {"value": "diplomatic_visit", "label": "diplomatic_visit", "count": 1},
        {"value": "election", "label": "election", "count": 1},
    ]
    assert [(y["value"], y["count"]) for y in body["year"]] == [
        ("1992", 1),
        ("2002", 1),
        ("2012", 1),
        ("2014", 3),
        ("2015", 2),
    ]
    assert body["actor"][:2] == [
        {"value": "tajik-government", "label": "Government of Tajikistan", "count": 3},
        {"value": "irpt", "label": "Islamic Renaissance Party of Tajikistan", "count": 2},
    ]
    # A place counts the events anywhere inside it: what filtering on it returns.
    assert [(p["value"], p["count"]) for p in body["place"]] == [
        ("tajikistan", 8),
        ("dushanbe", 4),
        ("gorno-badakhshan", 3),
        ("khorog", 2),
    ]
    assert [(s["value"], s["count"]) for s in body["source"]] == [
        ("beta-2014", 5),
        ("alpha-2017", 4),
    ]
    assert (
        sum(t["count"] for t in body["type"])
        == client.get("/events?place=Tajikistan").json()["total"]
    )


def test_facet_size(client):
    body = client.get("/facets?size=1").json()
    assert [a["value"] for a in body["actor"]] == ["irpt"]
    assert client.get("/facets?size=0").status_code == 422


def test_openapi_documents_every_parameter_with_an_example(client):
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for operation in item.values():
            assert operation.get("description"), path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    continue
                assert parameter.get("description"), (path, parameter["name"])
                assert (
                    "example" in parameter
                    or "examples" in parameter
                    or ("examples" in parameter.get("schema", {}))
                ), (path, parameter["name"])


def test_docs_pages(client):
    assert "swagger-ui" in client.get("/docs").text
    assert "redoc" in client.get("/redoc").text


def test_unknown_path_and_method_are_json(client):
    response = client.get("/nowhere")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    response = client.post("/events")
    assert (response.status_code, response.json()["error"]) == (405, "method_not_allowed")


def test_cors_allows_configured_origin_only(client):
    allowed = client.get("/events?limit=1", headers={"Origin": "https://example.org"})
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"
    other = client.get("/events?limit=1", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/events", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200


def test_an_open_start_has_no_start_year_in_the_facets(database_url, tmp_path):
    """An event known only to precede a date is counted, but under no start year (the
    year 1 would stretch every histogram back two thousand years)."""
    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from tests.factories import add_events, copy_fixture, event

    root = copy_fixture(tmp_path)
    add_events(root, event(id="2017-before-the-article", date="../2017-07-07"))
    engine = make_engine(database_url)
    load(engine, read_dataset(root))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for query in ("", "?to=2017"):  # the whole dataset's counts, and a filtered set's
            body = client.get(f"/facets{query}").json()
            years = {y["value"]: y["count"] for y in body["year"]}
            assert "0001" not in years and "1" not in years
            assert sum(years.values()) == body["total"] - 1
        listed = client.get("/events?limit=1").json()["items"][0]
        assert (listed["id"], listed["display_date"]) == (
            "2017-before-the-article",
            "…–7 July 2017",
        )


def test_first_and_last_dates_leave_out_open_bounds(database_url, tmp_path):
    """An actor's, place's or source's first date is the earliest start an event of it
    has, not the placeholder day an open start is stored from; its last date likewise."""
    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from tests.factories import add_events, copy_fixture, event

    root = copy_fixture(tmp_path)
    with (root / "actors.yaml").open("a", encoding="utf-8") as actors_file:
        actors_file.write("- id: only-before\n  name: Only Before\n  kind: person\n")
    quvvatov = [{"actor": "umarali-quvvatov", "role": "subject"}]
    add_events(
        root,
        event(id="2017-before-the-article", date="../2017-07-07", actors=quvvatov),
        event(id="2016-ongoing", date="2016/..", actors=quvvatov),
        event(
            id="2018-only-before",
            date="../2018",
            actors=[{"actor": "only-before", "role": "subject"}],
        ),
    )
    engine = make_engine(database_url)
    load(engine, read_dataset(root))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        detail = client.get("/actors/umarali-quvvatov").json()
        own = client.get("/events?actor=umarali-quvvatov").json()["items"]
        known = [e["start"] for e in own if not e["date"].startswith("../")]
        assert detail["event_count"] == len(own) > len(known) > 0
        assert detail["first_date"] == min(known)
        ends = [e["end"] for e in own if not e["date"].endswith("/..")]
        assert detail["last_date"] == max(ends) != "9999-12-31"
        # On a timeline, an open-ended event is a point at its start, not a slide to 9999.
        slides = client.get("/timelinejs?actor=umarali-quvvatov").json()["events"]
        (ongoing,) = [s for s in slides if s["unique_id"] == "2016-ongoing"]
        assert ongoing["start_date"] == {"year": 2016} and "end_date" not in ongoing
        assert client.get("/sources/alpha-2017").json()["first_date"] != "0001-01-01"
        only = client.get("/actors/only-before").json()
        assert (only["event_count"], only["first_date"], only["last_date"]) == (
            1,
            None,
            "2018-12-31",
        )
