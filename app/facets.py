"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. Each
event's facet values were stored at load as positions in one list of every value
(`event_facets`), and so were running totals of them along the order of starts and the
order of ends (`facet_totals`). The
events overlapping a window are those starting by its end less those ending before its
start, so a window's facets are two running totals, each read at the nearest stored one
and corrected by the events between: the same cost however wide the window.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, insert, text

from app.db import ReadSession
from app.models import EventFacets, FacetTotal
from app.planner import Plan, matching_sql
from app.prepared import run

FACETS = ("type", "year", "actor", "place", "source")
# Stored running totals: one 4-byte little-endian count per facet value, whatever the
# machine. Counts are added and picked as arrays, in C: an actor facet has tens of
# thousands of values at a million events.
STORED = np.dtype("<u4")
Counts = NDArray[np.int64]
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
# The events' positions (`event_facets`) between two places of each order, by start
# (`rank`) and by end (`end_rank`); `low` and `high` name the parameters.
_READS = {
    "start": "SELECT positions FROM event_facets WHERE rank BETWEEN :{low} AND :{high}",
    "end": "SELECT f.positions FROM event_order o JOIN event_facets f ON f.rank = o.rank"
    " WHERE o.end_rank BETWEEN :{low} AND :{high}",
}
_ORDERS = tuple(_READS)
_FACETS_BY_RANK = text("SELECT rank, facets FROM event_order WHERE rank BETWEEN :low AND :high")


def bucket_size(events: int) -> int:
    """Positions between stored running totals, for a dataset of `events`."""
    size = _SMALLEST
    while size * _BUCKETS < events and size < _LARGEST:
        size *= 2
    return size


def build_facet_totals(connection: Connection, events: int) -> int:
    """Write each event's facet values as positions (`event_facets`) and the running totals
    of every value along both orders, every `bucket_size` positions and at the last (part
    of the load, after `key_stats`); returns that spacing."""
    size = bucket_size(events)
    keys = sorted(str(key) for (key,) in connection.execute(text(_KEYS)))
    position = {key: i for i, key in enumerate(keys)}
    for order in _ORDERS:
        read = text(_READS[order].format(low="low", high="high"))
        running = np.zeros(len(keys), dtype=np.int64)
        totals = []
        for bucket in range(-(-events // size)):
            bounds = {"low": bucket * size + 1, "high": (bucket + 1) * size}
            if order == "start":  # each event's positions, written once, in rank order
                stored = [
                    {"rank": rank, "positions": _positions(position, facets)}
                    for rank, facets in connection.execute(_FACETS_BY_RANK, bounds)
                ]
                if stored:
                    connection.execute(insert(EventFacets), stored)
                found = [row["positions"] for row in stored]
            else:
                found = [bytes(blob) for (blob,) in connection.execute(read, bounds)]
            running += _counted(found, len(keys))
            counts = running.astype(STORED).tobytes()
            totals.append({"ordered_by": order, "bucket": bucket, "counts": counts})
            if len(totals) == 64:
                connection.execute(insert(FacetTotal), totals)
                totals = []
        if totals:
            connection.execute(insert(FacetTotal), totals)
    return size


def _positions(position: dict[str, int], facets: str) -> bytes:
    """An event's facet values (`event_order.facets`) as 4-byte little-endian positions."""
    found = [position[key] for key in facets.split(" ") if key]
    return struct.pack(f"<{len(found)}I", *found)


def _counted(positions: Iterable[bytes], values: int) -> Counts:
    """How many times each of `values` positions occurs in `positions`, in C."""
    joined = np.frombuffer(b"".join(positions), dtype=STORED)
    return np.bincount(joined, minlength=values).astype(np.int64)


@dataclass(frozen=True)
class _Index:
    """The loaded dataset's facet values in running-total order, with each facet's span."""

    keys: list[str]
    spans: dict[str, range]


_indexes: dict[str, _Index] = {}  # by dataset hash: read once per process and dataset


def _index(session: ReadSession, dataset_hash: str) -> _Index:
    found = _indexes.get(dataset_hash)
    if found is None:
        keys = sorted(str(key) for (key,) in run(session, _KEYS))
        spans: dict[str, range] = {}
        for i, key in enumerate(keys):
            name = key.partition(":")[0]
            start = spans[name].start if name in spans else i
            spans[name] = range(start, i + 1)
        found = _Index(keys, {name: spans.get(name, range(0)) for name in FACETS})
        _indexes.clear()  # one dataset is loaded at a time
        _indexes[dataset_hash] = found
    return found


def facet_counts(session: ReadSession, plan: Plan, size: int) -> dict[str, Any]:
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
            f"SELECT f.positions FROM ({matching}) AS m JOIN event_facets f ON f.rank = m.rank",
            **values,
        )
        counts = _counted((bytes(blob) for (blob,) in rows), len(index.keys))
        total = len(rows)
    kept: dict[str, list[int]] = {}  # positions, in the order shown
    for name, span in index.spans.items():
        part = counts[span.start : span.stop]
        if name == "year":
            found = np.flatnonzero(part)
        elif name == "type":  # every value, the commonest first
            found = _top(part, len(part))
        else:
            found = _top(part, size)
        kept[name] = (found + span.start).tolist()
    labels = _labels(session, {name: [index.keys[i] for i in kept[name]] for name in kept})
    result: dict[str, Any] = {"total": total}
    for name, positions in kept.items():
        result[name] = []
        for i in positions:
            value = index.keys[i].partition(":")[2]
            result[name].append((value, labels.get((name, value), value), int(counts[i])))
    return result


def _top(counts: Counts, size: int) -> NDArray[np.intp]:
    """Where the `size` largest nonzero counts are, largest first, ties in order."""
    kept = np.flatnonzero(counts)
    if len(kept) > size:
        kept = kept[counts[kept] >= _least(counts[kept], size)]
    return kept[np.argsort(-counts[kept], kind="stable")][:size]


def _least(counts: Counts, size: int) -> int:
    """The `size`th largest of `counts` (all positive, more than `size` of them).

    Small counts are mostly ties, on which selecting is slow: their histogram is read
    from the top instead. Large ones are spread out, and selected.
    """
    most = int(counts.max())
    if most <= 4 * len(counts):
        at_least = np.cumsum(np.bincount(counts)[::-1])  # [i]: how many are >= most - i
        return most - int(np.searchsorted(at_least, size))
    return int(np.partition(counts, len(counts) - size)[len(counts) - size])


def _window_counts(
    session: ReadSession, plan: Plan, index: _Index, bucket: int, last: int
) -> tuple[Counts, int]:
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
    counts = np.zeros(len(index.keys), dtype=np.int64)
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
            stored_counts = np.frombuffer(bytes(blob), dtype=STORED)
            if signs[(str(order), int(b))] > 0:
                counts += stored_counts
            else:
                counts -= stored_counts
    if reads:
        sql = " UNION ALL ".join(
            f"SELECT {sign}, positions FROM ({_READS[order].format(low=f'a{n}', high=f'z{n}')})"
            f" AS r{n}"
            for n, (sign, order, _, _) in enumerate(reads)
        )
        values = {f"a{n}": first for n, (_, _, first, _) in enumerate(reads)}
        values |= {f"z{n}": final for n, (_, _, _, final) in enumerate(reads)}
        by_sign: dict[int, list[bytes]] = {1: [], -1: []}
        for sign, blob in run(session, sql, **values):
            by_sign[int(sign)].append(bytes(blob))
        for sign, found in by_sign.items():
            counts += sign * _counted(found, len(index.keys))
    return counts, max(high - min(low - 1, last) - ended, 0)


def _labels(session: ReadSession, kept: dict[str, list[str]]) -> dict[tuple[str, str], str]:
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
