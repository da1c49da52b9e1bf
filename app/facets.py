"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. Each
event's facet values were stored at load (`event_order.facets`), and so were running
totals of them along the date order (`facet_buckets`): every event starting within a
window is the difference of two running totals, corrected by the events between each
end and the nearest stored total, so a window's facets cost the same however wide it is.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from heapq import nlargest
from itertools import chain
from typing import Any

from sqlalchemy import Connection, insert, text
from sqlalchemy.orm import Session

from app.models import FacetBucket
from app.planner import Plan, matching_sql, run

FACETS = ("type", "year", "actor", "place", "source")
# Every facet value, as `key_stats` holds it; sorted in Python, which fixes their
# positions in the running totals (the database's collation could sort them otherwise).
_KEYS = "SELECT key FROM key_stats WHERE " + " OR ".join(f"key LIKE '{f}:%'" for f in FACETS)
_LABELS = (
    "SELECT 'actor', id, name FROM actors WHERE id IN ({actor})"
    " UNION ALL SELECT 'place', id, name FROM places WHERE id IN ({place})"
    " UNION ALL SELECT 'source', id, title FROM sources WHERE id IN ({source})"
)
# Running totals are kept every `bucket_size` ranks: a power of two giving about
# `_BUCKETS` of them, within `_SMALLEST` and `_LARGEST` ranks apart.
_BUCKETS = 256
_SMALLEST, _LARGEST = 16, 4096


def bucket_size(events: int) -> int:
    """Ranks between stored running totals, for a dataset of `events`."""
    size = _SMALLEST
    while size * _BUCKETS < events and size < _LARGEST:
        size *= 2
    return size


def _packed(counts: array[int]) -> bytes:
    """Counts as 4-byte little-endian integers, whatever the machine."""
    if sys.byteorder == "big":
        counts = array("I", counts)
        counts.byteswap()
    return counts.tobytes()


def _unpacked(blob: bytes) -> array[int]:
    counts = array("I", blob)
    if sys.byteorder == "big":
        counts.byteswap()
    return counts


def build_facet_buckets(connection: Connection, events: int) -> int:
    """Write the running totals of every facet value, every `bucket_size` ranks and at
    the last (part of the load, after `key_stats`); returns that bucket size."""
    size = bucket_size(events)
    keys = sorted(str(key) for (key,) in connection.execute(text(_KEYS)))
    position = {key: i for i, key in enumerate(keys)}
    running = array("I", bytes(4 * len(keys)))
    read = text("SELECT facets FROM event_order WHERE rank > :low AND rank <= :high")
    rows = []
    for bucket in range(-(-events // size)):
        found = connection.execute(read, {"low": bucket * size, "high": (bucket + 1) * size})
        for key, count in _count(facets for (facets,) in found).items():
            running[position[key]] += count
        rows.append({"bucket": bucket, "counts": _packed(running)})
        if len(rows) == 64:
            connection.execute(insert(FacetBucket), rows)
            rows = []
    if rows:
        connection.execute(insert(FacetBucket), rows)
    return size


def _count(facets: Iterable[str]) -> Counter[str]:
    # Counted in one call over every key of every row (a call per row costs more).
    return Counter(chain.from_iterable(keys.split(" ") for keys in facets if keys))


@dataclass(frozen=True)
class _Index:
    """The loaded dataset's facet values in running-total order, with each facet's span."""

    keys: list[str]
    position: dict[str, int]
    spans: dict[str, range]


_indexes: dict[str, _Index] = {}  # by dataset hash: read once per process and dataset


def _index(session: Session, dataset_hash: str) -> _Index:
    found = _indexes.get(dataset_hash)
    if found is None:
        keys = sorted(str(key) for (key,) in run(session, _KEYS))
        spans: dict[str, range] = {}
        for i, key in enumerate(keys):
            name = key.partition(":")[0]
            start = spans[name].start if name in spans else i
            spans[name] = range(start, i + 1)
        position = {key: i for i, key in enumerate(keys)}
        found = _Index(keys, position, {name: spans.get(name, range(0)) for name in FACETS})
        _indexes.clear()  # one dataset is loaded at a time
        _indexes[dataset_hash] = found
    return found


def facet_counts(session: Session, plan: Plan, size: int) -> dict[str, Any]:
    """Total and per-facet counts as (value, label, count); the actor, place and source
    facets keep the top `size`. A place counts the events anywhere inside it."""
    meta = run(session, "SELECT dataset_hash, facet_bucket, event_count FROM dataset_meta")
    if plan.strategy == "nothing" or not meta:
        return {"total": 0, **{name: [] for name in FACETS}}
    dataset_hash, bucket, last = meta[0]
    index = _index(session, str(dataset_hash))
    if plan.driver == ("*",) and not plan.tests and not plan.words and plan.ends_by is None:
        counts, total = _window_counts(session, plan, index, int(bucket), int(last))
    else:
        matching, values = matching_sql(plan)
        rows = run(
            session,
            f"SELECT o.facets FROM ({matching}) AS m JOIN event_order o ON o.rank = m.rank",
            **values,
        )
        counts, total = [0] * len(index.keys), len(rows)
        for key, count in _count(str(facets) for (facets,) in rows).items():
            counts[index.position[key]] += count
    kept: dict[str, list[int]] = {}  # positions, in the order shown
    for name, span in index.spans.items():
        if name == "year":
            order: list[int] = list(span)
        elif name == "type":
            order = sorted(span, key=counts.__getitem__, reverse=True)  # stable: ties by value
        else:  # the commonest `size`, ties by value
            order = nlargest(size, span, key=counts.__getitem__)
        kept[name] = [i for i in order if counts[i]]
    labels = _labels(session, {name: [index.keys[i] for i in kept[name]] for name in kept})
    result: dict[str, Any] = {"total": total}
    for name, positions in kept.items():
        result[name] = []
        for i in positions:
            value = index.keys[i].partition(":")[2]
            result[name].append((value, labels.get((name, value), value), counts[i]))
    return result


def _window_counts(
    session: Session, plan: Plan, index: _Index, bucket: int, last: int
) -> tuple[list[int], int]:
    """The facet values of every event in a date window (no other filter).

    The events starting in it are the ranks `low` to `high`: the running total through
    `high` less that through `low - 1`, each read at the nearest stored total and
    corrected by the events between. Those starting before it and ending in it are
    found by the plan.
    """
    low = plan.first if plan.first is not None else min(plan.low)
    high = last if plan.high is None else min(plan.high, last)
    ends: list[tuple[int, int, int]] = []  # (sign, first rank, last rank) read one by one
    counts = [0] * len(index.keys)
    if high - low + 1 <= bucket or not bucket:
        ends.append((1, low, high))
    else:
        totals: dict[int, int] = {}  # stored total's bucket -> sign
        for rank, sign in ((high, 1), (low - 1, -1)):
            # The nearest stored total: every `bucket` ranks, and at the last rank.
            below = rank // bucket * bucket
            above = min(below + bucket, last)
            stored = below if rank - below <= above - rank else above
            if stored:
                totals[-(-stored // bucket) - 1] = sign
            if stored < rank:
                ends.append((sign, stored + 1, rank))
            elif stored > rank:
                ends.append((-sign, rank + 1, stored))
        blobs = "SELECT bucket, counts FROM facet_buckets WHERE bucket IN (:b0, :b1)"
        wanted = [*totals, -1][:2]
        found = {
            totals[int(stored)]: _unpacked(bytes(blob))
            for stored, blob in run(session, blobs, b0=wanted[0], b1=wanted[1])
        }
        if -1 in found:
            counts = [a - b for a, b in zip(found[1], found[-1], strict=True)]
        else:
            counts = list(found[1])
    parts = [
        f"SELECT {sign}, facets FROM event_order WHERE rank BETWEEN :a{n} AND :b{n}"
        for n, (sign, _, _) in enumerate(ends)
    ]
    values: dict[str, Any] = {}
    if plan.first is not None and plan.first > 1:
        earlier, values = matching_sql(replace(plan, high=min(high, plan.first - 1)))
        parts.append(
            f"SELECT 2, o.facets FROM ({earlier}) AS m JOIN event_order o ON o.rank = m.rank"
        )
    for n, (_, first, final) in enumerate(ends):
        values |= {f"a{n}": first, f"b{n}": final}
    total = max(high - low + 1, 0)
    if parts:
        by_sign: dict[int, list[str]] = {}
        for sign, facets in run(session, " UNION ALL ".join(parts), **values):
            by_sign.setdefault(int(sign), []).append(str(facets))
        total += len(by_sign.get(2, []))
        for sign, rows in by_sign.items():
            for key, count in _count(rows).items():
                counts[index.position[key]] += count if sign > 0 else -count
    return counts, total


def _labels(session: Session, kept: dict[str, list[str]]) -> dict[tuple[str, str], str]:
    """The names of the actors, places and sources kept, in one statement."""
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    for name in ("actor", "place", "source"):
        numbered = {f"{name}{i}": key.partition(":")[2] for i, key in enumerate(kept[name])}
        values |= numbered
        names[name] = ", ".join(f":{n}" for n in numbered) or "NULL"
    if not values:
        return {}
    rows = run(session, _LABELS.format(**names), **values)
    return {(str(name), str(value)): str(label) for name, value, label in rows}
