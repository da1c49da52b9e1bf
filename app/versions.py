"""Dataset versions: what each load added, changed and removed, kept across reloads.

A load that changes the dataset records a version (`record_version`, inside the load's own
transaction, in set-based SQL); `/versions` and `/changes` read them back a page at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel
from sqlalchemy import Connection, and_, func, insert, or_, select, text

from app import models
from app.errors import InvalidParameter

ChangeKind = Literal["added", "changed", "removed"]


def content_hash(record: BaseModel) -> str:
    """SHA-256 of a record's validated content as canonical JSON (sorted keys, defaults
    left out), so a reformatted or reordered YAML entry hashes the same, and a field
    added to the records later with a default changes no event's hash."""
    content = record.model_dump(mode="json", exclude_defaults=True)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- recording, inside the load's transaction ---------------------------------------------

# Each statement compares the freshly inserted `events` with `event_versions` (the state
# after the previous version) and appends to the `changes` log; the log then drives the
# updates of `event_versions`, so every step reads only this version's rows of it.
_LOG = {
    "added": (
        "INSERT INTO changes (version, event_id, change) "
        "SELECT :version, e.id, 'added' FROM events e WHERE NOT EXISTS ("
        "SELECT 1 FROM event_versions ev "
        "WHERE ev.event_id = e.id AND ev.removed_version IS NULL)"
    ),
    "changed": (
        "INSERT INTO changes (version, event_id, change) "
        "SELECT :version, e.id, 'changed' FROM events e "
        "JOIN event_versions ev ON ev.event_id = e.id "
        "WHERE ev.removed_version IS NULL AND ev.content_hash <> e.content_hash"
    ),
    "removed": (
        "INSERT INTO changes (version, event_id, change) "
        "SELECT :version, ev.event_id, 'removed' FROM event_versions ev "
        "WHERE ev.removed_version IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ev.event_id)"
    ),
}
_THIS_VERSION = "SELECT event_id FROM changes WHERE version = :version AND change = '{}'"
_NEW_HASH = "(SELECT e.content_hash FROM events e WHERE e.id = event_versions.event_id)"
_APPLY = (
    # Rewritten events take their new hash.
    f"UPDATE event_versions SET content_hash = {_NEW_HASH}, changed_version = :version, "
    f"last_version = :version WHERE event_id IN ({_THIS_VERSION.format('changed')})",
    # Removed ones become tombstones.
    "UPDATE event_versions SET removed_version = :version, last_version = :version "
    f"WHERE event_id IN ({_THIS_VERSION.format('removed')})",
    # Added ids: new ones get a row; one that comes back after its removal starts again.
    # (An upsert, not INSERT ... WHERE NOT EXISTS on the table being inserted into, which
    # PostgreSQL may plan as a scan of it per row: hours at a million events.)
    "INSERT INTO event_versions (event_id, content_hash, added_version, changed_version, "
    "removed_version, last_version) "
    "SELECT c.event_id, e.content_hash, :version, :version, NULL, :version FROM changes c "
    "JOIN events e ON e.id = c.event_id WHERE c.version = :version AND c.change = 'added' "
    "ON CONFLICT (event_id) DO UPDATE SET content_hash = excluded.content_hash, "
    "added_version = excluded.added_version, changed_version = excluded.changed_version, "
    "removed_version = NULL, last_version = excluded.last_version",
)


def record_version(connection: Connection, dataset_hash: str, event_count: int) -> int | None:
    """Record the dataset just inserted into `events` as a new version, in the caller's
    transaction; None (nothing recorded) when it is the latest version's dataset again."""
    latest = connection.execute(
        select(models.Version.version, models.Version.dataset_hash)
        .order_by(models.Version.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.dataset_hash == dataset_hash:
        return None  # a forced reload of the same files: nothing changed
    version = latest.version + 1 if latest is not None else 1
    params = {"version": version}
    for statement in [*_LOG.values(), *_APPLY]:
        connection.execute(text(statement), params)
    counts = {kind: 0 for kind in _LOG}
    for kind, count in connection.execute(
        select(models.Change.change, func.count())
        .where(models.Change.version == version)
        .group_by(models.Change.change)
    ):
        counts[kind] = count
    connection.execute(
        insert(models.Version),
        {
            "version": version,
            "dataset_hash": dataset_hash,
            "loaded_at": datetime.now(UTC),
            "events": event_count,
            **counts,
        },
    )
    return version


# --- reading ------------------------------------------------------------------------------


def current_version(reader: Connection) -> int:
    """The latest version, or 0 when nothing has been loaded yet."""
    return int(reader.scalar(select(func.max(models.Version.version))) or 0)


class VersionRow(NamedTuple):
    version: int
    dataset_hash: str
    loaded_at: datetime
    events: int
    added: int
    changed: int
    removed: int


def list_versions(
    reader: Connection, limit: int, cursor: str | None
) -> tuple[list[VersionRow], str | None]:
    """A page of versions, newest first, and the cursor of the next page (or None)."""
    table = models.Version
    columns = [getattr(table, name) for name in VersionRow._fields]
    statement = select(*columns).order_by(table.version.desc())
    if cursor:
        (before,) = _decode(cursor, "v", [int])
        statement = statement.where(table.version < before)
    rows = [
        VersionRow(*row)._replace(loaded_at=as_utc(row.loaded_at))
        for row in reader.execute(statement.limit(limit + 1))
    ]
    if len(rows) > limit:
        return rows[:limit], _encode("v", rows[limit - 1].version)
    return rows, None


class ChangeRow(NamedTuple):
    id: str
    change: ChangeKind
    version: int


def check_since(reader: Connection, since: int) -> int:
    """The current version, once `since` is known to be 0 or a version this database
    recorded; `InvalidParameter('since')` otherwise."""
    current = current_version(reader)
    if since == 0 or (
        since <= current
        and reader.scalar(select(models.Version.version).where(models.Version.version == since))
    ):
        return current
    known = f"versions run from 1 to {current}" if current else "no version is loaded yet"
    raise InvalidParameter(
        "since",
        f"{since} is not a version of this dataset ({known}); "
        "use 0 for every change since the first load",
    )


def list_changes(
    reader: Connection, since: int, limit: int, cursor: str | None
) -> tuple[list[ChangeRow], str | None]:
    """A page of the events whose state changed after version `since` (check it with
    `check_since` first), each once with its net change, by version and then id.

    `removed`: gone now (also for an event added and removed after `since`); `added`: in
    the dataset now but not at `since` (or removed and added again since); `changed`:
    there at `since` and now, its content rewritten in between.
    """
    table = models.EventVersion
    statement = (
        select(table.event_id, table.added_version, table.removed_version, table.last_version)
        .where(table.last_version > since)
        .order_by(table.last_version, table.event_id)
    )
    if cursor:
        version, event_id = _decode(cursor, "c", [int, str])
        statement = statement.where(
            or_(
                table.last_version > version,
                and_(table.last_version == version, table.event_id > event_id),
            )
        )
    rows = []
    for event_id, added, removed, last in reader.execute(statement.limit(limit + 1)):
        kind: ChangeKind = (
            "removed" if removed is not None else "added" if added > since else "changed"
        )
        rows.append(ChangeRow(event_id, kind, last))
    if len(rows) > limit:
        last_row = rows[limit - 1]
        return rows[:limit], _encode("c", last_row.version, last_row.id)
    return rows, None


def as_utc(moment: datetime) -> datetime:
    """`moment`, which was written in UTC: SQLite hands back naive datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode(kind: str, *position: Any) -> str:
    raw = json.dumps([kind, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, kind: str, types: list[type]) -> list[Any]:
    """The position a cursor of `kind` names; `InvalidParameter('cursor')` for anything else."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, list) or payload[0] != kind or len(payload) != len(types) + 1:
            raise ValueError
        position = payload[1:]
        if not all(type(value) is wanted for value, wanted in zip(position, types, strict=True)):
            raise ValueError
        if any(not 0 <= v < 2**31 if isinstance(v, int) else "\x00" in v for v in position):
            raise ValueError
    except (ValueError, TypeError, IndexError, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor", "not a cursor this API issued; use next_cursor from a response"
        ) from None
    return position
