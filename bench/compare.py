"""Our API, Datasette and the raw SQL floor, side by side, on the same synthetic data.

    python bench/compare.py                            # varied, 100k and 1M events
    python bench/compare.py --sizes 100000             # one size
    python bench/compare.py --sizes 1000000 --postgres # and our API on PostgreSQL
    python bench/compare.py --mode repeated            # one URL again and again: the caches
    python bench/compare.py --quick --sizes 500 --no-datasette   # smoke run

The default, varied mode asks every kind of request users make (date windows, actors,
places, types, next pages, one event, full text, facets, lists and details) with values drawn
from a seeded generator, so no URL comes twice; our API runs with one worker and its response
cache off, next to Datasette (lean URLs) on the same SQLite file and the same SQL in-process,
taking turns on each request. Then a varied mix runs with 4 clients for a fixed time on each
server. Results: WORK/varied-N.md (repeated mode: WORK/results-N.md), also printed.
Datasets are generated and loaded once, then reused (bench/datasets.py). Loopback only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/compare.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bench import datasets, loadtest, repeated, varied  # noqa: E402
from bench.floor import Raw  # noqa: E402
from bench.options import Options, parse  # noqa: E402
from bench.servers import (  # noqa: E402
    ensure_datasette,
    rss_line,
    serve_datasette,
    serve_ours,
)
from bench.timing import Http, fmt, markdown, ratio  # noqa: E402

URLS_PER_SECOND = 1500  # URLs generated per second of throughput run: none is asked twice


def _throughput_line(label: str, result: loadtest.Result | str, paths: int) -> str:
    line = f"- {label}: {repeated.describe(result)}"
    if isinstance(result, loadtest.Result) and result.requests > paths:
        line += f" (more requests than the {paths:,} distinct URLs: some were repeated)"
    return line


def run_varied(
    opts: Options, size: int, *, postgres: bool, reference: float | None = None
) -> tuple[str, float | None]:
    """One varied run on SQLite (with Datasette) or PostgreSQL; its markdown and the
    Datasette window p50 it measured (the reference for the ratios)."""
    data, db, info = datasets.prepare(opts.work, size, quick=opts.quick)
    lines: list[str] = []
    if postgres:
        import psycopg  # the project's own dependency

        server_url = datasets.postgres_server(opts.postgres_url)
        if server_url is None:
            raise SystemExit("--postgres-url must be a loopback server")
        url, load = datasets.postgres_database(server_url, size, data, datasets.loaded_hash(db))
        raw = Raw(psycopg.connect(datasets.libpq(url), autocommit=True), "pg")
        title = f"PostgreSQL, {size:,} events"
        tag = f"pg-{size}"
    else:
        url = f"sqlite:///{db}"
        raw = Raw(sqlite3.connect(f"file:{db}?mode=ro", uri=True), "sqlite")
        load = datasets.load_line(info, db)
        title = f"SQLite, {size:,} events"
        tag = f"sqlite-{size}"
    datasettes = opts.datasette and not postgres
    warmed = datasets.warm_postgres(url) if postgres else datasets.warm_sqlite(db)
    load_before = os.getloadavg()[0]
    print(f"[{size}] {title}: reading request values", file=sys.stderr, flush=True)
    pools = varied.discover(raw, opts.seed)
    requests = varied.Requests(pools, db.stem, opts.seed)
    version = ensure_datasette(opts.datasette_venv) if datasettes else ""
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(serve_ours(url, opts.work / f"serve-varied-{tag}.log"))
        targets: dict[str, Any] = {"ours": Http(ours.base_url), "raw": raw}
        ds = None
        if datasettes:
            log = opts.work / f"datasette-varied-{size}.log"
            ds = stack.enter_context(serve_datasette(opts.datasette_venv, db, log))
            targets["datasette"] = Http(ds.base_url)
        how = "in turn" if not postgres else "each in its own pass"
        print(f"[{size}] {title}: {', '.join(targets)} {how}", file=sys.stderr, flush=True)
        results = varied.run(
            requests, targets, samples=opts.requests, budget=opts.budget, interleave=not postgres
        )
        for target in targets.values():
            target.close()
        count = max(1000, int(opts.duration * URLS_PER_SECOND))
        ours_paths, ds_paths = varied.throughput_paths(requests, count)
        print(f"[{size}] throughput, {opts.connections} clients", file=sys.stderr, flush=True)
        t_ours = repeated.throughput(opts, ours.base_url, ours_paths, warmup=False)
        lines.append(_throughput_line("ours, 1 worker", t_ours, len(ours_paths)))
        if ds is not None:
            t_ds = repeated.throughput(opts, ds.base_url, ds_paths, warmup=False)
            lines.append(_throughput_line("Datasette, lean URLs", t_ds, len(ds_paths)))
        lines.append(f"- ours RSS at the end: {rss_line(ours.rss_mb())}")
        if ds is not None:
            lines.append(f"- Datasette RSS at the end: {rss_line(ds.rss_mb())} ({version})")
    lines.append(load)
    lines.append(warmed)
    lines.append(
        f"- machine: {os.cpu_count()} cores, load average (1 min) {load_before:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end"
    )
    measured = results.stat("window", "datasette").p50
    reference = measured if measured is not None else reference
    engines = list(targets)
    out = [f"### Varied requests, {title}", ""]
    if reference is not None:
        where = " (SQLite, same dataset)" if postgres else ""
        out += [
            f"Datasette's window p50{where}: **{fmt(reference)} ms** (the ratios' reference).",
            "",
        ]
    out += [varied_table(results, reference, engines), ""]
    mix = ", ".join(f"{kind} {share}%" for kind, share in varied.THROUGHPUT_MIX.items())
    out += [
        f"Throughput: a varied mix ({mix}), {opts.connections} clients, "
        f"{opts.duration:g} s, every URL new:",
        "",
        *lines,
        "",
    ]
    return "\n".join(out), measured


def varied_notes(opts: Options) -> str:
    return "\n".join(
        [
            f"Latencies in ms, up to {opts.requests} requests of each kind (fewer where the "
            f"data has fewer distinct URLs, or `(budget)` after {opts.budget:g} s of a kind); "
            f"seed {opts.seed}. No URL is asked twice of a server, except `/sources`, which "
            "has only one. Our API: one worker, `TIMELINE_RESPONSE_CACHE_MB=0`. Each run "
            "first reads its database once into the OS cache. On SQLite each request goes to "
            "every engine in turn, the first engine rotating; on PostgreSQL our API and the "
            "raw floor each run their own pass over the same requests (the floor's plain SQL "
            "would otherwise run on the same server between ours). Datasette is asked its "
            "lean URLs (`_nocount=1&_nofacet=1`); its equivalents:",
            "",
            equivalents(),
            "",
            "The raw floor runs the plain SQL of the same page on the same database in-process "
            "(related actors, places, tags and sources included), rows -> dicts -> json.dumps.",
            "",
        ]
    )


def varied_table(results: varied.Results, reference: float | None, engines: Sequence[str]) -> str:
    """Markdown: p50 / p95 per kind and engine, and ours against Datasette's window p50."""
    header = ["request", "ours p50", "ours p95"]
    if "datasette" in engines:
        header += ["Datasette p50", "Datasette p95"]
    header += ["raw p50", "raw p95", "ours / Datasette window p50"]
    if "datasette" in engines:
        header.append("ours / Datasette (same kind)")
    header.append("n")
    rows = []
    for kind, label, _ in varied.KINDS:
        if kind not in results.times and kind not in results.errors:
            continue
        ours, ds, raw = (results.stat(kind, e) for e in ("ours", "datasette", "raw"))
        row = [label, ours.cell(), fmt(ours.p95)]
        if "datasette" in engines:
            has_ds = bool(results.times.get(kind, {}).get("datasette"))
            row += [ds.cell(), fmt(ds.p95) if has_ds else "–"]
        row += [raw.cell(), fmt(raw.p95), ratio(ours.p50, reference)]
        if "datasette" in engines:
            row.append(ratio(ours.p50, ds.p50))
        n = str(ours.n)
        if raw.n and raw.n != ours.n:  # the floor's own pass stopped sooner (PostgreSQL)
            n += f" (raw {raw.n})"
        errors = sum(results.errors.get(kind, {}).values())
        if errors:
            n += f" ({errors} errors)"
        if (kind, "ours") in results.early:
            n += " (budget)"
        rows.append([*row, n])
    return markdown(header, rows)


def equivalents() -> str:
    """Markdown list: what Datasette was asked for each kind."""
    return "\n".join(f"- {label}: {ds}" for _, label, ds in varied.KINDS)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    opts.work.mkdir(parents=True, exist_ok=True)
    if opts.engine == "auto" and not shutil.which("wrk"):
        print("wrk not found: throughput uses the Python engine", file=sys.stderr)
    for size in opts.sizes:
        if opts.mode == "repeated":
            reports = [repeated.run_sqlite(opts, size)] if opts.sqlite else []
            if opts.postgres:
                pg = repeated.run_postgres(opts, size)
                if pg is not None:
                    reports.append(pg)
            text = repeated.render(reports, opts, size)
            name = f"results-{size}.md" if opts.sqlite else f"results-{size}-postgresql.md"
        else:
            parts, reference = [f"## {size:,} events", ""], opts.reference_ms
            if opts.sqlite:
                part, measured = run_varied(opts, size, postgres=False)
                parts.append(part)
                reference = measured if measured is not None else reference
            if opts.postgres:
                parts.append(run_varied(opts, size, postgres=True, reference=reference)[0])
            text = "\n".join([*parts, varied_notes(opts)])
            name = f"varied-{size}.md" if opts.sqlite else f"varied-{size}-postgresql.md"
        if opts.postgres and opts.drop_postgres:
            server = datasets.postgres_server(opts.postgres_url)
            if server:
                datasets.drop_postgres_database(server, size)
        (opts.work / name).write_text(text)
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
