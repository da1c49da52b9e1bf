"""Actors, places and sources, listed and in detail, as JSON-ready dicts.

Plain SQL over the entity tables and the counts the load made (`key_stats`): a list page
is a count, a page of rows with their event counts, and their aliases, three statements,
with nothing built or validated on the way out. Names are matched by their keys
(`app.text.name_key`), which are lowercase ASCII words, so patterns need no escaping.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.errors import InvalidParameter, NotFound
from app.planner import run
from app.prepared import iso
from app.text import name_key


@dataclass(frozen=True)
class Directory:
    """One kind of entity: its table, the columns clients get, and its names table."""

    kind: str  # also the prefix of its keys in key_stats ("actor:ID")
    table: str
    columns: tuple[str, ...]
    order: str
    names: str | None = None  # table of names and aliases, keyed by `{kind}_id`


ACTORS = Directory(
    "actor",
    "actors",
    ("id", "name", "kind", "description", "country"),
    "t.sort_key, t.id",
    "actor_names",
)
PLACES = Directory(
    "place",
    "places",
    ("id", "name", "kind", "lat", "lon", "parent_id"),
    "t.sort_key, t.id",
    "place_names",
)
SOURCES = Directory(
    "source",
    "sources",
    (
        "id",
        "title",
        "author",
        "publisher",
        "published",
        "url",
        "published_basis",
        "basis_note",
        "language",
    ),
    "t.published_start, t.id",
)
# Column names as clients see them.
_RENAMED = {"parent_id": "parent"}


def _item(directory: Directory, row: Sequence[Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    names = directory.columns + extra
    item = {_RENAMED.get(name, name): value for name, value in zip(names, row, strict=False)}
    if directory.names is not None:
        item["aliases"] = []  # filled by `_add_aliases`, here for the documented order
    item["event_count"] = int(row[-1])
    return item


def page(
    session: Session,
    directory: Directory,
    *,
    q: str | None,
    equal: dict[str, str | None],
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    """A page of `directory` in its order: names containing `q` (any spelling), columns
    equal to the values in `equal` (None: no condition), with aliases and event counts."""
    conditions: list[str] = []
    values: dict[str, Any] = {}
    if q is not None and q.strip():
        key = name_key(q)
        if not key:
            raise InvalidParameter("q", "contains no letters or digits to search for")
        conditions.append(
            f"t.id IN (SELECT {directory.kind}_id FROM {directory.names} WHERE key LIKE :q)"
        )
        values["q"] = f"%{key}%"
    for column, value in equal.items():
        if value is not None:
            conditions.append(f"t.{column} = :{column}")
            values[column] = value
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    offset = decode_offset(cursor)
    total = int(run(session, f"SELECT count(*) FROM {directory.table} t{where}", **values)[0][0])
    # The page first, then its rows' counts: a count per row of the whole list would cost
    # more than the page.
    rows = f"SELECT * FROM {directory.table} t{where} ORDER BY {directory.order}"
    if limit is not None:
        rows += " LIMIT :limit OFFSET :offset"
        values |= {"limit": limit, "offset": offset}
    columns = ", ".join(f"t.{c}" for c in directory.columns)
    sql = (
        f"SELECT {columns}, coalesce(s.events, 0) FROM ({rows}) t"
        f" LEFT JOIN key_stats s ON s.key = '{directory.kind}:' || t.id"
        f" ORDER BY {directory.order}"
    )
    items = [_item(directory, row) for row in run(session, sql, **values)]
    _add_aliases(session, directory, items)
    more = limit is not None and offset + len(items) < total
    return {
        "items": items,
        "total": total,
        "total_exact": True,
        "next_cursor": encode_offset(offset + (limit or 0)) if more else None,
    }


def detail(
    session: Session, directory: Directory, entity_id: str, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One entity with its aliases, event count, and first and last event dates."""
    rows = run(session, _detail_sql(directory, extra), id=entity_id)
    if not rows:
        raise NotFound(directory.kind, entity_id)
    row = rows[0]
    item = _item(directory, row[:-2], extra)
    item["first_date"] = iso(row[-2]) if row[-2] is not None else None
    item["last_date"] = iso(row[-1]) if row[-1] is not None else None
    _add_aliases(session, directory, [item])
    return item


def _detail_sql(directory: Directory, extra: tuple[str, ...]) -> str:
    columns = ", ".join(f"t.{c}" for c in directory.columns + extra)
    return (
        f"SELECT {columns}, coalesce(s.events, 0), o.date_start, s.last_date"
        f" FROM {directory.table} t"
        f" LEFT JOIN key_stats s ON s.key = '{directory.kind}:' || t.id"
        " LEFT JOIN event_order o ON o.rank = s.first_rank WHERE t.id = :id"
    )


def exists(session: Session, directory: Directory, entity_id: str) -> None:
    """`NotFound` unless `entity_id` is one of `directory`'s."""
    if not run(session, f"SELECT 1 FROM {directory.table} WHERE id = :id", id=entity_id):
        raise NotFound(directory.kind, entity_id)


def _add_aliases(session: Session, directory: Directory, items: list[dict[str, Any]]) -> None:
    """Each item's other names (not its own name or id), in the dataset's order."""
    if directory.names is None:
        return
    owner = f"{directory.kind}_id"
    ids = [item["id"] for item in items]
    aliases: dict[str, list[str]] = defaultdict(list)
    if ids:
        marks = ", ".join(f":i{n}" for n in range(len(ids)))
        for owner_id, name in run(
            session,
            f"SELECT {owner}, name FROM {directory.names}"
            f" WHERE {owner} IN ({marks}) AND is_alias ORDER BY id",
            **{f"i{n}": i for n, i in enumerate(ids)},
        ):
            if name != owner_id:
                aliases[owner_id].append(name)
    for item in items:
        item["aliases"] = aliases.get(item["id"], [])  # keeps its place in the dict


def encode_offset(offset: int) -> str:
    """An opaque cursor for the directory lists."""
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_offset(cursor: str | None) -> int:
    """The offset a directory cursor names; `InvalidParameter('cursor')` otherwise."""
    if not cursor:
        return 0
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = payload["offset"]
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValueError(offset)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor", "not a cursor this API issued; use next_cursor from a response"
        ) from None
    return offset
