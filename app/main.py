"""The FastAPI application: `create_app(settings)`, and `app` for uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError

from app import __version__
from app.api import actors, events, feeds, meta, page, places, sources, versions
from app.caching import CacheMiddleware, Compression, ResponseCache
from app.config import Settings, get_settings
from app.db import make_engine, read_sessions
from app.errors import document_errors, install_error_handlers
from app.loader import current_hash
from app.openapi import finish as finish_openapi
from app.params import QueryGuard
from app.schemas import ErrorResponse
from app.security import ReadMethods, SecurityMiddleware
from app.versions import current_version

DESCRIPTION = """
A curated timeline of dated political events, each traceable to a verbatim quote from
its source. Dates keep the precision their sources support (EDTF): every event carries
`date` (EDTF), `precision`, and `start`/`end` day bounds. Sources that disagree are kept
apart, never averaged.

Filter `/events` by date window (`from`, `to`, `match`), `actor` (any spelling), `role`,
`place` (with everything inside it), `type`, `tag`, `source` and full text `q`; page with
`cursor`. Errors are JSON: `{"status", "error", "message", "details"}`.
"""
# Below this a compressed body saves less than its headers and the CPU cost.
GZIP_MIN_BYTES = 1024
# Level 1 (nginx's default): a page of 50 events (61 kB) compresses in 0.8 ms to 17 kB;
# level 6 took 2.3 ms for 15 kB, and 25 ms for a page of 500.
GZIP_LEVEL = 1


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (the environment's by default)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, serving=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Handlers are synchronous and mostly CPU-bound (SQLite runs in-process): a few
        # threads answer more requests per second than anyio's 40 fighting over the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        engine.dispose()

    app = FastAPIOffline(  # Swagger UI and ReDoc from local files: works offline
        title=settings.title,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={422: {"model": ErrorResponse, "description": "A parameter was refused."}},
        # Operation ids are the handlers' names (list_events, get_csv): what generated
        # clients call their methods.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = read_sessions(engine)
    install_error_handlers(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish_openapi(
                document_errors(
                    get_openapi(
                        title=app.title,
                        version=app.version,
                        description=app.description,
                        routes=app.routes,
                    )
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # Read in a transaction that commits: a rollback would make PostgreSQL's driver forget
    # the statements it prepared on that connection (see `app.api.deps.get_session`).
    def dataset_hash() -> str | None:
        try:
            with engine.begin() as connection:
                return current_hash(connection)
        except DBAPIError:
            return None  # not migrated yet: the route itself will say so

    def dataset_version() -> int:
        try:
            with engine.begin() as connection:
                return current_version(connection)
        except DBAPIError:
            return 0

    responses = (
        ResponseCache(int(settings.response_cache_mb * 1024 * 1024))
        if settings.response_cache_mb > 0
        else None
    )
    app.state.response_cache = responses is not None
    # Innermost: only what reaches a route is checked against the parameters it declares.
    app.add_middleware(QueryGuard, routes=lambda: app.routes)
    # Inside the cache: a compressed answer is kept (and tagged) as the gzip representation.
    app.add_middleware(Compression, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(
        CacheMiddleware,
        dataset_hash=dataset_hash,
        dataset_version=dataset_version,
        max_age=settings.cache_max_age,
        responses=responses,
        uncached_paths=("/health",),  # a health check must reach the database every time
        revalidated_paths=("/",),
    )
    app.add_middleware(ReadMethods)  # HEAD on every GET route, through the response cache
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag"],
        max_age=600,
    )
    app.add_middleware(SecurityMiddleware)  # outermost: refuses before anything runs
    for module in (events, feeds, actors, places, sources, versions, meta, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` builds the app on first access, not at import time.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
