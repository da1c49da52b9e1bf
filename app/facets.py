"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's WHERE clause (`event_conditions`), so the
counts always describe exactly the events `/events` returns for the same filters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from sqlalchemy import desc, extract, func, select
from sqlalchemy.orm import Session

from app import models
from app.queries import EventFilters, dataset_key, event_conditions, memo

Facet = list[tuple[str, str, int]]  # (value, label, count)


def facet_counts(session: Session, filters: EventFilters, size: int) -> dict[str, Any]:
    """Total and per-facet counts; the actor, place and source facets keep the top `size`.

    Counting a broad filter reads much of the dataset, so results are kept per dataset,
    filters and size.
    """
    key = ("facets", size, *dataset_key(session, replace(filters, sort="date")))
    return memo.get(key, lambda: _facet_counts(session, filters, size))


def _facet_counts(session: Session, filters: EventFilters, size: int) -> dict[str, Any]:
    conditions = event_conditions(session, filters, counting=True)
    matching = select(models.Event.id).where(*conditions)
    event = models.Event

    # Total, types and years from one pass over the matching events.
    year = extract("year", event.date_start).label("year")
    by_type_year = session.execute(
        select(event.type, year, func.count()).where(*conditions).group_by(event.type, year)
    ).all()
    types: Counter[str] = Counter()
    years: Counter[int] = Counter()
    for kind, start_year, count in by_type_year:
        types[kind] += count
        years[int(start_year)] += count

    def linked(link: Any, key: Any, table: Any, label: Any) -> Facet:
        # Count by id alone, then name only the top `size`: joining names before grouping
        # would look one up for every link row.
        count = func.count(func.distinct(link.event_id)).label("n")
        top = session.execute(
            select(key, count)
            .where(link.event_id.in_(matching))
            .group_by(key)
            .order_by(desc("n"), key)
            .limit(size)
        ).all()
        ids = [k for k, _ in top]
        labels: dict[str, str] = {
            str(i): str(name)
            for i, name in session.execute(select(table.id, label).where(table.id.in_(ids)))
        }
        return [(str(k), labels.get(str(k), str(k)), int(c)) for k, c in top]

    return {
        "total": sum(types.values()),
        "type": [(t, t, c) for t, c in sorted(types.items(), key=lambda tc: (-tc[1], tc[0]))],
        "year": [(str(y), str(y), years[y]) for y in sorted(years)],
        "actor": linked(
            models.EventActor, models.EventActor.actor_id, models.Actor, models.Actor.name
        ),
        "place": linked(
            models.EventPlace, models.EventPlace.place_id, models.Place, models.Place.name
        ),
        "source": linked(
            models.Citation, models.Citation.source_id, models.Source, models.Source.title
        ),
    }
