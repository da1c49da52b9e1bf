"""Drive a served API with concurrent clients for a bounded time; report req/s, p50/p99, errors.

    python bench/loadtest.py --url http://127.0.0.1:8000           # a server already running
    python bench/loadtest.py --data data --workers 1,2              # start `timeline serve` itself

Uses wrk (Debian package `wrk`) with a Lua script that rotates through a realistic URL mix,
or an asyncio + httpx client when wrk is missing. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/loadtest.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bench.servers import serve_ours, serve_timeline  # noqa: E402
from bench.timing import percentile  # noqa: E402

# Share of each kind of request in the mix (sums to 100).
MIX: dict[str, int] = {
    "window": 20,  # /events with a date window, sorted by date or -date
    "actor": 13,  # /events?actor=<an alias, any spelling>
    "place": 9,  # /events?place=<a name>
    "type": 9,  # /events?type=..&from=..&to=..
    "q": 10,  # /events?q=<a common or a rare word>
    "cursor": 10,  # a later page by next_cursor
    "event": 15,  # /events/{id}
    "facets": 5,  # /facets, unfiltered or for one year
    "timelinejs": 4,  # /timelinejs?limit=100
    "csv": 5,  # /events.csv?limit=100
}
Q_TERMS = ("protest", "zhuldyzsky", "arrested", "election", "border")


@dataclass
class Result:
    """What one load run measured."""

    engine: str
    connections: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    longest_stall_s: float = 0.0
    error_detail: dict[str, int] = field(default_factory=dict)
    per_kind_p50_ms: dict[str, float] = field(default_factory=dict)


# --- the URL mix -----------------------------------------------------------------------------


def _get_json(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    response.raise_for_status()
    return response.json()


def build_paths(base_url: str, *, count: int = 2000, seed: int = 1) -> list[tuple[str, str]]:
    """`count` (kind, path) pairs drawn from MIX, with values taken from the served data.

    Popular actors and places (from /facets) come up more often than the rest, as they
    would from real users; every path is percent-encoded ASCII.
    """
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, timeout=120) as client:
        facets = _get_json(client, "/facets?size=50")
        years = sorted(int(str(v["value"])) for v in facets["year"]) or [2015]
        types = [str(v["value"]) for v in facets["type"]] or ["other"]
        top_actor_ids = [str(v["value"]) for v in facets["actor"]]
        top_places = [str(v["label"]) for v in facets["place"]]
        actors = _get_json(client, "/actors?limit=500")["items"]
        places = _get_json(client, "/places?limit=500")["items"]
        events = _get_json(client, "/events?limit=500&sort=-date")["items"]
        events += _get_json(client, "/events?limit=500")["items"]

        by_id = {a["id"]: a for a in actors}
        for actor_id in top_actor_ids:
            if actor_id not in by_id:
                by_id[actor_id] = _get_json(client, f"/actors/{actor_id}")
        spellings = {a["id"]: [a["name"], *a["aliases"]] for a in by_id.values()}
        # Top actors by popularity first, then the rest: both get asked for.
        actor_pool = [spellings[i] for i in top_actor_ids] + list(spellings.values())
        place_pool = top_places + [p["name"] for p in places]
        event_ids = sorted({e["id"] for e in events}) or ["none"]

        def window() -> dict[str, str]:
            first = rng.choice(years)
            last = min(years[-1], first + rng.choice((0, 1, 4, 9)))
            params = {"from": str(first), "to": str(last)}
            if rng.random() < 0.3:
                params = {"from": f"{first}-{rng.randint(1, 12):02d}", "to": str(last)}
            return params

        def events_path(params: dict[str, str]) -> str:
            return "/events?" + urlencode(params)

        # Cursor pages: follow next_cursor from a few filters, keep the later pages' URLs.
        cursor_paths: list[str] = []
        for _ in range(6):
            params = {**window(), "sort": rng.choice(("date", "-date")), "limit": "20"}
            page = _get_json(client, events_path(params))
            for _ in range(3):
                if not page["next_cursor"]:
                    break
                path = events_path({**params, "cursor": page["next_cursor"]})
                cursor_paths.append(path)
                page = _get_json(client, path)
        if not cursor_paths:
            cursor_paths.append("/events?limit=5")

    def one(kind: str) -> str:
        if kind == "window":
            return events_path({**window(), "sort": rng.choice(("date", "date", "-date"))})
        if kind == "actor":
            top = actor_pool[: len(top_actor_ids)]
            spelled = rng.choice(top if top and rng.random() < 0.6 else actor_pool or [["none"]])
            return events_path({"actor": rng.choice(spelled)})
        if kind == "place":
            names = top_places if top_places and rng.random() < 0.6 else place_pool
            return events_path({"place": rng.choice(names or ["none"])})
        if kind == "type":
            return events_path({"type": rng.choice(types), **window()})
        if kind == "q":
            return events_path({"q": rng.choice(Q_TERMS)})
        if kind == "cursor":
            return rng.choice(cursor_paths)
        if kind == "event":
            return f"/events/{rng.choice(event_ids)}"
        if kind == "facets":
            return rng.choice(("/facets", f"/facets?from={rng.choice(years)}&to={years[-1]}"))
        if kind == "timelinejs":
            return "/timelinejs?" + urlencode({"limit": "100", **window()})
        if kind == "csv":
            return "/events.csv?" + urlencode({"limit": "100", **window()})
        raise ValueError(kind)

    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    return [(kind, one(kind)) for kind in kinds]


# --- engines ---------------------------------------------------------------------------------

_LUA = """
local paths = {%(paths)s}
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
  last = os.time()
  stall = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

-- wrk 4.1 does not count requests still unanswered at the end: measure the longest
-- time (whole seconds) a thread went without any response instead.
function response(status, headers, body)
  local now = os.time()
  if now - last > stall then stall = now - last end
  last = now
end

function done(summary, latency, requests)
  local now, longest = os.time(), 0
  for _, thread in ipairs(threads) do
    local gap = math.max(thread:get("stall"), now - thread:get("last"))
    if gap > longest then longest = gap end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"stall_s": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), longest))
end
"""


def run_wrk(
    base_url: str,
    paths: Sequence[str],
    *,
    connections: int,
    duration: float,
    threads: int = 1,
    timeout: float = 10.0,
) -> Result:
    """Run wrk with a Lua script that rotates through `paths`."""
    for path in paths:
        if not path.isascii() or '"' in path or "\\" in path:
            raise ValueError(f"path not safe for the Lua script: {path!r}")
    script = _LUA % {"paths": ",\n".join(f'"{p}"' for p in paths)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
        script_path = fh.name
    try:
        command = [
            "wrk",
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, round(timeout))}s",
            "-s",
            script_path,
            base_url,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
    finally:
        os.unlink(script_path)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    data = json.loads(line.removeprefix("WRK_RESULT "))
    seconds = data["duration_us"] / 1e6
    detail = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return Result(
        engine="wrk",
        connections=connections,
        duration_s=round(seconds, 2),
        requests=data["requests"],
        requests_per_s=round(data["requests"] / seconds, 1),
        p50_ms=round(data["p50_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        errors=sum(detail.values()),
        longest_stall_s=data["stall_s"],
        error_detail=detail,
    )


async def _python_load(
    base_url: str,
    paths: Sequence[tuple[str, str]],
    connections: int,
    duration: float,
    timeout: float,
) -> Result:
    latencies: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    started = time.perf_counter()
    deadline = started + duration
    last_response, longest_stall = started, 0.0
    turn = itertools.count()

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:

        async def worker() -> None:
            nonlocal last_response, longest_stall
            while time.perf_counter() < deadline:
                kind, path = paths[next(turn) % len(paths)]  # shared: in order, once each
                sent = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                now = time.perf_counter()
                latencies.setdefault(kind, []).append(now - sent)
                longest_stall = max(longest_stall, now - last_response)
                last_response = now
                if response.status_code >= 400:
                    errors[f"status_{response.status_code}"] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    longest_stall = max(longest_stall, started + elapsed - last_response)
    every = sorted(x for values in latencies.values() for x in values)
    requests = len(every) + sum(v for k, v in errors.items() if not k.startswith("status_"))
    return Result(
        engine="python",
        connections=connections,
        duration_s=round(elapsed, 2),
        requests=requests,
        requests_per_s=round(requests / elapsed, 1),
        p50_ms=round(percentile(every, 0.50) * 1000, 2),
        p99_ms=round(percentile(every, 0.99) * 1000, 2),
        errors=sum(errors.values()),
        longest_stall_s=round(longest_stall, 2),
        error_detail=dict(errors),
        per_kind_p50_ms={
            kind: round(percentile(sorted(values), 0.5) * 1000, 2)
            for kind, values in sorted(latencies.items())
        },
    )


def run_python(
    base_url: str,
    paths: Sequence[tuple[str, str]],
    *,
    connections: int,
    duration: float,
    timeout: float = 10.0,
) -> Result:
    """The fallback engine: `connections` asyncio clients over httpx keep-alive connections."""
    return asyncio.run(_python_load(base_url, paths, connections, duration, timeout))


def run_load(
    base_url: str,
    paths: Sequence[tuple[str, str]],
    *,
    engine: str = "auto",
    connections: int = 64,
    duration: float = 20.0,
    threads: int = 1,
    timeout: float = 10.0,
) -> Result:
    """One bounded load run with wrk (when installed, or asked for) or the Python engine."""
    if engine == "auto":
        engine = "wrk" if shutil.which("wrk") else "python"
    if engine == "wrk":
        return run_wrk(
            base_url,
            [p for _, p in paths],
            connections=connections,
            duration=duration,
            threads=threads,
            timeout=timeout,
        )
    return run_python(base_url, paths, connections=connections, duration=duration, timeout=timeout)


def per_kind_latency(
    base_url: str, paths: Sequence[tuple[str, str]], *, per_kind: int = 20
) -> dict[str, tuple[float, float]]:
    """Sequential p50 and p95 (ms) of each kind of request, one request at a time."""
    by_kind: dict[str, list[str]] = {}
    for kind, path in paths:
        by_kind.setdefault(kind, []).append(path)
    out: dict[str, tuple[float, float]] = {}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for kind, kind_paths in by_kind.items():
            times = []
            for path in kind_paths[:per_kind]:
                sent = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - sent)
            times.sort()
            out[kind] = (
                round(percentile(times, 0.5) * 1000, 2),
                round(percentile(times, 0.95) * 1000, 2),
            )
    return out


# --- serving ---------------------------------------------------------------------------------


@contextlib.contextmanager
def served(
    data: Path,
    *,
    workers: int = 1,
    database: Path,
    startup_timeout: float = 900.0,
    skip_load: bool = False,
) -> Iterator[str]:
    """Serve a SQLite file on 127.0.0.1; yields its base URL.

    The first start loads the dataset into `database` (slow for big datasets); later starts
    over the same file find the hash unchanged and skip the load. `skip_load` runs uvicorn
    directly (as `timeline serve` does after loading) over a file loaded before, because
    `timeline serve` re-reads the whole dataset to compare hashes, minutes at 100k events.
    The log is next to the database file.
    """
    log = database.with_suffix(f".serve-{workers}w.log")
    if skip_load:
        server = serve_ours(f"sqlite:///{database}", log, workers=workers, response_cache=True)
    else:
        server = serve_timeline(
            data, database, log, workers=workers, startup_timeout=startup_timeout
        )
    with server as running:
        yield running.base_url


# --- command ---------------------------------------------------------------------------------


def markdown_table(rows: Sequence[tuple[str, Result]]) -> str:
    lines = [
        "| run | engine | connections | duration | requests | req/s | p50 ms | p99 ms | errors "
        "| longest stall |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r.engine} | {r.connections} | {r.duration_s:.1f} s | {r.requests} "
            f"| {r.requests_per_s:.1f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
            f"| {r.longest_stall_s:g} s |"
        )
    return "\n".join(lines)


def _measure(args: argparse.Namespace, base_url: str, label: str) -> tuple[str, Result]:
    paths = build_paths(base_url, count=args.paths, seed=args.seed)
    if args.per_kind:
        for kind, (p50, p95) in per_kind_latency(base_url, paths).items():
            print(f"  {label} sequential {kind:<11} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms")
    options = {
        "engine": args.engine,
        "connections": args.connections,
        "threads": args.threads,
        "timeout": args.timeout,
    }
    if args.warmup > 0:
        run_load(base_url, paths, duration=args.warmup, **options)
    result = run_load(base_url, paths, duration=args.duration, **options)
    print(f"  {label}: {json.dumps(asdict(result))}", file=sys.stderr, flush=True)
    return label, result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-test the timeline API on loopback.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="base URL of a running server (loopback only)")
    target.add_argument("--data", type=Path, help="dataset to serve with `timeline serve`")
    parser.add_argument(
        "--workers", default="1", help="uvicorn workers, comma-separated runs (e.g. 1,2)"
    )
    parser.add_argument("--database", type=Path, help="SQLite file to serve (default: a temp file)")
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="serve --database as loaded before (uvicorn app.main:app), without re-reading --data",
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--engine", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--paths", type=int, default=2000, help="URLs in the rotation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", action="store_true", help="also time each kind alone")
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    args = parser.parse_args(argv)
    if args.skip_load and not args.database:
        parser.error("--skip-load needs --database (a file `timeline load` filled)")

    rows: list[tuple[str, Result]] = []
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("--url must be a loopback address (127.0.0.1, localhost or ::1)")
        rows.append(_measure(args, args.url.rstrip("/"), "server"))
    else:
        workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
        with tempfile.TemporaryDirectory(prefix="timeline-bench-") as tmp:
            database = args.database or Path(tmp) / "timeline.db"
            for count in workers:
                started = time.perf_counter()
                with served(
                    args.data, workers=count, database=database, skip_load=args.skip_load
                ) as base_url:
                    ready = time.perf_counter() - started
                    print(f"  {count} worker(s) ready in {ready:.1f} s", file=sys.stderr)
                    rows.append(_measure(args, base_url, f"{count} worker{'s' * (count > 1)}"))
    if args.json:
        for label, result in rows:
            print(json.dumps({"run": label, **asdict(result)}))
    else:
        print(markdown_table(rows))
    # A run passes with no errors, some requests, and no stretch without any response
    # as long as the request timeout (wrk does not count requests left unanswered).
    ok = all(r.errors == 0 and r.requests > 0 and r.longest_stall_s < args.timeout for _, r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
