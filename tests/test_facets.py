"""/facets of a date window add up ready-made bucket counts: they must give exactly what
counting every event in the window gives, wherever the window's ends fall."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.cli import load
from app.db import ReadSession, make_engine, read_sessions
from app.facets import FACETS, _top, bucket_size, facet_counts
from app.models import DatasetMeta, EventOrder
from app.planner import EventFilters, Match, plan_events
from app.reader import read_dataset
from bench import synth

EVENTS = 1_500  # buckets of 16 ranks: about a hundred of them

WINDOWS: list[tuple[date | None, date | None]] = [
    (date(1990, 1, 1), date(1990, 12, 31)),
    (date(1960, 3, 15), date(2010, 7, 1)),
    (None, date(1975, 6, 30)),
    (date(2020, 2, 1), None),
    (date(2005, 5, 5), date(2005, 5, 5)),
    (date(1950, 1, 1), date(1950, 1, 1)),
    (date(1800, 1, 1), date(1900, 1, 1)),
    (date(1900, 1, 1), None),
    (date(2030, 1, 1), None),
    (date(2001, 2, 3), date(2001, 4, 5)),
]


@pytest.fixture(scope="module")
def session(databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadSession]:
    root: Path = tmp_path_factory.mktemp("facets") / "data"
    synth.generate(EVENTS, root, seed=3, countries=3, regions=2, cities=3)
    url = databases.new_url()
    engine = make_engine(url)
    load(engine, read_dataset(root))
    with read_sessions(engine)() as session:
        yield session
    engine.dispose()


def _counted(
    session: ReadSession, start: date | None, end: date | None, match: Match
) -> Counter[str]:
    """Every event in the window, read one by one: what the buckets must add up to."""
    counts: Counter[str] = Counter()
    rows = session.connection().execute(
        select(EventOrder.date_start, EventOrder.date_end, EventOrder.facets)
    )
    for first, last, facets in rows:
        if match == "overlap":
            inside = (start is None or last >= start) and (end is None or first <= end)
        else:
            inside = (start is None or first >= start) and (end is None or last <= end)
        if inside:
            counts.update(["*", *facets.split()])
    return counts


def test_the_dataset_is_cut_into_buckets(session):
    stored = session.connection().execute(select(DatasetMeta.facet_bucket)).scalar_one()
    assert stored == bucket_size(EVENTS) == 16


@pytest.mark.parametrize("match", ["overlap", "within"])
@pytest.mark.parametrize("window", WINDOWS, ids=[f"{s}..{e}" for s, e in WINDOWS])
def test_a_windows_facets_count_every_event_in_it(session, window, match):
    start, end = window
    expected = _counted(session, start, end, match)
    filters = EventFilters(window_start=start, window_end=end, match=match)
    found = facet_counts(session, plan_events(session, filters), size=100_000)
    assert found["total"] == expected.pop("*", 0)
    for name in FACETS:
        assert {value: count for value, _, count in found[name]} == {
            key.partition(":")[2]: count
            for key, count in expected.items()
            if key.partition(":")[0] == name
        }, name
    for name in ("actor", "place", "source"):  # the commonest first, ties by value
        assert found[name] == sorted(found[name], key=lambda v: (-v[2], v[0]))
    # The top few are the commonest, ties by value, as over the whole list.
    top = facet_counts(session, plan_events(session, filters), size=3)
    for name in ("actor", "place", "source"):
        assert top[name] == found[name][:3]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    "values",
    [
        # Large counts among many ties, and zeros, never kept.
        [0, 0, 1, 1, 2, 3, 256, 65536, 257, 1 << 24],
        # Only small counts: mostly ties.
        [0, 0, 0, 1, 1, 1, 2, 3, 5, 40],
    ],
)
def test_the_top_values_are_the_largest_counts_ties_in_order(seed, values):
    rng = random.Random(seed)
    counts = np.array([rng.choice(values) for _ in range(300)])
    for size in (1, 5, 50, 1000):
        expected = sorted((i for i in range(len(counts)) if counts[i]), key=lambda i: -counts[i])
        assert _top(counts, size).tolist() == expected[:size]
