"""/events: the filtered timeline, and one event in full.

Both build plain JSON-ready values from Core rows and answer with `JSONBody`: they are
the hottest paths, and the documented response models would only check again what our
own database guarantees (tests hold the two together).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy import BindParameter, Select, bindparam, select, union
from sqlalchemy.orm import Session

from app import models
from app.api.deps import Cursor, FiltersDep, JSONBody, Limit, SessionDep
from app.errors import NotFound
from app.prepared import fetch, statement
from app.queries import (
    EVENT_COLUMNS,
    count_events,
    dataset_meta,
    event_row,
    load_related,
    page_events,
)
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
    dataset_meta(session)  # which dataset this answer comes from (for the response cache)
    rows = _rows(session, "event")(event_id=event_id)
    if not rows:
        raise NotFound("event", event_id)
    *columns, notes = rows[0]
    event = event_row(columns)
    detail: dict[str, Any] = dict(event_summaries([event], load_related(session, [event.id]))[0])
    detail["places"] = _places(session, event.id)
    detail["citations"] = [
        {
            "source": {
                "id": source_id,
                "title": title,
                "author": author,
                "publisher": publisher,
                "published": published,
                "url": url,
            },
            "quote": quote,
            "claimed_date": claimed_date,
        }
        for quote, claimed_date, source_id, title, author, publisher, published, url in _rows(
            session, "citations"
        )(event_id=event.id)
    ]
    detail["figures"] = [
        {
            "metric": metric,
            "value": value,
            "low": low,
            "high": high,
            "approximate": bool(approximate),
            "unit": unit,
            "source": source,
            "quote": quote,
        }
        for metric, value, low, high, approximate, unit, source, quote in _rows(session, "figures")(
            event_id=event.id
        )
    ]
    detail["related"] = [
        {"id": i, "title": t, "date": d, "type": ty}
        for i, t, d, ty in _rows(session, "related")(event_id=event.id)
    ]
    detail["notes"] = notes
    return JSONBody(detail)


_ID: BindParameter[str] = bindparam("event_id", "")
_event, _place, _at = models.Event, models.Place, models.EventPlace
_citation, _source, _figure, _link = (
    models.Citation,
    models.Source,
    models.Figure,
    models.EventRelation,
)
_PLACE_COLUMNS = (_place.id, _place.name, _place.kind, _place.lat, _place.lon)
# The detail's queries, each compiled once per dialect (see app.prepared).
_DETAIL: dict[str, Callable[[], Select[*tuple[Any, ...]]]] = {
    "event": lambda: select(*EVENT_COLUMNS, _event.notes).where(_event.id == _ID),
    "places": lambda: (
        select(*_PLACE_COLUMNS, _place.path)
        .join(_at, _at.place_id == _place.id)
        .where(_at.event_id == _ID)
        .order_by(_at.position)
    ),
    "citations": lambda: (
        select(
            _citation.quote,
            _citation.claimed_date,
            _source.id,
            _source.title,
            _source.author,
            _source.publisher,
            _source.published,
            _source.url,
        )
        .join(_source, _source.id == _citation.source_id)
        .where(_citation.event_id == _ID)
        .order_by(_citation.position)
    ),
    "figures": lambda: (
        select(
            _figure.metric,
            _figure.value,
            _figure.low,
            _figure.high,
            _figure.approximate,
            _figure.unit,
            _figure.source_id,
            _figure.quote,
        )
        .where(_figure.event_id == _ID)
        .order_by(_figure.position)
    ),
    "related": lambda: (
        select(_event.id, _event.title, _event.edtf, _event.type)
        .where(
            _event.id.in_(
                union(
                    select(_link.related_id).where(_link.event_id == _ID),
                    select(_link.event_id).where(_link.related_id == _ID),
                )
            )
        )
        .order_by(_event.date_start, _event.date_end, _event.id)
    ),
}


def _rows(session: Session, name: str) -> Callable[..., list[tuple[Any, ...]]]:
    return partial(fetch, session, statement(session, ("detail", name), _DETAIL[name]))


def _places(session: Session, event_id: str) -> list[dict[str, Any]]:
    """The event's places, each with its containing places outermost first."""
    rows = _rows(session, "places")(event_id=event_id)
    chains = {row[0]: row[5].strip("/").split("/")[:-1] for row in rows}
    wanted = sorted({a for chain in chains.values() for a in chain})
    ancestors = {}
    if wanted:

        def build() -> Select[*tuple[Any, ...]]:
            ids: list[BindParameter[str]] = [
                bindparam(f"place_{i}", "") for i in range(len(wanted))
            ]
            return select(*_PLACE_COLUMNS).where(_place.id.in_(ids))

        prepared = statement(session, ("ancestors", len(wanted)), build)
        values = {f"place_{i}": place for i, place in enumerate(wanted)}
        ancestors = {
            i: {"id": i, "name": n, "kind": k, "lat": la, "lon": lo}
            for i, n, k, la, lo in fetch(session, prepared, **values)
        }
    return [
        {
            "id": i,
            "name": n,
            "kind": k,
            "lat": la,
            "lon": lo,
            "parents": [ancestors[a] for a in chains[i] if a in ancestors],
        }
        for i, n, k, la, lo, _path in rows
    ]
