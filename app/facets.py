"""Counts of the filtered events by type, year, actor, place and source.

Like Datasette's facets, these reuse the list's WHERE clause (`event_conditions`), so the
counts always describe exactly the events `/events` returns for the same filters.
"""

from __future__ import annotations

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
    total = session.scalar(select(func.count()).select_from(event).where(*conditions)) or 0

    n = func.count().label("n")
    types = session.execute(
        select(event.type, n)
        .where(*conditions)
        .group_by(event.type)
        .order_by(desc("n"), event.type)
    ).all()
    year = extract("year", event.date_start).label("year")
    years = session.execute(
        select(year, func.count()).where(*conditions).group_by(year).order_by(year)
    ).all()

    def linked(link: Any, key: Any, table: Any, label: Any) -> Facet:
        count = func.count(func.distinct(link.event_id)).label("n")
        rows = session.execute(
            select(key, label, count)
            .join(table, table.id == key)
            .where(link.event_id.in_(matching))
            .group_by(key, label)
            .order_by(desc("n"), key)
            .limit(size)
        ).all()
        return [(str(k), str(lab), int(c)) for k, lab, c in rows]

    return {
        "total": total,
        "type": [(t, t, c) for t, c in types],
        "year": [(str(int(y)), str(int(y)), c) for y, c in years],
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
