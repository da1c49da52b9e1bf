"""/places: countries, regions, cities and sites, nested, with their events."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import directory
from app.api.deps import (
    CachedSession,
    Cursor,
    FiltersDep,
    JSONBody,
    JSONText,
    Limit,
    PlaceId,
    lookup,
    not_found,
)
from app.api.events import event_page
from app.dataset import PlaceKind
from app.directory import PLACES
from app.names import resolve_place_ids
from app.schemas import EventSummary, Page, PlaceDetail, PlaceSummary

router = APIRouter(tags=["places"])
NOT_FOUND = not_found("No place has this id.")


@router.get("/places", response_model=Page[PlaceSummary], response_class=JSONBody)
async def list_places(
    session: CachedSession,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Part of a name or alias.", examples=["Khorog"]),
    ] = None,
    kind: Annotated[
        PlaceKind | None, Query(description="Only places of this kind.", examples=["city"])
    ] = None,
    parent: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only places directly inside this place: its id, name or alias, in "
            "any spelling (one matching no place is refused).",
            examples=["Tajikistan"],
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=500, description="Page size, 1 to 500.", examples=[100])
    ] = 100,
    cursor: Cursor = None,
) -> Response:
    """Places by name; `event_count` includes events anywhere inside a place."""

    def page() -> bytes:
        parents = None if parent is None else resolve_place_ids(session, (parent,), "parent")
        equal = {"kind": kind, "parent_id": parents}
        return directory.page(session, PLACES, q=q, equal=equal, limit=limit, cursor=cursor)

    # A parent named by a word, or by nothing known, is looked for among every name.
    return JSONText(await lookup(session, page, scans=q is not None or parent is not None))


@router.get(
    "/places/{place_id}", response_model=PlaceDetail, response_class=JSONBody, responses=NOT_FOUND
)
async def get_place(place_id: PlaceId, session: CachedSession) -> Response:
    """One place with its parent chain, the places directly inside it, and event dates."""
    return JSONText(await lookup(session, partial(directory.detail, session, PLACES, place_id)))


@router.get(
    "/places/{place_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_place_events(
    place_id: PlaceId,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Events here or anywhere inside this place; takes every `/events` filter as well."""
    directory.exists(session, PLACES, place_id)
    return event_page(session, replace(filters, place_ids=(place_id,)), limit, cursor)
