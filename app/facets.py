"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. Each
event's facet values were stored at load (`event_order.facets`) and counted there: for
the whole dataset (`key_stats`) and for each bucket of consecutive ranks
(`facet_buckets`), so the facets of a date window add up the buckets inside it rather
than reading each of its events.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from heapq import nsmallest
from itertools import chain
from typing import Any

from sqlalchemy import Connection, insert, text
from sqlalchemy.orm import Session

from app.models import FacetBucket
from app.planner import Plan, matching_sql, run

FACETS = ("type", "year", "actor", "place", "source")
_LABELS = (
    "SELECT 'actor', id, name FROM actors WHERE id IN ({actor})"
    " UNION ALL SELECT 'place', id, name FROM places WHERE id IN ({place})"
    " UNION ALL SELECT 'source', id, title FROM sources WHERE id IN ({source})"
)
# Buckets per dataset: a window's two ends (up to a bucket's events each) are read event
# by event, the buckets between them as one row each.
_BUCKETS = 256
_SMALLEST, _LARGEST = 16, 4096


def bucket_size(events: int) -> int:
    """Ranks per facet bucket for a dataset of `events`: a power of two giving about
    `_BUCKETS` buckets, within `_SMALLEST` and `_LARGEST`."""
    size = _SMALLEST
    while size * _BUCKETS < events and size < _LARGEST:
        size *= 2
    return size


def build_facet_buckets(connection: Connection, events: int) -> int:
    """Count each bucket's facet values from `event_order` into `facet_buckets` (part of
    the load); the bucket size, for `dataset_meta.facet_bucket`."""
    size = bucket_size(events)
    read = text("SELECT facets FROM event_order WHERE rank > :low AND rank <= :high")
    rows = []
    for bucket in range(-(-events // size)):
        found = connection.execute(read, {"low": bucket * size, "high": (bucket + 1) * size})
        counts = _count(facets for (facets,) in found)
        rows.append({"bucket": bucket, "counts": json.dumps(counts, separators=(",", ":"))})
        if len(rows) == 64 or bucket == -(-events // size) - 1:
            connection.execute(insert(FacetBucket), rows)
            rows = []
    return size


def _count(facets: Iterable[str]) -> Counter[str]:
    # Counted in one call over every key of every row (a call per row costs more).
    return Counter(chain.from_iterable(keys.split(" ") for keys in facets if keys))


def facet_counts(session: Session, plan: Plan, size: int) -> dict[str, Any]:
    """Total and per-facet counts as (value, label, count); the actor, place and source
    facets keep the top `size`. A place counts the events anywhere inside it."""
    if plan.strategy == "nothing":
        return {"total": 0, **{name: [] for name in FACETS}}
    dates_only = plan.driver == ("*",) and not plan.tests and not plan.words
    if dates_only and plan.high is None and min(plan.low) == 1 and plan.ends_from is None:
        rows = run(session, "SELECT key, events FROM key_stats")
        counts = Counter({str(key): int(n) for key, n in rows})
        total = counts.pop("*", 0)
    elif dates_only and plan.ends_by is None:
        counts, total = _window_counts(session, plan)
    else:
        matching, values = matching_sql(plan)
        rows = run(
            session,
            f"SELECT o.facets FROM ({matching}) AS m JOIN event_order o ON o.rank = m.rank",
            **values,
        )
        counts, total = _count(str(facets) for (facets,) in rows), len(rows)
    by_facet: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    for key, count in counts.items():
        name, _, value = key.partition(":")
        if name in by_facet and count:
            by_facet[name].append((value, count))
    kept = {
        "type": sorted(by_facet["type"], key=lambda pair: (-pair[1], pair[0])),
        "year": sorted(by_facet["year"]),
        **{
            name: nsmallest(size, by_facet[name], key=lambda pair: (-pair[1], pair[0]))
            for name in ("actor", "place", "source")
        },
    }
    labels = _labels(session, kept)
    return {
        "total": total,
        **{
            name: [(value, labels.get((name, value), value), count) for value, count in pairs]
            for name, pairs in kept.items()
        },
    }


def _window_counts(session: Session, plan: Plan) -> tuple[Counter[str], int]:
    """The facet values of every event in a date window (no other filter): the events
    starting in it are a run of ranks, counted as the buckets inside the run plus the
    events at its ends; those starting before it and ending in it are found by the plan."""
    bucket, last = run(session, "SELECT facet_bucket, event_count FROM dataset_meta")[0]
    bucket, last = int(bucket), int(last)
    low = plan.first if plan.first is not None else min(plan.low)
    high = last if plan.high is None else min(plan.high, last)
    counts: Counter[str] = Counter()
    # Buckets whole inside [low, high]: bucket b holds ranks b*bucket+1 to (b+1)*bucket.
    first, final = (-(-(low - 1) // bucket), high // bucket - 1) if bucket else (1, 0)
    if first <= final:
        blobs = "SELECT counts FROM facet_buckets WHERE bucket >= :first AND bucket <= :final"
        for (blob,) in run(session, blobs, first=first, final=final):
            counts.update(json.loads(blob))
        ends = {"a0": low, "b0": first * bucket, "a1": (final + 1) * bucket + 1, "b1": high}
    else:
        ends = {"a0": low, "b0": high, "a1": 1, "b1": 0}
    # 0 for the events starting in the window, 1 for those starting before it.
    sql = "SELECT 0, facets FROM event_order WHERE rank BETWEEN :a0 AND :b0"
    sql += " UNION ALL SELECT 0, facets FROM event_order WHERE rank BETWEEN :a1 AND :b1"
    values: dict[str, Any] = ends
    if plan.first is not None and plan.first > 1:
        earlier, values = matching_sql(replace(plan, high=min(high, plan.first - 1)))
        values |= ends
        sql += f" UNION ALL SELECT 1, o.facets FROM ({earlier}) AS m"
        sql += " JOIN event_order o ON o.rank = m.rank"
    rows = run(session, sql, **values)
    counts.update(_count(str(facets) for _, facets in rows))
    return counts, max(high - low + 1, 0) + sum(int(before) for before, _ in rows)


def _labels(session: Session, kept: dict[str, list[tuple[str, int]]]) -> dict[tuple[str, str], str]:
    """The names of the actors, places and sources kept, in one statement."""
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    for name in ("actor", "place", "source"):
        numbered = {f"{name}{i}": value for i, (value, _) in enumerate(kept[name])}
        values |= numbered
        names[name] = ", ".join(f":{n}" for n in numbered) or "NULL"
    if not values:
        return {}
    rows = run(session, _LABELS.format(**names), **values)
    return {(str(name), str(value)): str(label) for name, value, label in rows}
