"""API response models: what clients receive, documented for Swagger."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.dates import display_date, parse_edtf
from app.queries import EventRow, Related

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(Schema):
    parameter: str = Field(description="The parameter (or path part) at fault.", examples=["limit"])
    message: str = Field(
        description="Why it was refused.", examples=["Input should be less than or equal to 500"]
    )


class ErrorResponse(Schema):
    """Every error, whatever its status, has this shape."""

    status: int = Field(description="The HTTP status, repeated.", examples=[422])
    error: str = Field(
        description="A stable machine-readable code.", examples=["invalid_parameter"]
    )
    message: str = Field(
        description="A sentence for people.",
        examples=["limit: Input should be less than or equal to 500"],
    )
    details: list[ErrorDetail] = Field(description="One item per refused parameter.")


class ActorRef(Schema):
    id: str = Field(examples=["umarali-quvvatov"])
    name: str = Field(examples=["Umarali Quvvatov"])
    kind: str = Field(examples=["person"])


class EventActor(ActorRef):
    role: str = Field(description="The actor's part in this event.", examples=["victim"])


class PlaceRef(Schema):
    id: str = Field(examples=["khorog"])
    name: str = Field(examples=["Khorog"])
    kind: str = Field(examples=["city"])
    lat: float | None = Field(description="WGS84 latitude.", examples=[37.4897])
    lon: float | None = Field(description="WGS84 longitude.", examples=[71.5531])


class EventPlace(PlaceRef):
    parents: list[PlaceRef] = Field(
        description="The places containing this one, outermost first.", default_factory=list
    )


class EventSummary(Schema):
    """An event as lists and feeds return it."""

    id: str = Field(description="Stable id (slug).", examples=["2015-03-quvvatov-killed-istanbul"])
    title: str = Field(examples=["Umarali Quvvatov shot dead in Istanbul"])
    date: str = Field(
        description="The date as EDTF, at the precision the sources support.", examples=["2015-03"]
    )
    display_date: str = Field(description="The date for people.", examples=["March 2015"])
    precision: str = Field(
        description="day, month, season, year, decade, century, millennium or range.",
        examples=["month"],
    )
    start: dt.date = Field(
        description="First day the event may have happened on.", examples=["2015-03-01"]
    )
    end: dt.date = Field(
        description="Last day the event may have happened on.", examples=["2015-03-31"]
    )
    approximate: bool = Field(description="EDTF `~`: the date is approximate.", examples=[False])
    uncertain: bool = Field(description="EDTF `?`: the date is uncertain.", examples=[False])
    type: str = Field(examples=["killing"])
    summary: str = Field(examples=["Group 24 leader Umarali Quvvatov was shot dead in Istanbul."])
    actors: list[EventActor] = Field(description="Actors and their roles.")
    places: list[PlaceRef] = Field(description="Where it happened.")
    tags: list[str] = Field(examples=[["transnational-repression"]])
    sources: list[str] = Field(
        description="Ids of the sources that report it.", examples=[["sobiri-2017"]]
    )


class SourceRef(Schema):
    id: str = Field(examples=["sobiri-2017"])
    title: str = Field(examples=["Tajikistan: so close, no matter how far"])
    author: str = Field(examples=["Bakhtiyor Sobiri"])
    publisher: str = Field(examples=["openDemocracy"])
    published: str = Field(description="Publication date as EDTF.", examples=["2017-07-07"])
    url: str | None = Field(examples=[None])


class CitationOut(Schema):
    source: SourceRef
    quote: str = Field(
        description="Verbatim from the source.",
        examples=["In March 2015, Quvvatov was shot dead in the streets of Istanbul"],
    )
    claimed_date: str | None = Field(
        description="The date as this source gives it, where it differs from the event's.",
        examples=[None],
    )


class FigureOut(Schema):
    """One source's number; sources that disagree are separate rows, never averaged."""

    metric: str = Field(examples=["killed"])
    value: float | None = Field(examples=[41])
    low: float | None = Field(examples=[None])
    high: float | None = Field(examples=[None])
    approximate: bool = Field(examples=[False])
    unit: str | None = Field(examples=[None])
    source: str = Field(description="Source id.", examples=["sobiri-2017"])
    quote: str = Field(description="Verbatim from the source.")


class RelatedEvent(Schema):
    id: str = Field(examples=["2015-09-irpt-banned"])
    title: str
    date: str = Field(examples=["2015-09"])
    type: str = Field(examples=["ban"])


class EventDetail(EventSummary):
    """One event with everything known about it."""

    places: list[EventPlace] = Field(description="Where it happened, each with its parents.")  # type: ignore[assignment]
    citations: list[CitationOut] = Field(description="Each source's verbatim support.")
    figures: list[FigureOut] = Field(description="Numbers, one row per source claim.")
    related: list[RelatedEvent] = Field(description="Events that belong with this one.")
    notes: str | None = Field(
        description="Curator's note: discrepancies, reasoning.", examples=[None]
    )


class Page(Schema, Generic[T]):
    """A page of results and the cursor of the next one."""

    items: list[T]
    total: int = Field(
        description="How many results match over all pages; counting stops at 10,000 "
        "(then `total_exact` is false).",
        examples=[1],
    )
    total_exact: bool = Field(
        description="False when `total` is only a lower bound (a very broad filter).",
        examples=[True],
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page.",
        examples=[None],
    )


class ActorSummary(ActorRef):
    description: str | None = Field(examples=["Leader of the opposition movement Group 24."])
    country: str | None = Field(examples=["tajikistan"])
    aliases: list[str] = Field(
        description="Other spellings and names.", examples=[["Quvatov", "Kuvvatov"]]
    )
    event_count: int = Field(description="Events this actor takes part in.", examples=[2])


class ActorDetail(ActorSummary):
    first_date: dt.date | None = Field(description="Start of this actor's earliest event.")
    last_date: dt.date | None = Field(description="End of this actor's latest event.")


class PlaceSummary(PlaceRef):
    parent: str | None = Field(
        description="Id of the containing place.", examples=["gorno-badakhshan"]
    )
    aliases: list[str] = Field(examples=[["Khorugh"]])
    event_count: int = Field(description="Events here or anywhere inside.", examples=[3])


class PlaceDetail(PlaceSummary):
    parents: list[PlaceRef] = Field(description="The containing places, outermost first.")
    children: list[PlaceRef] = Field(description="Places directly inside this one.")
    first_date: dt.date | None = Field(description="Start of the earliest event here.")
    last_date: dt.date | None = Field(description="End of the latest event here.")


class SourceSummary(SourceRef):
    published_basis: str = Field(
        description="explicit (printed) or inferred (worked out from the text).",
        examples=["explicit"],
    )
    basis_note: str | None = Field(description="How an inferred date was inferred.")
    language: str = Field(examples=["en"])
    event_count: int = Field(description="Events citing this source.", examples=[40])


class SourceDetail(SourceSummary):
    archive: str | None = Field(
        description="Name of the plain-text snapshot used to verify quotes."
    )
    first_date: dt.date | None = Field(description="Start of the earliest event it reports.")
    last_date: dt.date | None = Field(description="End of the latest event it reports.")


class FacetValue(Schema):
    value: str = Field(description="Filter value (id, type or year).", examples=["killing"])
    label: str = Field(description="Name for people.", examples=["killing"])
    count: int = Field(examples=[3])


class Facets(Schema):
    """Counts of the matching events by type, year, actor, place and source."""

    total: int = Field(description="Events matching the filters.", examples=[12])
    type: list[FacetValue]
    year: list[FacetValue] = Field(description="By the year an event starts in, ascending.")
    actor: list[FacetValue]
    place: list[FacetValue] = Field(description="By the place named on the event (not parents).")
    source: list[FacetValue]


class Health(Schema):
    status: str = Field(examples=["ok"])
    events: int = Field(description="Events loaded.", examples=[150])
    dataset_hash: str | None = Field(description="SHA-256 of the loaded YAML files.")
    schema_revision: str | None = Field(
        description="Alembic revision of the schema.", examples=["0001"]
    )
    loaded_at: dt.datetime | None = Field(description="When the dataset was loaded.")


class ActorItem(TypedDict):
    id: str
    name: str
    kind: str
    role: str


class PlaceItem(TypedDict):
    id: str
    name: str
    kind: str
    lat: float | None
    lon: float | None


class SummaryItem(TypedDict):
    """`EventSummary` as plain JSON-ready values: lists and feeds build thousands of these."""

    id: str
    title: str
    date: str
    display_date: str
    precision: str
    start: str
    end: str
    approximate: bool
    uncertain: bool
    type: str
    summary: str
    actors: list[ActorItem]
    places: list[PlaceItem]
    tags: list[str]
    sources: list[str]


def event_summaries(events: list[EventRow], related: Related) -> list[SummaryItem]:
    """Summaries (shaped as `EventSummary`) for a page of events and their related rows.

    Every value comes typed from our own database, so nothing is validated again; the
    response models stay the documented contract, and tests hold the two together.
    """
    no_rows: list[Any] = []
    return [
        {
            "id": e.id,
            "title": e.title,
            "date": e.edtf,
            "display_date": date_label(e.edtf),
            "precision": e.precision,
            "start": e.date_start,
            "end": e.date_end,
            "approximate": e.approximate,
            "uncertain": e.uncertain,
            "type": e.type,
            "summary": e.summary,
            "actors": [
                {"id": i, "name": n, "kind": k, "role": r}
                for i, n, k, r in related.actors.get(e.id, no_rows)
            ],
            "places": [
                {"id": i, "name": n, "kind": k, "lat": la, "lon": lo}
                for i, n, k, la, lo in related.places.get(e.id, no_rows)
            ],
            "tags": related.tags.get(e.id, []),
            "sources": related.sources.get(e.id, []),
        }
        for e in events
    ]


@lru_cache(maxsize=65_536)
def date_label(edtf: str) -> str:
    """The `display_date` of an EDTF string (dates repeat a lot: worth remembering)."""
    return display_date(parse_edtf(edtf))
