"""Dataset versions: each event's content hash, the versions table and the change log.

`events.content_hash` lets a load compare each event with what it replaces; the other
three tables are kept across loads. A dataset loaded before this revision has no content
hashes, so its stored hash is cleared: the next `timeline load` (or `serve`) loads it
again and records it as version 1 (after 0005 nothing is loaded anyway).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(200)


def upgrade() -> None:
    op.add_column(
        "events", sa.Column("content_hash", sa.String(64), nullable=False, server_default="")
    )
    op.create_table(
        "versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset_hash", sa.String(64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_versions")),
    )
    op.create_table(
        "event_versions",
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("added_version", sa.Integer(), nullable=False),
        sa.Column("changed_version", sa.Integer(), nullable=False),
        sa.Column("removed_version", sa.Integer(), nullable=True),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_versions")),
    )
    op.create_index(
        op.f("ix_event_versions_last_version_event_id"),
        "event_versions",
        ["last_version", "event_id"],
    )
    op.create_table(
        "changes",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("version", "event_id", name=op.f("pk_changes")),
    )
    # Loaded events without content hashes cannot be compared: have the next load redo it.
    op.execute("UPDATE dataset_meta SET dataset_hash = ''")


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_index(op.f("ix_event_versions_last_version_event_id"), table_name="event_versions")
    op.drop_table("event_versions")
    op.drop_table("versions")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("content_hash")
