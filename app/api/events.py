"""/events: the filtered timeline, and one event in full.

Both build plain JSON-ready values from Core rows and answer with `JSONBody`: they are
the hottest paths, and the documented response models would only check again what our
own database guarantees (tests hold the two together).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, select, union

from app import models
from app.api.deps import Cursor, FiltersDep, JSONBody, Limit, SessionDep
from app.errors import NotFound
from app.queries import EVENT_COLUMNS, EventRow, count_events, load_related, page_events
from app.schemas import ErrorResponse, EventDetail, EventSummary, Page, event_summaries

router = APIRouter(tags=["events"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No event has this id."}
}


@router.get("/events", response_model=Page[EventSummary], response_class=JSONBody)
def list_events(
    filters: FiltersDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> JSONBody:
    """Events matching every given filter, in date order, a page at a time.

    Repeat a parameter (`type=arrest&type=detention`) to match any of its values; different
    parameters must all match. Follow `next_cursor` until it is null to walk all pages.
    """
    events, next_cursor = page_events(session, filters, limit, cursor)
    related = load_related(session, [e.id for e in events])
    total, exact = count_events(session, filters)
    return JSONBody(
        {
            "items": event_summaries(events, related),
            "total": total,
            "total_exact": exact,
            "next_cursor": next_cursor,
        }
    )


@router.get(
    "/events/{event_id}", response_model=EventDetail, response_class=JSONBody, responses=NOT_FOUND
)
def get_event(event_id: str, session: SessionDep) -> JSONBody:
    """One event with its actors and roles, places (with parents), citations with their
    verbatim quotes, each source's figures, and related events."""
    connection = session.connection()
    row = connection.execute(
        select(*EVENT_COLUMNS, models.Event.notes).where(models.Event.id == event_id)
    ).first()
    if row is None:
        raise NotFound("event", event_id)
    event = EventRow._make(row[:-1])
    detail: dict[str, Any] = dict(event_summaries([event], load_related(session, [event.id]))[0])
    detail["places"] = _places(connection, event.id)
    detail["citations"] = _citations(connection, event.id)
    detail["figures"] = _figures(connection, event.id)
    detail["related"] = _related(connection, event.id)
    detail["notes"] = row.notes
    return JSONBody(detail)


def _places(connection: Connection, event_id: str) -> list[dict[str, Any]]:
    """The event's places, each with its containing places outermost first."""
    place, at = models.Place, models.EventPlace
    columns = (place.id, place.name, place.kind, place.lat, place.lon)
    rows = connection.execute(
        select(*columns, place.path)
        .join(at, at.place_id == place.id)
        .where(at.event_id == event_id)
        .order_by(at.position)
    ).all()
    chains = {r.id: r.path.strip("/").split("/")[:-1] for r in rows}
    wanted = {a for chain in chains.values() for a in chain}
    ancestors = {
        a.id: {"id": a.id, "name": a.name, "kind": a.kind, "lat": a.lat, "lon": a.lon}
        for a in connection.execute(select(*columns).where(place.id.in_(wanted)))
    }
    return [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "lat": r.lat,
            "lon": r.lon,
            "parents": [ancestors[a] for a in chains[r.id] if a in ancestors],
        }
        for r in rows
    ]


def _citations(connection: Connection, event_id: str) -> list[dict[str, Any]]:
    citation, source = models.Citation, models.Source
    rows = connection.execute(
        select(
            citation.quote,
            citation.claimed_date,
            source.id,
            source.title,
            source.author,
            source.publisher,
            source.published,
            source.url,
        )
        .join(source, source.id == citation.source_id)
        .where(citation.event_id == event_id)
        .order_by(citation.position)
    )
    return [
        {
            "source": {
                "id": r.id,
                "title": r.title,
                "author": r.author,
                "publisher": r.publisher,
                "published": r.published,
                "url": r.url,
            },
            "quote": r.quote,
            "claimed_date": r.claimed_date,
        }
        for r in rows
    ]


def _figures(connection: Connection, event_id: str) -> list[dict[str, Any]]:
    figure = models.Figure
    rows = connection.execute(
        select(
            figure.metric,
            figure.value,
            figure.low,
            figure.high,
            figure.approximate,
            figure.unit,
            figure.source_id.label("source"),
            figure.quote,
        )
        .where(figure.event_id == event_id)
        .order_by(figure.position)
    )
    return [dict(r._mapping) for r in rows]


def _related(connection: Connection, event_id: str) -> list[dict[str, Any]]:
    link, event = models.EventRelation, models.Event
    related_ids = union(
        select(link.related_id).where(link.event_id == event_id),
        select(link.event_id).where(link.related_id == event_id),
    )
    rows = connection.execute(
        select(event.id, event.title, event.edtf.label("date"), event.type)
        .where(event.id.in_(related_ids))
        .order_by(event.date_start, event.date_end, event.id)
    )
    return [dict(r._mapping) for r in rows]
