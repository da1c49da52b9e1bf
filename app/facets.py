"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. Each
event's facet values were stored at load (`event_order.facets`); the whole dataset's
counts were counted at load (`key_stats`).
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any

from sqlalchemy.orm import Session

from app.planner import Plan, matching_sql, run

FACETS = ("type", "year", "actor", "place", "source")
_LABELS = {
    "actor": "SELECT id, name FROM actors WHERE id IN ({ids})",
    "place": "SELECT id, name FROM places WHERE id IN ({ids})",
    "source": "SELECT id, title FROM sources WHERE id IN ({ids})",
}


def facet_counts(session: Session, plan: Plan, size: int) -> dict[str, Any]:
    """Total and per-facet counts as (value, label, count); the actor, place and source
    facets keep the top `size`. A place counts the events anywhere inside it."""
    if plan.strategy == "nothing":
        return {"total": 0, **{name: [] for name in FACETS}}
    whole = plan.driver == ("*",) and not plan.tests and not plan.words
    if whole and plan.high is None and plan.ends_from is None and plan.ends_by is None:
        rows = run(session, "SELECT key, events FROM key_stats WHERE key != '*'")
        counts = Counter({str(key): int(n) for key, n in rows})
        total = plan.total or 0
    else:
        matching, values = matching_sql(plan)
        rows = run(
            session,
            f"SELECT o.facets FROM ({matching}) AS m JOIN event_order o ON o.rank = m.rank",
            **values,
        )
        # Counted in one call over every key of every row (a call per row costs more).
        counts = Counter(chain.from_iterable(keys.split(" ") for (keys,) in rows))
        total = len(rows)
    by_facet: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    for key, count in counts.items():
        name, _, value = key.partition(":")
        if name in by_facet:
            by_facet[name].append((value, count))
    result: dict[str, Any] = {"total": total}
    for name, pairs in by_facet.items():
        if name == "year":
            kept = sorted(pairs)
        else:
            kept = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
            kept = kept if name == "type" else kept[:size]
        labels = _labels(session, name, [value for value, _ in kept])
        result[name] = [(value, labels.get(value, value), count) for value, count in kept]
    return result


def _labels(session: Session, name: str, values: list[str]) -> dict[str, str]:
    if name not in _LABELS or not values:
        return {}
    ids = ", ".join(f":v{i}" for i in range(len(values)))
    rows = run(session, _LABELS[name].format(ids=ids), **{f"v{i}": v for i, v in enumerate(values)})
    return {str(i): str(label) for i, label in rows}
