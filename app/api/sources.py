"""/sources: the articles the dataset is curated from, and the events each reports."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from fastapi import APIRouter, Response

from app import directory
from app.api.deps import (
    CachedSession,
    Cursor,
    FiltersDep,
    JSONBody,
    JSONText,
    Limit,
    SourceId,
    lookup,
    not_found,
)
from app.api.events import event_page
from app.directory import SOURCES
from app.schemas import EventSummary, Page, SourceDetail, SourceSummary

router = APIRouter(tags=["sources"])
NOT_FOUND = not_found("No source has this id.")


@router.get("/sources", response_model=Page[SourceSummary], response_class=JSONBody)
async def list_sources(session: CachedSession) -> Response:
    """Every source, oldest first, with how many events cite it."""
    page = partial(directory.page, session, SOURCES, q=None, equal={}, limit=None, cursor=None)
    return JSONText(await lookup(session, page))


@router.get(
    "/sources/{source_id}",
    response_model=SourceDetail,
    response_class=JSONBody,
    responses=NOT_FOUND,
)
async def get_source(source_id: SourceId, session: CachedSession) -> Response:
    """One source: how its date is known, its archive snapshot, and what it covers."""
    return JSONText(await lookup(session, partial(directory.detail, session, SOURCES, source_id)))


@router.get(
    "/sources/{source_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_source_events(
    source_id: SourceId,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Events this source reports; takes every `/events` filter as well."""
    directory.exists(session, SOURCES, source_id)
    return event_page(session, replace(filters, source_ids=(source_id,)), limit, cursor)
