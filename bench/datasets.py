"""Synthetic datasets for the benchmarks, generated and loaded once, then reused.

WORK/synth-N holds bench/synth.py's output; WORK/timeline-N.db the SQLite file it was loaded
into, with WORK/timeline-N.bench.json recording which files (names, sizes, mtimes) and which
`dataset_hash` it holds. A reused file is migrated (`timeline migrate`) before each run, since
the schema may have moved on. A PostgreSQL copy lives in a database `timeline_bench_N` on a
loopback server and is reused while its `dataset_hash` matches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.servers import ROOT


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def data_signature(root: Path) -> str:
    """A digest of the dataset's file names, sizes and mtimes (cheap; no reading)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def migrate(url: str) -> None:
    """`timeline migrate` on `url` (upgrade head; nothing to do when already there)."""
    env = {**os.environ, "TIMELINE_DATABASE_URL": url}
    command = [sys.executable, "-m", "app.cli", "migrate"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)


def prepare(work: Path, size: int, *, quick: bool = False) -> tuple[Path, Path, dict[str, Any]]:
    """The dataset directory and the loaded SQLite file for `size`, made or reused."""
    data = work / f"synth-{size}"
    db = work / f"timeline-{size}.db"
    info: dict[str, Any] = {}
    if not (data / "events").is_dir() or not (data / "actors.yaml").exists():
        log(f"[{size}] generating {data}")
        started = time.perf_counter()
        command = [sys.executable, str(ROOT / "bench" / "synth.py"), str(size), "--out", str(data)]
        if quick:
            command += ["--countries", "4", "--regions", "3", "--cities", "3"]
        subprocess.run(command, check=True, cwd=ROOT)
        info["synth_s"] = round(time.perf_counter() - started, 1)
    marker = db.with_suffix(".bench.json")
    signature = data_signature(data)
    previous = json.loads(marker.read_text()) if marker.exists() else {}
    if db.exists() and previous.get("signature") == signature:
        # Migrated first: a migration may empty the loaded dataset (0005 does), and then
        # the file must be loaded again.
        migrate(f"sqlite:///{db}")
        if loaded_hash(db) == previous.get("dataset_hash"):
            log(f"[{size}] reusing {db} (loaded before, migrated)")
            add_peer_indexes(db)
            checkpoint(db)
            return data, db, {**previous, "reused": True}
    log(f"[{size}] timeline load --data {data} -> {db}")
    started = time.perf_counter()
    load = run_load(f"sqlite:///{db}", data)
    info.update(load, signature=signature, dataset_hash=loaded_hash(db))
    info["load_s"] = round(time.perf_counter() - started, 1)
    add_peer_indexes(db)
    checkpoint(db)
    marker.write_text(json.dumps(info, indent=1))
    return data, db, {**info, "reused": False}


# The indexes a Datasette user (and the raw floor's plain SQL) needs on the tables they
# query. Our API reads its own ready-made tables and none of these; it does not create
# them, so the benchmark adds them to the shared file for the peers.
PEER_INDEXES = {
    "bench_events_dates": "events (date_start, date_end, id)",
    "bench_events_ends": "events (date_end, date_start, id)",
    "bench_events_type": "events (type, date_start, date_end, id)",
    "bench_event_actors_actor": "event_actors (actor_id, role, event_id)",
    "bench_event_actors_event": "event_actors (event_id, position, actor_id, role)",
    "bench_event_places_place": "event_places (place_id, event_id)",
    "bench_event_places_event": "event_places (event_id, position, place_id)",
    "bench_event_tags_tag": "event_tags (tag, event_id)",
    "bench_citations_source": "citations (source_id, event_id)",
}


def add_peer_indexes(db: Path) -> None:
    """Create `PEER_INDEXES` in the SQLite file (kept until the next load replaces it)."""
    con = sqlite3.connect(db)
    try:
        for name, columns in PEER_INDEXES.items():
            con.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
        con.execute("ANALYZE")
        con.commit()
    finally:
        con.close()


def checkpoint(db: Path) -> None:
    """Fold the WAL into the file: Datasette opens it immutable, so it must be complete."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def run_load(url: str, data: Path) -> dict[str, Any]:
    """`timeline load` in a child process: its output line and peak RSS (getrusage)."""
    env = {**os.environ, "TIMELINE_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "load", "--data", str(data)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"timeline load failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "load_output": result.stdout.strip(),
        "load_peak_rss_mb": round(peak / 1024) if peak > before else None,
    }


def loaded_hash(db: Path) -> str | None:
    """The `dataset_hash` a SQLite file holds, or None."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT dataset_hash FROM dataset_meta").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def load_line(info: dict[str, Any], db: Path) -> str:
    """A report line on the database file and how it came to be."""
    size_mb = db.stat().st_size / 1e6
    if info.get("reused") or str(info.get("load_output", "")).startswith("unchanged"):
        how = "loaded by an earlier run"
    else:
        peak = info.get("load_peak_rss_mb")
        how = f"`timeline load` {info.get('load_s')} s" + (
            f", peak RSS {peak:,} MB" if peak else ""
        )
    return f"- database file {size_mb:,.0f} MB ({how})"


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgres_server(url: str | None) -> str | None:
    """The server URL to use (`url`, else TIMELINE_TEST_POSTGRES_URL's, else the local
    default), or None when it is not on loopback."""
    url = url or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
    if not url:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    return url


def libpq(url: str) -> str:
    """An SQLAlchemy URL as psycopg wants it."""
    return urlsplit(url)._replace(scheme="postgresql").geturl()


def postgres_database(server: str, size: int, data: Path, want_hash: str | None) -> tuple[str, str]:
    """A database `timeline_bench_N` holding `data`: reused when its hash is `want_hash`,
    else (re)created and loaded. Returns its SQLAlchemy URL and a line for the report."""
    import psycopg  # the project's own dependency

    parts = urlsplit(server)
    name = f"timeline_bench_{size}"
    url = parts._replace(path=f"/{name}").geturl()
    with psycopg.connect(
        libpq(parts._replace(path="/postgres").geturl()), autocommit=True, connect_timeout=5
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        held = None
        if exists:
            # Migrated first: a migration may empty the loaded dataset (0005 does).
            with contextlib.suppress(subprocess.CalledProcessError):
                migrate(url)
            with (
                contextlib.suppress(psycopg.Error),
                psycopg.connect(libpq(url), connect_timeout=5) as con,
            ):
                row = con.execute("SELECT dataset_hash FROM dataset_meta").fetchone()
                held = row[0] if row else None
        if exists and held is not None and held == want_hash:
            log(f"[{size}] PostgreSQL: reusing database {name} (migrated)")
            return url, f"- PostgreSQL database `{name}` loaded by an earlier run"
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    log(f"[{size}] PostgreSQL: timeline load into {name}")
    started = time.perf_counter()
    load = run_load(url, data)
    peak = load.get("load_peak_rss_mb")
    line = f"- `timeline load` into PostgreSQL database `{name}`: " + (
        f"{time.perf_counter() - started:.1f} s" + (f", peak RSS {peak:,} MB" if peak else "")
    )
    return url, line


def drop_postgres_database(server: str, size: int) -> None:
    """Remove `timeline_bench_N` (only that database)."""
    import psycopg

    admin = libpq(urlsplit(server)._replace(path="/postgres").geturl())
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as con:
        con.execute(f'DROP DATABASE IF EXISTS "timeline_bench_{size}" WITH (FORCE)')


# --- warm caches ----------------------------------------------------------------------------------
# A server that has run a while has its database in the operating system's cache; one
# started after another engine's run may not, and its first requests would time the disk.
# Each run reads its database through once before timing, on either backend.


def warm_sqlite(db: Path) -> str:
    """Read the SQLite file (and its WAL) once; a report line."""
    started = time.perf_counter()
    total = 0
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            with path.open("rb") as f:
                while chunk := f.read(1 << 24):
                    total += len(chunk)
    seconds = time.perf_counter() - started
    return (
        f"- database read once into the OS cache before timing "
        f"({total / 1e6:,.0f} MB, {seconds:.0f} s)"
    )


def warm_postgres(url: str) -> str:
    """Read every table and index of the database once (`pg_prewarm`, mode `read`: into
    the OS cache, as with SQLite, not PostgreSQL's own buffers); a report line."""
    import psycopg

    started = time.perf_counter()
    try:
        with psycopg.connect(libpq(url), autocommit=True, connect_timeout=5) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            # The tables and indexes, and the TOAST tables holding their large values
            # (a facet total's 90 kB) with those tables' indexes.
            row = con.execute(
                "WITH toast AS (SELECT reltoastrelid AS oid FROM pg_class"
                " WHERE relnamespace = 'public'::regnamespace AND reltoastrelid <> 0)"
                " SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c"
                " WHERE (c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 'm'))"
                " OR c.oid IN (SELECT oid FROM toast)"
                " OR c.oid IN (SELECT indexrelid FROM pg_index"
                " WHERE indrelid IN (SELECT oid FROM toast))"
            ).fetchone()
    except psycopg.Error as exc:
        return f"- database not read before timing (pg_prewarm: {str(exc).strip()[:80]})"
    pages = int(row[0] or 0) if row else 0
    seconds = time.perf_counter() - started
    return (
        f"- database read once into the OS cache before timing (pg_prewarm, "
        f"{pages * 8192 / 1e6:,.0f} MB, {seconds:.0f} s)"
    )
