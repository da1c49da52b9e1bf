"""/versions and /changes: what each load changed, for clients that keep a copy in sync."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.deps import Cursor, Limit, SessionDep
from app.versions import check_since, list_changes, list_versions

router = APIRouter(tags=["versions"])


class VersionOut(BaseModel):
    """One load that changed the dataset."""

    version: int = Field(description="Increasing number of this load, from 1.", examples=[2])
    dataset_hash: str = Field(description="SHA-256 of the dataset's YAML files.")
    loaded_at: dt.datetime = Field(description="When it was loaded (UTC).")
    events: int = Field(description="Events in the dataset after this load.", examples=[125])
    added: int = Field(description="Events this load added.", examples=[1])
    changed: int = Field(description="Events whose content this load changed.", examples=[1])
    removed: int = Field(description="Events this load removed.", examples=[1])


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page.",
        examples=[None],
    )


class ChangeOut(BaseModel):
    """An event's net change after `since`."""

    id: str = Field(description="Event id.", examples=["2015-03-quvvatov-killed-istanbul"])
    change: Literal["added", "changed", "removed"] = Field(
        description="`added`: not in the dataset at `since` (or removed and added again); "
        "`changed`: there at `since` and now, its content rewritten; `removed`: gone now.",
        examples=["changed"],
    )
    version: int = Field(description="The version of its latest change.", examples=[2])


class ChangePage(BaseModel):
    items: list[ChangeOut]
    version: int = Field(
        description="The current version: pass it as `since` next time.", examples=[2]
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same `since`) to get the next page; null on "
        "the last page.",
        examples=[None],
    )


@router.get("/versions", response_model=VersionPage)
def get_versions(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> VersionPage:
    """Every load that changed the dataset, newest first, with how many events it added,
    changed and removed. A reload of the same files records nothing."""
    rows, next_cursor = list_versions(session.connection(), limit, cursor)
    return VersionPage(items=[VersionOut(**row._asdict()) for row in rows], next_cursor=next_cursor)


@router.get("/changes", response_model=ChangePage)
def get_changes(
    session: SessionDep,
    since: Annotated[
        int,
        Query(
            ge=0,
            le=2**31 - 1,
            description="A version number from `/versions` (or `version` of an earlier "
            "`/changes` or `/health`): list what changed after it. `0` lists every event "
            "loaded since the first load (a client's first sync).",
            examples=[1],
        ),
    ],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ChangePage:
    """The events added, changed or removed after version `since`, each once with its net
    change and the version of its latest change, ordered by that version and then id.
    Removed events stay listed as tombstones. Follow `next_cursor` to the end, then keep
    `version` for the next call."""
    current = check_since(session.connection(), since)
    rows, next_cursor = list_changes(session.connection(), since, limit, cursor)
    return ChangePage(
        items=[ChangeOut(**row._asdict()) for row in rows],
        version=current,
        next_cursor=next_cursor,
    )
