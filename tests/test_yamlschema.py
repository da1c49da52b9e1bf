"""`timeline schema`: the YAML format as JSON Schema, shipped in data/schema/ and in step
with the records that validate the data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from app.dataset import EventRecord, PlaceRecord
from app.dates import parse_edtf
from app.reader import event_files
from app.yamlfile import decode_yaml, parse_yaml, parse_yaml_fast
from app.yamlschema import RECORDS, schema_text, yaml_schema
from tests.test_cli import run

PROJECT = Path(__file__).parent.parent
DATA = PROJECT / "data"


def validator(kind: str) -> jsonschema_rs.Draft202012Validator:
    schema = json.loads((DATA / "schema" / f"{kind}.schema.json").read_text())
    return jsonschema_rs.Draft202012Validator(schema)


def yaml_items(path: Path) -> list[object]:
    # As an editor reads the file: plain YAML values (`date: 2015` is a number).
    items = parse_yaml_fast(decode_yaml(path.read_bytes()))
    assert isinstance(items, list)
    return items


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_the_shipped_schema_is_the_generated_one(kind):
    """Run `timeline schema KIND > data/schema/KIND.schema.json` after changing a record."""
    assert (DATA / "schema" / f"{kind}.schema.json").read_text() == schema_text(kind)


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_the_command_prints_the_schema(kind):
    result = run("schema", kind)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == yaml_schema(kind)
    assert json.loads(result.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_shipped_data_passes():
    events = [item for path in event_files(DATA) for item in yaml_items(path)]
    assert len(events) > 100
    for kind in ("actors", "places", "sources"):
        assert validator(kind).is_valid(yaml_items(DATA / f"{kind}.yaml")), kind
    errors = [str(error) for error in validator("events").iter_errors(events)]
    assert errors == []


def test_an_event_without_a_title_is_refused():
    (event,) = [yaml_items(event_files(DATA)[0])[0]]
    assert isinstance(event, dict)
    untitled = {k: v for k, v in event.items() if k != "title"}
    errors = list(validator("events").iter_errors([untitled]))
    assert [error.message for error in errors] == ['"title" is a required property']


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "riot"), ("date", "March 2015"), ("date", "2015-3"), ("colour", "red")],
)
def test_the_schema_refuses_what_the_records_refuse(field, value):
    event = {
        "id": "e",
        "title": "t",
        "date": "2015",
        "type": "killing",
        "summary": "s",
        "citations": [{"source": "s", "quote": "q"}],
    }
    assert validator("events").is_valid([event])
    assert not validator("events").is_valid([{**event, field: value}])
    with pytest.raises(ValueError):
        EventRecord.model_validate({**event, field: value})


@pytest.mark.parametrize(
    ("figure", "place"),
    [
        ({"value": "3"}, {}),
        ({"value": " 3 "}, {}),
        ({"value": 3, "approximate": "yes"}, {}),
        ({"value": 3, "approximate": "off"}, {}),
        ({"value": 3, "approximate": 1}, {}),
        ({}, {"lat": "33.9391", "lon": 67.71}),
        ({}, {"lat": True, "lon": 67.71}),
    ],
)
def test_a_quoted_number_or_flag_is_refused_as_the_schema_refuses_it(figure, place):
    # An editor checking the YAML against the schema and `timeline validate` agree: a
    # string where a number or true/false belongs is a mistake, not read as one.
    quote = {"source": "s", "quote": "q"}
    event = {"id": "e", "title": "t", "date": "2015", "type": "killing", "summary": "s"}
    event["citations"] = [quote]
    if figure:
        event["figures"] = [{"metric": "killed", **quote, **figure}]
        assert not validator("events").is_valid([event])
        with pytest.raises(ValueError):
            EventRecord.model_validate(event)
    if place:
        located = {"id": "p", "name": "P", "kind": "city", **place}
        assert not validator("places").is_valid([located])
        with pytest.raises(ValueError):
            PlaceRecord.model_validate(located)


def test_a_date_with_spaces_around_it_is_refused_as_the_schema_refuses_it():
    event = {"id": "e", "title": "t", "type": "killing", "summary": "s"}
    event["citations"] = [{"source": "s", "quote": "q"}]
    for date in (" 2015", "2015 "):
        assert not validator("events").is_valid([{**event, "date": date}])
        with pytest.raises(ValueError, match="spaces around it"):
            EventRecord.model_validate({**event, "date": date})


@pytest.mark.parametrize(
    "date",
    [
        2015,
        "2015",
        "2015-03",
        "2015-03-05",
        "2014-22",
        "201X",
        "19XX",
        "2015-03-XX",
        "2002-11~",
        "2015?",
        "2015-09/2015-10",
        "2003/2005",
        "../2017-07-07",
        "2015/..",
        "2015-03-05%",
    ],
)
def test_the_edtf_pattern_accepts_what_the_loader_reads(date):
    parse_edtf(str(date))
    event = {
        "id": "e",
        "title": "t",
        "date": date,
        "type": "killing",
        "summary": "s",
        "citations": [{"source": "s", "quote": "q"}],
    }
    assert validator("events").is_valid([event])


@pytest.mark.parametrize(
    ("written", "refused"),
    [
        ("value: 1e3", False),
        ("value: 1.5E+2", False),
        ("value: 70", False),
        ('value: "1e3"', True),
        ("value: 7_0.0", True),
        ("value: 1:10", True),
        ("value: 3, approximate: yes", True),
        ("value: 3, approximate: on", True),
        ("value: 3, approximate: true", False),
        ("value: 3, approximate: False", False),
    ],
)
def test_the_yaml_is_read_as_an_editor_reads_it(written, refused):
    # Editors and the JSON Schema read YAML 1.2: `yes` is text, `1e3` a number, `7_0.0`
    # text. `timeline validate` reads the file the same way, so the two agree.
    text = (
        "- id: e\n  title: t\n  date: 2015\n  type: killing\n  summary: s\n"
        "  citations: [{source: s, quote: q}]\n"
        f"  figures: [{{metric: killed, source: s, quote: q, {written}}}]\n"
    )
    for parse in (parse_yaml, parse_yaml_fast):
        (event,) = parse(text)
        assert validator("events").is_valid([event]) is not refused, written
        if refused:
            with pytest.raises(ValueError):
                EventRecord.model_validate(event)
        else:
            EventRecord.model_validate(event)
