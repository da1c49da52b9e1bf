"""/events: the filtered timeline, and one event in full."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from app import models
from app.api.deps import Cursor, FiltersDep, Limit, SessionDep
from app.errors import NotFound
from app.queries import count_events, load_related, page_events, place_ancestors
from app.schemas import (
    CitationOut,
    ErrorResponse,
    EventDetail,
    EventPlace,
    EventSummary,
    FigureOut,
    Page,
    PlaceRef,
    RelatedEvent,
    SourceRef,
    event_summaries,
)

router = APIRouter(tags=["events"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No event has this id."}
}


@router.get("/events", response_model=Page[EventSummary])
def list_events(
    filters: FiltersDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[EventSummary]:
    """Events matching every given filter, in date order, a page at a time.

    Repeat a parameter (`type=arrest&type=detention`) to match any of its values; different
    parameters must all match. Follow `next_cursor` until it is null to walk all pages.
    """
    events, next_cursor = page_events(session, filters, limit, cursor)
    related = load_related(session, [e.id for e in events])
    total, exact = count_events(session, filters)
    return Page[EventSummary](
        items=event_summaries(events, related),
        total=total,
        total_exact=exact,
        next_cursor=next_cursor,
    )


@router.get("/events/{event_id}", response_model=EventDetail, responses=NOT_FOUND)
def get_event(event_id: str, session: SessionDep) -> EventDetail:
    """One event with its actors and roles, places (with parents), citations with their
    verbatim quotes, each source's figures, and related events."""
    event = session.get(models.Event, event_id)
    if event is None:
        raise NotFound("event", event_id)
    summary = event_summaries([event], load_related(session, [event.id]))[0]
    places = list(
        session.scalars(
            select(models.Place)
            .join(models.EventPlace, models.EventPlace.place_id == models.Place.id)
            .where(models.EventPlace.event_id == event.id)
            .order_by(models.EventPlace.position)
        )
    )
    ancestors = place_ancestors(session, places)
    citations = list(
        session.scalars(
            select(models.Citation)
            .where(models.Citation.event_id == event.id)
            .order_by(models.Citation.position)
        )
    )
    sources = {
        s.id: s
        for s in session.scalars(
            select(models.Source).where(models.Source.id.in_({c.source_id for c in citations}))
        )
    }
    figures = session.scalars(
        select(models.Figure)
        .where(models.Figure.event_id == event.id)
        .order_by(models.Figure.position)
    )
    link = models.EventRelation
    related_ids = (
        select(link.related_id)
        .where(link.event_id == event.id)
        .union(select(link.event_id).where(link.related_id == event.id))
    )
    related_events = session.scalars(
        select(models.Event)
        .where(models.Event.id.in_(related_ids))
        .order_by(models.Event.date_start, models.Event.date_end, models.Event.id)
    )
    return EventDetail(
        **summary.model_dump(exclude={"places"}),
        places=[
            EventPlace(
                **PlaceRef.model_validate(p).model_dump(),
                parents=[
                    PlaceRef.model_validate(ancestors[a])
                    for a in p.path.strip("/").split("/")[:-1]
                    if a in ancestors
                ],
            )
            for p in places
        ],
        citations=[
            CitationOut(
                source=SourceRef.model_validate(sources[c.source_id]),
                quote=c.quote,
                claimed_date=c.claimed_date,
            )
            for c in citations
        ],
        figures=[
            FigureOut(
                metric=f.metric,
                value=f.value,
                low=f.low,
                high=f.high,
                approximate=f.approximate,
                unit=f.unit,
                source=f.source_id,
                quote=f.quote,
            )
            for f in figures
        ],
        related=[
            RelatedEvent(id=e.id, title=e.title, date=e.edtf, type=e.type) for e in related_events
        ],
        notes=event.notes,
    )
