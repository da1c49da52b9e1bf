"""The `timeline` command: validate, load, migrate, serve, verify, diff and describe the
dataset."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from app import __version__, models
from app.config import Settings, get_settings
from app.dataset import Dataset
from app.db import check_foreign_keys, is_sqlite, make_engine, migration_connection, vacuum
from app.errors import InvalidDataset
from app.loader import LoadResult, current_hash, replace_dataset
from app.quotes import verify_quotes
from app.reader import dataset_hash, read_dataset
from app.workers import stop_on_sigterm


def _migrations_dir() -> Path:
    # A source checkout has migrations/ beside app/; an installed package runs from the
    # project directory (as the Docker image does).
    beside = Path(__file__).resolve().parent.parent / "migrations"
    return beside if beside.is_dir() else Path.cwd() / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.attributes["configure_logger"] = False
    return config


def migrate(engine: Engine, revision: str = "head") -> str | None:
    """Move the schema to `revision`, the latest by default: up, or down to an earlier
    one (`base`: no tables). Returns the revision it is at.

    On PostgreSQL, an upgrade of a database that had a schema is followed by VACUUM
    (ANALYZE): a migration that rewrote a table leaves its rows unmarked as visible to
    all, and until autovacuum comes by, every walk of its indexes also reads the table."""
    with migration_connection(engine) as connection, connection.begin():
        config = alembic_config()
        config.attributes["connection"] = connection
        # The revisions in order, base first (the history is one line).
        script = ScriptDirectory.from_config(config)
        order = [r.revision for r in reversed(list(script.walk_revisions()))]
        current = MigrationContext.configure(connection).get_current_revision()
        at = _position(order, current, revision)
        if at < (-1 if current is None else order.index(current)):
            command.downgrade(config, "base" if at == -1 else order[at])
        elif at >= 0:
            command.upgrade(config, order[at])
        check_foreign_keys(connection)
        reached = MigrationContext.configure(connection).get_current_revision()
    upgraded = current is not None and reached in order[order.index(current) + 1 :]
    if upgraded and not is_sqlite(engine):
        vacuum(engine)
    return reached


_REVISION = re.compile(r"(.*?)(?:([+-])([0-9]+))?")


def _position(order: list[str], current: str | None, revision: str) -> int:
    """Where `revision` is in `order` (-1: base), named as Alembic names revisions: an id,
    `head`, `base`, or steps from one of those or from the current one (`-1`, `head-1`)."""
    match = _REVISION.fullmatch(revision)
    assert match is not None  # the pattern matches any text
    anchor, sign, steps = match.groups()
    names = {"head": order[-1], "heads": order[-1], "base": None, "": current}
    start = names.get(anchor, anchor)
    if start is not None and start not in order:
        raise ValueError(f"no revision {anchor!r}: they run from base to {order[-1]}")
    at = (-1 if start is None else order.index(start)) + int(steps or 0) * (
        -1 if sign == "-" else 1
    )
    if not -1 <= at < len(order):
        raise ValueError(f"{revision!r} is before base or past the last revision, {order[-1]}")
    return at


def load(engine: Engine, dataset: Dataset, *, force: bool = False) -> LoadResult:
    """Migrate, then replace the loaded dataset with `dataset` unless it is already loaded."""
    migrate(engine)
    return replace_dataset(engine, dataset, force=force)


def load_directory(engine: Engine, root: Path, *, force: bool = False) -> LoadResult:
    """Validate, migrate and load the dataset in `root`, touching nothing if it is invalid.

    A dataset whose files hash to the loaded one is not even parsed: `serve` starts at once.
    """
    if not force:
        try:
            with engine.connect() as connection:
                loaded = current_hash(connection)
                count = connection.scalar(select(func.count()).select_from(models.Event))
        except DBAPIError:
            loaded = None  # no schema yet
        if loaded is not None and loaded == dataset_hash(root):
            migrate(engine)
            with engine.connect() as connection:
                # A migration may clear the hash to have the dataset loaded again (0005, 0006).
                if current_hash(connection) == loaded:
                    return LoadResult(False, loaded, int(count or 0))
    with stop_on_sigterm(), read_dataset(root, rows=True) as rows:
        migrate(engine)
        return replace_dataset(engine, rows, force=force)


def _report_invalid(exc: InvalidDataset, command: str) -> int:
    for error in exc.errors:
        print(f"error: {error}", file=sys.stderr)
    count = len(exc.errors)
    # Only the commands that load can say nothing was loaded.
    outcome = "the dataset is not valid" if command == "validate" else "nothing was loaded"
    print(f"{count} problem{'s' if count != 1 else ''} found; {outcome}.", file=sys.stderr)
    return 1


def _data_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.data) if args.data else settings.data_dir


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    # As a load reads: in worker processes for big datasets.
    with stop_on_sigterm(), read_dataset(_data_dir(args, settings), rows=True) as rows:
        print(
            f"valid: {rows.event_count} events, {len(rows.actors)} actors, "
            f"{len(rows.places)} places, {len(rows.sources)} sources "
            f"(hash {rows.hash[:12]})"
        )
    return 0


def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings) as engine:
        result = load_directory(engine, _data_dir(args, settings), force=args.force)
    if result.changed:
        print(f"loaded {result.events} events (hash {result.dataset_hash[:12]})")
    else:
        print(f"unchanged: this dataset is already loaded (hash {result.dataset_hash[:12]})")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings) as engine:
        revision = migrate(engine, args.revision)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    print(f"schema at {revision or 'base'}{' (head)' if revision == head else ''}")
    return 0


def cmd_verify_quotes(args: argparse.Namespace, settings: Settings) -> int:
    archive_dir = Path(args.archive_dir)
    if not archive_dir.is_dir():
        print(f"error: {archive_dir}: not a directory", file=sys.stderr)
        return 1
    dataset = read_dataset(_data_dir(args, settings))
    checked, problems = verify_quotes(dataset, archive_dir)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    unchecked = [s.record.id for s in dataset.sources if s.record.archive is None]
    note = f"; not archived, not checked: {', '.join(unchecked)}" if unchecked else ""
    unreadable = sum(1 for p in problems if p.field == "archive")
    failed = len(problems) - unreadable
    if unreadable:
        archives = f"{unreadable} archive{'s' if unreadable != 1 else ''}"
        others = f"; {failed} of {checked} other quotes failed" if checked else ""
        print(
            f"{archives} could not be read, so their quotes were not checked{others}{note}",
            file=sys.stderr,
        )
        return 1
    if failed:
        print(f"{failed} of {checked} quotes failed{note}", file=sys.stderr)
        return 1
    print(f"ok: {checked} quotes found verbatim in their sources{note}")
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from app.diff import diff_datasets, diff_json, format_diff

    datasets = []
    for label, root in (("old", args.old_dir), ("new", args.new_dir)):
        try:
            datasets.append(read_dataset(Path(root)))
        except InvalidDataset as exc:
            for error in exc.errors:
                print(f"error: {root}: {error}", file=sys.stderr)
            print(f"the {label} dataset ({root}) is invalid; nothing compared", file=sys.stderr)
            return 1
    diff = diff_datasets(*datasets)
    if args.json:
        print(json.dumps(diff_json(diff, args.old_dir, args.new_dir), indent=2, ensure_ascii=False))
    else:
        print(format_diff(diff), end="")
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from app.yamlschema import schema_text

    print(schema_text(args.kind), end="")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    with _engine(settings) as engine:
        result = load_directory(engine, _data_dir(args, settings))
    state = "loaded" if result.changed else "already loaded"
    print(f"{result.events} events {state}; serving on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
    )
    return 0


EPILOG = """\
environment:
  TIMELINE_DATABASE_URL  the database (default sqlite:///timeline.db: a SQLite file named
                         timeline.db in the current directory; postgresql+psycopg://...
                         for PostgreSQL)
  TIMELINE_DATA_DIR      the dataset directory (default ./data)

Run `timeline COMMAND --help` for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, shared with the README check in the tests."""
    parser = argparse.ArgumentParser(
        prog="timeline",
        description="Validate, load and serve the event-timeline dataset.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, summary: str) -> argparse.ArgumentParser:
        # The summary is both the line in `timeline --help` and the head of `timeline NAME
        # --help`, which also names the environment the command reads.
        return commands.add_parser(
            name,
            help=summary,
            description=summary[:1].upper() + summary[1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def data_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--data", metavar="DIR", help="dataset directory (default: TIMELINE_DATA_DIR or ./data)"
        )

    sub = add("validate", "check the dataset without a database")
    data_option(sub)
    sub.set_defaults(handler=cmd_validate)

    sub = add("load", "validate, then replace the loaded dataset")
    data_option(sub)
    sub.add_argument("--force", action="store_true", help="reload even if unchanged")
    sub.set_defaults(handler=cmd_load)

    sub = add("migrate", "upgrade (or downgrade) the database schema")
    sub.add_argument(
        "--revision",
        default="head",
        help="target revision, later or earlier than the schema's (default: head; base: none)",
    )
    sub.set_defaults(handler=cmd_migrate)

    sub = add("verify-quotes", "check every quote against the archived source texts")
    data_option(sub)
    sub.add_argument(
        "--archive-dir",
        required=True,
        metavar="DIR",
        help="directory holding the sources' plain-text snapshots",
    )
    sub.set_defaults(handler=cmd_verify_quotes)

    sub = add("diff", "events (and actors, places, sources) added, removed and changed")
    sub.add_argument("old_dir", metavar="OLD_DIR", help="the dataset before")
    sub.add_argument("new_dir", metavar="NEW_DIR", help="the dataset after")
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    sub.set_defaults(handler=cmd_diff)

    sub = add("schema", "the YAML format of one kind of file, as JSON Schema")
    sub.add_argument("kind", choices=["events", "actors", "places", "sources"])
    sub.set_defaults(handler=cmd_schema)

    sub = add("serve", "migrate, load if changed, and serve the API")
    data_option(sub)
    sub.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    sub.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    sub.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    sub.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `timeline` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        code: int = args.handler(args, settings)
    except InvalidDataset as exc:
        return _report_invalid(exc, args.command)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # no tracebacks for users; the message says what failed
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
