"""/places: countries, regions, cities and sites, nested, with their events."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from app import models
from app.api.deps import CachedSession, Cursor, FiltersDep, JSONBody, Limit
from app.api.events import event_page
from app.dataset import PlaceKind
from app.errors import NotFound
from app.queries import decode_offset, encode_offset, key_stats, name_filter, names_by_owner
from app.schemas import ErrorResponse, EventSummary, Page, PlaceDetail, PlaceRef, PlaceSummary

router = APIRouter(tags=["places"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No place has this id."}
}
_names, _owner = models.PlaceName, models.PlaceName.place_id


def _summaries(session: CachedSession, places: list[models.Place]) -> list[PlaceSummary]:
    aliases = names_by_owner(session, _names, _owner, [p.id for p in places])
    stats = key_stats(session, [f"place:{p.id}" for p in places])
    return [
        PlaceSummary(
            id=place.id,
            name=place.name,
            kind=place.kind,
            lat=place.lat,
            lon=place.lon,
            parent=place.parent_id,
            aliases=aliases.get(place.id, []),
            event_count=stats.get(f"place:{place.id}", (0, None, None))[0],
        )
        for place in places
    ]


@router.get("/places", response_model=Page[PlaceSummary])
def list_places(
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
            description="Only places directly inside this place id.",
            examples=["tajikistan"],
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=500, description="Page size, 1 to 500.", examples=[100])
    ] = 100,
    cursor: Cursor = None,
) -> Page[PlaceSummary]:
    """Places by name; `event_count` includes events anywhere inside a place."""
    conditions = []
    if q is not None and q.strip():
        conditions.append(name_filter(_names, _owner, models.Place.id, q))
    if kind is not None:
        conditions.append(models.Place.kind == kind)
    if parent is not None:
        conditions.append(models.Place.parent_id == parent)
    offset = decode_offset(cursor)
    total = session.scalar(select(func.count()).select_from(models.Place).where(*conditions)) or 0
    places = list(
        session.scalars(
            select(models.Place)
            .where(*conditions)
            .order_by(models.Place.sort_key, models.Place.id)
            .offset(offset)
            .limit(limit)
        )
    )
    items = _summaries(session, places)
    more = offset + len(items) < total
    return Page[PlaceSummary](
        items=items,
        total=total,
        total_exact=True,
        next_cursor=encode_offset(offset + limit) if more else None,
    )


@router.get("/places/{place_id}", response_model=PlaceDetail, responses=NOT_FOUND)
def get_place(place_id: str, session: CachedSession) -> PlaceDetail:
    """One place with its parent chain, the places directly inside it, and event dates."""
    place = session.get(models.Place, place_id)
    if place is None:
        raise NotFound("place", place_id)
    ancestors = {
        p.id: p
        for p in session.scalars(
            select(models.Place).where(
                models.Place.id.in_(
                    select(models.PlaceTree.ancestor_id).where(
                        models.PlaceTree.place_id == place_id
                    )
                ),
                models.Place.id != place_id,
            )
        )
    }
    chain = [ancestors[a] for a in place.path.strip("/").split("/")[:-1] if a in ancestors]
    children = session.scalars(
        select(models.Place)
        .where(models.Place.parent_id == place.id)
        .order_by(models.Place.sort_key, models.Place.id)
    )
    key = f"place:{place_id}"
    _, first, last = key_stats(session, [key]).get(key, (0, None, None))
    return PlaceDetail(
        **_summaries(session, [place])[0].model_dump(),
        parents=[PlaceRef.model_validate(p) for p in chain],
        children=[PlaceRef.model_validate(c) for c in children],
        first_date=first,
        last_date=last,
    )


@router.get(
    "/places/{place_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_place_events(
    place_id: str,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Events here or anywhere inside this place; takes every `/events` filter as well."""
    if session.get(models.Place, place_id) is None:
        raise NotFound("place", place_id)
    return event_page(session, replace(filters, place_ids=(place_id,)), limit, cursor)
