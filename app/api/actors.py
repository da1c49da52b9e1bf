"""/actors: people, parties, states and bodies, with their spellings and events."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import directory
from app.api.deps import (
    ActorId,
    CachedSession,
    Cursor,
    FiltersDep,
    JSONBody,
    JSONText,
    Limit,
    lookup,
    not_found,
)
from app.api.events import event_page
from app.dataset import ActorKind
from app.directory import ACTORS
from app.schemas import ActorDetail, ActorSummary, EventSummary, Page

router = APIRouter(tags=["actors"])
NOT_FOUND = not_found("No actor has this id.")


@router.get("/actors", response_model=Page[ActorSummary], response_class=JSONBody)
async def list_actors(
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
) -> Response:
    """Actors by name, with their aliases and how many events they take part in."""
    equal = {"kind": kind}
    page = partial(directory.page, session, ACTORS, q=q, equal=equal, limit=limit, cursor=cursor)
    return JSONText(await lookup(session, page, scans=q is not None))


@router.get(
    "/actors/{actor_id}", response_model=ActorDetail, response_class=JSONBody, responses=NOT_FOUND
)
async def get_actor(actor_id: ActorId, session: CachedSession) -> Response:
    """One actor: aliases, event count and the dates of its first and last events."""
    return JSONText(await lookup(session, partial(directory.detail, session, ACTORS, actor_id)))


@router.get(
    "/actors/{actor_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_actor_events(
    actor_id: ActorId,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """This actor's events; takes every `/events` filter as well."""
    directory.exists(session, ACTORS, actor_id)
    return event_page(session, replace(filters, actor_ids=(actor_id,)), limit, cursor)
