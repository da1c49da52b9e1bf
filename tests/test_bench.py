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
    assert result.stdout.startswith(f"ok: {EVENTS} events, 200 actors, 27 places, ")


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
