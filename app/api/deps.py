"""Request dependencies shared by the routers: the database session and event filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from app.dataset import EventType
from app.dates import DateError, parse_partial
from app.db import ReadSession
from app.errors import InvalidParameter, NotFound
from app.planner import EventFilters
from app.schemas import ErrorResponse

MAX_VALUES = 50  # per repeatable parameter; more is a scraper bug, not a query
# The shapes of from/to and cursor, for the OpenAPI document only (client generators and
# fuzzers read them): the values are checked in code, whose messages say what is wrong in
# words (`month 13 does not exist`) where a pattern would show a regular expression. A
# blank value is allowed: it means the parameter is absent (app.params).
PARTIAL_DATE = {"pattern": r"^([0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?)?$"}
CURSOR = {"pattern": r"^[A-Za-z0-9_-]*$"}
T = TypeVar("T")


class ReadTransaction:
    """One read transaction per request: every query in it sees the same dataset.

    Creating a session does no I/O, and its transaction begins with the first query, in
    the endpoint's worker thread; only ending that transaction happens here. Being async,
    this dependency costs no trip through the thread pool.

    A request that succeeds ends its transaction with COMMIT (it wrote nothing, so that is
    the same as a rollback), and so does one answered 404 or 422: on PostgreSQL a ROLLBACK
    also makes the driver forget the statements it prepared on the connection, and every
    request would plan its queries again (about 1 ms for an event in full).

    `cacheable`: the route's answer depends only on the URL and the loaded dataset, so the
    response cache, when there is one, may keep it under the dataset its transaction read
    (which is then noted: one query more). One dependency either way: each level of
    dependencies costs a request more than reading a stored page.
    """

    def __init__(self, *, cacheable: bool) -> None:
        self.cacheable = cacheable

    async def __call__(self, request: Request) -> AsyncIterator[ReadSession]:
        if self.cacheable:
            request.state.cacheable = request.app.state.response_cache
        session: ReadSession = request.app.state.sessions(request.state)
        try:
            yield session
        except BaseException as error:
            # A 404 or 422 read what it needed, and keeps the connection's statements too.
            session.close(commit=isinstance(error, (NotFound, InvalidParameter)))
            raise
        else:
            session.close()


get_session = ReadTransaction(cacheable=False)
get_cached_session = ReadTransaction(cacheable=True)
SessionDep = Annotated[ReadSession, Depends(get_session)]
CachedSession = Annotated[ReadSession, Depends(get_cached_session)]


async def lookup(session: ReadSession, read: Callable[[], T], *, scans: bool = False) -> T:
    """`read()`: what the load stored, found by key (an event, actor, place or source in
    full, a page of a directory). On SQLite it runs on the event loop, which costs less
    than the trip through the thread pool, and is safe there: its readers do not wait on a
    writer (WAL; only recovering the log after a crashed writer makes one wait).
    On PostgreSQL a statement may wait on a lock (a migration's ALTER), and on the loop it
    would stop every request, the one holding the lock included, whose transaction ends
    on that loop; so there, and for a read that `scans` many rows, the thread pool."""
    if not scans and session.dialect.name == "sqlite":
        return read()
    return await run_in_threadpool(read)


def not_found(description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route whose path names something by id."""
    return {404: {"model": ErrorResponse, "description": description}}


class JSONText(Response):
    """JSON text already made: documents the load stored, joined into an answer."""

    media_type = "application/json"


class JSONBody(JSONResponse):
    """JSON from plain values (str, numbers, lists, dicts), serialized in Rust.

    Returned by routes whose values are already JSON-ready, so FastAPI's response-model
    pass is skipped; the route's `response_model` still documents the shape.
    """

    def render(self, content: Any) -> bytes:
        return to_json(content)


def _bound(name: str, value: str | None, side: int) -> date | None:
    """The first (`side` 0) or last (1) day of the period `value` names, if given."""
    try:
        return parse_partial(value)[side] if value else None
    except DateError as exc:
        raise InvalidParameter(name, str(exc)) from None


def _many(name: str, values: list[str]) -> tuple[str, ...]:
    if len(values) > MAX_VALUES:
        raise InvalidParameter(name, f"at most {MAX_VALUES} values")
    return tuple(value for value in values if value.strip())


Text = Annotated[str, Query(max_length=200)]


async def event_filters(
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=100,
            json_schema_extra=PARTIAL_DATE,
            description="Window start: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (from the start of "
            "that period).",
            examples=["2015"],
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            max_length=100,
            json_schema_extra=PARTIAL_DATE,
            description="Window end: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; `to=2015` means through "
            "2015-12-31.",
            examples=["2017-03"],
        ),
    ] = None,
    match: Annotated[
        Literal["overlap", "within"],
        Query(
            description="`overlap`: the event may fall in the window (its span touches it). "
            "`within`: it surely does (its whole span is inside).",
            examples=["overlap"],
        ),
    ] = "overlap",
    actor: Annotated[
        list[Text],
        Query(
            description="Actor id, name or any alias, in any spelling (`Kuvvatov`, `Quvatov`, "
            "`Rakhmonov`); repeat for any of several.",
            examples=["Kuvvatov"],
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    role: Annotated[
        list[Text],
        Query(
            description="The actor's role in the event (victim, perpetrator, ...); with `actor`, "
            "that actor's role. Repeatable.",
            examples=["victim"],
        ),
    ] = [],  # noqa: B006
    place: Annotated[
        list[Text],
        Query(
            description="Place id, name or alias; includes every place inside it. Repeatable.",
            examples=["Tajikistan"],
        ),
    ] = [],  # noqa: B006
    type: Annotated[
        list[EventType],
        Query(
            description="Event type from the controlled vocabulary. Repeatable.",
            examples=["killing"],
        ),
    ] = [],  # noqa: B006
    tag: Annotated[
        list[Text],
        Query(
            description="Tag. Repeatable.",
            examples=["transnational-repression"],
        ),
    ] = [],  # noqa: B006
    source: Annotated[
        list[Text],
        Query(
            description="Source id: events that source reports. Repeatable.",
            examples=["sobiri-2017"],
        ),
    ] = [],  # noqa: B006
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Full text over titles, summaries, quotes, actor and place names (with "
            "their aliases) and tags. Every word must start a word of the event's text, in any "
            "spelling or case.",
            examples=["Istanbul"],
        ),
    ] = None,
    sort: Annotated[
        Literal["date", "-date"],
        Query(
            description="`date`: earliest first (by start, then end, then id); `-date`: the exact "
            "reverse.",
            examples=["date"],
        ),
    ] = "date",
) -> EventFilters:
    """Parse and check the filters every event list and feed accepts."""
    start, end = _bound("from", from_, 0), _bound("to", to, 1)
    if start is not None and end is not None and start > end:
        raise InvalidParameter("to", f"the window ends ({to}) before it starts ({from_})")
    return EventFilters(
        window_start=start,
        window_end=end,
        match=match,
        actors=_many("actor", actor),
        roles=_many("role", role),
        places=_many("place", place),
        types=_many("type", list(type)),
        tags=_many("tag", tag),
        sources=_many("source", source),
        q=q if q is None or q.strip() else None,
        sort=sort,
    )


FiltersDep = Annotated[EventFilters, Depends(event_filters)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size, 1 to 500.", examples=[50])]
Cursor = Annotated[
    str | None,
    Query(
        max_length=1000,
        json_schema_extra=CURSOR,
        description="Opaque position from a previous page's `next_cursor`; empty or absent "
        "for the first page.",
        examples=[""],
    ),
]


def _id(description: str, example: str) -> Any:
    return Path(description=description, examples=[example])


# The ids in paths, as the lists give them (`items[].id`).
EventId = Annotated[
    str, _id("An event's id, as `/events` lists it.", "2015-03-quvvatov-killed-istanbul")
]
ActorId = Annotated[str, _id("An actor's id, as `/actors` lists it.", "umarali-quvvatov")]
PlaceId = Annotated[str, _id("A place's id, as `/places` lists it.", "khorog")]
SourceId = Annotated[str, _id("A source's id, as `/sources` lists it.", "sobiri-2017")]
