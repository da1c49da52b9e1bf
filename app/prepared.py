"""Statements compiled once, then run straight through the database driver.

Executing a SQLAlchemy statement builds its cache key and processes every parameter on
each call; for the few queries every page of events runs, that costs more than SQLite
takes to answer them. Those queries are compiled once per dialect and shape here and run
with the driver's own cursor, inside the session's transaction (so one request still
reads one snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from app.db import ReadSession


@dataclass(frozen=True)
class Prepared:
    """A compiled statement and the values compiled into it."""

    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite): parameter names in order
    values: dict[str, Any]


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """Compile `statement` for `dialect`, IN lists expanded into one parameter each.

    Parameters filled in at run time must be declared with a placeholder value
    (`bindparam("limit", 0)`); the others keep the values the statement was built with.
    """
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return Prepared(compiled.string, order, dict(compiled.params))


_statements: dict[tuple[str, Hashable], Prepared] = {}


def statement(session: ReadSession, key: Hashable, build: Callable[[], ClauseElement]) -> Prepared:
    """The statement `build()` makes, compiled once per dialect and `key`."""
    dialect = session.dialect
    compiled = _statements.get((dialect.name, key))
    if compiled is None:
        compiled = _statements[(dialect.name, key)] = prepare(build(), dialect)
    return compiled


def fetch(session: ReadSession, prepared: Prepared, **values: Any) -> list[tuple[Any, ...]]:
    """All rows of `prepared` with `values` filled in, in the session's transaction.

    Rows hold the driver's own values: SQLite gives dates as ISO strings and booleans as
    0 or 1 (see `iso` and `bool`). Driver errors are raised as SQLAlchemy's `DBAPIError`,
    like every other query's.
    """
    params = {**prepared.values, **values} if values else prepared.values
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None  # a connection in use is never detached
    dialect = connection.dialect
    arguments: Any = params
    if prepared.order is not None:
        arguments = [_positional(params[name]) for name in prepared.order]
    # psycopg: rows in PostgreSQL's binary format, which it reads faster than text (a
    # facet total's 90 kB three times faster: text sends bytes as hex).
    binary = {"binary": True} if dialect.driver == "psycopg" else {}
    cursor = dbapi_connection.cursor(**binary)
    try:
        cursor.execute(prepared.sql, arguments)
        return list(cursor.fetchall())
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            prepared.sql, arguments, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        cursor.close()


def _positional(value: Any) -> Any:
    # What SQLAlchemy's SQLite types store: dates as ISO text, booleans as integers.
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def iso(value: date | str) -> str:
    """A date column's value as `YYYY-MM-DD`, whichever driver read it."""
    return value if isinstance(value, str) else value.isoformat()


def run(session: ReadSession, sql: str, **values: Any) -> list[tuple[Any, ...]]:
    """Rows of a SQL text, compiled once per dialect and text, in the session's snapshot."""
    return fetch(session, statement(session, ("sql", sql), lambda: text(sql)), **values)


def placeholders(prefix: str, count: int) -> str:
    """`:k0, :k1, ...`: one named parameter per value of an IN list."""
    return ", ".join(f":{prefix}{i}" for i in range(count))


def numbered(prefix: str, values: tuple[str, ...]) -> dict[str, str]:
    """The values of `placeholders(prefix, len(values))`."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}
