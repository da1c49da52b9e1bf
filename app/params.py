"""The query parameters each route declares: unknown, repeated and blank ones.

FastAPI ignores parameters a route does not declare, so `?actr=Kuvvatov` would silently
answer every event. This middleware refuses them (naming the closest known parameter),
refuses a second value of a single-valued parameter, and drops blank values, so that
`actor=` means the same as no `actor` on every route.
"""

from __future__ import annotations

import difflib
import types
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Union, get_args, get_origin
from urllib.parse import unquote_plus

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import invalid_parameters

# Page-numbering names clients try first; our lists page with an opaque cursor.
_PAGE_NAMES = ("page", "offset", "skip", "start")


def _is_many(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_many(arg) for arg in get_args(annotation) if arg is not type(None))
    return get_origin(annotation) in (list, tuple, set, frozenset)


def declared(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The route's query parameter names, and those that take several values."""
    fields = _query_fields(route)
    names = frozenset(f.alias for f in fields)
    many = frozenset(f.alias for f in fields if _is_many(f.field_info.annotation))
    return names, many


def _query_fields(route: APIRoute) -> list[Any]:
    found: list[Any] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found.extend(dependant.query_params)
        pending.extend(dependant.dependencies)
    return found


def _split(raw: bytes) -> list[tuple[str, str, bytes]]:
    """(name, value, raw part) for each `name=value` part, decoded as Starlette does."""
    parts = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.decode("latin-1").partition("=")
        parts.append((unquote_plus(name), unquote_plus(value), part))
    return parts


def problems(
    parts: Sequence[tuple[str, str, bytes]], names: frozenset[str], many: frozenset[str]
) -> list[tuple[str, str]]:
    """(parameter, message) for every unknown or repeated parameter among `parts`."""
    found: list[tuple[str, str]] = []
    counts = Counter(name for name, _, _ in parts)
    for name, count in counts.items():
        if name not in names:
            found.append((name, _unknown(name, names)))
        elif count > 1 and name not in many:
            found.append((name, f"given {count} times; it takes one value"))
    return found


def _unknown(name: str, names: frozenset[str]) -> str:
    """Why `name` is refused, with the parameter the client most likely meant."""
    if name.lower() in _PAGE_NAMES and "cursor" in names:
        return "pages are not numbered here: pass the previous answer's `next_cursor` as `cursor`"
    if name.lower() in _PAGE_NAMES and "limit" in names:
        return "this answer is not paged: it comes whole, up to `limit`"
    close = difflib.get_close_matches(name.lower(), sorted(names), n=1, cutoff=0.6)
    if close:
        return f"unknown parameter; did you mean `{close[0]}`?"
    if names:
        known = ", ".join(f"`{n}`" for n in sorted(names))
        return f"unknown parameter; this path takes {known}"
    return "unknown parameter; this path takes no parameters"


def _api_routes(routes: Sequence[BaseRoute]) -> list[APIRoute]:
    """Every APIRoute, including those of routers included without a prefix."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
            continue
        router = getattr(route, "original_router", None)  # FastAPI's included router
        context = getattr(route, "include_context", None)
        if router is not None and getattr(context, "prefix", "") == "":
            found.extend(_api_routes(router.routes))
    return found


class QueryGuard:
    """Checks the query string against the declared parameters of the route it reaches."""

    def __init__(self, app: ASGIApp, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes
        self._declared: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._api_routes: list[APIRoute] | None = None  # found on the first request
        # A path always reaches the same route (the guard sees only GETs): the paths of
        # routes without path parameters (/events, /actors, /facets...) are remembered,
        # and not matched against every route again.
        self._by_path: dict[str, APIRoute | None] = {}

    def _route(self, scope: Scope) -> APIRoute | None:
        path = scope["path"]
        if path in self._by_path:
            return self._by_path[path]
        if self._api_routes is None:
            self._api_routes = _api_routes(self.routes())
        for route in self._api_routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                found = route if route.include_in_schema else None
                if route.path == path:  # no path parameters: one entry per route at most
                    self._by_path[path] = found
                return found
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if not raw:
            await self.app(scope, receive, send)
            return
        route = self._route(scope)
        if route is None:  # the page, the docs, static files: not ours to check
            await self.app(scope, receive, send)
            return
        if id(route) not in self._declared:
            self._declared[id(route)] = declared(route)
        names, many = self._declared[id(route)]
        parts = [p for p in _split(raw) if p[1].strip()]  # a blank value is no value
        found = problems(parts, names, many)
        if found:
            # Answered here, outside the routes' exception handlers, in the one error shape.
            details = [{"parameter": name, "message": message} for name, message in found]
            await JSONResponse(invalid_parameters(details), status_code=422)(scope, receive, send)
            return
        kept = b"&".join(part for _, _, part in parts)
        if kept != raw:
            scope = {**scope, "query_string": kept}
        await self.app(scope, receive, send)
