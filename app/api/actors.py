"""/actors: people, parties, states and bodies, with their spellings and events."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from app import models
from app.api.deps import CachedSession, Cursor, FiltersDep, JSONBody, Limit
from app.api.events import event_page
from app.dataset import ActorKind
from app.errors import NotFound
from app.queries import decode_offset, encode_offset, key_stats, name_filter, names_by_owner
from app.schemas import ActorDetail, ActorSummary, ErrorResponse, EventSummary, Page

router = APIRouter(tags=["actors"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No actor has this id."}
}
_names, _owner = models.ActorName, models.ActorName.actor_id


@router.get("/actors", response_model=Page[ActorSummary])
def list_actors(
    session: CachedSession,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Part of a name or alias, any spelling.",
            examples=["Quvatov"],
        ),
    ] = None,
    kind: Annotated[
        ActorKind | None, Query(description="Only actors of this kind.", examples=["person"])
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=500, description="Page size, 1 to 500.", examples=[100])
    ] = 100,
    cursor: Cursor = None,
) -> Page[ActorSummary]:
    """Actors by name, with their aliases and how many events they take part in."""
    conditions = []
    if q is not None and q.strip():
        conditions.append(name_filter(_names, _owner, models.Actor.id, q))
    if kind is not None:
        conditions.append(models.Actor.kind == kind)
    offset = decode_offset(cursor)
    total = session.scalar(select(func.count()).select_from(models.Actor).where(*conditions))
    actors = session.scalars(
        select(models.Actor)
        .where(*conditions)
        .order_by(models.Actor.sort_key, models.Actor.id)
        .offset(offset)
        .limit(limit)
    ).all()
    aliases = names_by_owner(session, _names, _owner, [a.id for a in actors])
    stats = key_stats(session, [f"actor:{a.id}" for a in actors])
    items = [
        ActorSummary(
            id=a.id,
            name=a.name,
            kind=a.kind,
            description=a.description,
            country=a.country,
            aliases=aliases.get(a.id, []),
            event_count=stats.get(f"actor:{a.id}", (0, None, None))[0],
        )
        for a in actors
    ]
    more = offset + len(items) < (total or 0)
    return Page[ActorSummary](
        items=items,
        total=total or 0,
        total_exact=True,
        next_cursor=encode_offset(offset + limit) if more else None,
    )


@router.get("/actors/{actor_id}", response_model=ActorDetail, responses=NOT_FOUND)
def get_actor(actor_id: str, session: CachedSession) -> ActorDetail:
    """One actor: aliases, event count and the dates of its first and last events."""
    actor = session.get(models.Actor, actor_id)
    if actor is None:
        raise NotFound("actor", actor_id)
    key = f"actor:{actor_id}"
    count, first, last = key_stats(session, [key]).get(key, (0, None, None))
    return ActorDetail(
        id=actor.id,
        name=actor.name,
        kind=actor.kind,
        description=actor.description,
        country=actor.country,
        aliases=names_by_owner(session, _names, _owner, [actor.id]).get(actor.id, []),
        event_count=count,
        first_date=first,
        last_date=last,
    )


@router.get(
    "/actors/{actor_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_actor_events(
    actor_id: str,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """This actor's events; takes every `/events` filter as well."""
    if session.get(models.Actor, actor_id) is None:
        raise NotFound("actor", actor_id)
    return event_page(session, replace(filters, actor_ids=(actor_id,)), limit, cursor)
