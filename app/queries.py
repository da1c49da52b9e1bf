"""Event filters as one SQL `Select`, keyset paging, and loading a page's related rows.

Every list, feed and facet reuses `events_query`, so a filter means the same thing in
`/events`, `/facets`, `/timelinejs`, `/events.csv` and `/events.geojson`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from app import models
from app.errors import InvalidParameter
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
    """A page's actors, places, tags and citations, keyed by event id."""

    actors: dict[str, list[tuple[models.Actor, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    places: dict[str, list[models.Place]] = field(default_factory=lambda: defaultdict(list))
    tags: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sources: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    citations: dict[str, list[models.Citation]] = field(default_factory=lambda: defaultdict(list))


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


def event_conditions(session: Session, filters: EventFilters) -> list[ColumnElement[bool]]:
    """WHERE conditions on `events` for `filters`, shared by lists, feeds and facets."""
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

    if filters.actors:
        actor_ids = resolve_actor_ids(session, filters.actors)
        conditions.append(_linked_to_actors(actor_ids, filters.roles))
    elif filters.roles:
        conditions.append(
            event.id.in_(
                select(models.EventActor.event_id).where(models.EventActor.role.in_(filters.roles))
            )
        )
    if filters.actor_ids:
        conditions.append(_linked_to_actors(set(filters.actor_ids), ()))

    if filters.places:
        named = resolve_place_ids(session, filters.places)
        conditions.append(_linked_to_places(subtree_ids(session, named)))
    if filters.place_ids:
        conditions.append(_linked_to_places(subtree_ids(session, set(filters.place_ids))))

    if filters.types:
        conditions.append(event.type.in_(filters.types))
    if filters.tags:
        conditions.append(
            event.id.in_(
                select(models.EventTag.event_id).where(models.EventTag.tag.in_(filters.tags))
            )
        )
    if filters.sources:
        conditions.append(
            event.id.in_(
                select(models.Citation.event_id).where(
                    models.Citation.source_id.in_(filters.sources)
                )
            )
        )
    if filters.source_ids:
        conditions.append(
            event.id.in_(
                select(models.Citation.event_id).where(
                    models.Citation.source_id.in_(filters.source_ids)
                )
            )
        )
    if filters.q is not None:
        words = search_words(filters.q)
        if not words:
            raise InvalidParameter("q", "contains no letters or digits to search for")
        for word in words:
            # search_text is space-padded keyed words: ' word' matches at a word start.
            conditions.append(event.search_text.contains(f" {word}", autoescape=True))
    return conditions


def _linked_to_actors(actor_ids: set[str], roles: Sequence[str]) -> ColumnElement[bool]:
    if not actor_ids:
        return false()
    links = select(models.EventActor.event_id).where(
        models.EventActor.actor_id.in_(sorted(actor_ids))
    )
    if roles:
        links = links.where(models.EventActor.role.in_(roles))
    return models.Event.id.in_(links)


def _linked_to_places(place_ids: set[str]) -> ColumnElement[bool]:
    if not place_ids:
        return false()
    return models.Event.id.in_(
        select(models.EventPlace.event_id).where(models.EventPlace.place_id.in_(sorted(place_ids)))
    )


def events_query(session: Session, filters: EventFilters) -> Select[models.Event]:
    """The filtered, sorted events as one `Select` (not yet paged)."""
    query = select(models.Event).where(*event_conditions(session, filters))
    return query.order_by(*_order(filters.sort))


def _order(sort: Sort) -> list[Any]:
    event = models.Event
    columns = [event.date_start, event.date_end, event.id]
    return [c.desc() for c in columns] if sort == "-date" else columns


def count_events(session: Session, filters: EventFilters) -> int:
    """How many events match `filters`."""
    query = (
        select(func.count()).select_from(models.Event).where(*event_conditions(session, filters))
    )
    return int(session.scalar(query) or 0)


# --- keyset paging ---------------------------------------------------------------------


def encode_cursor(event: models.Event, sort: Sort) -> str:
    """An opaque token for the position after `event` in `sort` order."""
    payload = [sort, event.date_start.isoformat(), event.date_end.isoformat(), event.id]
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


def page_events(
    session: Session, filters: EventFilters, limit: int, cursor: str | None
) -> tuple[list[models.Event], str | None]:
    """One page of events after `cursor`, and the cursor of the next page (or None)."""
    query = events_query(session, filters)
    if cursor:
        start, end, event_id = decode_cursor(cursor, filters.sort)
        key = tuple_(models.Event.date_start, models.Event.date_end, models.Event.id)
        after = (start, end, event_id)
        query = query.where(key < after if filters.sort == "-date" else key > after)
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1], filters.sort)
    return rows, None


def load_related(session: Session, event_ids: Sequence[str]) -> Related:
    """Actors, places, tags and citations for a page of events, one query per kind."""
    related = Related()
    if not event_ids:
        return related
    ids = list(event_ids)
    link = models.EventActor
    for event_id, role, actor in session.execute(
        select(link.event_id, link.role, models.Actor)
        .join(models.Actor, models.Actor.id == link.actor_id)
        .where(link.event_id.in_(ids))
        .order_by(link.event_id, link.position)
    ):
        related.actors[event_id].append((actor, role))
    for event_id, place in session.execute(
        select(models.EventPlace.event_id, models.Place)
        .join(models.Place, models.Place.id == models.EventPlace.place_id)
        .where(models.EventPlace.event_id.in_(ids))
        .order_by(models.EventPlace.event_id, models.EventPlace.position)
    ):
        related.places[event_id].append(place)
    for event_id, tag in session.execute(
        select(models.EventTag.event_id, models.EventTag.tag)
        .where(models.EventTag.event_id.in_(ids))
        .order_by(models.EventTag.event_id, models.EventTag.tag)
    ):
        related.tags[event_id].append(tag)
    for citation in session.scalars(
        select(models.Citation)
        .where(models.Citation.event_id.in_(ids))
        .order_by(models.Citation.event_id, models.Citation.position)
    ):
        related.citations[citation.event_id].append(citation)
        if citation.source_id not in related.sources[citation.event_id]:
            related.sources[citation.event_id].append(citation.source_id)
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
    session: Session, filters: EventFilters, limit: int | None, page_size: int = 1000
) -> Iterator[tuple[list[models.Event], Related]]:
    """Every matching event (up to `limit`), a page at a time with its related rows."""
    cursor = None
    remaining = limit
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        events, cursor = page_events(session, filters, size, cursor)
        if events:
            yield events, load_related(session, [e.id for e in events])
        if remaining is not None:
            remaining -= len(events)
        if cursor is None:
            return
