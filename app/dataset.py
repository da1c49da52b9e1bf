"""The YAML dataset: records, reading with line numbers, and every check before a load.

`read_dataset(dir)` never touches a database. It returns a `Dataset` only when every file
parses, every record validates and every reference resolves; otherwise it raises
`InvalidDataset` listing each problem with its file, line, entry id and field.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Sequence
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
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.dates import DateError, Span, parse_edtf
from app.errors import DatasetError, InvalidDataset
from app.text import text_key
from app.yamlfile import (
    LineDict,
    LineList,
    NeedsPositions,
    YamlProblem,
    decode_yaml,
    parse_yaml,
    parse_yaml_fast,
    positioned,
    raw_problems,
)

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
    try:
        parse_edtf(value)
    except DateError as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


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


def _field_error(model: str, field: str, message: str, value: object = None) -> ValidationError:
    """A model-level problem reported at one field, so its location names the field."""
    error = PydanticCustomError("value_error", message)
    details = InitErrorDetails(type=error, loc=(field,), input=value)
    return ValidationError.from_exception_data(model, [details])


def _finite(value: float | None) -> float | None:
    if value is not None and (math.isnan(value) or math.isinf(value) or abs(value) > 1e15):
        raise ValueError("must be a finite number below 1e15")
    return value


Number = Annotated[float, BeforeValidator(_not_bool), AfterValidator(_finite)]
Coordinate = Annotated[float, BeforeValidator(_not_bool)]


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
    approximate: bool = False
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


R = TypeVar("R", bound=Record)
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


class KnownIds(NamedTuple):
    """The ids an event may refer to, besides other events."""

    sources: set[str]
    actors: set[str]
    places: set[str]

    @classmethod
    def of(cls, entities: Entities) -> KnownIds:
        return cls(
            {item.record.id for item in entities.sources},
            {item.record.id for item in entities.actors},
            {item.record.id for item in entities.places},
        )


Problem = tuple[list[int | str], str]  # (where in the record, message)


class CheckedEvents(NamedTuple):
    """One events file, as the last checks need it (by position in the file): event ids,
    links between events, and the problems `check_events` found.

    A few small lists instead of the records: the loader checks big datasets' files in
    worker processes and keeps only this.
    """

    file: str
    ids: list[str]
    related: dict[int, list[str]]
    problems: dict[int, list[Problem]]


def check_events(file: str, events: Sequence[EventRecord], known: KnownIds) -> CheckedEvents:
    """Check what can be checked of one valid file's events on their own."""
    ids: list[str] = []
    related: dict[int, list[str]] = {}
    problems: dict[int, list[Problem]] = {}
    for index, event in enumerate(events):
        ids.append(event.id)
        if event.related:
            related[index] = event.related
        found = list(_event_problems(event, known))
        if found:
            problems[index] = found
    return CheckedEvents(file, ids, related, problems)


def _event_problems(event: EventRecord, known: KnownIds) -> Iterator[Problem]:
    seen_actors: set[tuple[str, str]] = set()
    for i, ref in enumerate(event.actors):
        if ref.actor not in known.actors:
            yield ["actors", i, "actor"], f"unknown actor {ref.actor!r}"
        if (ref.actor, ref.role) in seen_actors:
            yield ["actors", i], f"actor {ref.actor!r} listed twice as {ref.role!r}"
        seen_actors.add((ref.actor, ref.role))
    for i, place in enumerate(event.places):
        if place not in known.places:
            yield ["places", i], f"unknown place {place!r}"
        if place in event.places[:i]:
            yield ["places", i], f"place {place!r} listed twice"
    for i, tag in enumerate(event.tags):
        if tag in event.tags[:i]:
            yield ["tags", i], f"tag {tag!r} listed twice"
    for i, citation in enumerate(event.citations):
        if citation.source not in known.sources:
            yield ["citations", i, "source"], f"unknown source {citation.source!r}"
    for i, figure in enumerate(event.figures):
        if figure.source not in known.sources:
            yield ["figures", i, "source"], f"unknown source {figure.source!r}"


@dataclass
class Dataset:
    """A dataset that passed every check, ready to load."""

    sources: list[Located[SourceRecord]]
    actors: list[Located[ActorRecord]]
    places: list[Located[PlaceRecord]]
    events: list[Located[EventRecord]]
    hash: str
    files: list[str] = field(default_factory=list)
    root: Path = Path()
    _positions: dict[str, LineList] = field(default_factory=dict, repr=False)

    def raw(self, item: Located[Any]) -> LineDict:
        """The record as written, with line numbers (parsed again, only when needed)."""
        raw: LineDict = positioned(self.root, item.file, self._positions)[item.index]
        return raw


# --- reading ---------------------------------------------------------------------------


def _field_path(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _line_of(raw: Any, loc: Iterable[int | str], default: int) -> int:
    line, node = default, raw
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line, node = node.lines[part], node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.lines[part], node[part]
        else:
            break
    return line


def _entry_id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str | int):
            return str(value)
    return None


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


class DatasetReader:
    """Reads one dataset directory: hashes every file and keeps every problem found.

    `read_dataset` uses it whole; the loader uses its parts to parse event files in
    worker processes (`parse`) while this process reads, hashes and finally checks.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[DatasetError] = []
        self.digest = hashlib.sha256()
        self.files: list[str] = []
        self.positions: dict[str, LineList] = {}

    @property
    def hash(self) -> str:
        return self.digest.hexdigest()

    def error(
        self, file: str, line: int | None, entry: str | None, field: str | None, message: str
    ) -> None:
        self.errors.append(DatasetError(file, line, entry, field, message))

    def raw(self, item: Located[Any]) -> LineDict:
        raw: LineDict = positioned(self.root, item.file, self.positions)[item.index]
        return raw

    def read_text(self, path: Path) -> str | DatasetError:
        """The text of `path`, added to the hash; or why it cannot be read (not recorded)."""
        name = path.relative_to(self.root).as_posix()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return DatasetError(name, None, None, None, "file not found")
        except OSError as exc:
            return DatasetError(name, None, None, None, f"cannot read file: {exc.strerror}")
        self.files.append(name)
        self.digest.update(name.encode() + b"\0" + data + b"\0")
        try:
            return decode_yaml(data)
        except YamlProblem as exc:
            return DatasetError(name, exc.line, None, None, exc.message)

    def records(self, path: Path, model: type[R]) -> Iterator[Located[R]]:
        text = self.read_text(path)
        if isinstance(text, DatasetError):
            self.errors.append(text)
            return
        yield from self.parse(path.relative_to(self.root).as_posix(), text, model)

    def parse(self, name: str, text: str, model: type[R]) -> Iterator[Located[R]]:
        """The valid records of one file's text; its problems go to `errors`."""
        try:
            yield from self._fast_records(name, text, model)
        except NeedsPositions:
            yield from self._slow_records(name, text, model)

    def read_entities(self) -> Entities:
        """Sources, actors and places; raises `InvalidDataset` if `root` is no directory."""
        if not self.root.is_dir():
            raise InvalidDataset(
                [DatasetError(str(self.root), None, None, None, "not a directory")]
            )
        return Entities(
            list(self.records(self.root / "sources.yaml", SourceRecord)),
            list(self.records(self.root / "actors.yaml", ActorRecord)),
            list(self.records(self.root / "places.yaml", PlaceRecord)),
        )

    def event_files(self) -> list[Path]:
        """The events files in reading order (a missing directory is a problem)."""
        if not (self.root / "events").is_dir():
            self.error("events/", None, None, None, "directory not found")
            return []
        return _event_files(self.root)

    def check(self, entities: Entities, events: Sequence[CheckedEvents]) -> None:
        """Raise `InvalidDataset` with every problem found, references included.

        `events`: each events file's `check_events`, in reading order; needed only when no
        problem was found before (see `_read_dataset`)."""
        # Cross-references are only meaningful when every file could be read whole.
        if not self.errors:
            _check_references(self, *entities, events)
        if self.errors:
            raise InvalidDataset(self.errors)

    @staticmethod
    def _fast_records(name: str, text: str, model: type[R]) -> list[Located[R]]:
        """Every record of a valid file, validated; `NeedsPositions` at the first doubt."""
        content = parse_yaml_fast(text)
        if content is None:
            return []
        if not isinstance(content, list):
            raise NeedsPositions
        located = []
        for index, raw in enumerate(content):
            if not isinstance(raw, dict):
                raise NeedsPositions
            try:
                located.append(Located(model.model_validate(raw), name, index))
            except ValidationError:
                raise NeedsPositions from None
        return located

    def _slow_records(self, name: str, text: str, model: type[R]) -> Iterator[Located[R]]:
        """Parse again with line numbers, to say exactly where each problem is."""
        try:
            items = parse_yaml(text)
        except YamlProblem as exc:
            self.error(name, exc.line, None, None, exc.message)
            return
        if items is None:
            return
        if not isinstance(items, LineList):
            line = getattr(items, "line", 1)
            kind = type(items).__name__.replace("LineDict", "mapping")
            self.error(name, line, None, None, f"expected a list of records, found a {kind}")
            return
        self.positions[name] = items
        for index, raw in enumerate(items):
            line = items.lines[index]
            if not isinstance(raw, LineDict):
                self.error(name, line, None, f"[{index}]", "expected a mapping (key: value)")
                continue
            problems = list(raw_problems(raw, [], set()))
            for where, at, message in problems:
                self.error(
                    name,
                    at if at is not None else _line_of(raw, where, line),
                    _entry_id(raw),
                    _field_path(where) or None,
                    message,
                )
            try:
                record = model.model_validate(raw)
            except ValidationError as exc:
                entry = _entry_id(raw)
                for err in exc.errors():
                    loc = err["loc"]
                    message = _short(err["msg"].removeprefix("Value error, "))
                    if err["type"] == "literal_error" and loc and loc[-1] == "type":
                        message = f"unknown event type {raw.get('type')!r}; use one of " + (
                            ", ".join(EVENT_TYPES)
                        )
                    self.error(
                        name, _line_of(raw, loc, line), entry, _field_path(loc) or None, message
                    )
                continue
            if not problems:
                yield Located(record, name, index)


def read_dataset(root: Path) -> Dataset:
    """Read and check a dataset directory; raises `InvalidDataset` with every problem."""
    # Millions of new, acyclic objects: the cycle collector would rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_dataset(root)
    finally:
        if collecting:
            gc.enable()


def _event_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "events").iterdir() if p.suffix in (".yaml", ".yml"))


def dataset_hash(root: Path) -> str | None:
    """The hash `read_dataset` would give, from the bytes alone (None if files are missing).

    Lets `serve` and `load` skip parsing a dataset that is already loaded.
    """
    names = ["sources.yaml", "actors.yaml", "places.yaml"]
    try:
        paths = [root / name for name in names] + _event_files(root)
        digest = hashlib.sha256()
        for path in paths:
            name = path.relative_to(root).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def _read_dataset(root: Path) -> Dataset:
    reader = DatasetReader(root)
    entities = reader.read_entities()
    known = KnownIds.of(entities)
    events: list[Located[EventRecord]] = []
    checked: list[CheckedEvents] = []
    for path in reader.event_files():
        records = list(reader.records(path, EventRecord))
        events += records
        if not reader.errors:  # else the references are not checked
            name = path.relative_to(root).as_posix()
            checked.append(check_events(name, [item.record for item in records], known))
    reader.check(entities, checked)
    return Dataset(
        *entities,
        events,
        reader.hash,
        reader.files,
        root=root,
        _positions=reader.positions,
    )


def _check_unique(
    reader: DatasetReader, kind: str, items: Iterable[tuple[str, Located[Any]]]
) -> dict[str, Located[Any]]:
    """The first item of each id; the others are problems."""
    seen: dict[str, Located[Any]] = {}
    for identifier, item in items:
        if identifier in seen:
            first = seen[identifier]
            reader.error(
                item.file,
                (raw := reader.raw(item)).lines.get("id", raw.line),
                identifier,
                "id",
                f"duplicate {kind} id (first defined at {first.file}:{reader.raw(first).line})",
            )
        else:
            seen[identifier] = item
    return seen


def _check_references(
    reader: DatasetReader,
    sources: list[Located[SourceRecord]],
    actors: list[Located[ActorRecord]],
    places: list[Located[PlaceRecord]],
    events: Sequence[CheckedEvents],
) -> None:
    _check_unique(reader, "source", ((item.record.id, item) for item in sources))
    _check_unique(reader, "actor", ((item.record.id, item) for item in actors))
    place_ids = {
        key: item.record
        for key, item in _check_unique(
            reader, "place", ((item.record.id, item) for item in places)
        ).items()
    }
    event_ids = _check_unique(
        reader,
        "event",
        (
            (identifier, Located(None, checked.file, index))
            for checked in events
            for index, identifier in enumerate(checked.ids)
        ),
    )

    for item in places:
        parent = item.record.parent
        if parent is not None and parent not in place_ids:
            reader.error(
                item.file,
                _line_of(reader.raw(item), ["parent"], reader.raw(item).line),
                item.record.id,
                "parent",
                f"unknown place {parent!r}",
            )
    _check_place_cycles(reader, places, place_ids)

    for checked in events:
        for index in sorted(checked.problems.keys() | checked.related.keys()):
            event_id = checked.ids[index]
            problems = list(checked.problems.get(index, []))
            related = checked.related.get(index, [])
            for i, other in enumerate(related):
                if other == event_id:
                    problems.append((["related", i], "an event cannot be related to itself"))
                elif other not in event_ids:
                    problems.append((["related", i], f"unknown event {other!r}"))
                elif other in related[:i]:
                    problems.append((["related", i], f"event {other!r} listed twice"))
            if not problems:
                continue
            raw = reader.raw(Located(None, checked.file, index))  # parsed again: rare
            for loc, message in problems:
                reader.error(
                    checked.file, _line_of(raw, loc, raw.line), event_id, _field_path(loc), message
                )


def _check_place_cycles(
    reader: DatasetReader, places: list[Located[PlaceRecord]], place_ids: dict[str, PlaceRecord]
) -> None:
    reported: set[str] = set()
    for item in places:
        chain = [item.record.id]
        current = item.record.parent
        while current is not None and current in place_ids:
            if current in chain:
                cycle = [*chain[chain.index(current) :], current]
                if not reported.intersection(cycle):
                    reader.error(
                        item.file,
                        _line_of(reader.raw(item), ["parent"], reader.raw(item).line),
                        item.record.id,
                        "parent",
                        "place parents form a cycle: " + " -> ".join(cycle),
                    )
                    reported.update(cycle)
                break
            chain.append(current)
            current = place_ids[current].parent
        else:
            # The loader stores "/root/.../id/" in a column of PLACE_PATH_MAX characters.
            length = sum(len(part) + 1 for part in chain) + 1
            if length > PLACE_PATH_MAX:
                reader.error(
                    item.file,
                    _line_of(reader.raw(item), ["parent"], reader.raw(item).line),
                    item.record.id,
                    "parent",
                    f"the place hierarchy is too deep: its path of {length} characters "
                    f"exceeds {PLACE_PATH_MAX} characters",
                )


# --- quotes against archived source texts ----------------------------------------------

_SPACE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse every whitespace run to one space: how quotes are compared to sources."""
    return _SPACE.sub(" ", text).strip()


def verify_quotes(dataset: Dataset, archive_dir: Path) -> tuple[int, list[DatasetError]]:
    """Check every quote is a whitespace-normalized substring of its source's archive.

    Returns the number of quotes checked and the problems found. Sources without an
    `archive` are not checked (they are outside sources with an address instead).
    """
    texts: dict[str, str | None] = {}
    problems: list[DatasetError] = []
    for item in dataset.sources:
        source = item.record
        if source.archive is None:
            continue
        path = archive_dir / source.archive
        try:
            texts[source.id] = normalize_space(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            texts[source.id] = None
            problems.append(
                DatasetError(
                    item.file,
                    _line_of(dataset.raw(item), ["archive"], dataset.raw(item).line),
                    source.id,
                    "archive",
                    f"cannot read {path}: {exc}",
                )
            )
    checked = 0
    for located in dataset.events:
        event = located.record
        claims = [("citations", i, c.source, c.quote) for i, c in enumerate(event.citations)]
        claims += [("figures", i, f.source, f.quote) for i, f in enumerate(event.figures)]
        for group, index, source_id, quote in claims:
            text = texts.get(source_id)
            if text is None:
                continue
            checked += 1
            if normalize_space(quote) not in text:
                loc: list[int | str] = [group, index, "quote"]
                problems.append(
                    DatasetError(
                        located.file,
                        _line_of(dataset.raw(located), loc, dataset.raw(located).line),
                        event.id,
                        _field_path(loc),
                        f"quote not found in {source_id}'s archive: {_short(quote)!r}",
                    )
                )
    return checked, problems
