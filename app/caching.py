"""Caching: ETags, 304s and recent responses for front ends.

A response depends only on the loaded dataset and the URL, so a client that sends back
the ETag it got is answered `304 Not Modified`, and a URL asked for again of a route that
declares its answer cacheable (`app.api.deps.CachedSession`) is answered from memory.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__


class CacheMiddleware:
    """Adds ETag and Cache-Control to successful GETs; answers If-None-Match with 304,
    and a GET of a recently answered URL from `responses`.

    It sits outside the compression middleware: a client that accepts gzip and one that
    does not get different representations, so each has its own ETag and kept answer, and
    every answer says `Vary: Accept-Encoding`.
    """

    # The loaded dataset changes only on a reload; asking the database once a second is
    # enough (a response a second stale only until the next check).
    HASH_TTL = 1.0

    def __init__(
        self,
        app: ASGIApp,
        dataset_hash: Callable[[], str | None],
        max_age: int,
        responses: ResponseCache | None = None,
        uncached_paths: tuple[str, ...] = (),
        dataset_version: Callable[[], int] | None = None,
        revalidated_paths: tuple[str, ...] = (),
    ):
        self.app = app
        # Answers that must come fresh from the database each time (liveness checks).
        self.uncached_paths = frozenset(uncached_paths)
        # Answers a browser must check each time it shows them (`no-cache`), in a 200 and
        # a 304 alike: the timeline page, which a new version of the app changes.
        self.revalidated_paths = frozenset(revalidated_paths)
        self.dataset_hash = dataset_hash
        # A reload that brings back an earlier dataset (a revert) has its hash but a new
        # version: /versions, /changes and /health answer differently, so ETags name both.
        self.dataset_version = dataset_version
        self._version = 0
        self.cache_control = f"public, max-age={max_age}"
        self.responses = responses
        self._hash: str | None = None
        self._checked = -self.HASH_TTL

    async def current_hash(self) -> str | None:
        """The loaded dataset's hash, read from the database at most once a second."""
        now = time.monotonic()
        if self._hash is None or now - self._checked > self.HASH_TTL:
            self._hash = await anyio.to_thread.run_sync(self.dataset_hash)
            if self.dataset_version is not None:
                self._version = await anyio.to_thread.run_sync(self.dataset_version)
            self._checked = now
        return self._hash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"] in self.uncached_paths
        ):
            await self.app(scope, receive, send)
            return
        current = await self.current_hash()
        if current is None:  # nothing loaded yet: nothing worth caching
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        etag = self._etag(scope, f"{current}/{self._version}", _encoding(request_headers))
        cache_control = (
            "no-cache" if scope["path"] in self.revalidated_paths else self.cache_control
        )
        if _matches(request_headers.get("if-none-match"), etag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [
                        (b"etag", etag.encode()),
                        (b"cache-control", cache_control.encode()),
                        (b"vary", b"Accept-Encoding"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        # HEAD arrives here as a GET (`ReadMethods`): answered from memory like one, but
        # never kept, since a route may have skipped building its body.
        head = bool((scope.get("state") or {}).get("head"))
        responses = self.responses if scope["method"] == "GET" else None
        kept = responses.get(etag) if responses is not None else None
        if head:
            responses = None
        if kept is not None:
            headers, body = kept
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        # Our own headers, copied before outer middleware adds per-request ones (CORS).
        kept_headers: list[tuple[bytes, bytes]] | None = None
        chunks: list[bytes] | None = [] if responses is not None else None

        async def send_with_etag(message: Message) -> None:
            nonlocal kept_headers, chunks
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                headers["ETag"] = etag
                headers.setdefault("Cache-Control", cache_control)
                if "accept-encoding" not in headers.get("vary", "").lower():
                    headers.add_vary_header("Accept-Encoding")  # gzip adds it when it compresses
                kept_headers = list(headers.raw)
            elif message["type"] == "http.response.body" and chunks is not None and kept_headers:
                chunks.append(message.get("body", b""))
                if responses is None or sum(map(len, chunks)) > responses.max_item:
                    chunks = None  # too big to keep (a long CSV export, say)
                elif not message.get("more_body", False) and _read(scope) == current:
                    # Only an answer computed from the dataset the key names: a reload
                    # since the hash was last read must not be kept under the old one.
                    responses.put(etag, kept_headers, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, send_with_etag)

    @staticmethod
    def _etag(scope: Scope, dataset_hash: str, encoding: str) -> str:
        digest = hashlib.sha256()
        query = scope.get("query_string", b"").decode("latin-1")
        for part in (__version__, dataset_hash, scope["path"], query):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        suffix = "" if encoding == "identity" else f"-{encoding}"
        return f'W/"{digest.hexdigest()[:32]}{suffix}"'


def _encoding(headers: Headers) -> str:
    """The representation `Compression` will choose for this request, which names the ETag
    and the kept answer."""
    return "gzip" if accepts_gzip(headers) else "identity"


def accepts_gzip(headers: Headers) -> bool:
    """Whether the request's Accept-Encoding accepts gzip (RFC 9110, 12.5.3): named with a
    weight above 0, or not named and `*` so; `gzip;q=0` refuses it."""
    accepted = headers.getlist("accept-encoding")
    if not accepted:
        return False
    weights: dict[str, float] = {}
    for item in ",".join(accepted).lower().split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(coding, weight)
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


class Compression(GZipMiddleware):
    """Starlette's gzip, told what the client accepts as `accepts_gzip` reads it: on its
    own it compresses whenever the header holds the word gzip, `gzip;q=0` included. An
    answer to a client that takes no gzip passes straight through, only saying that it
    would have varied (`Vary: Accept-Encoding`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not accepts_gzip(Headers(scope=scope)):

            async def send_varying(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = message.setdefault("headers", [])
                    if not any(b"accept-encoding" in v.lower() for k, v in headers if k == b"vary"):
                        MutableHeaders(scope=message).add_vary_header("Accept-Encoding")
                await send(message)

            await self.app(scope, receive, send_varying)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        headers.append((b"accept-encoding", b"gzip"))
        await super().__call__({**scope, "headers": headers}, receive, send)


def _read(scope: Scope) -> object:
    """The dataset hash a cacheable request's transaction read (`app.db`), else None."""
    state = scope.get("state") or {}
    return state.get("dataset_hash") if isinstance(state, dict) else None


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    weak = etag.removeprefix("W/")
    return "*" in tags or any(tag.removeprefix("W/") == weak for tag in tags)


class ResponseCache:
    """Recent successful responses (headers and body) by ETag, within a byte budget.

    An ETag names the app version, the loaded dataset and the URL, so a reload never
    serves an old dataset's answer once its hash has been read again.
    """

    def __init__(self, max_bytes: int, max_item: int = 1 << 20) -> None:
        self.max_bytes = max_bytes
        self.max_item = min(max_item, max_bytes)
        self._items: OrderedDict[str, tuple[list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, etag: str) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The kept response for `etag`, if any (and it becomes the most recent)."""
        item = self._items.get(etag)
        if item is not None:
            self._items.move_to_end(etag)
        return item

    def put(self, etag: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Keep a response, dropping the least recently used ones beyond the budget."""
        if len(body) > self.max_item or etag in self._items:
            return
        self._items[etag] = (headers, body)
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= len(dropped)
