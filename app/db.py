"""Engines and read sessions for SQLite and PostgreSQL; no web framework here.

SQLite gets foreign keys, WAL (readers keep reading while a load commits) and explicit
BEGIN statements, so that one request or one load is one real transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError


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
    for the API's requests (see `_for_short_statements`)."""
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
        _for_short_statements(engine)
    return engine


def _for_short_statements(engine: Engine) -> None:
    """A request's statements are short walks along indexes, which PostgreSQL may cost
    high (a walk's bounds are parameters) and then slow down. It starts parallel workers
    for the longer ones, and starting them takes longer than the walk: at a million
    events, a walk testing 5,000 events' words waited 14 ms for its two workers and ran
    for 5. And it compiles them (JIT): a first page of two words took 570 ms, of which
    32 were the walk. Each connection the API opens has both off."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
            cursor.execute("SET jit = off")
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
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # Straight to the driver: a statement through SQLAlchemy costs each request more
        # than the BEGIN itself. Its error is raised as SQLAlchemy's, like any query's (a
        # load waiting past the busy timeout for another load's lock).
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                statement, (), exc, sqlite3.Error, dialect=connection.dialect
            ) from exc


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


def vacuum(engine: Engine, tables: Sequence[str] = ()) -> None:
    """PostgreSQL: `VACUUM (ANALYZE)` of `tables` (all by default), outside any
    transaction, as VACUUM must be."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}".rstrip()))


def is_sqlite(engine: Engine) -> bool:
    """Whether `engine` talks to SQLite (the default, single-file backend)."""
    return engine.dialect.name == "sqlite"


def read_engine(engine: Engine) -> Engine:
    """`engine` set up so each read transaction sees one consistent snapshot."""
    if is_sqlite(engine):
        return engine  # a SQLite read transaction is already a snapshot in WAL mode
    return engine.execution_options(isolation_level="REPEATABLE READ")


class ReadSession:
    """One request's reads: a pooled connection in one read transaction (a snapshot),
    taken at the first query, in the thread that runs it, and ended by `close`.

    Nothing a request reads is an ORM object: an ORM session cost three times as much a
    request (0.12 ms against 0.04 on SQLite, more than reading a stored page takes).
    """

    def __init__(self, engine: Engine, request_state: Any = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        # A cacheable request's state is told which dataset its transaction read: the
        # response cache keeps the answer only under that dataset (`app.caching`).
        self.request_state = request_state
        self._connection: Connection | None = None

    def connection(self) -> Connection:
        """The transaction's connection, begun on first use."""
        if self._connection is None:
            connection = self.engine.connect()
            try:
                connection.begin()
                state = self.request_state
                if state is not None and getattr(state, "cacheable", False):
                    state.dataset_hash = connection.exec_driver_sql(
                        "SELECT dataset_hash FROM dataset_meta WHERE id = 1"
                    ).scalar()
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def close(self, *, commit: bool = True) -> None:
        """End the transaction (with COMMIT, or a rollback) and give the connection back."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if commit:
                connection.commit()
        finally:
            connection.close()

    def __enter__(self) -> ReadSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.close(commit=kind is None)


def read_sessions(engine: Engine) -> Callable[..., ReadSession]:
    """`ReadSession`s on `engine`, each reading one snapshot (see `read_engine`)."""
    return partial(ReadSession, read_engine(engine))
