"""/health and /facets: the state of the service, and counts for filter menus."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field
from sqlalchemy import select, text

from app import models
from app.api.deps import CachedSession, FiltersDep, JSONBody, SessionDep
from app.facets import FACETS, facet_counts
from app.planner import plan_events
from app.schemas import Facets, Health
from app.versions import as_utc, current_version

router = APIRouter(tags=["meta"])


class HealthStatus(Health):
    version: int = Field(
        description="The current dataset version (see `/versions`); 0 before the first load.",
        examples=[2],
    )


@router.get("/health", response_model=HealthStatus)
def health(session: SessionDep, response: Response) -> HealthStatus:
    """Liveness and what is loaded: event count, dataset hash and version, schema revision.

    Never cached (`Cache-Control: no-store`): each check reaches the database.
    """
    response.headers["Cache-Control"] = "no-store"
    table = models.DatasetMeta.__table__
    meta = session.connection().execute(select(table).where(table.c.id == 1)).first()
    revision = session.connection().scalar(
        select(text("version_num")).select_from(text("alembic_version"))
    )
    return HealthStatus(
        status="ok",
        events=meta.event_count if meta else 0,
        dataset_hash=meta.dataset_hash if meta else None,
        schema_revision=revision,
        loaded_at=as_utc(meta.loaded_at) if meta else None,
        version=current_version(session.connection()),
    )


@router.get("/facets", response_model=Facets, response_class=JSONBody)
def get_facets(
    filters: FiltersDep,
    session: CachedSession,
    size: Annotated[
        int,
        Query(
            ge=1,
            le=1000,
            description="How many actor, place and source "
            "values to return (the most frequent first).",
            examples=[20],
        ),
    ] = 50,
) -> JSONBody:
    """Counts of the events matching the same filters as `/events`, for histograms and
    filter menus: by type and year (all values), by actor, place and source (top `size`)."""
    counts = facet_counts(session, plan_events(session, filters), size)
    return JSONBody(
        {"total": counts["total"]}
        | {
            name: [{"value": v, "label": label, "count": c} for v, label, c in counts[name]]
            for name in FACETS
        }
    )
