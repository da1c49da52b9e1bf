"""Event filters as one SQL `Select`, keyset paging, and loading a page's related rows.

Every list, feed and facet reuses `events_query`, so a filter means the same thing in
`/events`, `/facets`, `/timelinejs`, `/events.csv` and `/events.geojson`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from app import models
from app.caching import MemoCache
from app.dates import SPAN_CLASS_DAYS
from app.errors import InvalidParameter
from app.prepared import Prepared, fetch, iso, prepare, statement
from app.text import name_key, search_words

Match = Literal["overlap", "within"]
Sort = Literal["date", "-date"]


@dataclass(frozen=True)
class EventFilters:
    """What a client asked for; names and ids are resolved by `events_query`."""

    window_start: date | None = None
    window_end: date | None = None
    match: Match = "overlap"
    actors: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    q: str | None = None
    sort: Sort = "date"
    # Set by the /actors|places/{id}/events routes: exact ids, ANDed with the rest.
    actor_ids: tuple[str, ...] = ()
    place_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()


@dataclass
class Related:
    """A page's actors, places, tags and citing sources, keyed by event id (plain rows)."""

    # (id, name, kind, role)
    actors: dict[str, list[tuple[str, str, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (id, name, kind, lat, lon)
    places: dict[str, list[tuple[str, str, str, float | None, float | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    tags: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sources: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


# --- resolving names -------------------------------------------------------------------


def resolve_actor_ids(session: Session, values: Sequence[str]) -> set[str]:
    """Actor ids a client's actor values name: an id, a name or any alias, any spelling.

    A value that equals a whole name matches only that; otherwise it matches names that
    contain it as whole words ('Rahmon' -> 'Emomali Rahmon').
    """
    return _resolve(session, models.ActorName, models.ActorName.actor_id, models.Actor.id, values)


def resolve_place_ids(session: Session, values: Sequence[str]) -> set[str]:
    """Place ids a client's place values name, by id, name or alias (not yet subtrees)."""
    return _resolve(session, models.PlaceName, models.PlaceName.place_id, models.Place.id, values)


def _resolve(
    session: Session, names: Any, owner: Any, id_column: Any, values: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    for value in values:
        exact = set(session.scalars(select(id_column).where(id_column == value.strip())))
        key = name_key(value)
        if key:
            exact |= set(session.scalars(select(owner).where(names.key == key)))
        if not exact and key:
            padded = " " + names.key + " "
            exact = set(
                session.scalars(
                    select(owner).where(padded.contains(f" {key} ", autoescape=True)).distinct()
                )
            )
        found |= exact
    return found


def subtree_ids(session: Session, place_ids: set[str]) -> set[str]:
    """The places and every place inside them (Tajikistan -> its regions -> its cities)."""
    if not place_ids:
        return set()
    paths = session.scalars(select(models.Place.path).where(models.Place.id.in_(place_ids)))
    conditions = [models.Place.path.startswith(path, autoescape=True) for path in paths]
    if not conditions:
        return set()
    return set(session.scalars(select(models.Place.id).where(or_(*conditions))))


# --- the one query -------------------------------------------------------------------


# A membership filter (actor, place, tag, source, q) that matches at most this many events
# becomes a list of ids to look up; a broader one is tested row by row while the date index
# is walked, which finds a page of common matches at once. SQLite's planner cannot tell the
# two apart, so we ask with one bounded query. PostgreSQL's planner chooses by itself.
SELECTIVE = 2000
# A filter matching more than this many events is counted by walking the events (the
# count stops at COUNT_LIMIT within a few hundred thousand rows at most).
BROAD = 50_000

# Words matching at most this many events are read from the full-text index as a list of
# ids: testing each event's text along the date index would read about limit / share
# texts (at 1M events, a 0.3% word means some 17,000 texts for a page of 50).
TEXT_PAGE_FROM_INDEX = 10_000
# Testing an event's text along the date index costs about this many rowid lookups.
WALK_COST = 5

# Counting every match of a broad filter over millions of events would cost more than the
# page itself; counts stop here and say so (`total_exact: false`).
COUNT_LIMIT = 10_000
memo = MemoCache()


_META = select(
    models.DatasetMeta.dataset_hash,
    models.DatasetMeta.max_span_days,
    models.DatasetMeta.event_count,
).where(models.DatasetMeta.id == 1)


class Meta(NamedTuple):
    """What the request's transaction sees of the loaded dataset."""

    dataset_hash: str | None
    max_span_days: int
    event_count: int


def dataset_meta(session: Session) -> Meta:
    """The loaded dataset's hash and longest span, as this request's transaction sees them.

    Read once per transaction: every memo key needs it.
    """
    transaction = session.get_transaction()
    cached = session.info.get("dataset_meta")
    if cached is None or cached[0] is not transaction or transaction is None:
        rows = fetch(session, statement(session, "dataset_meta", lambda: _META))
        meta = Meta(rows[0][0], int(rows[0][1]), int(rows[0][2])) if rows else Meta(None, 0, 0)
        session.info["dataset_meta"] = cached = (session.get_transaction(), meta)
        state = session.info.get("request_state")
        if state is not None:
            state.dataset_hash = meta.dataset_hash  # see CacheMiddleware
    return cached[1]


def dataset_key(session: Session, filters: object) -> tuple[object, ...]:
    """A memo key: which database, which loaded dataset, which filters."""
    return (str(session.get_bind().engine.url), dataset_meta(session).dataset_hash, filters)


def event_conditions(
    session: Session, filters: EventFilters, *, counting: bool = False
) -> list[ColumnElement[bool]]:
    """WHERE conditions on `events` for `filters`, shared by lists, feeds and facets.

    `counting` asks for the form that reads every match at once rather than one page.
    """
    return [
        *filter_conditions(session, filters, counting=counting),
        *_start_floor(session, filters),
    ]


def filter_conditions(
    session: Session, filters: EventFilters, *, counting: bool = False
) -> list[ColumnElement[bool]]:
    """The conditions a client asked for, without the redundant bound `_start_floor` adds.

    Resolving names and probing how selective a filter is takes queries of its own, so the
    conditions are kept per dataset and filters (the sort order does not change them).
    """
    key = ("conditions", counting, *dataset_key(session, replace(filters, sort="date")))
    return memo.get(key, lambda: _build_conditions(session, filters, counting))


def _start_floor(session: Session, filters: EventFilters) -> list[ColumnElement[bool]]:
    """A redundant lower bound on `date_start` for an overlap window, so that the
    (date_start, ...) indexes have a range to scan: no event starts earlier than the
    window by more than the longest span in the dataset."""
    if filters.match != "overlap" or filters.window_start is None:
        return []
    return [models.Event.date_start >= _earliest_start(session, filters.window_start)]


def _by_span_class(filters: EventFilters) -> bool:
    """Whether an overlap window is best read one span class at a time (migration 0003).

    A type filter has its own (type, date_start, ...) index, which steps over other
    types' entries anyway; reading it once per class would cost more than it saves.
    """
    return filters.match == "overlap" and filters.window_start is not None and not filters.types


def _span_class_arms(
    session: Session, filters: EventFilters, conditions: list[ColumnElement[bool]]
) -> list[Select[*tuple[Any, ...]]]:
    """One `Select` per span class, each with its own lower bound on `date_start`.

    An event of class k starts at most SPAN_CLASS_DAYS[k] days before the window (the
    longest class: the dataset's longest span), so a month-long event's arm steps over a
    month of index entries instead of the longest span's years.
    """
    start = filters.window_start
    assert start is not None
    event = models.Event
    arms = []
    for k, days in enumerate((*SPAN_CLASS_DAYS, dataset_meta(session).max_span_days)):
        floor = start - timedelta(days=min(days, (start - date.min).days))
        arms.append(
            select(event.date_start, event.date_end, event.id).where(
                event.span_class == k, event.date_start >= floor, *conditions
            )
        )
    return arms


def _build_conditions(
    session: Session, filters: EventFilters, counting: bool
) -> list[ColumnElement[bool]]:
    member = partial(_member, session, counting=counting)
    event = models.Event
    conditions: list[ColumnElement[bool]] = []
    start, end = filters.window_start, filters.window_end
    if filters.match == "within":
        if start is not None:
            conditions.append(event.date_start >= start)
        if end is not None:
            conditions.append(event.date_end <= end)
    else:
        if start is not None:
            conditions.append(event.date_end >= start)
        if end is not None:
            conditions.append(event.date_start <= end)

    actor, place, tag, citation = (
        models.EventActor,
        models.EventPlace,
        models.EventTag,
        models.Citation,
    )
    roles = actor.role.in_(filters.roles) if filters.roles else None
    if filters.actors:
        actor_ids = resolve_actor_ids(session, filters.actors)
        conditions.append(member(actor.event_id, actor.actor_id, actor_ids, roles))
    elif filters.roles:
        conditions.append(member(actor.event_id, actor.role, filters.roles))
    if filters.actor_ids:
        conditions.append(member(actor.event_id, actor.actor_id, filters.actor_ids))

    for names, ids in ((filters.places, ()), ((), filters.place_ids)):
        if names or ids:
            inside = subtree_ids(session, resolve_place_ids(session, names) | set(ids))
            conditions.append(member(place.event_id, place.place_id, inside))

    if filters.types:
        conditions.append(event.type.in_(filters.types))
    if filters.tags:
        conditions.append(member(tag.event_id, tag.tag, filters.tags))
    for sources in (filters.sources, filters.source_ids):
        if sources:
            conditions.append(member(citation.event_id, citation.source_id, sources))
    if filters.q is not None:
        conditions.extend(_text_conditions(session, filters.q, counting))
    return conditions


def _earliest_start(session: Session, window_start: date) -> date:
    span = dataset_meta(session).max_span_days
    return window_start - timedelta(days=min(span, (window_start - date.min).days))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _member(
    session: Session,
    link_event: Any,
    column: Any,
    values: Iterable[str],
    extra: ColumnElement[bool] | None = None,
    *,
    counting: bool = False,
) -> ColumnElement[bool]:
    """Events with a link row (actor, place, tag, citation) whose `column` is in `values`."""
    wanted = sorted(values)
    if not wanted:
        return false()
    condition = and_(column.in_(wanted), extra if extra is not None else true())
    matching = select(link_event).where(condition)
    if not _is_sqlite(session):
        return models.Event.id.in_(matching)
    found = list(session.scalars(matching.distinct().limit(SELECTIVE + 1)))
    if len(found) <= SELECTIVE:
        return models.Event.id.in_(found) if found else false()
    if counting and not _is_broad(session, matching):
        return models.Event.id.in_(matching)  # read every match from the index at once
    # Many matches, one page wanted: test each event as the date index is walked. The
    # unary + keeps SQLite on the link table's primary key instead of probing every value.
    unindexed = literal_column(f"+{column.table.name}.{column.name}").in_(wanted)
    probe = and_(link_event == models.Event.id, unindexed, extra if extra is not None else true())
    return exists(select(link_event).where(probe))


def _is_broad(session: Session, matching: Select[Any], limit: int = BROAD) -> bool:
    """Whether a filter matches more than `limit` events: by default, so much that counting
    by walking the events reaches COUNT_LIMIT sooner than reading every match from its
    index would."""
    probe = select(func.count()).select_from(matching.limit(limit + 1).subquery())
    return int(session.scalar(probe) or 0) > limit


def _text_conditions(session: Session, q: str, counting: bool) -> list[ColumnElement[bool]]:
    words = search_words(q)
    if not words:
        raise InvalidParameter("q", "contains no letters or digits to search for")
    # search_text is space-padded keyed words: " word" matches at the start of a word.
    conditions: list[ColumnElement[bool]] = [
        models.Event.search_text.contains(f" {word}", autoescape=True) for word in words
    ]
    if not _is_sqlite(session):
        return conditions  # the pg_trgm index serves these LIKEs
    indexed = [word for word in words if len(word) >= 2]  # a trigram needs 3 characters
    if not indexed:
        return conditions
    phrase = " AND ".join(f'" {word}"' for word in indexed)  # words are [a-z0-9] only
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text("events_fts"))
        .where(text("events_fts MATCH :phrase").bindparams(phrase=phrase))
    )
    # One full-text lookup per dataset and words, shared by pages and counts: for a rare
    # word made of common trigrams it is the costliest part of the request.
    key = ("fts", *dataset_key(session, phrase))
    found = memo.get(key, lambda: _text_matches(session, matching))
    rowid: ColumnElement[Any] = literal_column("events.rowid")
    if isinstance(found, list):
        return [rowid.in_(found) if found else false(), *conditions]
    # A page read from the list costs about one row per match; a walk along the dates
    # about WALK_COST / share rows (matches * share = 50 near sqrt(50 * WALK_COST * N)).
    events = max(dataset_meta(session).event_count, 1)
    page_from_list = found is not None and found[0] ** 2 <= 50 * WALK_COST * events
    if found is not None and (counting or page_from_list):
        # Too many ids to bind one by one: one JSON array, unpacked by SQLite.
        ids: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam("fts_rowids", found[1]))
        )
        return [rowid.in_(ids), *conditions]
    if counting and not _is_broad(session, matching):
        return [rowid.in_(matching), *conditions]  # read every match from the index
    return conditions  # common words: test rows as the date index is walked


def _text_matches(session: Session, matching: Select[Any]) -> list[int] | tuple[int, str] | None:
    """The rowids of the events the words match: a list up to SELECTIVE, their number and
    a JSON array up to TEXT_PAGE_FROM_INDEX (smaller to keep), None for more."""
    found = list(session.scalars(matching.limit(TEXT_PAGE_FROM_INDEX + 1)))
    if len(found) <= SELECTIVE:
        return found
    if len(found) > TEXT_PAGE_FROM_INDEX:
        return None
    return len(found), json.dumps(found, separators=(",", ":"))


# The columns of a list item, in the order `EventRow` names them.
EVENT_COLUMNS = (
    models.Event.id,
    models.Event.title,
    models.Event.edtf,
    models.Event.precision,
    models.Event.date_start,
    models.Event.date_end,
    models.Event.approximate,
    models.Event.uncertain,
    models.Event.type,
    models.Event.summary,
)


class EventRow(NamedTuple):
    """One event of a list as plain values: building ORM objects for a page costs more
    than querying it."""

    id: str
    title: str
    edtf: str
    precision: str
    date_start: str  # YYYY-MM-DD
    date_end: str
    approximate: bool
    uncertain: bool
    type: str
    summary: str


def event_row(values: Sequence[Any]) -> EventRow:
    """An `EventRow` from the driver's values for `EVENT_COLUMNS` (SQLite: text dates, 0/1)."""
    i, title, edtf, precision, start, end, approximate, uncertain, kind, summary = values
    return EventRow(
        i,
        title,
        edtf,
        precision,
        iso(start),
        iso(end),
        bool(approximate),
        bool(uncertain),
        kind,
        summary,
    )


def events_query(session: Session, filters: EventFilters) -> Select[*tuple[Any, ...]]:
    """The filtered, sorted events (the `EVENT_COLUMNS`) as one `Select`, not yet paged."""
    query = select(*EVENT_COLUMNS).where(*event_conditions(session, filters))
    return query.order_by(*_order(filters.sort))


def _order(sort: Sort) -> list[Any]:
    event = models.Event
    columns = [event.date_start, event.date_end, event.id]
    return [c.desc() for c in columns] if sort == "-date" else columns


def count_events(session: Session, filters: EventFilters) -> tuple[int, bool]:
    """How many events match (up to COUNT_LIMIT), and whether that count is exact."""
    unsorted = replace(filters, sort="date")

    def compute() -> tuple[int, bool]:
        matching: Select[Any] | CompoundSelect[Any]
        if _by_span_class(filters):
            conditions = filter_conditions(session, filters, counting=True)
            matching = union_all(*_span_class_arms(session, filters, conditions))
        else:
            matching = select(models.Event.id).where(
                *event_conditions(session, filters, counting=True)
            )
        capped = select(func.count()).select_from(matching.limit(COUNT_LIMIT + 1).subquery())
        total = int(session.scalar(capped) or 0)
        return min(total, COUNT_LIMIT), total <= COUNT_LIMIT

    return memo.get(("count", *dataset_key(session, unsorted)), compute)


# --- keyset paging ---------------------------------------------------------------------


def encode_cursor(event: EventRow, sort: Sort) -> str:
    """An opaque token for the position after `event` in `sort` order."""
    payload = [sort, event.date_start, event.date_end, event.id]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[date, date, str]:
    """The position a cursor names; `InvalidParameter('cursor')` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        cursor_sort, start, end, event_id = payload
        if not isinstance(event_id, str) or "\x00" in event_id or len(event_id) > 200:
            raise ValueError(event_id)
        position = (date.fromisoformat(start), date.fromisoformat(end), event_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor", "not a cursor this API issued; use next_cursor from a response"
        ) from None
    if cursor_sort != sort:
        raise InvalidParameter("cursor", f"this cursor belongs to sort={cursor_sort}")
    return position


_AFTER = tuple_(
    bindparam("after_start", date.min, type_=models.Event.date_start.type),
    bindparam("after_end", date.min, type_=models.Event.date_end.type),
    bindparam("after_id", "", type_=models.Event.id.type),
)


def page_events(
    session: Session, filters: EventFilters, limit: int, cursor: str | None
) -> tuple[list[EventRow], str | None]:
    """One page of events after `cursor`, and the cursor of the next page (or None).

    The page's statement is compiled once per dataset, filters and cursor presence; a
    request only fills in the cursor's position and the page size.
    """
    position: dict[str, Any] = {"page_size": limit + 1}
    if cursor:
        start, end, event_id = decode_cursor(cursor, filters.sort)
        position |= {"after_start": start, "after_end": end, "after_id": event_id}

    def compile_page() -> Prepared:
        event = models.Event
        key = tuple_(event.date_start, event.date_end, event.id)
        after = [(key < _AFTER if filters.sort == "-date" else key > _AFTER)] if cursor else []
        page_size = bindparam("page_size", 0, type_=Integer)
        total, exact = count_events(session, filters)
        if (
            filters.sort == "date"
            and _by_span_class(filters)
            and not (exact and total <= SELECTIVE)
        ):
            # Each class's first page, then the first of those: see _span_class_arms.
            conditions = [*filter_conditions(session, filters), *after]
            arms = [
                select(*arm.order_by(*_order("date")).limit(page_size).subquery().c)
                for arm in _span_class_arms(session, filters, conditions)
            ]
            merged = union_all(*arms).subquery()
            first = select(merged.c.id).order_by(*merged.c).limit(page_size)
        elif _is_sqlite(session):
            # Sort on the (id, date_start, date_end) index, then read only the page's rows:
            # a list of a few thousand ids would otherwise read every listed event's row.
            conditions = [*event_conditions(session, filters), *after]
            first = (
                select(event.id).where(*conditions).order_by(*_order(filters.sort)).limit(page_size)
            )
        else:
            query = events_query(session, filters).where(*after).limit(page_size)
            return prepare(query, session.get_bind().dialect)
        query = select(*EVENT_COLUMNS).where(event.id.in_(first)).order_by(*_order(filters.sort))
        return prepare(query, session.get_bind().dialect)

    page = memo.get(("page", bool(cursor), *dataset_key(session, filters)), compile_page)
    rows = [event_row(row) for row in fetch(session, page, **position)]
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1], filters.sort)
    return rows, None


_link, _actor, _at, _place = models.EventActor, models.Actor, models.EventPlace, models.Place
_RELATED: dict[str, Callable[[Any], Select[*tuple[Any, ...]]]] = {
    "actors": lambda ids: (
        select(_link.event_id, _actor.id, _actor.name, _actor.kind, _link.role)
        .join(_actor, _actor.id == _link.actor_id)
        .where(_link.event_id.in_(ids))
        .order_by(_link.event_id, _link.position)
    ),
    "places": lambda ids: (
        select(_at.event_id, _place.id, _place.name, _place.kind, _place.lat, _place.lon)
        .join(_place, _place.id == _at.place_id)
        .where(_at.event_id.in_(ids))
        .order_by(_at.event_id, _at.position)
    ),
    "tags": lambda ids: (
        select(models.EventTag.event_id, models.EventTag.tag)
        .where(models.EventTag.event_id.in_(ids))
        .order_by(models.EventTag.event_id, models.EventTag.tag)
    ),
    "sources": lambda ids: (
        select(models.Citation.event_id, models.Citation.source_id)
        .where(models.Citation.event_id.in_(ids))
        .order_by(models.Citation.event_id, models.Citation.position)
    ),
}


def _related_rows(session: Session, kind: str, event_ids: list[str]) -> list[tuple[Any, ...]]:
    """One kind of related rows for these events, by a statement compiled once per
    dialect and number of events."""

    def build() -> Select[*tuple[Any, ...]]:
        ids: list[BindParameter[str]] = [bindparam(f"event_{i}", "") for i in range(len(event_ids))]
        return _RELATED[kind](ids)

    prepared = statement(session, (kind, len(event_ids)), build)
    return fetch(session, prepared, **{f"event_{i}": e for i, e in enumerate(event_ids)})


RELATED_KINDS = frozenset({"actors", "places", "tags", "sources"})


def load_related(
    session: Session, event_ids: Sequence[str], kinds: frozenset[str] = RELATED_KINDS
) -> Related:
    """Actors, places, tags and citing sources (those of `kinds`) for a page of events,
    one query per kind."""
    related = Related()
    if not event_ids:
        return related
    ids = list(event_ids)
    actors, places, tags, sources = related.actors, related.places, related.tags, related.sources
    if "actors" in kinds:
        for event_id, *actor_row in _related_rows(session, "actors", ids):
            actors[event_id].append(tuple(actor_row))
    if "places" in kinds:
        for event_id, *place_row in _related_rows(session, "places", ids):
            places[event_id].append(tuple(place_row))
    if "tags" in kinds:
        for event_id, tag in _related_rows(session, "tags", ids):
            tags[event_id].append(tag)
    if "sources" in kinds:
        for event_id, source_id in _related_rows(session, "sources", ids):
            if source_id not in sources[event_id]:
                sources[event_id].append(source_id)
    return related


def place_ancestors(session: Session, places: Sequence[models.Place]) -> dict[str, models.Place]:
    """Every ancestor of `places`, by id, in one query."""
    ids = {part for place in places for part in place.path.strip("/").split("/")}
    ids -= {place.id for place in places}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(models.Place).where(models.Place.id.in_(ids)))}


# --- actors, places and sources --------------------------------------------------------


def encode_offset(offset: int) -> str:
    """An opaque cursor for the small directory lists (actors, places, sources)."""
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


def names_by_owner(
    session: Session, names: Any, owner: Any, ids: Sequence[str]
) -> dict[str, list[str]]:
    """Aliases (every name but the primary one and the id) of the given owners."""
    result: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return result
    for owner_id, name in session.execute(
        select(owner, names.name)
        .where(owner.in_(list(ids)), names.is_alias.is_(True))
        .order_by(names.id)
    ):
        if name != owner_id:
            result[owner_id].append(name)
    return result


def date_bounds(
    session: Session, condition: ColumnElement[bool]
) -> tuple[date | None, date | None]:
    """Earliest start and latest end of the events matching `condition`."""
    row = session.execute(
        select(func.min(models.Event.date_start), func.max(models.Event.date_end)).where(condition)
    ).one()
    return row[0], row[1]


def name_filter(names: Any, owner: Any, id_column: Any, q: str) -> ColumnElement[bool]:
    """Owners (by `id_column`) with a name or alias containing the keyed `q`."""
    key = name_key(q)
    if not key:
        raise InvalidParameter("q", "contains no letters or digits to search for")
    condition: ColumnElement[bool] = id_column.in_(
        select(owner).where(names.key.contains(key, autoescape=True))
    )
    return condition


def iter_event_pages(
    session: Session,
    filters: EventFilters,
    limit: int | None,
    page_size: int = 1000,
    kinds: frozenset[str] = RELATED_KINDS,
) -> Iterator[tuple[list[EventRow], Related]]:
    """Every matching event (up to `limit`), a page at a time with its related rows (those
    of `kinds`; a feed that shows no tags need not read them)."""
    cursor = None
    remaining = limit
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        events, cursor = page_events(session, filters, size, cursor)
        if events:
            yield events, load_related(session, [e.id for e in events], kinds)
        if remaining is not None:
            remaining -= len(events)
        if cursor is None:
            return
