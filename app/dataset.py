"""The dataset's records: what each YAML file may hold, validated entry by entry.

Pydantic models (`extra="forbid"`) with the limits of the database columns, and `Dataset`:
a whole dataset of them, each with where it was read. Reading a directory is `app.reader`'s
job, the checks across records `app.checks`'; nothing here touches a database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, NamedTuple, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.dates import DateError, Span, parse_edtf
from app.text import text_key
from app.yamlfile import LineDict, LineList, raw_record

EventType = Literal[
    "armed_clash",
    "killing",
    "assassination_attempt",
    "arrest",
    "detention",
    "sentencing",
    "abduction",
    "disappearance",
    "deportation",
    "extradition",
    "ban",
    "designation",
    "election",
    "constitutional_change",
    "legislation",
    "appointment",
    "dismissal",
    "protest",
    "attack_on_mission",
    "censorship",
    "media_closure",
    "diplomatic_visit",
    "agreement",
    "mandate_decision",
    "aid",
    "statement",
    "resolution",
    "migration",
    "asylum",
    "birth",
    "mission_opened",
    "military_deployment",
    "negotiation",
    "policy_change",
    "repression_campaign",
    "report",
    "other",
]
ActorKind = Literal[
    "person",
    "organization",
    "party",
    "movement",
    "state",
    "government_body",
    "intergovernmental",
    "media",
    "ngo",
    "other",
]
PlaceKind = Literal["country", "region", "city", "site"]

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
PLACE_KINDS: tuple[str, ...] = get_args(PlaceKind)

# Ids appear in URLs: letters, digits and - _ . only, so no id can traverse a path.
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=200)]

# Limits match the database columns (app/models.py), so a valid dataset loads on every backend.
NAME_KEY_MAX = 500  # actor_names.key, place_names.key
PLACE_PATH_MAX = 2000  # places.path


def _key_fits(value: str) -> str:
    key = text_key(value)  # = name_key(value), faster for titles
    if len(key) > NAME_KEY_MAX:
        raise ValueError(f"too long: its search key would exceed {NAME_KEY_MAX} characters")
    if not key:
        raise ValueError(f"{value!r} has no letter or digit to search by (its search key is empty)")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_key_fits),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# role, metric, unit and country are VARCHAR(100) columns.
ShortLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]


def _edtf_text(value: object) -> object:
    # YAML turns `date: 2015` into an int; our loader keeps 2015-03-05 as text already.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:04d}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _valid_edtf(value: str) -> str:
    if value != value.strip():  # as the JSON Schema's pattern refuses it
        raise ValueError(f"{value!r} has spaces around it")
    try:
        parse_edtf(value)
    except DateError as exc:
        raise ValueError(str(exc)) from None
    return value


# For editors (JSON Schema, see app.yamlschema): the shapes `parse_edtf` reads; it still
# refuses what the pattern cannot see (2015-02-30, a reversed interval, "/").
_EDTF_SINGLE = (
    r"(?:[0-9]{4}|[0-9]{3}X|[0-9]{2}XX|[0-9]XXX)"
    r"(?:-(?:[0-9]{2}|[01X]X)(?:-(?:[0-9]{2}|[0-3X]X))?)?[?~%]?"
)
EDTF_JSON_SCHEMA: dict[str, Any] = {
    "description": "An EDTF date at the precision the source supports: 2012-07-24, "
    "2015-03, 2014-22 (summer), 2015, 201X, 2002-11~ (approximate), 2015? (uncertain), "
    "intervals 2015-09/2015-10, 2003/2005, ../2017-07-07. A bare year may be unquoted.",
    "anyOf": [
        {
            "type": "string",
            "pattern": rf"^(?:{_EDTF_SINGLE}|(?:{_EDTF_SINGLE}|\.\.)?/(?:{_EDTF_SINGLE}|\.\.)?)$",
        },
        {"type": "integer", "minimum": 0, "maximum": 9999},
    ],
}
Edtf = Annotated[
    str,
    BeforeValidator(_edtf_text),
    AfterValidator(_valid_edtf),
    WithJsonSchema(EDTF_JSON_SCHEMA),
]


def _not_bool(value: object) -> object:
    # Lax mode would read `lat: true` as 1.0.
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


def _field_error(model: str, field: str, message: str) -> ValidationError:
    """A model-level problem reported at one field, so its location names the field."""
    error = PydanticCustomError("value_error", message)
    details = InitErrorDetails(type=error, loc=(field,), input=None)
    return ValidationError.from_exception_data(model, [details])


def _finite(value: float | None) -> float | None:
    if value is not None and (math.isnan(value) or math.isinf(value) or abs(value) > 1e15):
        raise ValueError("must be a finite number below 1e15")
    return value


# Strict: a quoted "3" is refused, as the JSON Schema refuses it, not read as 3 (the YAML
# reader gives numbers and flags as YAML 1.2 does: `app.yamlfile`).
Number = Annotated[float, BeforeValidator(_not_bool), Strict(), AfterValidator(_finite)]
Coordinate = Annotated[float, BeforeValidator(_not_bool), Strict()]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class SourceRecord(Record):
    id: Slug
    title: Name
    author: Name
    publisher: Name
    published: Edtf
    published_basis: Literal["explicit", "inferred"]
    basis_note: LongText | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    language: Annotated[
        str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$", max_length=20)
    ]
    archive: (
        Annotated[str, StringConstraints(pattern=r"^[^/\\]+$", min_length=1, max_length=255)] | None
    ) = None

    @model_validator(mode="after")
    def _inferred_needs_note(self) -> SourceRecord:
        if self.published_basis == "inferred" and not self.basis_note:
            raise _field_error(
                "SourceRecord",
                "basis_note",
                "an inferred publication date needs a basis_note saying how",
            )
        return self


class ActorRecord(Record):
    id: Slug
    name: Name
    kind: ActorKind
    aliases: list[Name] = Field(default_factory=list, max_length=200)
    description: LongText | None = None
    country: ShortLabel | None = None


class PlaceRecord(Record):
    id: Slug
    name: Name
    kind: PlaceKind
    parent: Slug | None = None
    lat: Annotated[Coordinate, Field(ge=-90, le=90)] | None = None
    lon: Annotated[Coordinate, Field(ge=-180, le=180)] | None = None
    aliases: list[Name] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _both_coordinates(self) -> PlaceRecord:
        if (self.lat is None) != (self.lon is None):
            missing = "lat" if self.lat is None else "lon"
            raise _field_error(
                "PlaceRecord", missing, "lat and lon go together: give both or neither"
            )
        return self


class ActorRef(Record):
    actor: Slug
    role: ShortLabel


class CitationRecord(Record):
    source: Slug
    quote: Quote
    claimed_date: Edtf | None = None


class FigureRecord(Record):
    metric: ShortLabel
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    approximate: StrictBool = False  # `yes`, "off" or 1 are refused, not read as true/false
    unit: ShortLabel | None = None
    source: Slug
    quote: Quote

    @model_validator(mode="after")
    def _value_or_range(self) -> FigureRecord:
        if self.value is None and self.low is None and self.high is None:
            raise ValueError("a figure needs a value, or low and/or high")
        if self.value is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either value or low/high, not both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is greater than high ({self.high:g})")
        return self


class EventRecord(Record):
    id: Slug
    title: Name
    date: Edtf
    type: EventType
    summary: LongText
    actors: list[ActorRef] = Field(default_factory=list, max_length=500)
    places: list[Slug] = Field(default_factory=list, max_length=500)
    tags: list[Label] = Field(default_factory=list, max_length=100)
    citations: list[CitationRecord] = Field(min_length=1, max_length=100)
    figures: list[FigureRecord] = Field(default_factory=list, max_length=100)
    related: list[Slug] = Field(default_factory=list, max_length=500)
    notes: LongText | None = None

    @property
    def span(self) -> Span:
        return parse_edtf(self.date)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A validated record (or what the checks need of it), its file and its position in
    that file's list."""

    record: T
    file: str
    index: int


class Entities(NamedTuple):
    """The records that events refer to, read before any event."""

    sources: list[Located[SourceRecord]]
    actors: list[Located[ActorRecord]]
    places: list[Located[PlaceRecord]]


@dataclass
class Dataset:
    """A dataset that passed every check, as records (`app.reader.read_dataset`)."""

    sources: list[Located[SourceRecord]]
    actors: list[Located[ActorRecord]]
    places: list[Located[PlaceRecord]]
    events: list[Located[EventRecord]]
    hash: str
    files: list[str]
    root: Path
    _positions: dict[str, LineList] = field(default_factory=dict, repr=False)

    def raw(self, item: Located[Any]) -> LineDict:
        """The record as written, with line numbers (parsed again, only when needed)."""
        return raw_record(self.root, item.file, item.index, self._positions)
