"""Smoke test of bench/: the synthetic dataset validates, the load test runs clean, and both
modes of the comparison write every row."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import loadtest, synth, varied
from bench.floor import Raw
from bench.timing import Http

EVENTS = 300


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "data"
    counts = synth.generate(EVENTS, root, seed=7, countries=3, regions=2, cities=3)
    assert counts["events"] == EVENTS
    assert counts["actors"] == 200
    assert counts["places"] == 3 + 3 * 2 + 3 * 2 * 3
    assert 3 <= counts["sources"] <= 10
    return root


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db") / "timeline.db"


@pytest.fixture(scope="module")
def server(synthetic: Path, database: Path) -> Iterator[str]:
    with loadtest.served(synthetic, workers=1, database=database, startup_timeout=60) as url:
        yield url


def test_synthetic_dataset_validates(synthetic: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "validate", "--data", str(synthetic)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"valid: {EVENTS} events, 200 actors, 27 places, ")


def test_synth_is_deterministic_and_spread_over_years(synthetic: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth.generate(EVENTS, again, seed=7, countries=3, regions=2, cities=3, jobs=2)
    files = sorted(p.name for p in (synthetic / "events").iterdir())
    assert files == sorted(p.name for p in (again / "events").iterdir())
    assert files[0] == "1950.yaml"
    assert files[-1] == "2024.yaml"
    for name in ("actors.yaml", "places.yaml", "sources.yaml", "events/2024.yaml"):
        assert (synthetic / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_load_test_runs_without_errors(server: str, engine: str) -> None:
    paths = loadtest.build_paths(server, count=200)
    assert {kind for kind, _ in paths} == set(loadtest.MIX)
    result = loadtest.run_load(server, paths, engine=engine, connections=4, duration=2)
    assert result.errors == 0, result.error_detail
    assert result.requests > 0
    assert result.p50_ms > 0


def _compare(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    command = [sys.executable, "bench/compare.py", "--quick", "--sizes", "500"]
    command += ["--no-datasette", "--work", str(tmp_path), *options]
    return subprocess.run(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def _draw(database: Path, seed: int) -> dict[str, list[str]]:
    raw = Raw(sqlite3.connect(f"file:{database}?mode=ro", uri=True), "sqlite")
    try:
        requests = varied.Requests(varied.discover(raw), "timeline", seed)
    finally:
        raw.close()
    drawn: dict[str, list[str]] = {}
    for kind in ("window", "actor", "place", "type", "event", "q", "facets", "actor_detail"):
        for _ in range(40):
            ask = requests.make(kind)
            assert ask is not None, kind
            assert isinstance(ask.ours, str) and isinstance(ask.ds, str)
            drawn.setdefault(kind, []).append(ask.ours)
    return drawn


def test_varied_requests_never_repeat_a_url_and_follow_the_seed(
    server: str, database: Path
) -> None:
    drawn = _draw(database, seed=3)
    every = [url for urls in drawn.values() for url in urls]
    assert len(set(every)) == len(every)
    assert drawn == _draw(database, seed=3)
    assert drawn != _draw(database, seed=4)
    assert all(url.startswith("/events?from=") for url in drawn["window"])
    assert all(url.startswith("/facets?") for url in drawn["facets"])


def test_compare_varied_writes_every_kind(tmp_path: Path) -> None:
    result = _compare(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    written = (tmp_path / "varied-500.md").read_text()
    assert written.strip() in result.stdout
    rows = {line.split(" | ")[0].lstrip("| "): line for line in written.splitlines()}
    for _key, label, _ds in varied.KINDS:
        row = rows[label]
        assert "error" not in row, row
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        float(cells[1].replace(",", ""))  # ours p50: a number
        float(cells[3].replace(",", ""))  # raw p50: a number
        assert int(cells[-1].split()[0]) >= 1, row
    assert "- ours, 1 worker: " in written
    assert ", errors 0)" in written


def test_compare_repeated_writes_every_query_row(tmp_path: Path) -> None:
    from bench import cases

    result = _compare(tmp_path, "--mode", "repeated")
    assert result.returncode == 0, result.stderr[-3000:]
    written = (tmp_path / "results-500.md").read_text()
    assert written.strip() in result.stdout
    tables = [t for t in written.split("\n### ") if "| query |" in t]
    assert len(tables) == 2  # repeated and varied
    for block in tables:
        rows = [line for line in block.splitlines() if line.startswith("| (")]
        assert len(rows) == len(cases.QUERIES)
        for (key, label), row in zip(cases.QUERIES, rows, strict=True):
            stem = label if key != "f" else "(f) page "
            assert row.startswith(f"| {stem}"), row
            assert "error" not in row, row
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            float(cells[1].replace(",", ""))  # ours p50: a number
            float(cells[4].replace(",", ""))  # raw floor p50: a number
    assert "ours (a), 1 worker:" in written
    assert "ours (a), 2 workers:" in written
    assert "ours RSS at the end" in written


class _Recording(Http):
    """Our server, with every path it was asked noted in order."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.asked: list[str] = []

    def get(self, path: str) -> bytes:
        self.asked.append(path)
        return super().get(path)


def _asked(server: str, database: Path, *, interleave: bool) -> tuple[list[str], Any, int]:
    raw = Raw(sqlite3.connect(f"file:{database}?mode=ro", uri=True), "sqlite")
    ours = _Recording(server)
    try:
        requests = varied.Requests(varied.discover(raw), "timeline", 5)
        results = varied.run(
            requests,
            {"ours": ours, "raw": raw},
            samples=6,
            budget=60,
            kinds=["window", "actor", "facets", "cursor"],
            interleave=interleave,
        )
    finally:
        raw.close()
        ours.close()
    return ours.asked, results, len(requests.seen)


def test_each_engine_is_asked_the_same_requests_in_turn_or_in_its_own_pass(
    server: str, database: Path
) -> None:
    in_turn, together, made = _asked(server, database, interleave=True)
    own_pass, apart, made_apart = _asked(server, database, interleave=False)
    assert in_turn and in_turn == own_pass
    assert made == made_apart  # the second pass asks the first's requests, not new ones
    assert len(set(in_turn)) == len(in_turn)  # no URL twice
    for results in (together, apart):
        for kind in ("window", "actor", "facets"):  # a cursor's next page may not exist
            assert len(results.times[kind]["ours"]) == len(results.times[kind]["raw"]) == 6


def test_a_later_pass_asks_only_what_the_first_pass_asked(server: str, database: Path) -> None:
    raw = Raw(sqlite3.connect(f"file:{database}?mode=ro", uri=True), "sqlite")
    ours = _Recording(server)
    kinds = ["window", "actor", "facets"]
    try:
        requests = varied.Requests(varied.discover(raw), "timeline", 5)
        asked: dict[str, list[varied.Ask | None]] = {kind: [] for kind in kinds}
        results = varied.Results()
        targets = {"ours": ours, "raw": raw}
        # Ours runs out of budget after the least it runs (3 per kind); the floor, with
        # time to spare, must stop there too rather than time requests ours never had.
        varied._pass(requests, asked, targets, ["ours"], 20, 0.0, results)
        varied._pass(None, asked, targets, ["raw"], 20, 60.0, results)
    finally:
        raw.close()
        ours.close()
    assert len(ours.asked) == 3 * len(kinds)
    for kind in kinds:
        assert len(results.times[kind]["ours"]) == len(results.times[kind]["raw"]) == 3
    assert ("window", "ours") in results.early and ("window", "raw") not in results.early
