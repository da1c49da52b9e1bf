"""The planner: every strategy returns exactly the events a plain reading of the dataset
gives, in date order, with exact totals where it says they are exact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from app.dataset import Dataset
from app.db import ReadSession, make_engine, read_sessions
from app.planner import EventFilters, Thresholds, count_matches, plan_events
from app.queries import counted_first_page, iter_summaries, page_documents
from app.reader import read_dataset
from app.text import search_terms, text_key
from tests.conftest import FIXTURE_DATA

DATASET: Dataset = read_dataset(FIXTURE_DATA)


def plain(filters: EventFilters) -> list[str]:
    """The matching event ids, read straight from the YAML records, in date order."""
    places = {p.record.id: p.record for p in DATASET.places}

    def inside(place: str) -> set[str]:
        chain, found = place, set()
        while chain is not None:
            found.add(chain)
            chain = places[chain].parent
        return found

    matched = []
    for item in DATASET.events:
        event, span = item.record, item.record.span
        start, end = filters.window_start, filters.window_end
        if filters.match == "overlap":
            if (start and span.end < start) or (end and span.start > end):
                continue
        elif (start and span.start < start) or (end and span.end > end):
            continue
        roles = {(a.actor, a.role) for a in event.actors}
        actor_ids = set(filters.actor_ids)
        if actor_ids and not any(a in actor_ids for a, _ in roles):
            continue
        if filters.roles and not any(r in filters.roles for _, r in roles):
            continue
        if filters.place_ids and not any(
            p in inside(q) for q in event.places for p in filters.place_ids
        ):
            continue
        if filters.types and event.type not in filters.types:
            continue
        if filters.tags and not set(filters.tags) & set(event.tags):
            continue
        if filters.source_ids and not set(filters.source_ids) & {c.source for c in event.citations}:
            continue
        if filters.q is not None:
            haystack = " " + text_key(_event_text(item)) + " "
            terms = search_terms(filters.q)
            if not all(any(f" {key}" in haystack for key in keys) for keys in terms):
                continue
        matched.append((span.start, span.end, event.id))
    matched.sort(reverse=filters.sort == "-date")
    return [event_id for _, _, event_id in matched]


def _event_text(item: object) -> str:
    event = item.record  # type: ignore[attr-defined]
    actors = {a.record.id: [a.record.name, *a.record.aliases] for a in DATASET.actors}
    places = {p.record.id: [p.record.name, *p.record.aliases] for p in DATASET.places}
    texts = [event.title, event.summary, *event.tags]
    texts += [c.quote for c in event.citations] + [f.quote for f in event.figures]
    for ref in event.actors:
        texts += actors[ref.actor]
    for place in event.places:
        texts += places[place]
    return " ".join(texts)


FILTERS = [
    EventFilters(),
    EventFilters(sort="-date"),
    EventFilters(window_start=date(2014, 1, 1), window_end=date(2015, 12, 31)),
    EventFilters(window_start=date(2015, 3, 15), window_end=date(2015, 3, 20)),
    EventFilters(window_start=date(2014, 1, 1), window_end=date(2016, 12, 31), match="within"),
    EventFilters(window_start=date(2016, 1, 1)),
    EventFilters(window_end=date(2002, 12, 31), sort="-date"),
    EventFilters(actor_ids=("umarali-quvvatov",)),
    EventFilters(place_ids=("tajikistan",), window_start=date(2012, 1, 1)),
    EventFilters(place_ids=("tajikistan",), types=("armed_clash", "killing")),
    EventFilters(roles=("victim",), sort="-date"),
    EventFilters(source_ids=("alpha-2017",), window_start=date(2015, 1, 1), match="within"),
    EventFilters(tags=("transnational-repression",)),
    EventFilters(q="istanbul"),
    EventFilters(q="tajikistan", window_start=date(2014, 1, 1)),
    EventFilters(q="the", sort="-date"),
    EventFilters(q="osce", place_ids=("tajikistan",)),
    EventFilters(q="2015"),
    # Beginnings of words: each matches several words, or (short) the index's prefix lists.
    EventFilters(q="quvvat kill"),
    EventFilters(q="op", window_start=date(2010, 1, 1)),
    EventFilters(q="Tajikistan's 2012", window_end=date(2016, 1, 1)),
    # Beginnings that stop inside a letter group keying rewrites (Badak-hshan, Rak-hmonov).
    EventFilters(q="badak"),
    EventFilters(q="Rak", window_start=date(2012, 1, 1)),
    # Words in a window that events starting before it overlap (a month, a year long),
    # with other filters too.
    EventFilters(q="istanbul", window_start=date(2015, 3, 15), window_end=date(2015, 12, 31)),
    EventFilters(q="irpt", window_start=date(2016, 1, 1), sort="-date"),
    EventFilters(q="irpt", window_start=date(2016, 7, 15)),  # the trials ended before
    # Matches starting before the window (of both classes) and in it, page after page.
    EventFilters(q="irpt", window_start=date(2015, 9, 15)),
    EventFilters(q="irpt", window_start=date(2015, 9, 15), sort="-date"),
    EventFilters(q="tajiks", window_start=date(2016, 6, 1), window_end=date(2016, 12, 31)),
    EventFilters(q="irpt parti", window_start=date(2015, 9, 15), place_ids=("tajikistan",)),
    # One value within a window: counted from positions, however many match.
    EventFilters(place_ids=("tajikistan",), window_start=date(1995, 6, 1)),
    EventFilters(types=("killing",), window_start=date(2014, 6, 1), window_end=date(2016, 6, 1)),
    EventFilters(tags=("transnational-repression",), window_end=date(2016, 1, 1), sort="-date"),
    EventFilters(actor_ids=("umarali-quvvatov",), window_start=date(2015, 1, 1), match="within"),
    # Reached only by the longest events' class (the civil war began years before), and
    # windows opening on the first days a date can hold, where that class's reach stops.
    EventFilters(window_start=date(1997, 6, 1), window_end=date(1997, 7, 1)),
    EventFilters(types=("armed_clash",), window_start=date(1997, 6, 1), sort="-date"),
    EventFilters(window_start=date(1, 1, 1), window_end=date(1992, 6, 1)),
    EventFilters(window_start=date(1, 3, 1)),
    # Several values of one filter: each walked along its own key, an event having two of
    # them (a perpetrator and a target) listed once.
    EventFilters(roles=("perpetrator", "target")),
    EventFilters(roles=("perpetrator", "target", "host", "visitor"), sort="-date"),
    EventFilters(types=("armed_clash", "statement", "arrest"), window_end=date(2016, 1, 1)),
    EventFilters(types=("armed_clash", "statement", "armed_clash"), window_start=date(2012, 1, 1)),
    EventFilters(types=("armed_clash", "killing", "arrest")),
]
# Every strategy: full-text walks as often as possible, or never.
THRESHOLDS = {
    "text-drives": Thresholds(text_drive=1_000_000),
    "keys-drive": Thresholds(text_drive=0),
    "counts-capped": Thresholds(count_limit=3, words_count_limit=2, text_drive=5, terms_per_word=1),
    # Words before a window: the index's matches looked up, or each event walked, tested.
    "matches-looked-up": Thresholds(probe_share=1.0),
    "events-walked": Thresholds(probe_share=0.0),
}


@pytest.fixture(scope="module")
def sessions(loaded_url: str) -> Iterator[ReadSession]:
    engine = make_engine(loaded_url)
    with read_sessions(engine)() as session:
        yield session
    engine.dispose()


def _walk(
    session: ReadSession, filters: EventFilters, thresholds: Thresholds, limit: int
) -> list[str]:
    plan = plan_events(session, filters, thresholds)
    seen: list[str] = []
    cursor = None
    cursors: set[str] = set()
    while True:
        docs, cursor = page_documents(session, plan, limit, cursor)
        seen += [doc.split('"id":"', 1)[1].split('"', 1)[0] for doc in docs]
        if cursor is None:
            return seen
        assert cursor not in cursors, "a next page the same as one before: no progress"
        cursors.add(cursor)


@pytest.mark.parametrize("thresholds", THRESHOLDS.values(), ids=THRESHOLDS.keys())
@pytest.mark.parametrize("filters", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
def test_every_strategy_returns_what_the_plain_reading_does(sessions, filters, thresholds):
    expected = plain(filters)
    assert expected or filters.q  # the fixture dataset exercises each filter
    for limit in (1, 4, 500):
        assert _walk(sessions, filters, thresholds, limit) == expected
    total, exact = count_matches(sessions, plan_events(sessions, filters, thresholds))
    limit = thresholds.words_count_limit if filters.q else thresholds.count_limit
    plan = plan_events(sessions, filters, thresholds)
    one_value = len(plan.driver) == 1 or all(k.startswith("type:") for k in plan.driver)
    if one_value and not (plan.tests or plan.words or plan.ends_by):
        # One filter value, or types (no event has two), in an overlap window or up to a
        # date: counted by positions, never capped.
        assert exact
    if exact:
        assert total == len(expected)
    else:
        assert total == limit < len(expected)
    feed = [s["id"] for s in iter_summaries(sessions, plan_events(sessions, filters), None, 3)]
    assert feed == expected
    # A first page of words comes with its count from the same walk.
    plan = plan_events(sessions, filters, thresholds)
    docs, cursor, total, exact = counted_first_page(sessions, plan, 4)
    assert [doc.split('"id":"', 1)[1].split('"', 1)[0] for doc in docs] == expected[:4]
    assert (cursor is None) == (len(expected) <= 4)
    limit = thresholds.words_count_limit
    assert (total, exact) == (min(len(expected), limit), len(expected) <= limit)


def test_the_strategy_follows_the_thresholds(sessions):
    rare = EventFilters(q="istanbul", place_ids=("tajikistan",))
    narrow = EventFilters(q="tajikistan", actor_ids=("umarali-quvvatov",))
    # The actor's two events are fewer than the word's matches: they drive.
    assert plan_events(sessions, narrow, THRESHOLDS["text-drives"]).driver == (
        "actor:umarali-quvvatov",
    )
    if sessions.dialect.name != "sqlite":
        # No full-text index counts the word's matches: it is tested on the place's events.
        assert plan_events(sessions, rare, THRESHOLDS["text-drives"]).strategy == "keys"
        return
    # The word matches fewer events than the place: its matches drive, unless turned off.
    assert plan_events(sessions, rare, THRESHOLDS["text-drives"]).strategy == "text"
    assert plan_events(sessions, rare, THRESHOLDS["keys-drive"]).strategy == "keys"
    assert plan_events(sessions, replace(narrow, q="zzzzzz")).strategy == "nothing"


def test_words_alone_are_walked_by_their_matches_in_date_order(sessions):
    # However common the word: along the full-text index (SQLite) or each event's words
    # (PostgreSQL), not along the window's dates with each event's words looked up.
    words = EventFilters(q="the", window_start=date(2014, 1, 1))
    assert plan_events(sessions, words, THRESHOLDS["text-drives"]).strategy == "text"
    assert plan_events(sessions, words, THRESHOLDS["keys-drive"]).strategy == "keys"


def test_a_longest_span_reaching_before_year_one_is_capped_there(loaded_url):
    """A dataset holding an event as long as the calendar: the longest events' reach back
    from a window's start stops at the first day a date can hold, on either backend."""
    engine = make_engine(loaded_url)
    try:
        with read_sessions(engine)() as session:
            session.connection().execute(text("UPDATE dataset_meta SET max_span_days = 3652058"))
            for filters in (
                EventFilters(window_start=date(1, 1, 1)),
                EventFilters(window_start=date(1, 3, 1), window_end=date(1992, 6, 1)),
                EventFilters(window_start=date(2015, 3, 1), types=("killing",)),
            ):
                assert _walk(session, filters, Thresholds(), 7) == plain(filters)
            session.close(commit=False)
    finally:
        engine.dispose()
