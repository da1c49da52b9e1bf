"""The OpenAPI document as client generators and validators read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from app.config import Settings
from app.dataset import ACTOR_KINDS, EVENT_TYPES
from app.main import create_app
from app.openapi import ENUMS
from app.reader import read_dataset


@pytest.fixture(scope="module")
def spec() -> dict:
    return create_app(Settings(database_url="sqlite://")).openapi()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_document_is_valid_openapi(spec):
    validate(json.loads(json.dumps(spec)))  # raises on any problem


def test_operation_ids_are_the_handler_names(spec):
    ids = {(path, method): op["operationId"] for path, method, op in _operations(spec)}
    assert ids[("/events", "get")] == "list_events"
    assert ids[("/events/{event_id}", "get")] == "get_event"
    assert ids[("/timelinejs", "get")] == "get_timelinejs"
    assert ids[("/events.csv", "get")] == "get_csv"
    assert ids[("/events.geojson", "get")] == "get_geojson"
    assert ids[("/actors/{actor_id}/events", "get")] == "list_actor_events"
    assert len(set(ids.values())) == len(ids)
    assert all(value.isidentifier() for value in ids.values())


def test_vocabularies_are_shared_components(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["EventType"]["enum"] == list(EVENT_TYPES)
    assert schemas["ActorKind"]["enum"] == list(ACTOR_KINDS)
    for name in ("PlaceKind", "Precision", "Match", "Sort", "GroupBy"):
        assert schemas[name]["type"] == "string" and schemas[name]["enum"], name
    # No inline copy of a vocabulary is left anywhere: each use is a reference.
    text = json.dumps(spec)
    assert text.count('"enum"') == len(ENUMS)
    parameters = {p["name"]: p for p in spec["paths"]["/events"]["get"]["parameters"]}
    assert parameters["type"]["schema"]["items"] == {"$ref": "#/components/schemas/EventType"}
    assert parameters["match"]["schema"]["$ref"] == "#/components/schemas/Match"
    assert parameters["sort"]["schema"]["$ref"] == "#/components/schemas/Sort"
    kinds = spec["paths"]["/actors"]["get"]["parameters"]
    assert next(p for p in kinds if p["name"] == "kind")["schema"]["$ref"].endswith("/ActorKind")
    assert schemas["ActorSummary"]["properties"]["kind"]["$ref"].endswith("/ActorKind")
    assert schemas["PlaceSummary"]["properties"]["kind"]["$ref"].endswith("/PlaceKind")


def test_every_status_the_server_can_send_is_declared(spec):
    for path, _, operation in _operations(spec):
        responses = operation["responses"]
        for status in ("200", "405", "414", "422", "503"):
            assert status in responses, (path, status)
        assert ("304" in responses) == (path != "/health"), path
        assert ("404" in responses) == ("{" in path), path
        for status, response in responses.items():
            if status[0] in "45":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"
                }
        assert "content" not in responses.get("304", {})


def test_array_parameters_have_array_examples_and_no_null(spec):
    for _, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert "anyOf" not in schema, parameter["name"]
            if schema.get("type") == "array":
                assert all(isinstance(e, list) for e in schema.get("examples", [])), parameter


def test_query_parameters_say_that_a_blank_value_is_allowed(spec, client):
    # A blank value means absent, for every query parameter: `kind=` lists every actor.
    for path, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            expected = True if parameter["in"] == "query" else None
            assert parameter.get("allowEmptyValue") is expected, (path, parameter["name"])
    assert client.get("/actors?kind=&limit=").json() == client.get("/actors").json()
    assert client.get("/events?sort=&match=&type=").json() == client.get("/events").json()


def test_every_parameter_is_described_with_an_example(spec):
    # What Swagger UI prefills and client generators document, path ids included.
    shipped = read_dataset(Path(__file__).parent.parent / "data")
    ids = {
        "event_id": {e.record.id for e in shipped.events},
        "actor_id": {a.record.id for a in shipped.actors},
        "place_id": {p.record.id for p in shipped.places},
        "source_id": {s.record.id for s in shipped.sources},
    }
    for path, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (path, parameter["name"])
            examples = parameter["schema"].get("examples")
            assert examples, (path, parameter["name"])
            if parameter["in"] == "path":  # the example names something shipped
                assert examples[0] in ids[parameter["name"]], (path, examples)


def test_servers_license_security_and_typed_feeds(spec):
    assert spec["servers"] == [{"url": "/", "description": "This server."}]
    assert spec["security"] == []
    assert spec["info"]["license"]["identifier"] == "MIT"
    timeline = spec["paths"]["/timelinejs"]["get"]["responses"]["200"]["content"]
    assert timeline["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TimelineDocument"
    }
    geo = spec["paths"]["/events.geojson"]["get"]["responses"]["200"]["content"]
    assert geo["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/FeatureCollection"
    }
    page = spec["components"]["schemas"]["Page_EventSummary_"]
    assert "total_exact" in page["required"]


def test_feeds_match_their_documented_shapes(client):
    from app.api.feeds import GEOJSON_EXAMPLE, TIMELINEJS_EXAMPLE
    from app.feed_models import FeatureCollection, TimelineDocument

    for query in ("", "?group_by=type", "?place=Tajikistan"):
        TimelineDocument.model_validate(client.get(f"/timelinejs{query}").json())
    for query in ("", "?place=Tajikistan"):
        FeatureCollection.model_validate(client.get(f"/events.geojson{query}").json())
    TimelineDocument.model_validate(TIMELINEJS_EXAMPLE)
    FeatureCollection.model_validate(GEOJSON_EXAMPLE)
