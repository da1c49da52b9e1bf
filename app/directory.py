"""Actors, places and sources, listed and in detail, as the load stored them.

The load writes each entity's list entry (`doc`) and detail (`detail`) as JSON text, with
its aliases, event count and first and last dates (`build_documents`), and numbers actors
and places in list order, among all and among their kind: a page of all or of one kind,
and its total, are then index lookups however deep the page, a page filtered otherwise
one statement, and a detail one lookup. Names are matched by their keys
(`app.text.name_key`), which are lowercase ASCII words, so patterns need no escaping.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, text

from app.dates import EARLIEST, LATEST
from app.db import ReadSession
from app.errors import InvalidParameter, NotFound
from app.prepared import iso, numbered, placeholders, run
from app.queries import page_body
from app.text import typed_keys


@dataclass(frozen=True)
class Directory:
    """One kind of entity: its table, the columns clients get, and its names table."""

    kind: str  # also the prefix of its keys in key_stats ("actor:ID")
    table: str
    columns: tuple[str, ...]
    order: str  # the list order, as the load reads them (numbered ones page by number)
    names: str | None = None  # table of names and aliases, keyed by `{kind}_id`
    detail_columns: tuple[str, ...] = ()  # shown in the detail only
    numbered: bool = False  # `position` and `kind_position` stored in list order


ACTORS = Directory(
    "actor",
    "actors",
    ("id", "name", "kind", "description", "country"),
    "t.sort_key, t.id",
    "actor_names",
    numbered=True,
)
PLACES = Directory(
    "place",
    "places",
    ("id", "name", "kind", "lat", "lon", "parent_id"),
    "t.sort_key, t.id",
    "place_names",
    numbered=True,
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
    detail_columns=("archive",),
)
DIRECTORIES = (ACTORS, PLACES, SOURCES)
# Column names as clients see them.
_RENAMED = {"parent_id": "parent"}
_REF = ("id", "name", "kind", "lat", "lon")  # a place as a parent or child of another


def page(
    session: ReadSession,
    directory: Directory,
    *,
    q: str | None,
    equal: Mapping[str, str | tuple[str, ...] | None],
    limit: int | None,
    cursor: str | None,
) -> bytes:
    """A page of `directory` in its order as JSON: names containing `q` (any spelling),
    columns equal to the values in `equal` (None: no condition)."""
    conditions: list[str] = []
    values: dict[str, Any] = {}
    if q is not None and q.strip():
        key, completed = typed_keys(q)
        if not key:
            raise InvalidParameter("q", "contains no letters or digits to search for")
        # Anywhere in a name; completed (`Badak` -> badah, of Badakhshan), where a word
        # begins: `Dz` completed is j, which most names hold somewhere (Tajikistan).
        found = ["key LIKE :q"] + [f"' ' || key LIKE :q{i}" for i in range(len(completed))]
        conditions.append(
            f"t.id IN (SELECT {directory.kind}_id FROM {directory.names}"
            f" WHERE {' OR '.join(found)})"
        )
        values["q"] = f"%{key}%"
        values |= {f"q{i}": f"% {whole}%" for i, whole in enumerate(completed)}
    for column, value in equal.items():
        if isinstance(value, tuple):  # any of several (a name several places bear)
            conditions.append(f"t.{column} IN ({placeholders(column, len(value))})")
            values |= numbered(column, value)
        elif value is not None:
            conditions.append(f"t.{column} = :{column}")
            values[column] = value
    table = directory.table
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    offset = decode_offset(cursor)
    if directory.numbered and set(values) <= {"kind"}:
        # All, or one kind: the page is the rows numbered after the offset, the total the
        # last number.
        number = "t.kind_position" if values else "t.position"
        count = f"SELECT coalesce(max({number}), 0) FROM {table} t{where}"
        after = f"{where} AND" if where else " WHERE"
        sql = f"SELECT t.doc, ({count}) FROM {table} t{after} {number} > :offset ORDER BY {number}"
        sql += " LIMIT :limit" if limit is not None else ""
    else:
        order = "t.position" if directory.numbered else directory.order
        count = f"SELECT count(*) FROM {table} t{where}"
        sql = f"SELECT t.doc, ({count}) FROM {table} t{where} ORDER BY {order}"
        sql += " LIMIT :limit OFFSET :offset" if limit is not None else ""
    rows = run(session, sql, **values, limit=limit, offset=offset)
    total = int(rows[0][1]) if rows else int(run(session, count, **values)[0][0])
    more = limit is not None and offset + len(rows) < total
    next_cursor = encode_offset(offset + (limit or 0)) if more else None
    return page_body([row[0] for row in rows], total, True, next_cursor)


def detail(session: ReadSession, directory: Directory, entity_id: str) -> bytes:
    """One entity in full as JSON: aliases, event count, first and last event dates (and
    for a place, its parents and children)."""
    rows = run(session, f"SELECT detail FROM {directory.table} WHERE id = :id", id=entity_id)
    if not rows:
        raise NotFound(directory.kind, entity_id)
    return str(rows[0][0]).encode()


def exists(session: ReadSession, directory: Directory, entity_id: str) -> None:
    """`NotFound` unless `entity_id` is one of `directory`'s."""
    if not run(session, f"SELECT 1 FROM {directory.table} WHERE id = :id", id=entity_id):
        raise NotFound(directory.kind, entity_id)


def build_documents(connection: Connection) -> None:
    """At load, after the counts (`key_stats`): every entity's list entry and detail, in
    the order of the documented fields, and the numbers of actors and places in list order."""
    for directory in DIRECTORIES:
        columns = directory.columns + directory.detail_columns
        selected = ", ".join(f"t.{c}" for c in columns)
        rows = connection.execute(
            text(
                f"SELECT {selected}, coalesce(s.events, 0), o.date_start, s.last_date"
                f" FROM {directory.table} t"
                f" LEFT JOIN key_stats s ON s.key = '{directory.kind}:' || t.id"
                f" LEFT JOIN event_order o ON o.rank = s.first_rank ORDER BY {directory.order}"
            )
        ).all()
        records = [dict(zip(columns, row, strict=False)) for row in rows]
        aliases = _aliases(connection, directory)
        parents, children = _place_tree(records) if directory is PLACES else ({}, {})
        updates = []
        kind_positions: Counter[str] = Counter()
        for position, (row, values) in enumerate(zip(rows, records, strict=True), 1):
            item = {_RENAMED.get(c, c): values[c] for c in directory.columns}
            if directory.names is not None:
                item["aliases"] = aliases.get(values["id"], [])
            item["event_count"] = int(row[len(columns)])
            full = item | {c: values[c] for c in directory.detail_columns}
            full["event_count"] = full.pop("event_count")  # keeps its documented place
            first, last = row[len(columns) + 1], row[len(columns) + 2]
            key = f"{directory.kind}:{values['id']}"
            if first is not None and iso(first) == iso(EARLIEST):
                first = _known_bound(connection, key, "min(o.date_start)", "o.date_start >")
            if last is not None and iso(last) == iso(LATEST):
                last = _known_bound(connection, key, "max(o.date_end)", "o.date_end <")
            full["first_date"] = iso(first) if first is not None else None
            full["last_date"] = iso(last) if last is not None else None
            if directory is PLACES:
                full["parents"] = parents[values["id"]]
                full["children"] = children.get(values["id"], [])
            doc, detail = to_json(item).decode(), to_json(full).decode()
            update: dict[str, Any] = {"id": values["id"], "doc": doc, "detail": detail}
            if directory.numbered:
                kind_positions[values["kind"]] += 1
                update |= {"position": position, "kind_position": kind_positions[values["kind"]]}
            updates.append(update)
        if updates:
            assigned = ", ".join(f"{name} = :{name}" for name in updates[0] if name != "id")
            connection.execute(
                text(f"UPDATE {directory.table} SET {assigned} WHERE id = :id"), updates
            )


def _known_bound(connection: Connection, key: str, bound: str, known: str) -> Any:
    """The earliest start (or latest end) of `key`'s events that have one: an event known
    only to precede a date (an open start, stored from 0001-01-01) has no start to show,
    as in the year facets, nor an open-ended one (`2015/..`, to 9999-12-31) an end; None
    when every event of `key` is such."""
    edge = EARLIEST if known.endswith(">") else LATEST
    return connection.execute(
        text(
            f"SELECT {bound} FROM event_keys k JOIN event_order o ON o.rank = k.rank"
            f" WHERE k.key = :key AND {known} :edge"
        ),
        {"key": key, "edge": edge},
    ).scalar()


def _aliases(connection: Connection, directory: Directory) -> dict[str, list[str]]:
    """Each entity's other names (not its own name or id), in the dataset's order."""
    aliases: dict[str, list[str]] = defaultdict(list)
    if directory.names is not None:
        owner = f"{directory.kind}_id"
        for owner_id, name in connection.execute(
            text(f"SELECT {owner}, name FROM {directory.names} WHERE is_alias ORDER BY id")
        ):
            if name != owner_id:
                aliases[owner_id].append(name)
    return aliases


def _place_tree(
    records: list[dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Each place's containing places (outermost first) and the places directly inside it
    (in `records`' order, the list order)."""
    refs = {r["id"]: {name: r[name] for name in _REF} for r in records}
    parent_of = {r["id"]: r["parent_id"] for r in records}
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    parents: dict[str, list[dict[str, Any]]] = {}
    for place_id, parent in parent_of.items():
        if parent is not None:
            children[parent].append(refs[place_id])
        chain: list[dict[str, Any]] = []
        while parent is not None and len(chain) < len(refs):  # bounded, cycles or not
            chain.append(refs[parent])
            parent = parent_of[parent]
        parents[place_id] = chain[::-1]
    return parents, children


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
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**31:
            raise ValueError(offset)  # past 2**31, no page of any table: a forged cursor
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor", "not a cursor this API issued; use next_cursor from a response"
        ) from None
    return offset
