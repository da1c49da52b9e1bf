"""Timing helpers shared by the benchmarks: a light HTTP client, percentiles, stats, cells."""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class BenchError(Exception):
    """A request that did not answer 200 (the cell shows it instead of a time)."""


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of `values` (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def fmt(ms: float | None) -> str:
    """Milliseconds with about three significant digits, for tables."""
    if ms is None:
        return "–"
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


@dataclass
class Stat:
    """Sequential latencies of one query on one system, in milliseconds."""

    p50: float | None = None
    p95: float | None = None
    n: int = 0
    error: str | None = None
    early: bool = False  # stopped by the time budget before every request ran

    @classmethod
    def of(cls, times: Sequence[float], *, early: bool = False) -> Stat:
        if not times:
            return cls()
        return cls(statistics.median(times), percentile(times, 0.95), len(times), early=early)

    def cell(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.p50 is None:
            return "–"
        mark = f" (n={self.n})" if self.early else ""
        return f"{fmt(self.p50)}{mark}"


def ratio(a: float | None, b: float | None) -> str:
    """a / b to two decimals, or – when either is missing."""
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def time_calls(
    calls: Sequence[Callable[[], object]], *, warmup: int, budget: float, minimum: int = 3
) -> Stat:
    """Run `calls` one after another (after `warmup` runs of the first) and time each.

    A slow query stops after `budget` seconds (but not before `minimum` samples), so one
    multi-second query cannot hold up the whole run; the cell then shows its sample count.
    """
    try:
        started = time.perf_counter()
        for _ in range(warmup):
            calls[0]()
            if time.perf_counter() - started > budget / 4:
                break
        times: list[float] = []
        started = time.perf_counter()
        for call in calls:
            sent = time.perf_counter()
            call()
            times.append((time.perf_counter() - sent) * 1000)
            if len(times) >= minimum and time.perf_counter() - started > budget:
                break
    except BenchError as exc:
        return Stat(error=str(exc))
    return Stat.of(times, early=len(times) < len(calls))


class Http:
    """A keep-alive HTTP/1.1 client with little overhead of its own (http.client)."""

    def __init__(self, base_url: str, timeout: float = 300) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str) -> bytes:
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise BenchError(f"no complete answer for {path[:80]}") from None
                continue
            if response.status != 200:
                raise BenchError(f"{response.status} for {path[:80]}")
            return body
        raise AssertionError("unreachable")

    def json(self, path: str) -> Any:
        return json.loads(self.get(path))

    def close(self) -> None:
        self.conn.close()


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A markdown table; the first `left` columns are text, the rest numbers (right-aligned)."""
    align = ["---"] * left + ["---:"] * (len(header) - left)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
