"""The shapes of the TimelineJS3 and GeoJSON feeds, for the OpenAPI document.

The feeds are built as plain JSON values (`app.formats`); these models only describe
them, so generated clients get typed objects instead of `dict[str, Any]`. Tests hold the
two together.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TimelineDate(BaseModel):
    """Only the parts the event's precision has: a month-precision date has no day."""

    year: int = Field(examples=[2015])
    month: int | None = Field(default=None, ge=1, le=12, examples=[3])
    day: int | None = Field(default=None, ge=1, le=31, examples=[None])


class TimelineText(BaseModel):
    headline: str = Field(
        description="HTML, as TimelineJS renders it: `<`, `>` and `&` are escaped.",
        examples=["Umarali Quvvatov shot dead in Istanbul"],
    )
    text: str = Field(
        description="HTML: the summary, actors with roles and sources.",
        examples=["<p>...</p><p>Sources: Tajikistan: so close, no matter how far</p>"],
    )


class TimelineTitle(BaseModel):
    text: TimelineText


class TimelineSlide(BaseModel):
    start_date: TimelineDate
    end_date: TimelineDate | None = Field(
        default=None, description="Only for events longer than their precision's unit."
    )
    display_date: str | None = Field(
        default=None,
        description="For seasons, intervals and approximate dates: `c. 2003–2005`.",
    )
    text: TimelineText
    group: str | None = Field(
        default=None, description="The row, with `group_by` other than `none` (absent then)."
    )
    unique_id: str = Field(
        description="The event id.", examples=["2015-03-quvvatov-killed-istanbul"]
    )


class TimelineDocument(BaseModel):
    """A TimelineJS3 document, ready for `new TL.Timeline(element, document)`."""

    title: TimelineTitle = Field(
        description="The title slide: what was filtered, and how many events matched."
    )
    events: list[TimelineSlide]


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2, max_length=2, description="`[lon, lat]` (WGS84).", examples=[[28.98, 41.01]]
    )


class FeatureProperties(BaseModel):
    """The event's summary fields (as in `/events`, without `places`), and the place."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(examples=["2015-03-quvvatov-killed-istanbul"])
    title: str
    date: str = Field(examples=["2015-03"])
    display_date: str = Field(examples=["March 2015"])
    place_id: str = Field(examples=["istanbul"])
    place_name: str = Field(examples=["Istanbul"])
    place_kind: str = Field(examples=["city"])


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str = Field(description="`<event id>@<place id>`.")
    geometry: PointGeometry
    properties: FeatureProperties


class FeatureCollection(BaseModel):
    """An RFC 7946 FeatureCollection: one Point per event and located place."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    events: int = Field(description="Events matched (with or without a point).")
    events_without_coordinates: int = Field(
        description="Matched events with no located place (inside `place`, if given)."
    )
