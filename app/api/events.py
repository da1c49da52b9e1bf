"""/events: the filtered timeline, and one event in full.

A list is planned (`app.planner`), then answered with the events' documents as the load
stored them; `response_model` declares their shape for the docs and generated clients.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Response

from app.api.deps import (
    CachedSession,
    Cursor,
    EventId,
    FiltersDep,
    JSONBody,
    JSONText,
    Limit,
    lookup,
)
from app.planner import EventFilters, count_matches, plan_events
from app.queries import counted_first_page, event_detail, page_body, page_documents
from app.schemas import ErrorResponse, EventDetail, EventSummary, Page

router = APIRouter(tags=["events"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No event has this id."}
}


def event_page(
    session: CachedSession, filters: EventFilters, limit: int, cursor: str | None
) -> Response:
    """A page of the events `filters` match: shared by /events and the /…/{id}/events lists."""
    plan = plan_events(session, filters)
    if cursor is None and plan.words:
        docs, next_cursor, total, exact = counted_first_page(session, plan, limit)
    else:
        docs, next_cursor = page_documents(session, plan, limit, cursor)
        if cursor is None and next_cursor is None:  # one page holds every match
            total, exact = len(docs), True
        else:
            total, exact = count_matches(session, plan)
    return JSONText(page_body(docs, total, exact, next_cursor))


@router.get("/events", response_model=Page[EventSummary], response_class=JSONBody)
def list_events(
    filters: FiltersDep, session: CachedSession, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    """Events matching every given filter, in date order, a page at a time.

    Repeat a parameter (`type=arrest&type=detention`) to match any of its values; different
    parameters must all match. Follow `next_cursor` until it is null to walk all pages.
    """
    return event_page(session, filters, limit, cursor)


@router.get(
    "/events/{event_id}", response_model=EventDetail, response_class=JSONBody, responses=NOT_FOUND
)
async def get_event(event_id: EventId, session: CachedSession) -> JSONBody:
    """One event with its actors and roles, places (with parents), citations with their
    verbatim quotes, each source's figures, and related events."""
    return JSONBody(await lookup(session, partial(event_detail, session, event_id)))
