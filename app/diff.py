"""What changed between two dataset directories, record by record and field by field.

No database: both sides are read and checked with `read_dataset`, so `timeline diff` shows
a curator exactly what a load of the new directory would record as added, changed and
removed (an event is changed when its content hash is, as in `app.versions`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.dataset import Dataset, Located, Record
from app.versions import content_hash

KINDS = ("events", "actors", "places", "sources")


@dataclass(frozen=True)
class Entry:
    """An added or removed record: its id, file and name or title."""

    id: str
    file: str
    label: str


@dataclass(frozen=True)
class Changed(Entry):
    """A record in both datasets whose content differs: each differing field, old and new."""

    fields: dict[str, tuple[Any, Any]]


@dataclass
class RecordsDiff:
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def diff_datasets(old: Dataset, new: Dataset) -> dict[str, RecordsDiff]:
    """Added, removed and changed records of each kind, in the new (or old) file order."""
    return {kind: _diff(getattr(old, kind), getattr(new, kind)) for kind in KINDS}


def _diff(old: Sequence[Located[Record]], new: Sequence[Located[Record]]) -> RecordsDiff:
    before = {_id(item.record): item for item in old}
    after = {_id(item.record): item for item in new}
    result = RecordsDiff()
    for key, item in after.items():
        previous = before.get(key)
        if previous is None:
            result.added.append(_entry(item))
        elif content_hash(previous.record) != content_hash(item.record):
            fields = _fields(previous.record, item.record)
            result.changed.append(Changed(key, item.file, _entry(item).label, fields))
    result.removed = [_entry(item) for key, item in before.items() if key not in after]
    return result


def _id(record: Record) -> str:
    return str(vars(record)["id"])  # every kind of record has one


def _entry(item: Located[Record]) -> Entry:
    fields = vars(item.record)
    return Entry(_id(item.record), item.file, str(fields.get("title") or fields.get("name")))


def _fields(old: Record, new: Record) -> dict[str, tuple[Any, Any]]:
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    return {
        name: (before[name], after[name])
        for name in type(new).model_fields
        if before[name] != after[name]
    }


def diff_json(diff: dict[str, RecordsDiff], old_dir: str, new_dir: str) -> dict[str, Any]:
    """The diff as JSON-ready values (`timeline diff --json`)."""

    def entry(e: Entry) -> dict[str, Any]:
        return {"id": e.id, "file": e.file, "label": e.label}

    return {
        "old": old_dir,
        "new": new_dir,
        **{
            kind: {
                "added": [entry(e) for e in records.added],
                "removed": [entry(e) for e in records.removed],
                "changed": [
                    {
                        **entry(c),
                        "fields": {k: {"old": o, "new": n} for k, (o, n) in c.fields.items()},
                    }
                    for c in records.changed
                ],
            }
            for kind, records in diff.items()
        },
    }


def format_diff(diff: dict[str, RecordsDiff]) -> str:
    """The diff for people reviewing a change to the data: one block per kind of record,
    `+` added, `-` removed, `~` changed with each field's old and new value."""
    if not any(diff.values()):
        return "no differences\n"
    lines: list[str] = []
    for kind, records in diff.items():
        if not records:
            continue
        counts = [
            f"{len(items)} {word}"
            for word, items in (
                ("added", records.added),
                ("changed", records.changed),
                ("removed", records.removed),
            )
            if items
        ]
        lines += [f"{kind}: {', '.join(counts)}", ""]
        lines += [f"+ {e.id}  {e.label}  ({e.file})" for e in records.added]
        lines += [f"- {e.id}  {e.label}  ({e.file})" for e in records.removed]
        for change in records.changed:
            lines.append(f"~ {change.id}  {change.label}  ({change.file})")
            for name, (old, new) in change.fields.items():
                lines += _field_lines(name, old, new)
        lines.append("")
    return "\n".join(lines)


def _field_lines(name: str, old: Any, new: Any) -> list[str]:
    if isinstance(old, list) and isinstance(new, list):
        # Lists (citations, actors, tags...): the items that went and came.
        gone = [item for item in old if item not in new]
        came = [item for item in new if item not in old]
        lines = [f"    {name}:"]
        lines += [f"      - {_show(item)}" for item in gone]
        lines += [f"      + {_show(item)}" for item in came]
        if not gone and not came:
            lines.append("      (same items, new order)")
        return lines
    return [f"    {name}: {_show(old)} → {_show(new)}"]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
