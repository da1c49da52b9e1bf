"""/sources: the articles the dataset is curated from, and the events each reports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from app import models
from app.api.deps import Cursor, FiltersDep, JSONBody, Limit, SessionDep
from app.api.events import list_events
from app.errors import NotFound
from app.queries import date_bounds
from app.schemas import ErrorResponse, EventSummary, Page, SourceDetail, SourceSummary

router = APIRouter(tags=["sources"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No source has this id."}
}


def _event_count(session: SessionDep, source_id: str) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(models.Citation.event_id))).where(
                models.Citation.source_id == source_id
            )
        )
        or 0
    )


@router.get("/sources", response_model=Page[SourceSummary])
def list_sources(session: SessionDep) -> Page[SourceSummary]:
    """Every source, oldest first, with how many events cite it."""
    counts: dict[str, int] = {
        source_id: n
        for source_id, n in session.execute(
            select(
                models.Citation.source_id, func.count(func.distinct(models.Citation.event_id))
            ).group_by(models.Citation.source_id)
        )
    }
    sources = session.scalars(
        select(models.Source).order_by(models.Source.published_start, models.Source.id)
    ).all()
    items = [_summary(s, counts.get(s.id, 0)) for s in sources]
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
def get_source(source_id: str, session: SessionDep) -> SourceDetail:
    """One source: how its date is known, its archive snapshot, and what it covers."""
    source = session.get(models.Source, source_id)
    if source is None:
        raise NotFound("source", source_id)
    cited = select(models.Citation.event_id).where(models.Citation.source_id == source_id)
    first, last = date_bounds(session, models.Event.id.in_(cited))
    return SourceDetail(
        **_summary(source, _event_count(session, source_id)).model_dump(),
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
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONBody:
    """Events this source reports; takes every `/events` filter as well."""
    if session.get(models.Source, source_id) is None:
        raise NotFound("source", source_id)
    return list_events(replace(filters, source_ids=(source_id,)), session, limit, cursor)
