"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's plan (`app.planner.matching_sql`), so the
counts always describe exactly the events `/events` returns for the same filters. The
whole dataset's counts are the ones the load kept in `key_stats`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.planner import Plan, matching_sql, run

Facet = list[tuple[str, str, int]]  # (value, label, count)

# Per facet: the key prefix the load counts under, and how to name its values.
_LABELS = {
    "actor": "SELECT id, name FROM actors WHERE id IN ({ids})",
    "place": "SELECT id, name FROM places WHERE id IN ({ids})",
    "source": "SELECT id, title FROM sources WHERE id IN ({ids})",
}
# Per facet: (value, event rank) of the matching events; {m} is the matching ranks.
_LINKS = {
    "type": "SELECT e.type, m.rank FROM ({m}) m JOIN event_order o ON o.rank = m.rank"
    " JOIN events e ON e.id = o.event_id",
    "year": "SELECT {year}, m.rank FROM ({m}) m JOIN event_order o ON o.rank = m.rank",
    "actor": "SELECT DISTINCT a.actor_id, m.rank FROM ({m}) m JOIN event_order o"
    " ON o.rank = m.rank JOIN event_actors a ON a.event_id = o.event_id",
    "place": "SELECT DISTINCT t.ancestor_id, m.rank FROM ({m}) m JOIN event_order o"
    " ON o.rank = m.rank JOIN event_places p ON p.event_id = o.event_id"
    " JOIN place_tree t ON t.place_id = p.place_id",
    "source": "SELECT DISTINCT c.source_id, m.rank FROM ({m}) m JOIN event_order o"
    " ON o.rank = m.rank JOIN citations c ON c.event_id = o.event_id",
}
_YEAR = {"sqlite": "substr(o.date_start, 1, 4)", "postgresql": "to_char(o.date_start, 'YYYY')"}


def facet_counts(session: Session, plan: Plan, size: int) -> dict[str, Any]:
    """Total and per-facet counts; the actor, place and source facets keep the top `size`."""
    if plan.strategy == "nothing":
        return {"total": 0, **{name: [] for name in _LINKS}}
    whole = plan.driver == ("*",) and not plan.tests and not plan.words and plan.total is not None
    if whole and plan.high is None and plan.ends_from is None:
        counts = {name: _kept(session, name, size) for name in _LINKS}
        total = plan.total or 0
    else:
        matching, values = matching_sql(plan)
        counts = {
            name: _counted(session, name, matching, values, size, plan.dialect) for name in _LINKS
        }
        total = sum(count for _, count in counts["type"])
    result: dict[str, Any] = {"total": total}
    for name, pairs in counts.items():
        labels = _labels(session, name, [value for value, _ in pairs])
        result[name] = [(value, labels.get(value, value), count) for value, count in pairs]
    return result


def _kept(session: Session, name: str, size: int) -> list[tuple[str, int]]:
    """The whole dataset's counts for a facet, as the load kept them."""
    prefix = f"{name}:"
    rows = run(
        session,
        "SELECT key, events FROM key_stats WHERE key >= :low AND key < :high",
        low=prefix,
        high=f"{name};",
    )
    return _ordered(name, [(str(k)[len(prefix) :], int(n)) for k, n in rows], size)


def _counted(
    session: Session, name: str, matching: str, values: dict[str, Any], size: int, dialect: str
) -> list[tuple[str, int]]:
    links = _LINKS[name].format(m=matching, year=_YEAR.get(dialect, _YEAR["postgresql"]))
    sql = f"SELECT v.value, count(*) FROM ({_aliased(links)}) AS v GROUP BY v.value"
    rows = run(session, sql, **values)
    return _ordered(name, [(str(v), int(n)) for v, n in rows], size)


def _aliased(links: str) -> str:
    # A subquery's columns are named by alias: the first column is the value.
    first, rest = links.split(", m.rank", 1)
    return f"{first} AS value, m.rank AS rank{rest}"


def _ordered(name: str, pairs: list[tuple[str, int]], size: int) -> list[tuple[str, int]]:
    """Years in order, all types by count; the top `size` actors, places and sources."""
    if name == "year":
        return sorted(pairs)
    ranked = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
    return ranked if name == "type" else ranked[:size]


def _labels(session: Session, name: str, values: list[str]) -> dict[str, str]:
    if name not in _LABELS or not values:
        return {}
    ids = ", ".join(f":v{i}" for i in range(len(values)))
    rows = run(session, _LABELS[name].format(ids=ids), **{f"v{i}": v for i, v in enumerate(values)})
    return {str(i): str(label) for i, label in rows}
