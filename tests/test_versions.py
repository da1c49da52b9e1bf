"""Dataset versions: what each load added, changed and removed, kept across reloads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from app import models
from app.cli import load
from app.config import Settings
from app.db import read_engine
from app.loader import replace_dataset
from app.main import create_app
from app.reader import read_dataset
from app.versions import content_hash
from tests.conftest import FIXTURE_DATA
from tests.factories import add_events, copy_fixture, event

pytestmark = pytest.mark.usefixtures("backend")

FIXTURE_IDS = sorted(item.record.id for item in read_dataset(FIXTURE_DATA).events)
CHANGED = "2015-03-quvvatov-killed-istanbul"
REMOVED = "2017-03-osce-extension"
ADDED = "2015-03-new-event"
CLASH = "2014-05-gbao-clashes"


def edit(root: Path, event_id: str, **fields: object) -> None:
    """Change (or with `fields` None, remove) the event `event_id` in the data at `root`."""
    for path in (root / "events").glob("*.yaml"):
        records = yaml.safe_load(path.read_text())
        if not any(r["id"] == event_id for r in records):
            continue
        if fields:
            records = [{**r, **fields} if r["id"] == event_id else r for r in records]
        else:
            records = [r for r in records if r["id"] != event_id]
        path.write_text(yaml.safe_dump(records, sort_keys=False, allow_unicode=True))
        return
    raise AssertionError(f"no event {event_id}")


def edited_copy(tmp_path: Path) -> Path:
    """The fixture with one event changed, one removed and one added."""
    root = copy_fixture(tmp_path)
    edit(root, CHANGED, title="Umarali Quvvatov killed in Istanbul")
    edit(root, REMOVED)
    add_events(root, event(id=ADDED))
    return root


@pytest.fixture
def api(database_url: str) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(database_url=database_url)), raise_server_exceptions=False
    ) as client:
        yield client


def changes(api: TestClient, since: int, **params: object) -> dict[str, object]:
    response = api.get("/changes", params={"since": since, **params})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def versions(engine: Engine) -> list[tuple[int, int, int, int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                models.Version.version,
                models.Version.events,
                models.Version.added,
                models.Version.changed,
                models.Version.removed,
            ).order_by(models.Version.version)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_first_load_is_version_1_with_every_event_added(engine, api):
    load(engine, read_dataset(FIXTURE_DATA))
    assert versions(engine) == [(1, 15, 15, 0, 0)]
    body = changes(api, 0, limit=500)
    assert body["version"] == 1
    assert body["next_cursor"] is None
    assert body["items"] == [{"id": i, "change": "added", "version": 1} for i in FIXTURE_IDS]
    assert api.get("/health").json()["version"] == 1


def test_one_changed_one_removed_one_added(engine, api, tmp_path):
    load(engine, read_dataset(FIXTURE_DATA))
    load(engine, read_dataset(edited_copy(tmp_path)))
    listed = api.get("/versions").json()
    assert [
        {k: v[k] for k in ("version", "events", "added", "changed", "removed")}
        for v in listed["items"]
    ] == [
        {"version": 2, "events": 15, "added": 1, "changed": 1, "removed": 1},
        {"version": 1, "events": 15, "added": 15, "changed": 0, "removed": 0},
    ]
    assert listed["next_cursor"] is None
    assert listed["items"][0]["dataset_hash"] == read_dataset(edited_copy(tmp_path / "b")).hash
    assert listed["items"][0]["loaded_at"] >= listed["items"][1]["loaded_at"]
    assert changes(api, 1) == {
        "items": [
            {"id": ADDED, "change": "added", "version": 2},
            {"id": CHANGED, "change": "changed", "version": 2},
            {"id": REMOVED, "change": "removed", "version": 2},
        ],
        "version": 2,
        "next_cursor": None,
    }
    assert changes(api, 2) == {"items": [], "version": 2, "next_cursor": None}
    # From the beginning: the removed event is a tombstone, the rest are added.
    since_0 = {item["id"]: item["change"] for item in changes(api, 0, limit=500)["items"]}
    assert since_0 == {**dict.fromkeys(FIXTURE_IDS, "added"), ADDED: "added", REMOVED: "removed"}
    assert api.get("/health").json()["version"] == 2


def test_a_reload_of_unchanged_data_records_nothing(engine):
    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    assert not load(engine, dataset).changed
    assert replace_dataset(engine, dataset, force=True).changed  # rewritten, yet the same
    assert versions(engine) == [(1, 15, 15, 0, 0)]


def test_an_edit_outside_events_is_a_version_without_event_changes(engine, tmp_path):
    load(engine, read_dataset(FIXTURE_DATA))
    root = copy_fixture(tmp_path)
    actors = root / "actors.yaml"
    actors.write_text("# a comment changes the files' hash\n" + actors.read_text())
    load(engine, read_dataset(root))
    assert versions(engine) == [(1, 15, 15, 0, 0), (2, 15, 0, 0, 0)]


def test_reformatting_an_event_changes_nothing(engine, tmp_path):
    """The content hash is of the validated record: key order, quoting and a default
    written out do not count as changes."""
    load(engine, read_dataset(FIXTURE_DATA))
    root = copy_fixture(tmp_path)
    for path in (root / "events").glob("*.yaml"):
        records = yaml.safe_load(path.read_text())
        records = [dict(reversed(list({**r, "tags": r.get("tags", [])}.items()))) for r in records]
        path.write_text(yaml.safe_dump(records, sort_keys=True, default_style='"'))
    load(engine, read_dataset(root))
    assert versions(engine) == [(1, 15, 15, 0, 0), (2, 15, 0, 0, 0)]


def test_each_event_appears_once_with_its_net_change(engine, api, tmp_path):
    """added then changed: added; changed twice: changed, at the later version; added then
    removed: removed; changed then removed: removed; removed then added again: added."""
    load(engine, read_dataset(FIXTURE_DATA))  # 1
    root = copy_fixture(tmp_path)
    add_events(root, event(id=ADDED), event(id="2015-03-short-lived"))
    edit(root, CHANGED, title="First rewrite")
    edit(root, CLASH, title="About to go")
    edit(root, REMOVED)
    load(engine, read_dataset(root))  # 2
    add_events(root, event(id=ADDED, title="Rewritten"), event(id="2015-03-short-lived"))
    edit(root, CHANGED, title="Second rewrite")
    edit(root, CLASH)
    add_events(root, event(id=REMOVED), name="back.yaml")
    load(engine, read_dataset(root))  # 3
    edit(root, "2015-03-short-lived")
    load(engine, read_dataset(root))  # 4
    assert changes(api, 1)["items"] == [
        {"id": CLASH, "change": "removed", "version": 3},
        {"id": ADDED, "change": "added", "version": 3},
        {"id": CHANGED, "change": "changed", "version": 3},
        {"id": REMOVED, "change": "added", "version": 3},
        {"id": "2015-03-short-lived", "change": "removed", "version": 4},
    ]
    assert changes(api, 3)["items"] == [
        {"id": "2015-03-short-lived", "change": "removed", "version": 4}
    ]
    # Each event says which version added it and which last changed it, in its detail
    # and in the lists.
    expected = {ADDED: (2, 3), CHANGED: (1, 3), REMOVED: (3, 3), FIXTURE_IDS[0]: (1, 1)}
    for event_id, versions in expected.items():
        body = api.get(f"/events/{event_id}").json()
        assert (body["added_in"], body["changed_in"]) == versions
    listed = api.get("/events?limit=500").json()["items"]
    found = {e["id"]: (e["added_in"], e["changed_in"]) for e in listed if e["id"] in expected}
    assert found == expected


def test_changes_are_paged_by_cursor(engine, api):
    load(engine, read_dataset(FIXTURE_DATA))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = changes(api, 0, **params)
        seen += [item["id"] for item in body["items"]]  # type: ignore[union-attr]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (FIXTURE_IDS, 4)


def test_versions_are_paged_newest_first(engine, api, tmp_path):
    root = copy_fixture(tmp_path)
    load(engine, read_dataset(root))
    for n in range(3):
        add_events(root, event(id=f"2015-03-extra-{n}"), name=f"extra-{n}.yaml")
        load(engine, read_dataset(root))
    first = api.get("/versions?limit=3").json()
    rest = api.get("/versions", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [v["version"] for v in first["items"]] == [4, 3, 2]
    assert [v["version"] for v in rest["items"]] == [1]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("/changes?since=2", "since"),
        ("/changes?since=-1", "since"),
        ("/changes?since=x", "since"),
        ("/changes", "since"),
        ("/changes?since=99999999999999999999", "since"),
        ("/changes?since=0&limit=501", "limit"),
        ("/changes?since=0&cursor=abc", "cursor"),
        ("/changes?since=0&cursor=WyJ2IiwxXQ", "cursor"),  # a /versions cursor
        ("/versions?cursor=WyJjIiwxLCJhIl0", "cursor"),  # a /changes cursor
        ("/versions?limit=0", "limit"),
        ("/changes?since=0&cursor=WyJjIiwxLCJcdTAwMDAiXQ", "cursor"),  # a NUL in the id
    ],
)
def test_bad_parameters_are_refused_by_name(client, query, parameter):
    response = client.get(query)  # the fixture dataset, loaded once: version 1
    assert response.status_code == 422, response.text
    assert [d["parameter"] for d in response.json()["details"]] == [parameter]


def test_since_names_the_versions_that_exist(client):
    message = client.get("/changes?since=2").json()["details"][0]["message"]
    assert message == (
        "2 is not a version of this dataset (versions run from 1 to 1); "
        "use 0 for every change since the first load"
    )


def test_before_any_load_there_is_version_0_and_nothing_changed(engine, api):
    from app.cli import migrate

    migrate(engine)
    assert changes(api, 0) == {"items": [], "version": 0, "next_cursor": None}
    assert api.get("/versions").json() == {"items": [], "next_cursor": None}
    assert api.get("/health").json()["version"] == 0


def test_a_revert_is_a_new_version_with_its_own_etag(engine, api, tmp_path):
    """The files of version 1 loaded again as version 3: the same dataset hash, but
    /versions answers differently, so neither the ETag nor the response cache may reuse
    version 1's answer."""
    from app.caching import CacheMiddleware

    first, second = read_dataset(FIXTURE_DATA), read_dataset(edited_copy(tmp_path))
    load(engine, first)
    before = api.get("/versions")
    load(engine, second)
    load(engine, first)
    CacheMiddleware.HASH_TTL, ttl = 0.0, CacheMiddleware.HASH_TTL
    try:
        after = api.get("/versions", headers={"If-None-Match": before.headers["etag"]})
    finally:
        CacheMiddleware.HASH_TTL = ttl
    assert after.status_code == 200
    assert [v["version"] for v in after.json()["items"]] == [3, 2, 1]
    assert changes(api, 2)["items"] == [
        {"id": ADDED, "change": "removed", "version": 3},
        {"id": CHANGED, "change": "changed", "version": 3},
        {"id": REMOVED, "change": "added", "version": 3},
    ]


def test_the_events_row_carries_the_records_content_hash(engine):
    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    with engine.connect() as connection:
        stored = dict(connection.execute(select(models.Event.id, models.Event.content_hash)).all())
    assert stored == {item.record.id: content_hash(item.record) for item in dataset.events}


def test_readers_during_reloads_see_versions_and_events_of_one_load(engine, tmp_path):
    """The version, its counts, the live tombstone table and the events are written in
    the load's one transaction: a reader's snapshot always agrees with itself."""
    first, second = read_dataset(FIXTURE_DATA), read_dataset(edited_copy(tmp_path))
    load(engine, first)
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal reads
        reader = read_engine(engine)
        while not stop.is_set():
            with reader.connect() as connection, connection.begin():
                latest = connection.execute(
                    select(models.Version.version, models.Version.events)
                    .order_by(models.Version.version.desc())
                    .limit(1)
                ).one()
                live = connection.scalar(
                    select(func.count()).where(models.EventVersion.removed_version.is_(None))
                )
                loaded = connection.scalar(select(func.count()).select_from(models.Event))
                logged = connection.scalar(
                    text("SELECT count(*) FROM changes WHERE version = :v"), {"v": latest[0]}
                )
            if not (latest[1] == live == loaded and logged):
                problems.append(f"version {latest[0]}: {latest[1]} / {live} / {loaded}")
            reads += 1

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for dataset in (second, first) * 3:
            assert load(engine, dataset).changed
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert problems == []
    assert reads > 0
    assert [v[0] for v in versions(engine)] == list(range(1, 8))


def test_a_dataset_loaded_before_versions_is_loaded_again_as_version_1(engine):
    """Events loaded before migration 0005 have no content hash to compare: the upgrade
    clears the stored dataset hash, so the next load (even of the same files) reloads
    and records them as version 1 instead of skipping an unversioned dataset."""
    from app.cli import load_directory, migrate

    migrate(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO dataset_meta (id, dataset_hash, loaded_at, event_count) "
                "VALUES (1, :hash, CURRENT_TIMESTAMP, 15)"
            ),
            {"hash": read_dataset(FIXTURE_DATA).hash},
        )
    result = load_directory(engine, FIXTURE_DATA)
    assert result.changed
    assert versions(engine) == [(1, 15, 15, 0, 0)]
    assert not load_directory(engine, FIXTURE_DATA).changed
