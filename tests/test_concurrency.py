"""Readers during a reload see the old dataset or the new one, never a mix or an error."""

from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text

from app.cli import load
from app.db import make_engine
from app.reader import read_dataset
from tests.conftest import FIXTURE_DATA
from tests.factories import copy_fixture

pytestmark = pytest.mark.usefixtures("backend")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def renamed_dataset(tmp_path: Path) -> Path:
    """The fixture with every event id changed and one event fewer."""
    root = copy_fixture(tmp_path)
    (root / "events" / "2017.yaml").unlink()
    for path in (root / "events").glob("*.yaml"):
        events = yaml.safe_load(path.read_text())
        for event in events:
            event["id"] += "-v2"
            event["related"] = [f"{r}-v2" for r in event.get("related", [])]
        path.write_text(yaml.safe_dump(events, allow_unicode=True))
    return root


@pytest.mark.parametrize("response_cache", ["0", "64"], ids=["queries", "response-cache"])
def test_reads_during_reloads_see_one_whole_dataset(database_url, tmp_path, response_cache):
    """Two API processes over one database (the scale-out path), reloaded by a third:
    every answer of either holds one whole dataset. With the response cache off, every
    request runs its queries, so readers see both datasets; with it on, an answer may be
    up to a second old, and once reloads stop both serve the last dataset within that
    second."""
    engine = make_engine(database_url)
    first, second = read_dataset(FIXTURE_DATA), read_dataset(renamed_dataset(tmp_path))
    load(engine, first)
    versions = {
        frozenset(e.record.id for e in first.events): "first",
        frozenset(e.record.id for e in second.events): "second",
    }
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_RESPONSE_CACHE_MB": response_cache,
    }
    log = (tmp_path / "server.log").open("w")
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        seen: list[str] = []
        problems: list[str] = []
        stop = threading.Event()

        def read(base: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    response = client.get("/events?limit=500")
                    if response.status_code != 200:
                        problems.append(f"{response.status_code}: {response.text[:200]}")
                        continue
                    body = response.json()
                    ids = frozenset(item["id"] for item in body["items"])
                    if ids not in versions or body["total"] != len(ids):
                        problems.append(f"mixed page: {sorted(ids)[:3]}... total={body['total']}")
                    else:
                        seen.append(versions[ids])

        readers = [threading.Thread(target=read, args=(bases[i % 2],)) for i in range(4)]
        for reader in readers:
            reader.start()
        for dataset in (second, first) * 4:
            time.sleep(0.2)
            assert load(engine, dataset).changed
        time.sleep(0.2)
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
        time.sleep(1.5)  # the cache reads the dataset hash again at most once a second
        for base in bases:
            final = httpx.get(f"{base}/events?limit=500", timeout=30).json()
            assert versions.get(frozenset(item["id"] for item in final["items"])) == "first"
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        log.close()
        engine.dispose()
    assert problems == [], (tmp_path / "server.log").read_text()[-2000:]
    if response_cache == "0":
        assert {"first", "second"} <= set(seen)


def test_an_answer_read_from_a_newer_dataset_is_not_kept_under_the_old_one(
    database_url, tmp_path, monkeypatch
):
    """The cache keys answers by the dataset hash it last read (at most once a second);
    a request that ran after a reload it has not noticed yet must not be kept under the
    old hash, or the old dataset's key would serve the new dataset's answer for good."""
    from fastapi.testclient import TestClient

    from app.caching import CacheMiddleware
    from app.config import Settings
    from app.main import create_app

    monkeypatch.setattr(CacheMiddleware, "HASH_TTL", 3600.0)  # never notices a reload
    engine = make_engine(database_url)
    first, second = read_dataset(FIXTURE_DATA), read_dataset(renamed_dataset(tmp_path))
    load(engine, first)
    expected = sorted(e.record.id for e in first.events)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get("/sources").status_code == 200  # the cache reads the hash now
        load(engine, second)
        newer = client.get("/events?limit=500").json()
        assert sorted(i["id"] for i in newer["items"]) == sorted(e.record.id for e in second.events)
        load(engine, first)
        again = client.get("/events?limit=500").json()
        assert sorted(i["id"] for i in again["items"]) == expected
    engine.dispose()


@pytest.mark.parametrize("threads", [1, 3])
def test_a_worker_runs_as_many_requests_at_once_as_its_threads_setting(
    loaded_url, monkeypatch, threads
):
    """`TIMELINE_THREADS`: the rest wait their turn instead of fighting over the GIL."""
    from fastapi.testclient import TestClient

    from app.api import events
    from app.config import Settings
    from app.main import create_app

    running, most = 0, 0
    lock = threading.Lock()
    page_documents = events.page_documents

    def slow_page(*args, **kwargs):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        return page_documents(*args, **kwargs)

    monkeypatch.setattr(events, "page_documents", slow_page)
    settings = Settings(database_url=loaded_url, response_cache_mb=0, threads=threads)
    with TestClient(create_app(settings)) as client:
        answers: list[int] = []
        callers = [
            threading.Thread(
                target=lambda i=i: answers.append(client.get(f"/events?limit={i + 1}").status_code)
            )
            for i in range(6)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert answers == [200] * 6
    assert most == threads


def test_a_read_waiting_on_a_lock_holds_up_no_other_request(loaded_url, backend, tmp_path):
    # A statement may wait on another's lock (PostgreSQL, during a migration or a manual
    # ALTER): on the event loop it would stop every request, the one holding the lock
    # included, whose transaction ends on that loop, and the server would hang. SQLite's
    # readers do not wait on a writer (WAL), so its lookups may run on the loop.
    port = free_port()
    env = {**os.environ, "TIMELINE_DATABASE_URL": loaded_url, "TIMELINE_RESPONSE_CACHE_MB": "0"}
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    engine = make_engine(loaded_url)
    locker = engine.connect()
    answers: dict[str, int] = {}
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(100):
                try:
                    actor = client.get("/actors?limit=1").json()["items"][0]["id"]
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            if backend == "postgresql":
                locker.execute(text("LOCK TABLE actors IN ACCESS EXCLUSIVE MODE"))
            else:
                locker.exec_driver_sql("UPDATE actors SET name = name")  # the write lock

            def ask_actor() -> None:
                with httpx.Client(timeout=30) as own:
                    answers["actor"] = own.get(f"{base}/actors/{actor}").status_code

            waiting = threading.Thread(target=ask_actor, daemon=True)
            waiting.start()
            if backend == "postgresql":  # until the actor's read is waiting on the lock
                with engine.connect() as watcher:
                    for _ in range(100):
                        waits = watcher.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity"
                                " WHERE wait_event_type = 'Lock' AND query LIKE '%actors%'"
                            )
                        ).scalar()
                        if waits:
                            break
                        watcher.rollback()  # the activity view is read once a transaction
                        time.sleep(0.05)
                    assert waits, "the actor's read never waited on the lock"
            try:
                answers["events"] = client.get("/events?limit=1").status_code
            except httpx.TimeoutException:
                answers["events"] = 0  # held up behind the waiting read
            locker.rollback()
            waiting.join(timeout=30)
    finally:
        locker.close()
        engine.dispose()
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert answers == {"events": 200, "actor": 200}


def test_routes_on_the_event_loop_read_through_lookup():
    # The routes the test above cannot reach one by one: an `async` route that takes a
    # session must read through `lookup`, which keeps PostgreSQL's reads off the loop.
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    from app.api import actors, events, feeds, meta, page, places, sources, versions
    from app.api.deps import get_cached_session, get_session

    def uses_session(dependant: Dependant) -> bool:
        return dependant.call in (get_session, get_cached_session) or any(
            uses_session(d) for d in dependant.dependencies
        )

    modules = (actors, events, feeds, meta, page, places, sources, versions)
    routes = [
        route
        for module in modules
        for route in module.router.routes
        if isinstance(route, APIRoute) and uses_session(route.dependant)
    ]
    on_loop = [r for r in routes if inspect.iscoroutinefunction(r.endpoint)]
    assert {r.path for r in on_loop} >= {"/events/{event_id}", "/actors", "/places/{place_id}"}
    assert [r.path for r in on_loop if "await lookup(" not in inspect.getsource(r.endpoint)] == []
    assert {r.path for r in routes if r not in on_loop} >= {"/events", "/facets", "/timelinejs"}
