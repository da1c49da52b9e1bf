"""The command line of bench/compare.py: what one run does."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    """What one run does, from the command line."""

    mode: str  # "varied" (every URL new) or "repeated" (the same URL, then a few others)
    sizes: list[int]
    work: Path
    requests: int  # per kind and engine
    warmup: int  # repeated mode only
    budget: float  # seconds per kind (varied: for all engines together)
    duration: float  # seconds per throughput run
    connections: int  # concurrent clients in throughput runs
    engine: str
    seed: int
    datasette: bool
    datasette_venv: Path
    postgres: bool
    sqlite: bool
    postgres_url: str | None
    drop_postgres: bool
    reference_ms: float | None  # Datasette's window p50 from an earlier run (--no-sqlite)
    quick: bool


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Our API vs Datasette vs the raw SQL floor on synthetic datasets."
    )
    parser.add_argument(
        "--mode",
        choices=("varied", "repeated"),
        default="varied",
        help="varied (default): every URL new, caches off; repeated: one URL again and again",
    )
    parser.add_argument("--sizes", help="comma-separated event counts (default 100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (500 events)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument(
        "--requests", type=int, help="requests per kind (varied 100, repeated 50, quick 5)"
    )
    parser.add_argument("--warmup", type=int, help="repeated mode: warm-up requests (5)")
    parser.add_argument("--budget", type=float, help="seconds per kind (varied 60, repeated 15)")
    parser.add_argument("--duration", type=float, help="seconds per throughput run (10)")
    parser.add_argument(
        "--connections", type=int, help="concurrent clients for throughput (varied 4, repeated 16)"
    )
    parser.add_argument("--engine", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--seed", type=int, default=1, help="varied mode: the requests' seed")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--datasette-venv", type=Path)
    parser.add_argument(
        "--postgres", action="store_true", help="also run on PostgreSQL (our API and psycopg)"
    )
    parser.add_argument(
        "--postgres-url",
        help="a loopback server's URL (default: TIMELINE_TEST_POSTGRES_URL's server, else "
        "postgres@127.0.0.1:5432); the run uses its own database timeline_bench_<size>",
    )
    parser.add_argument(
        "--drop-postgres", action="store_true", help="drop timeline_bench_<size> after the run"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="with --postgres: PostgreSQL only")
    parser.add_argument(
        "--reference-ms",
        type=float,
        help="with --no-sqlite: Datasette's window p50 of an earlier SQLite run, for the ratios",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    varied = args.mode == "varied"
    sizes = args.sizes or ("500" if quick else "100000,1000000")
    work: Path = args.work.resolve()
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    default_requests = 5 if quick else (100 if varied else 50)
    return Options(
        mode=args.mode,
        sizes=[int(s.replace("_", "")) for s in sizes.split(",") if s.strip()],
        work=work,
        requests=args.requests or default_requests,
        warmup=args.warmup if args.warmup is not None else (1 if quick else 5),
        budget=args.budget or (5.0 if quick else (60.0 if varied else 15.0)),
        duration=args.duration or (2.0 if quick else 10.0),
        connections=args.connections or (4 if varied else 16),
        engine=args.engine,
        seed=args.seed,
        datasette=not args.no_datasette,
        datasette_venv=(args.datasette_venv or work / ".venv-datasette").resolve(),
        postgres=bool(args.postgres),
        sqlite=not args.no_sqlite,
        postgres_url=args.postgres_url,
        drop_postgres=bool(args.drop_postgres),
        reference_ms=args.reference_ms,
        quick=quick,
    )
