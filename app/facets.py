"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. Each
event's facet values were stored at load (`event_order.facets`), and so were running
totals of them along the order of starts and the order of ends (`facet_totals`). The
events overlapping a window are those starting by its end less those ending before its
start, so a window's facets are two running totals, each read at the nearest stored one
and corrected by the events between: the same cost however wide the window.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from heapq import nlargest
from itertools import chain, compress, islice
from typing import Any

from sqlalchemy import Connection, insert, text
from sqlalchemy.orm import Session

from app.models import FacetTotal
from app.planner import Plan, matching_sql
from app.prepared import run

FACETS = ("type", "year", "actor", "place", "source")
# Every facet value, as `key_stats` holds it; sorted in Python, which fixes their
# positions in the running totals (the database's collation could sort them otherwise).
_KEYS = "SELECT key FROM key_stats WHERE " + " OR ".join(f"key LIKE '{f}:%'" for f in FACETS)
_LABELS = (
    "SELECT 'actor', id, name FROM actors WHERE id IN ({actor})"
    " UNION ALL SELECT 'place', id, name FROM places WHERE id IN ({place})"
    " UNION ALL SELECT 'source', id, title FROM sources WHERE id IN ({source})"
)
# Running totals are stored every `bucket_size` positions of each order: a power of two
# giving about `_BUCKETS` of them, from `_SMALLEST` to `_LARGEST` apart. Nearer totals
# read fewer events one by one (at most half that spacing per total).
_BUCKETS = 1024
_SMALLEST, _LARGEST = 16, 2048
# Each order's position column, as `event_order` holds it.
_ORDERS = {"start": "rank", "end": "end_rank"}


def bucket_size(events: int) -> int:
    """Positions between stored running totals, for a dataset of `events`."""
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


def build_facet_totals(connection: Connection, events: int) -> int:
    """Write the running totals of every facet value along both orders, every
    `bucket_size` positions and at the last (part of the load, after `key_stats`);
    returns that spacing."""
    size = bucket_size(events)
    keys = sorted(str(key) for (key,) in connection.execute(text(_KEYS)))
    position = {key: i for i, key in enumerate(keys)}
    for order, column in _ORDERS.items():
        running = array("I", bytes(4 * len(keys)))
        read = text(f"SELECT facets FROM event_order WHERE {column} > :low AND {column} <= :high")
        rows = []
        for bucket in range(-(-events // size)):
            found = connection.execute(read, {"low": bucket * size, "high": (bucket + 1) * size})
            for key, count in _count(facets for (facets,) in found).items():
                running[position[key]] += count
            rows.append({"ordered_by": order, "bucket": bucket, "counts": _packed(running)})
            if len(rows) == 64:
                connection.execute(insert(FacetTotal), rows)
                rows = []
        if rows:
            connection.execute(insert(FacetTotal), rows)
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
        counts, total = array("I", bytes(4 * len(index.keys))), len(rows)
        for key, count in _count(str(facets) for (facets,) in rows).items():
            counts[index.position[key]] += count
    kept: dict[str, list[int]] = {}  # positions, in the order shown
    for name, span in index.spans.items():
        if name == "year":
            kept[name] = [i for i in span if counts[i]]
        elif name == "type":  # stable: ties by value
            kept[name] = [
                i for i in sorted(span, key=counts.__getitem__, reverse=True) if counts[i]
            ]
        else:
            kept[name] = [span.start + i for i in _top(counts[span.start : span.stop], size)]
    labels = _labels(session, {name: [index.keys[i] for i in kept[name]] for name in kept})
    result: dict[str, Any] = {"total": total}
    for name, positions in kept.items():
        result[name] = []
        for i in positions:
            value = index.keys[i].partition(":")[2]
            result[name].append((value, labels.get((name, value), value), counts[i]))
    return result


def _top(counts: array[int], size: int) -> list[int]:
    """Where the `size` largest nonzero counts are, largest first, ties in order."""
    least = max(min(nlargest(size, counts), default=1), 1)  # the last kept one's
    # Fewer than `size` are above it: those by count, then its ties in order.
    every = range(len(counts))
    found = sorted(compress(every, map(least.__lt__, counts)), key=counts.__getitem__, reverse=True)
    return found + list(islice(compress(every, map(least.__eq__, counts)), size - len(found)))


def _window_counts(
    session: Session, plan: Plan, index: _Index, bucket: int, last: int
) -> tuple[array[int], int]:
    """The facet values of every event in a date window (no other filter): those
    starting by its end (`high`), less those starting before its start (within) or
    less those ending before its start (overlap: those all start by its end)."""
    high = last if plan.high is None else min(plan.high, last)
    if plan.first is not None:  # overlap with a start: `first` is set for those only
        low, ended = 1, plan.ended_before
    else:
        low, ended = min(plan.low), 0
    totals = [(1, "start", high), (-1, "start", low - 1), (-1, "end", ended)]
    # Each total read at the nearest stored one, less or plus the events between.
    stored: Counter[tuple[str, int]] = Counter()  # (order, bucket) -> sign
    reads: list[tuple[int, str, int, int]] = []  # (sign, order, first, last position)
    for sign, order, position in totals:
        position = min(position, last)  # past the last: a window after every event
        if position <= 0:
            continue
        below = position // bucket * bucket if bucket else 0
        above = min(below + bucket, last) if bucket else 0
        nearest = below if position - below <= above - position else above
        if nearest:
            stored[(order, -(-nearest // bucket) - 1)] += sign
        if nearest < position:
            reads.append((sign, order, nearest + 1, position))
        elif nearest > position:
            reads.append((-sign, order, position + 1, nearest))
    # Every value's count at once, as one number whose 32-bit digits are the counts
    # (little-endian, as stored): adding and subtracting such numbers adds and subtracts
    # every count in C, and as each final count is between 0 and 2**32, so is each digit.
    packed = 0
    signs = {total: sign for total, sign in stored.items() if sign}  # equal ones cancel
    if signs:
        wanted = " OR ".join(f"(ordered_by = :o{n} AND bucket = :b{n})" for n in range(len(signs)))
        values: dict[str, Any] = {f"o{n}": order for n, (order, _) in enumerate(signs)}
        values |= {f"b{n}": b for n, (_, b) in enumerate(signs)}
        for order, b, blob in run(
            session,
            f"SELECT ordered_by, bucket, counts FROM facet_totals WHERE {wanted}",
            **values,
        ):
            packed += signs[(str(order), int(b))] * int.from_bytes(bytes(blob), "little")
    if reads:
        sql = " UNION ALL ".join(
            f"SELECT {sign}, facets FROM event_order WHERE {_ORDERS[order]} BETWEEN :a{n} AND :z{n}"
            for n, (sign, order, _, _) in enumerate(reads)
        )
        values = {f"a{n}": first for n, (_, _, first, _) in enumerate(reads)}
        values |= {f"z{n}": final for n, (_, _, _, final) in enumerate(reads)}
        by_sign: dict[int, list[str]] = {1: [], -1: []}
        for sign, facets in run(session, sql, **values):
            by_sign[int(sign)].append(str(facets))
        for sign, rows in by_sign.items():
            between = array("I", bytes(4 * len(index.keys)))
            for key, count in _count(rows).items():
                between[index.position[key]] = count
            packed += sign * int.from_bytes(_packed(between), "little")
    counts = _unpacked(packed.to_bytes(4 * len(index.keys), "little"))
    return counts, max(high - min(low - 1, last) - ended, 0)


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
