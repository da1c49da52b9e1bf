"""Smoke test of bench/: the synthetic dataset validates and the load test runs clean."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import loadtest, synth

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
def server(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("db") / "timeline.db"
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


def test_compare_quick_writes_every_query_row(tmp_path: Path) -> None:
    from bench import compare

    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    command = [sys.executable, "bench/compare.py", "--quick", "--sizes", "500"]
    command += ["--no-datasette", "--no-postgres", "--work", str(tmp_path)]
    result = subprocess.run(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    written = (tmp_path / "results-500.md").read_text()
    assert written.strip() in result.stdout
    tables = [t for t in written.split("\n### ") if "| query |" in t]
    assert len(tables) == 2  # repeated and varied
    for block in tables:
        rows = [line for line in block.splitlines() if line.startswith("| (")]
        assert len(rows) == len(compare.QUERIES)
        for (key, label), row in zip(compare.QUERIES, rows, strict=True):
            stem = label if key != "f" else "(f) page "
            assert row.startswith(f"| {stem}"), row
            assert "error" not in row, row
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            float(cells[1].replace(",", ""))  # ours p50: a number
            float(cells[4].replace(",", ""))  # raw floor p50: a number
    assert "ours (a), 1 worker:" in written
    assert "ours (a), 2 workers:" in written
    assert "ours RSS at the end" in written
