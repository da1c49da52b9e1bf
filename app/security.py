"""Request limits and security headers, before any route runs.

The API is read-only: anything but GET, HEAD and OPTIONS is refused, oversized or
NUL-bearing query strings never reach a database, and every response says how browsers
may use it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body, invalid_parameters

MAX_QUERY_BYTES = 8192
READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(READ_METHODS).encode()

# JSON and CSV never need to run anything; each HTML page has its own policy, by path, so
# that a 304 for a page carries the page's policy as its 200 did (a browser copies a 304's
# headers onto the page it kept).
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'"
)
# The timeline page loads only its own files and talks only to this API.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_POLICIES = {"/": PAGE_CSP, "/docs": DOCS_CSP, "/redoc": DOCS_CSP}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in _HEADERS.items()]


class SecurityMiddleware:
    """Refuses what the API never serves and adds security headers to every response."""

    def __init__(self, app: ASGIApp, policies: dict[str, str] | None = None):
        self.app = app
        self.policies = PAGE_POLICIES if policies is None else policies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.policies.get(scope["path"], API_CSP)
        ours = [*_RAW_HEADERS, (b"content-security-policy", csp.encode())]
        refusal = self._refusal(scope)
        if refusal is not None:
            status, body, extra = refusal
            headers = [(b"content-type", b"application/json"), *extra, *ours]
            await _send_json(send, status, body, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw names are lowercase (Starlette's and ours); one a route set is kept.
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}
                message["headers"] = headers + [h for h in ours if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _refusal(scope: Scope) -> tuple[int, dict[str, object], list[tuple[bytes, bytes]]] | None:
        method = scope["method"]
        if method not in READ_METHODS:
            body = error_body(
                405,
                "method_not_allowed",
                f"{method} is not allowed: the API is read-only (GET, HEAD, OPTIONS)",
            )
            return 405, body, [(b"allow", ALLOW)]
        raw: bytes = scope.get("query_string", b"")
        if len(raw) > MAX_QUERY_BYTES:
            body = error_body(
                414, "uri_too_long", f"the query string is longer than {MAX_QUERY_BYTES} bytes"
            )
            return 414, body, []
        if b"%00" in raw or b"\x00" in raw:
            names = sorted(
                {
                    name
                    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
                    if "\x00" in name or "\x00" in unquote(value)
                }
            ) or ["query"]
            details = [
                {
                    "parameter": name.replace("\x00", "\\0"),
                    "message": "must not contain NUL characters",
                }
                for name in names
            ]
            return 422, invalid_parameters(details), []
        if "\x00" in scope["path"]:
            return 404, error_body(404, "not_found", "no such path"), []
        return None


class ReadMethods:
    """Answers HEAD on every GET route, and OPTIONS with the methods the API allows.

    HEAD: the route runs as a GET, and only its headers go out. FastAPI routes declare GET
    alone; this keeps one operation per path in the OpenAPI document. Routes that can skip
    building a body (the CSV export) read `state["head"]`. An OPTIONS that is not a CORS
    preflight (those are answered outside) gets `204` and `Allow`, the same for every path
    of a read-only API.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await send(
                {"type": "http.response.start", "status": 204, "headers": [(b"allow", ALLOW)]}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server keeps its own scope, whose HEAD tells it to expect no body.
        state = scope.setdefault("state", {})
        state["head"] = True
        get = {**scope, "method": "GET"}

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await send({"type": "http.response.body", "body": b""})

        await self.app(get, receive, send_headers_only)


async def _send_json(
    send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    headers = [*headers, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
