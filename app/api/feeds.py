"""Feeds for front ends, with exactly the filters of /events: TimelineJS3, GeoJSON, CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.datastructures import QueryParams

from app import models
from app.api.deps import CachedSession, FiltersDep, JSONBody
from app.feed_models import FeatureCollection, TimelineDocument
from app.formats import GroupBy, csv_header, csv_rows, geojson, timelinejs
from app.names import resolve_place_ids
from app.planner import count_matches, plan_events
from app.queries import iter_summaries, places_inside

router = APIRouter(tags=["feeds"])

FeedLimit = Annotated[
    int,
    Query(
        ge=1,
        le=10_000,
        description="At most this many events (earliest first by default).",
        examples=[500],
    ),
]


TIMELINEJS_EXAMPLE: dict[str, Any] = {
    "title": {"text": {"headline": "Events: actor Kuvvatov, 2015–2017", "text": "1 event"}},
    "events": [
        {
            "start_date": {"year": 2015, "month": 3},
            "text": {
                "headline": "Umarali Quvvatov shot dead in Istanbul",
                "text": "<p>...</p><p>Sources: Tajikistan: so close, no matter how far</p>",
            },
            "unique_id": "2015-03-quvvatov-killed-istanbul",
        }
    ],
}

# The filters a title names, in this order, each as "<name> <values>".
_TITLED = ("actor", "role", "place", "type", "tag", "source")


def describe_filters(params: QueryParams) -> str:
    """What a feed was filtered by, for people: "actor Kuvvatov, 2015–2017"."""
    parts = []
    for name in _TITLED:
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if values:
            parts.append(f"{name} {' or '.join(v.replace('_', ' ') for v in values)}")
    q = (params.get("q") or "").strip()
    if q:
        parts.append(f"matching “{q}”")
    start, end = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if start and end:
        parts.append(start if start == end else f"{start}–{end}")
    elif start:
        parts.append(f"from {start}")
    elif end:
        parts.append(f"until {end}")
    return ", ".join(parts)


@router.get(
    "/timelinejs",
    response_model=TimelineDocument,
    response_class=JSONBody,
    responses={200: {"content": {"application/json": {"example": TIMELINEJS_EXAMPLE}}}},
)
def get_timelinejs(
    request: Request,
    filters: FiltersDep,
    session: CachedSession,
    limit: FeedLimit = 1000,
    group_by: Annotated[
        GroupBy,
        Query(
            description="Rows of the timeline: `none` (one row, no `group` key: best in a small "
            "embed), by event `type`, by the first `actor`, or by the first `place`.",
            examples=["none"],
        ),
    ] = "none",
) -> JSONBody:
    """The matching events as a TimelineJS3 document, ready for `new TL.Timeline(...)`.

    Dates carry only the parts their precision has (a month-precision event has no day);
    seasons, intervals and approximate dates get a `display_date` such as "c. 2003–2005".
    The title slide says what was filtered and how many events matched. Headlines and
    texts are HTML, as TimelineJS renders them: `<`, `>` and `&` in names are escaped.
    """
    sources = select(models.Source.id, models.Source.title)
    titles = {i: t for i, t in session.connection().execute(sources)}
    plan = plan_events(session, filters)
    total, exact = count_matches(session, plan)
    counted = f"{total:,}" + ("" if exact else "+")
    shown = min(total, limit)
    settings = request.app.state.settings
    filtered = describe_filters(request.query_params)
    document = timelinejs(
        iter_summaries(session, plan, limit),
        title=f"Events: {filtered}" if filtered else settings.title,
        description=f"{counted} event{'s' if total != 1 else ''}"
        if shown == total and exact
        else f"{shown:,} of {counted} events",
        source_titles=titles,
        group_by=group_by,
    )
    return JSONBody(document)


GEOJSON_EXAMPLE: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "2015-03-quvvatov-killed-istanbul@istanbul",
            "geometry": {"type": "Point", "coordinates": [28.9784, 41.0082]},
            "properties": {
                "id": "2015-03-quvvatov-killed-istanbul",
                "title": "Umarali Quvvatov shot dead in Istanbul",
                "date": "2015-03",
                "display_date": "March 2015",
                "place_id": "istanbul",
                "place_name": "Istanbul",
                "place_kind": "city",
            },
        }
    ],
    "events": 1,
    "events_without_coordinates": 0,
}


class GeoJSONResponse(JSONBody):
    media_type = "application/geo+json"


@router.get(
    "/events.geojson",
    response_model=FeatureCollection,
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {"example": GEOJSON_EXAMPLE}}}},
)
def get_geojson(
    filters: FiltersDep, session: CachedSession, limit: FeedLimit = 1000
) -> GeoJSONResponse:
    """The matching events as an RFC 7946 FeatureCollection for maps (Leaflet, QGIS).

    One Point feature per event and place with coordinates (`[lon, lat]`); the event's
    fields are in `properties`. With `place`, only the points inside the named places are
    drawn (an event in Dushanbe and Moscow filtered by `place=Tajikistan` is one point, in
    Dushanbe). Events with no such located place are left out and counted in
    `events_without_coordinates`.
    """
    plan = plan_events(session, filters)
    allowed = (
        places_inside(session, resolve_place_ids(session, filters.places))
        if filters.places
        else None
    )
    return GeoJSONResponse(geojson(iter_summaries(session, plan, limit), allowed))


@router.get(
    "/events.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/csv": {"example": "id,title,date,display_date,precision,start,end,...\r\n"}
            }
        }
    },
)
def get_csv(
    request: Request,
    filters: FiltersDep,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description="At most this many events; all matching events by default.",
            examples=[500],
        ),
    ] = None,
    bom: Annotated[
        bool,
        Query(
            description="Start with a UTF-8 byte order mark, which Excel needs to read UTF-8 "
            "(other tools, such as pandas or csvkit, would keep it in the first column name).",
            examples=[True],
        ),
    ] = False,
) -> StreamingResponse:
    """The matching events as CSV (plain UTF-8, RFC 4180), one row per event, streamed.

    Lists (actors with roles, places, tags, sources) are joined with "; ". Add `bom=true`
    for Excel.
    """
    sessions = request.app.state.sessions
    # Check the filters (names, q) before the first byte is sent.
    with sessions() as session:
        plan_events(session, filters)

    head = bool(getattr(request.state, "head", False))  # HEAD: headers only, no query

    def rows() -> Iterator[str]:
        yield ("\ufeff" if bom else "") + csv_header()
        if head:
            return
        with sessions() as session:
            batch = []
            for summary in iter_summaries(session, plan_events(session, filters), limit):
                batch.append(summary)
                if len(batch) == 1000:
                    yield csv_rows(batch)
                    batch = []
            yield csv_rows(batch)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="events.csv"'},
    )
