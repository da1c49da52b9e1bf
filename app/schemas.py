"""API response models: what clients receive, documented for Swagger."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from app.dataset import ActorKind, EventType, PlaceKind
from app.dates import Precision

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
    kind: ActorKind = Field(examples=["person"])


class PlaceRef(Schema):
    id: str = Field(examples=["khorog"])
    name: str = Field(examples=["Khorog"])
    kind: PlaceKind = Field(examples=["city"])
    lat: float | None = Field(description="WGS84 latitude.", examples=[37.4897])
    lon: float | None = Field(description="WGS84 longitude.", examples=[71.5531])


# --- the event: declared once, as the plain dicts the API sends --------------------------
# Lists send ready-made documents stored at load (`app.rows.event_document` builds them
# from these types); feeds and exports read those same documents.


class ActorItem(TypedDict):
    """An actor of an event, with its part in it."""

    id: Annotated[str, Field(examples=["umarali-quvvatov"])]
    name: Annotated[str, Field(examples=["Umarali Quvvatov"])]
    kind: ActorKind
    role: Annotated[str, Field(description="The actor's part in this event.", examples=["victim"])]


class PlaceParent(TypedDict):
    id: Annotated[str, Field(examples=["gorno-badakhshan"])]
    name: Annotated[str, Field(examples=["Gorno-Badakhshan"])]
    kind: PlaceKind
    lat: Annotated[float | None, Field(description="WGS84 latitude.")]
    lon: Annotated[float | None, Field(description="WGS84 longitude.")]


class PlaceItem(PlaceParent):
    """Where an event happened; one event's detail also gives the places containing it."""

    parents: NotRequired[
        Annotated[
            list[PlaceParent],
            Field(description="In `/events/{id}` only: the containing places, outermost first."),
        ]
    ]


class EventSummary(TypedDict):
    """An event as lists and feeds return it."""

    id: Annotated[
        str, Field(description="Stable id (slug).", examples=["2015-03-quvvatov-killed-istanbul"])
    ]
    title: Annotated[str, Field(examples=["Umarali Quvvatov shot dead in Istanbul"])]
    date: Annotated[
        str,
        Field(
            description="The date as EDTF, at the precision the sources support.",
            examples=["2015-03"],
        ),
    ]
    display_date: Annotated[str, Field(description="The date for people.", examples=["March 2015"])]
    precision: Annotated[Precision, Field(description="Which form `date` has.")]
    start: Annotated[
        str,
        Field(
            description="First day the event may have happened on (ISO).", examples=["2015-03-01"]
        ),
    ]
    end: Annotated[
        str,
        Field(
            description="Last day the event may have happened on (ISO).", examples=["2015-03-31"]
        ),
    ]
    approximate: Annotated[bool, Field(description="EDTF `~`: the date is approximate.")]
    uncertain: Annotated[bool, Field(description="EDTF `?`: the date is uncertain.")]
    type: EventType
    summary: str
    actors: Annotated[list[ActorItem], Field(description="Actors and their roles.")]
    places: Annotated[list[PlaceItem], Field(description="Where it happened.")]
    tags: Annotated[list[str], Field(examples=[["transnational-repression"]])]
    sources: Annotated[
        list[str],
        Field(description="Ids of the sources that report it.", examples=[["sobiri-2017"]]),
    ]
    added_in: Annotated[
        int, Field(description="The dataset version this event was added in (see `/versions`).")
    ]
    changed_in: Annotated[
        int,
        Field(description="The version its content last changed in (`added_in` if never)."),
    ]


class SourceItem(TypedDict):
    id: Annotated[str, Field(examples=["sobiri-2017"])]
    title: Annotated[str, Field(examples=["Tajikistan: so close, no matter how far"])]
    author: Annotated[str, Field(examples=["Bakhtiyor Sobiri"])]
    publisher: Annotated[str, Field(examples=["openDemocracy"])]
    published: Annotated[
        str, Field(description="Publication date as EDTF.", examples=["2017-07-07"])
    ]
    url: Annotated[str | None, Field(description="The source's public address.")]


class CitationItem(TypedDict):
    source: SourceItem
    quote: Annotated[
        str,
        Field(
            description="Verbatim from the source.",
            examples=["In March 2015, Quvvatov was shot dead in the streets of Istanbul"],
        ),
    ]
    claimed_date: Annotated[
        str | None,
        Field(description="The date as this source gives it, where it differs from the event's."),
    ]


class FigureItem(TypedDict):
    """One source's number; sources that disagree are separate rows, never averaged."""

    metric: Annotated[str, Field(examples=["killed"])]
    value: float | None
    low: float | None
    high: float | None
    approximate: bool
    unit: str | None
    source: Annotated[str, Field(description="Source id.", examples=["sobiri-2017"])]
    quote: Annotated[str, Field(description="Verbatim from the source.")]


class RelatedItem(TypedDict):
    id: Annotated[str, Field(examples=["2015-09-irpt-banned"])]
    title: str
    date: Annotated[str, Field(examples=["2015-09"])]
    type: EventType


class EventDetail(EventSummary):
    """One event with everything known about it (`places` with their parents)."""

    citations: Annotated[list[CitationItem], Field(description="Each source's verbatim support.")]
    figures: Annotated[list[FigureItem], Field(description="Numbers, one row per source claim.")]
    related: Annotated[list[RelatedItem], Field(description="Events that belong with this one.")]
    notes: Annotated[str | None, Field(description="Curator's note: discrepancies, reasoning.")]


class Page(Schema, Generic[T]):
    """A page of results and the cursor of the next one."""

    items: list[T]
    total: int = Field(
        description="How many results match over all pages; counting stops at 10,000, or "
        "at 1,000 with `q` (then `total_exact` is false).",
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


# What the first and last dates of an actor, place or source leave out (the day an open
# bound is stored as is not a date of the event).
_NO_OPEN_START = (
    " Events known only to precede a date (an open start) have no start and are left out;"
    " null when no event has one."
)
_NO_OPEN_END = " An open-ended event (`2015/..`) has no end and is left out."


class ActorDetail(ActorSummary):
    first_date: dt.date | None = Field(
        description="Start of this actor's earliest event." + _NO_OPEN_START
    )
    last_date: dt.date | None = Field(
        description="End of this actor's latest event." + _NO_OPEN_END
    )


class PlaceSummary(PlaceRef):
    parent: str | None = Field(
        description="Id of the containing place.", examples=["gorno-badakhshan"]
    )
    aliases: list[str] = Field(examples=[["Khorugh"]])
    event_count: int = Field(description="Events here or anywhere inside.", examples=[3])


class PlaceDetail(PlaceSummary):
    parents: list[PlaceRef] = Field(description="The containing places, outermost first.")
    children: list[PlaceRef] = Field(description="Places directly inside this one.")
    first_date: dt.date | None = Field(
        description="Start of the earliest event here." + _NO_OPEN_START
    )
    last_date: dt.date | None = Field(description="End of the latest event here." + _NO_OPEN_END)


class SourceRef(Schema):
    id: str = Field(examples=["sobiri-2017"])
    title: str = Field(examples=["Tajikistan: so close, no matter how far"])
    author: str = Field(examples=["Bakhtiyor Sobiri"])
    publisher: str = Field(examples=["openDemocracy"])
    published: str = Field(description="Publication date as EDTF.", examples=["2017-07-07"])
    url: str | None = Field(description="The source's public address.", examples=[None])


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
    first_date: dt.date | None = Field(
        description="Start of the earliest event it reports." + _NO_OPEN_START
    )
    last_date: dt.date | None = Field(
        description="End of the latest event it reports." + _NO_OPEN_END
    )


class FacetValue(Schema):
    value: str = Field(description="Filter value (id, type or year).", examples=["killing"])
    label: str = Field(description="Name for people.", examples=["killing"])
    count: int = Field(examples=[3])


class Facets(Schema):
    """Counts of the matching events by type, year, actor, place and source."""

    total: int = Field(description="Events matching the filters.", examples=[12])
    type: list[FacetValue]
    year: list[FacetValue] = Field(
        description="By the year an event starts in, ascending; an event known only to "
        "precede a date (an open start, `../2017-07-07`) has no start year and is not counted."
    )
    actor: list[FacetValue]
    place: list[FacetValue] = Field(
        description="By place, counting events anywhere inside it: the events a `place` "
        "filter on that value returns."
    )
    source: list[FacetValue]


class Health(Schema):
    status: str = Field(examples=["ok"])
    events: int = Field(description="Events loaded.", examples=[150])
    dataset_hash: str | None = Field(description="SHA-256 of the loaded YAML files.")
    schema_revision: str | None = Field(
        description="Alembic revision of the schema.", examples=["0001"]
    )
    loaded_at: dt.datetime | None = Field(description="When the dataset was loaded.")
