"""Readers during a reload see the old dataset or the new one, never a mix or an error."""

from __future__ import annotations

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

from app.cli import load
from app.dataset import read_dataset
from app.db import make_engine
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


def test_reads_during_reloads_see_one_whole_dataset(database_url, tmp_path):
    engine = make_engine(database_url)
    first, second = read_dataset(FIXTURE_DATA), read_dataset(renamed_dataset(tmp_path))
    load(engine, first)
    versions = {
        frozenset(e.record.id for e in first.events): "first",
        frozenset(e.record.id for e in second.events): "second",
    }
    port = free_port()
    env = {**os.environ, "TIMELINE_DATABASE_URL": database_url}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
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
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        seen: list[str] = []
        problems: list[str] = []
        stop = threading.Event()

        def read() -> None:
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

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        for dataset in (second, first) * 4:
            time.sleep(0.2)
            assert load(engine, dataset).changed
        time.sleep(0.2)
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        engine.dispose()
    assert problems == [], (tmp_path / "server.log").read_text()[-2000:]
    assert {"first", "second"} <= set(seen)
