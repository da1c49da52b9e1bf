"""The repeated mode: each query of the fixed cases (a) to (i) asked again and again (the same
URL after warm-up) and then with a few varied values. Repeating one URL measures the memos
and caches that answer it, not what a user meets: see bench/varied.py for that."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

from bench import datasets, loadtest
from bench.cases import Case, Context, Variant, build_cases, discover
from bench.floor import Raw
from bench.options import Options
from bench.servers import ensure_datasette, rss_line, serve_datasette, serve_ours
from bench.timing import Http, Stat, fmt, ratio, time_calls

# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Column:
    """One system's repeated and varied latencies for every query."""

    repeated: dict[str, Stat] = field(default_factory=dict)
    varied: dict[str, Stat] = field(default_factory=dict)


def measure_all(
    opts: Options, cases: Sequence[Case], make: Callable[[Variant], Callable[[], object] | None]
) -> Column:
    column = Column()
    for case in cases:
        first = make(case.variants[0])
        if first is None:
            continue
        column.repeated[case.key] = time_calls(
            [first] * opts.requests, warmup=opts.warmup, budget=opts.budget
        )
        if len(case.variants) == 1:  # one URL only (unfiltered /facets): nothing to vary
            column.varied[case.key] = column.repeated[case.key]
        else:
            calls = [make(case.variants[i % len(case.variants)]) for i in range(opts.requests)]
            column.varied[case.key] = time_calls(
                [c for c in calls if c is not None], warmup=0, budget=opts.budget
            )
        print(
            f"    {case.key:<3} repeated {column.repeated[case.key].cell():>12} ms"
            f"   varied {column.varied[case.key].cell():>12} ms",
            file=sys.stderr,
            flush=True,
        )
    return column


def datasette_call(client: Http, which: int) -> Callable[[Variant], Callable[[], object] | None]:
    """For measure_all: request a variant's default (0) or lean (1) Datasette URL."""

    def make(variant: Variant) -> Callable[[], object] | None:
        if variant.ds is None:
            return None
        return partial(client.get, variant.ds[which])

    return make


def walk_ours(client: Http, ctx: Context, n: int) -> None:
    """Follow next_cursor from the first page to page target+n-1, keeping the later cursors."""
    path = f"/events?limit={ctx.page_size}"
    cursor: str | None = None
    ctx.cursors = []
    for page in range(1, ctx.target_page + n):
        body = client.json(path if cursor is None else f"{path}&cursor={cursor}")
        cursor = body["next_cursor"]
        if cursor is None:
            break
        if page + 1 >= ctx.target_page:
            ctx.cursors.append(cursor)


def walk_datasette(client: Http, ctx: Context, n: int) -> None:
    path = (
        f"/{ctx.db_name}/events.json?_size={ctx.page_size}&_sort=date_start&_nocount=1&_nofacet=1"
    )
    token: str | None = None
    ctx.ds_next = []
    for page in range(1, ctx.target_page + n):
        body = client.json(path if token is None else f"{path}&_next={quote(token)}")
        token = body.get("next")
        if token is None:
            break
        if page + 1 >= ctx.target_page:
            ctx.ds_next.append(token)


def throughput(
    opts: Options, base_url: str, paths: Sequence[str], *, warmup: bool = True
) -> loadtest.Result | str:
    """Requests/s over `paths` in rotation with `opts.connections` clients for `opts.duration`
    (after a 1 s warm-up on the same paths, unless `warmup` is off)."""
    pairs = [("a", p) for p in paths]
    try:
        if warmup:
            loadtest.run_load(
                base_url, pairs, engine=opts.engine, connections=opts.connections, duration=1
            )
        return loadtest.run_load(
            base_url,
            pairs,
            engine=opts.engine,
            connections=opts.connections,
            duration=opts.duration,
            timeout=30,
        )
    except (RuntimeError, OSError, ValueError) as exc:
        return f"failed: {exc}"


def raw_throughput(raw: Raw, variants: Sequence[Variant], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        variants[done % len(variants)].raw(raw)
        done += 1
    return done / (time.perf_counter() - started)


def describe(result: loadtest.Result | str) -> str:
    if isinstance(result, str):
        return result
    return (
        f"{result.requests_per_s:,.0f} req/s ({result.requests:,} requests in "
        f"{result.duration_s:g} s, {result.engine}, {result.connections} connections; "
        f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors})"
    )


@dataclass
class Report:
    """Everything measured for one size on one database."""

    title: str
    ours: Column
    raw: Column
    ds_default: Column | None = None
    ds_lean: Column | None = None
    cases: list[Case] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def run_sqlite(opts: Options, size: int) -> Report:
    _data, db, info = datasets.prepare(opts.work, size, quick=opts.quick)
    n = opts.requests
    print(f"[{size}] discovering request values", file=sys.stderr, flush=True)
    ctx = discover(db, size, n)
    lines: list[str] = []
    url = f"sqlite:///{db}"

    print(f"[{size}] ours, 1 worker", file=sys.stderr, flush=True)
    with serve_ours(url, opts.work / f"serve-sqlite-{size}-1w.log", workers=1) as server:
        client = Http(server.base_url)
        walk_ours(client, ctx, n)
        cases = build_cases(ctx, n)
        ours = measure_all(opts, cases, lambda v: lambda: client.get(v.ours))
        client.close()
        window_paths = [v.ours for v in cases[0].variants]
        t1 = throughput(opts, server.base_url, window_paths)
        rss1 = server.rss_mb()
    print(f"[{size}] ours, 2 workers", file=sys.stderr, flush=True)
    with serve_ours(url, opts.work / f"serve-sqlite-{size}-2w.log", workers=2) as server:
        t2 = throughput(opts, server.base_url, window_paths)
        rss2 = server.rss_mb()
    print(f"[{size}] ours, response cache on (the default)", file=sys.stderr, flush=True)
    with serve_ours(
        url, opts.work / f"serve-sqlite-{size}-cached-1w.log", workers=1, response_cache=True
    ) as server:
        client = Http(server.base_url)
        first = window_paths[0]
        cached = time_calls(
            [lambda: client.get(first)] * opts.requests, warmup=opts.warmup, budget=opts.budget
        )
        client.close()
        c1 = throughput(opts, server.base_url, window_paths)
    with serve_ours(
        url, opts.work / f"serve-sqlite-{size}-cached-2w.log", workers=2, response_cache=True
    ) as server:
        c2 = throughput(opts, server.base_url, window_paths)
    lines.append(f"- ours (a), 1 worker: {describe(t1)}")
    lines.append(f"- ours (a), 2 workers: {describe(t2)}")
    lines.append(
        f"- with the response cache on (the default; the {len(window_paths)} URLs of the "
        f"rotation answered from memory after their first request): (a) repeated p50 "
        f"{fmt(cached.p50)} ms; 1 worker: {describe(c1)}; 2 workers: {describe(c2)}"
    )

    print(f"[{size}] raw sqlite3 in-process", file=sys.stderr, flush=True)
    raw = Raw(sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False), "sqlite")
    raw_col = measure_all(opts, cases, lambda v: lambda: v.raw(raw))
    raw_rate = raw_throughput(raw, cases[0].variants, min(opts.duration, 5))
    raw.close()

    ds_default = ds_lean = None
    ds_lines: list[str] = []
    if opts.datasette:
        version = ensure_datasette(opts.datasette_venv)
        print(f"[{size}] {version}", file=sys.stderr, flush=True)
        with serve_datasette(
            opts.datasette_venv, db, opts.work / f"datasette-{db.stem}.log"
        ) as server:
            client = Http(server.base_url)
            walk_datasette(client, ctx, n)
            cases = build_cases(ctx, n)  # now with Datasette's own _next tokens
            print(f"[{size}]  Datasette, default URLs", file=sys.stderr, flush=True)
            ds_default = measure_all(opts, cases, datasette_call(client, 0))
            print(f"[{size}]  Datasette, lean URLs", file=sys.stderr, flush=True)
            ds_lean = measure_all(opts, cases, datasette_call(client, 1))
            client.close()
            lean_paths = [v.ds[1] for v in cases[0].variants if v.ds]
            default_paths = [v.ds[0] for v in cases[0].variants if v.ds]
            td_lean = throughput(opts, server.base_url, lean_paths)
            td_default = throughput(opts, server.base_url, default_paths)
            rss_ds = server.rss_mb()
        ds_lines.append(f"- Datasette (a), `_nocount=1&_nofacet=1`: {describe(td_lean)}")
        ds_lines.append(f"- Datasette (a), default URL: {describe(td_default)}")
        ds_lines.append(f"- Datasette RSS at the end: {rss_line(rss_ds)} ({version}, immutable)")
    lines += ds_lines
    lines.append(f"- raw sqlite3 (a), in-process, one thread: {raw_rate:,.0f} queries/s")
    lines.append(f"- ours RSS at the end, 1 worker: {rss_line(rss1)}; 2 workers: {rss_line(rss2)}")
    lines.append(datasets.load_line(info, db))
    return Report(
        title=f"SQLite, {size:,} events",
        ours=ours,
        raw=raw_col,
        ds_default=ds_default,
        ds_lean=ds_lean,
        cases=cases,
        lines=lines,
    )


# --- PostgreSQL -----------------------------------------------------------------------------------


def run_postgres(opts: Options, size: int) -> Report | None:
    """Our API and raw psycopg on PostgreSQL (database `timeline_bench_N`, kept for reuse)."""
    import psycopg  # the project's own dependency

    server = datasets.postgres_server(opts.postgres_url)
    if server is None:
        return None
    data, db, _info = datasets.prepare(opts.work, size, quick=opts.quick)
    try:
        url, load = datasets.postgres_database(server, size, data, datasets.loaded_hash(db))
    except psycopg.OperationalError as exc:
        print(f"[{size}] PostgreSQL not available ({exc}); skipped", file=sys.stderr)
        return None
    ctx = discover(db, size, opts.requests)
    with serve_ours(url, opts.work / f"serve-pg-{size}-1w.log") as server_:
        client = Http(server_.base_url)
        walk_ours(client, ctx, opts.requests)
        cases = build_cases(ctx, opts.requests)
        ours = measure_all(opts, cases, lambda v: lambda: client.get(v.ours))
        client.close()
        t1 = throughput(opts, server_.base_url, [v.ours for v in cases[0].variants])
        rss1 = server_.rss_mb()
    raw = Raw(psycopg.connect(datasets.libpq(url), autocommit=True), "pg")
    raw_col = measure_all(opts, cases, lambda v: lambda: v.raw(raw))
    raw.close()
    lines = [
        f"- ours (a), 1 worker: {describe(t1)}",
        f"- ours RSS at the end, 1 worker: {rss_line(rss1)}",
        load,
    ]
    return Report(f"PostgreSQL, {size:,} events", ours, raw_col, cases=cases, lines=lines)


# --- output -------------------------------------------------------------------------------------


def _ratio(a: Stat | None, b: Stat | None) -> str:
    return ratio(a.p50 if a else None, b.p50 if b else None)


def table(report: Report, mode: str) -> str:
    def get(column: Column | None, key: str) -> Stat | None:
        if column is None:
            return None
        stats: dict[str, Stat] = getattr(column, mode)
        return stats.get(key)

    lines = [
        "| query | ours p50 | ours p95 | Datasette p50 (default / nocount) | raw floor p50 "
        "| ours/raw | ours/Datasette |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in report.cases:
        ours, raw = get(report.ours, case.key), get(report.raw, case.key)
        default, lean = get(report.ds_default, case.key), get(report.ds_lean, case.key)
        if default is None and lean is None:
            ds = "–"
        else:
            ds = f"{(default or Stat()).cell()} / {(lean or Stat()).cell()}"
        best: Stat | None = None
        for stat in (default, lean):
            if stat and stat.p50 is not None and (best is None or stat.p50 < (best.p50 or 0)):
                best = stat
        p95 = fmt(ours.p95) if ours and not ours.error else "–"
        lines.append(
            f"| {case.label} | {(ours or Stat()).cell()} | {p95} | {ds} "
            f"| {(raw or Stat()).cell()} | {_ratio(ours, raw)} | {_ratio(ours, best)} |"
        )
    return "\n".join(lines)


def render(reports: Sequence[Report], opts: Options, size: int) -> str:
    out = [f"## {size:,} events", ""]
    for report in reports:
        for mode, what in (
            (
                "repeated",
                "the same URL every time, after warm-up: in-process memos of counts and "
                "filters answer, the response cache is off",
            ),
            ("varied", "a different window, type, actor, country, term, page or id each time"),
        ):
            out += [f"### {report.title}: {mode} ({what})", "", table(report, mode), ""]
        out += [f"### {report.title}: throughput and memory", "", *report.lines, ""]
    out += [
        "Latencies in ms (p50 of up to "
        f"{opts.requests} sequential requests; our API runs with its response cache off, so "
        "every request runs its queries; `(n=…)` marks a query stopped early by the "
        f"{opts.budget:g} s budget). Datasette: table API for (a), (b), (f), (g), (h) "
        "(`_facet=type`, `_size=0` for (g)), SQL (`/db.json?sql=`, default shape / "
        "`_shape=array`) for (c), (d), (e), the row page (`.json` / `?_shape=objects`) for (i). "
        "(g) unfiltered is one URL, so its varied row repeats the repeated one. "
        "ours/Datasette uses the faster of Datasette's two URLs. The raw floor runs the same "
        "SQL as Datasette's requests in-process, plus our related-row queries (actors, places, "
        "tags, sources), rows -> dicts -> json.dumps.",
        "",
    ]
    return "\n".join(out)
