"""The README is the manual: every parameter, command and setting appears in it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.cli import build_parser
from app.config import Settings
from app.main import create_app
from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def openapi() -> dict:
    app = create_app(Settings(database_url="sqlite://"))
    return TestClient(app).get("/openapi.json").json()


def test_every_query_parameter_is_documented():
    names = {
        parameter["name"]
        for item in openapi()["paths"].values()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == []


def test_every_path_is_documented():
    paths = openapi()["paths"]
    missing = []
    for path in paths:
        generic = re.sub(r"\{[^}]+\}", "{id}", path)
        if f"`{generic}`" not in README and f"`{generic}`," not in README:
            missing.append(path)
    assert missing == []


def test_every_command_and_option_is_documented():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        assert f"`timeline {name}" in README, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in README, (name, option)


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field):
    assert f"TIMELINE_{field.upper()}" in README


def test_every_event_type_is_documented():
    from app.dataset import EVENT_TYPES

    assert all(t in README for t in EVENT_TYPES)


def test_the_image_installs_the_locked_versions():
    """Every runtime dependency is in the lock, and the Dockerfile installs with it."""
    import tomllib

    from tests.conftest import PROJECT

    dockerfile = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY .ci/requirements.lock" in dockerfile
    assert "pip install --constraint requirements.lock ." in dockerfile
    locked = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (PROJECT / ".ci" / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
        assert name.lower().replace("_", "-") in locked, name


# `$ curl '…'` and the answer the README shows, in its console blocks. /versions and
# /changes show a sequence of loads, not the shipped data.
EXAMPLE = re.compile(r"^\$ curl '?http://127\.0\.0\.1:8000(/[^' \n]*)'?\n((?:[^$`\n].*\n)+)", re.M)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    from app.cli import load
    from app.db import make_engine
    from app.reader import read_dataset

    url = f"sqlite:///{tmp_path_factory.mktemp('shipped') / 'timeline.db'}"
    engine = make_engine(url)
    load(engine, read_dataset(PROJECT / "data"))
    engine.dispose()
    return TestClient(create_app(Settings(database_url=url, response_cache_mb=0)))


def test_the_readme_examples_answer_as_shown(shipped: TestClient) -> None:
    examples = [m.groups() for m in EXAMPLE.finditer(README)]
    examples = [
        (path, shown) for path, shown in examples if not path.startswith(("/versions", "/changes"))
    ]
    assert [path for path, _ in examples] == [
        "/events?actor=Kuvvatov",
        "/events?place=Tajikistan&from=2012&to=2012&type=armed_clash",
        "/events/2012-07-khorog-clashes",
        "/events?from=2015-13",
        "/events?actor=Quvvatof",
    ]
    for path, shown in examples:
        response = shipped.get(path)
        status = re.search(r'"status":(\d+)', shown)
        assert response.status_code == (int(status.group(1)) if status else 200), path
        if status:  # the message as shown, up to where it is cut short
            message = re.search(r'"message":"((?:[^"\\]|\\.)*?)(?:\.\.\.|")', shown)
            assert message and response.json()["message"].startswith(message.group(1)), path
            continue
        body = response.text
        for event_id in re.findall(r'"id":"([^"]+)"', shown):
            assert f'"id":"{event_id}"' in body, (path, event_id)
        total = re.search(r'"total":(\d+)', shown)
        if total:
            assert response.json()["total"] == int(total.group(1)), path
