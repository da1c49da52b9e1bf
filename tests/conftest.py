"""Shared fixtures: real SQLite files and real PostgreSQL databases, migrated by Alembic.

Every database-touching test runs on both backends (ids `sqlite` and `postgresql`); the
PostgreSQL ones run when TIMELINE_TEST_POSTGRES_URL names a server we may create
databases on, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.cli import load
from app.config import Settings
from app.db import make_engine, normalize_url
from app.main import create_app
from app.reader import read_dataset

HERE = Path(__file__).parent
FIXTURE_DATA = HERE / "fixtures" / "dataset"
FIXTURE_ARCHIVE = HERE / "fixtures" / "archive"
PROJECT = HERE.parent
POSTGRES_URL = os.environ.get("TIMELINE_TEST_POSTGRES_URL")


def schema_head() -> str:
    """The newest migration's revision: what `timeline migrate` upgrades to."""
    from alembic.script import ScriptDirectory

    from app.cli import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="set TIMELINE_TEST_POSTGRES_URL to test PostgreSQL"
        ),
    ),
]


class DatabaseFactory:
    """Creates empty databases of one backend and drops them afterwards."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root
        self.created: list[str] = []

    def new_url(self) -> str:
        name = f"tt_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.root / (name + '.db')}"
        assert POSTGRES_URL
        admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        url = make_url(normalize_url(POSTGRES_URL)).set(database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        assert POSTGRES_URL
        admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: 'sqlite' or 'postgresql'."""
    return str(request.param)


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(databases: DatabaseFactory) -> str:
    """A new, empty database for one test."""
    return databases.new_url()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def loaded_url(databases: DatabaseFactory) -> str:
    """A database with the fixture dataset loaded, shared read-only by the API tests."""
    url = databases.new_url()
    engine = make_engine(url)
    load(engine, read_dataset(FIXTURE_DATA))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def uncached_client(loaded_url: str) -> Iterator[TestClient]:
    """A client for an app that keeps no responses: every request runs its queries (for
    tests that change how queries are planned)."""
    app = create_app(Settings(database_url=loaded_url, response_cache_mb=0))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def client(loaded_url: str) -> Iterator[TestClient]:
    """An HTTP client for the app serving the fixture dataset."""
    app = create_app(Settings(database_url=loaded_url, cors_origins=["https://example.org"]))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
