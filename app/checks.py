"""The checks that need more than one record: unique ids, references that resolve, place
hierarchies without cycles, related events.

Each events file is checked where it was parsed (`check_events`, in a worker process for
big datasets), keeping only its ids, links and problems; `check_dataset` then checks
across files, once every file has been read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from app.dataset import PLACE_PATH_MAX, Entities, EventRecord, Located, PlaceRecord
from app.errors import DatasetError, error_at
from app.yamlfile import LineDict


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

    A few small lists instead of the records: what a worker process sends back.
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


class _Checks:
    """Where problems go, and how a record's lines are found (parsed again: rare)."""

    def __init__(self, errors: list[DatasetError], raw: Callable[[Located[Any]], LineDict]) -> None:
        self.errors = errors
        self.raw = raw

    def error(self, item: Located[Any], entry: str, loc: list[int | str], message: str) -> None:
        self.errors.append(error_at(item.file, self.raw(item), entry, loc, message))

    def unique(
        self, kind: str, items: Iterable[tuple[str, Located[Any]]]
    ) -> dict[str, Located[Any]]:
        """The first item of each id; the others are problems."""
        seen: dict[str, Located[Any]] = {}
        for identifier, item in items:
            if identifier in seen:
                first = seen[identifier]
                where = f"{first.file}:{self.raw(first).line}"
                self.error(
                    item, identifier, ["id"], f"duplicate {kind} id (first defined at {where})"
                )
            else:
                seen[identifier] = item
        return seen


def check_dataset(
    errors: list[DatasetError],
    raw: Callable[[Located[Any]], LineDict],
    entities: Entities,
    events: Sequence[CheckedEvents],
) -> None:
    """Add to `errors` every problem across records: ids, references, place hierarchy.

    `events`: each events file's `check_events`, in reading order; `raw(item)`: the record
    as written, to say on which line a problem is."""
    checks = _Checks(errors, raw)
    checks.unique("source", ((item.record.id, item) for item in entities.sources))
    checks.unique("actor", ((item.record.id, item) for item in entities.actors))
    places = checks.unique("place", ((item.record.id, item) for item in entities.places))
    place_ids = {key: item.record for key, item in places.items()}
    event_ids = checks.unique(
        "event",
        (
            (identifier, Located(None, checked.file, index))
            for checked in events
            for index, identifier in enumerate(checked.ids)
        ),
    )

    for item in entities.places:
        parent = item.record.parent
        if parent is not None and parent not in place_ids:
            checks.error(item, item.record.id, ["parent"], f"unknown place {parent!r}")
    _check_place_cycles(checks, entities.places, place_ids)

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
            for loc, message in problems:
                checks.error(Located(None, checked.file, index), event_id, loc, message)


def _check_place_cycles(
    checks: _Checks, places: list[Located[PlaceRecord]], place_ids: dict[str, PlaceRecord]
) -> None:
    reported: set[str] = set()
    for item in places:
        chain = [item.record.id]
        current = item.record.parent
        while current is not None and current in place_ids:
            if current in chain:
                cycle = [*chain[chain.index(current) :], current]
                if not reported.intersection(cycle):
                    message = "place parents form a cycle: " + " -> ".join(cycle)
                    checks.error(item, item.record.id, ["parent"], message)
                    reported.update(cycle)
                break
            chain.append(current)
            current = place_ids[current].parent
        else:
            # The loader stores "/root/.../id/" in a column of PLACE_PATH_MAX characters.
            length = sum(len(part) + 1 for part in chain) + 1
            if length > PLACE_PATH_MAX:
                checks.error(
                    item,
                    item.record.id,
                    ["parent"],
                    f"the place hierarchy is too deep: its path of {length} characters "
                    f"exceeds {PLACE_PATH_MAX} characters",
                )
