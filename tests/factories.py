"""Record factories and dataset builders for edge cases."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import FIXTURE_DATA


def event(**overrides: Any) -> dict[str, Any]:
    """A valid event record (citing the fixture's alpha-2017) with `overrides` applied."""
    record: dict[str, Any] = {
        "id": "2015-03-test-event",
        "title": "A test event",
        "date": "2015-03",
        "type": "statement",
        "summary": "Something was said.",
        "citations": [{"source": "alpha-2017", "quote": "Group 24 denounced the killing"}],
    }
    record.update(overrides)
    return record


def copy_fixture(tmp_path: Path) -> Path:
    """A writable copy of the fixture dataset."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    return target


def add_events(root: Path, *records: dict[str, Any], name: str = "extra.yaml") -> Path:
    """Write `records` as a new events file and return its path."""
    path = root / "events" / name
    path.write_text(yaml.safe_dump(list(records), sort_keys=False, allow_unicode=True))
    return path
