"""/sources: the articles the dataset is curated from, and the events each reports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from app import models
from app.api.deps import CachedSession, Cursor, FiltersDep, JSONBody, Limit
from app.api.events import event_page
from app.errors import NotFound
from app.queries import key_stats
from app.schemas import ErrorResponse, EventSummary, Page, SourceDetail, SourceSummary

router = APIRouter(tags=["sources"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No source has this id."}
}


@router.get("/sources", response_model=Page[SourceSummary])
def list_sources(session: CachedSession) -> Page[SourceSummary]:
    """Every source, oldest first, with how many events cite it."""
    sources = session.scalars(
        select(models.Source).order_by(models.Source.published_start, models.Source.id)
    ).all()
    stats = key_stats(session, [f"source:{s.id}" for s in sources])
    items = [_summary(s, stats.get(f"source:{s.id}", (0, None, None))[0]) for s in sources]
    return Page[SourceSummary](items=items, total=len(items), total_exact=True, next_cursor=None)


def _summary(source: models.Source, count: int) -> SourceSummary:
    return SourceSummary(
        id=source.id,
        title=source.title,
        author=source.author,
        publisher=source.publisher,
        published=source.published,
        url=source.url,
        published_basis=source.published_basis,
        basis_note=source.basis_note,
        language=source.language,
        event_count=count,
    )


@router.get("/sources/{source_id}", response_model=SourceDetail, responses=NOT_FOUND)
def get_source(source_id: str, session: CachedSession) -> SourceDetail:
    """One source: how its date is known, its archive snapshot, and what it covers."""
    source = session.get(models.Source, source_id)
    if source is None:
        raise NotFound("source", source_id)
    count, first, last = key_stats(session, [f"source:{source_id}"]).get(
        f"source:{source_id}", (0, None, None)
    )
    return SourceDetail(
        **_summary(source, count).model_dump(),
        archive=source.archive,
        first_date=first,
        last_date=last,
    )


@router.get(
    "/sources/{source_id}/events",
    response_model=Page[EventSummary],
    response_class=JSONBody,
    responses=NOT_FOUND,
)
def list_source_events(
    source_id: str,
    filters: FiltersDep,
    session: CachedSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Events this source reports; takes every `/events` filter as well."""
    if session.get(models.Source, source_id) is None:
        raise NotFound("source", source_id)
    return event_page(session, replace(filters, source_ids=(source_id,)), limit, cursor)
