"""ORM tables: events, actors, places, sources and the links between them.

The schema is created and changed only by the Alembic migrations in `migrations/`;
`tests/test_migrations.py` checks that the migrated schema equals these models. SQLite's
full-text index (FTS5 `events_fts`) lives only in migrations.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(200)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text)
    published: Mapped[str] = mapped_column(String(100))
    published_start: Mapped[date] = mapped_column(Date)
    published_end: Mapped[date] = mapped_column(Date)
    published_basis: Mapped[str] = mapped_column(String(20))
    basis_note: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))
    archive: Mapped[str | None] = mapped_column(Text)
    # As lists and details return it (`app.directory.build_documents`), written at load.
    doc: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class Actor(Base):
    __tablename__ = "actors"
    # A page of /actors, of all or of one kind, is a walk along one of these in list order.
    __table_args__ = (Index(None, "position"), Index(None, "kind", "kind_position"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(100))
    sort_key: Mapped[str] = mapped_column(Text)
    # As lists and details return it (`app.directory.build_documents`), written at load,
    # with its place in the list order (by `sort_key`, then `id`), from 1: among all, and
    # among those of its kind. A page and its total are then lookups (`app.directory`).
    doc: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)
    kind_position: Mapped[int | None] = mapped_column(Integer)


class ActorName(Base):
    """Every name and alias of an actor, with its spelling-insensitive key."""

    __tablename__ = "actor_names"
    __table_args__ = (Index(None, "key", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(500))
    is_alias: Mapped[bool] = mapped_column(Boolean)


class Place(Base):
    __tablename__ = "places"
    # Pages of /places: all, of one kind, or directly inside one place, in list order.
    __table_args__ = (
        Index(None, "position"),
        Index(None, "kind", "kind_position"),
        Index(None, "parent_id", "position"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Materialized ancestry, "/tajikistan/gorno-badakhshan/khorog/": a subtree is a prefix.
    path: Mapped[str] = mapped_column(String(2000), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    sort_key: Mapped[str] = mapped_column(Text)
    # As lists and details return it (`app.directory.build_documents`), written at load,
    # with its place in the list order (by `sort_key`, then `id`), from 1: among all, and
    # among those of its kind. A page and its total are then lookups (`app.directory`).
    doc: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)
    kind_position: Mapped[int | None] = mapped_column(Integer)


class PlaceName(Base):
    __tablename__ = "place_names"
    __table_args__ = (Index(None, "key", "place_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    place_id: Mapped[str] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(500))
    is_alias: Mapped[bool] = mapped_column(Boolean)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    edtf: Mapped[str] = mapped_column(String(100))
    precision: Mapped[str] = mapped_column(String(20))
    date_start: Mapped[date] = mapped_column(Date)
    date_end: Mapped[date] = mapped_column(Date)
    approximate: Mapped[bool] = mapped_column(Boolean)
    uncertain: Mapped[bool] = mapped_column(Boolean)
    type: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # 0: spans at most a month, 1: at most a year, 2: longer (see app.dates.span_class).
    span_class: Mapped[int] = mapped_column(SmallInteger, server_default="2")
    # The facet values it counts towards (see app.rows.facet_keys), copied to event_order.
    facets: Mapped[str] = mapped_column(Text, server_default="")
    # SHA-256 of the event's record (see app.versions.content_hash): what a load compares.
    content_hash: Mapped[str] = mapped_column(String(64), server_default="")


class EventActor(Base):
    __tablename__ = "event_actors"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class EventPlace(Base):
    __tablename__ = "event_places"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    place_id: Mapped[str] = mapped_column(ForeignKey("places.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class EventTag(Base):
    __tablename__ = "event_tags"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)


class Citation(Base):
    __tablename__ = "citations"
    __table_args__ = (Index(None, "event_id", "position", "source_id"),)  # one event's sources

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    quote: Mapped[str] = mapped_column(Text)
    claimed_date: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)


class Figure(Base):
    """One source's claim about a number (killed, detained...): never merged with others."""

    __tablename__ = "figures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    approximate: Mapped[bool] = mapped_column(Boolean)
    unit: Mapped[str | None] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    quote: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


class EventRelation(Base):
    __tablename__ = "event_relations"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PlaceTree(Base):
    """Each place with itself and every place containing it: a place filter or count
    includes everything inside."""

    __tablename__ = "place_tree"

    place_id: Mapped[str] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), primary_key=True
    )
    ancestor_id: Mapped[str] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EventOrder(Base):
    """Every event's position in date order (start, end, id), written at load.

    `rank` counts events from 1 in that order, and `end_rank` in (end, start, id) order,
    so how many events start by a day, or end before one, is one index lookup.
    """

    __tablename__ = "event_order"
    __table_args__ = (
        Index(None, "date_start", "date_end", "event_id"),
        Index(None, "date_end", "end_rank"),
        Index(None, "end_rank"),  # runs of end ranks (`app.facets`)
    )

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    end_rank: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    date_start: Mapped[date] = mapped_column(Date)
    date_end: Mapped[date] = mapped_column(Date)
    span_class: Mapped[int] = mapped_column(SmallInteger)
    facets: Mapped[str] = mapped_column(Text)


class EventWords(Base):
    """Each event's distinct keyed words (title, summary, tags, quotes, actor and place
    names, see `app.text`), by rank: what `q` tests an event against, stored beside its
    neighbours in date order. SQLite indexes them in `events_fts`, made by migrations;
    PostgreSQL reads them in date order and tests them (`app.planner`), after their
    signature (`app.text.word_signature`), end and span class, which its primary key
    carries: a walk reads the words only of the events that may match."""

    __tablename__ = "event_words"
    __table_args__ = (
        PrimaryKeyConstraint("rank", postgresql_include=["signature", "date_end", "span_class"]),
    )

    rank: Mapped[int] = mapped_column(Integer, autoincrement=False)
    search_text: Mapped[str] = mapped_column(Text)
    # PostgreSQL only (SQLite's full-text index needs none of them).
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    date_end: Mapped[date | None] = mapped_column(Date)
    span_class: Mapped[int | None] = mapped_column(SmallInteger)


class EventDoc(Base):
    """Each event's document with the versions it was added and last changed in, by rank,
    written at load: a page reads one row per event, and neighbours in date order sit
    together. Apart from `event_order`, which filters walk and which stays small."""

    __tablename__ = "event_docs"

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    doc: Mapped[str] = mapped_column(Text)


class EventKey(Base):
    """What each filter value matches, in date order: one row per event and key.

    Keys: `*` (every event), `type:T`, `actor:ID`, `role:R`, `actor-role:ID|R`,
    `place:ID` (the place named and every place containing it), `tag:T`, `source:ID`.
    A filtered page reads one key's rows from a given rank on; `date_end` and
    `span_class` let a date window be checked without reading the event.
    """

    __tablename__ = "event_keys"
    # SQLite keeps the rows in the key's order (no rowid); PostgreSQL's key carries
    # date_end, so that a walk with a window reads the index only.
    __table_args__ = (
        PrimaryKeyConstraint("key", "span_class", "rank", postgresql_include=["date_end", "pos"]),
        {"sqlite_with_rowid": False},
    )

    key: Mapped[str] = mapped_column(String(500))
    span_class: Mapped[int] = mapped_column(SmallInteger)
    rank: Mapped[int] = mapped_column(Integer, autoincrement=False)
    date_end: Mapped[date] = mapped_column(Date)
    # 1, 2, 3… along the key's rows of this span class in rank order: how many of them
    # fall between two ranks is two lookups (`app.planner.count_matches`).
    pos: Mapped[int] = mapped_column(Integer)


class FacetTotal(Base):
    """Running totals of every facet value (`event_order.facets`), written at load along
    each of two orders, by start (`rank`) and by end (`end_rank`): bucket b counts the
    events up to position (b + 1) * `DatasetMeta.facet_bucket`, the last bucket all of
    them. A value's position is that of its key among the facet keys of `key_stats`,
    sorted; each count is 4 bytes, little-endian (`app.facets`)."""

    __tablename__ = "facet_totals"

    ordered_by: Mapped[str] = mapped_column(String(5), primary_key=True)  # start, end
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    counts: Mapped[bytes] = mapped_column(LargeBinary)


class EventFacets(Base):
    """Each event's facet values (`EventOrder.facets`) as their positions in the running
    totals, 4 bytes each, little-endian, by rank (written with `FacetTotal`): `/facets`
    counts them in C (`numpy.bincount`), where the text would be split and counted."""

    __tablename__ = "event_facets"

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    positions: Mapped[bytes] = mapped_column(LargeBinary)


class KeyStat(Base):
    """How many events each key matches, and its first event's rank and last end date:
    actor, place and source counts and dates, and the planner's size estimates."""

    __tablename__ = "key_stats"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    first_rank: Mapped[int] = mapped_column(Integer)
    last_date: Mapped[date] = mapped_column(Date)


class DatasetMeta(Base):
    """The single row describing the loaded dataset."""

    __tablename__ = "dataset_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_count: Mapped[int] = mapped_column(Integer)
    # The longest event (days): an event overlapping a window starts at most this long
    # before it, which gives the date index a lower bound.
    max_span_days: Mapped[int] = mapped_column(Integer, server_default="0")
    # Positions between the facets' running totals (`FacetTotal`); 0: none were built.
    facet_bucket: Mapped[int] = mapped_column(Integer, server_default="0")


# --- versions: kept across loads (replace_dataset never deletes them) ------------------


class Version(Base):
    """One load that changed the dataset, with how many events it added, changed, removed."""

    __tablename__ = "versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dataset_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    events: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)


class EventVersion(Base):
    """Every event id ever loaded: its content hash and the versions that touched it.

    A removed event stays as a tombstone (`removed_version` set). `last_version` is the
    latest of the three, indexed with the id for `/changes` paging.
    """

    __tablename__ = "event_versions"
    __table_args__ = (Index(None, "last_version", "event_id"),)

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    added_version: Mapped[int] = mapped_column(Integer)
    changed_version: Mapped[int] = mapped_column(Integer)
    removed_version: Mapped[int | None] = mapped_column(Integer)
    last_version: Mapped[int] = mapped_column(Integer)


class Change(Base):
    """The log: each event a version added, changed or removed (appended, never rewritten)."""

    __tablename__ = "changes"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    change: Mapped[str] = mapped_column(String(10))
