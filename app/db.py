"""Engines and sessions for SQLite and PostgreSQL; no web framework here.

SQLite gets foreign keys, WAL (readers keep reading while a load commits) and explicit
BEGIN statements, so that one request or one load is one real transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and point them at the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# Request handlers run in a pool of threads (`threads` in the settings); each may hold a
# connection until the request ends, and a streamed answer holds one between its chunks. A
# connection pool that could make a thread wait while other requests hold connections would
# deadlock under load, so the pool never makes anyone wait.
POOL_SIZE = 40


def make_engine(url: str, *, serving: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`, with the per-backend settings the app relies on; `serving`
    for the API's requests (see `_without_parallel_workers`)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.database not in (None, "", ":memory:"):  # in-memory SQLite has its own pool
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", -1)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if serving:
        _without_parallel_workers(engine)
    return engine


def _without_parallel_workers(engine: Engine) -> None:
    """A request's statements are short walks along indexes. PostgreSQL starts parallel
    workers for the longer ones, and starting them takes longer than the walk: at a
    million events, a walk testing 5,000 events' words waited 14 ms for its two workers
    and ran for 5. Each connection the API opens has them off."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.autocommit = autocommit


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock up front, so two loads queue instead of deadlocking.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate on. On SQLite, with foreign keys off while it is held, as
    Alembic's batch mode needs: dropping a column copies the table and drops the old one,
    which rows of other tables still reference. The pragma only works outside a
    transaction, so it is set on the driver's connection; the migration checks the keys
    itself before it commits (`check_foreign_keys`)."""
    with engine.connect() as connection:
        if not is_sqlite(engine):
            yield connection
            return
        driver = connection.connection.dbapi_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            yield connection
        finally:
            driver.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, refuse to commit a migration that left a row referencing nothing."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration broke {len(broken)} foreign keys: {broken[:3]}")


def is_sqlite(engine: Engine) -> bool:
    """Whether `engine` talks to SQLite (the default, single-file backend)."""
    return engine.dialect.name == "sqlite"


def read_engine(engine: Engine) -> Engine:
    """`engine` set up so each read transaction sees one consistent snapshot."""
    if is_sqlite(engine):
        return engine  # a SQLite read transaction is already a snapshot in WAL mode
    return engine.execution_options(isolation_level="REPEATABLE READ")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for request handlers: read-only snapshots, objects usable after commit."""
    sessions = sessionmaker(bind=read_engine(engine), expire_on_commit=False, autoflush=False)
    event.listen(sessions, "after_begin", _note_dataset)
    return sessions


def _note_dataset(session: Session, _transaction: Any, connection: Any) -> None:
    """For a cacheable request (see `app.api.deps`), note the hash of the dataset its
    transaction reads, as the transaction's first read: the response cache keeps the
    answer only under that dataset."""
    state = session.info.get("request_state")
    if state is not None and getattr(state, "cacheable", False):
        state.dataset_hash = connection.exec_driver_sql(
            "SELECT dataset_hash FROM dataset_meta WHERE id = 1"
        ).scalar()
