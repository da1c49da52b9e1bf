"""One command for issue 6's comparative benchmark: our API, Datasette and raw SQL, side by side.

    python bench/compare.py                        # 10k and 1M events (synth, load, measure)
    python bench/compare.py --sizes 10000          # one size
    python bench/compare.py --quick --sizes 500 --no-datasette --no-postgres   # smoke run

For each size it generates a dataset with bench/synth.py (kept in WORK/synth-N and reused),
loads it with `timeline load` into WORK/timeline-N.db (reused while the dataset's files are
unchanged), and then, on that one SQLite file, times the same query mix

    (a) a date window      (b) type + window      (c) actor by alias      (d) place subtree
    (e) full text, common and rare term           (f) the 1,000th page by cursor
    (g) /facets, unfiltered and for one year      (h) /timelinejs and /events.csv, 500 events
    (i) /events/{id}

through our API (uvicorn, loopback), through Datasette serving the same file (its table API
for single-table filters, SQL for joins, full text and facets), and as raw SQL in-process
(sqlite3, rows -> dicts -> json.dumps: the floor). Each query is timed sequentially twice:
"repeated" (one URL, so in-process memos answer) and "varied" (a different window, actor,
term, page... each time). Throughput of (a) is measured with wrk (or the Python engine of
bench/loadtest.py) for 1 and 2 workers. With a PostgreSQL server at hand the mix also runs
on PostgreSQL (our API and raw psycopg) at sizes up to --postgres-max-size.

Results: WORK/results-N.md (markdown), also printed. Loopback only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import hashlib
import http.client
import io
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/compare.py` from anywhere
    sys.path.insert(0, str(ROOT))

from app.text import name_key, search_words  # noqa: E402
from bench import loadtest, synth  # noqa: E402

EVENT_COLUMNS = (
    "id, title, edtf, precision, date_start, date_end, approximate, uncertain, type, summary"
)
ORDER = "date_start, date_end, id"
COMMON_TERMS = (
    "protest",
    "police",
    "court",
    "opposition",
    "security",
    "authorities",
    "officials",
    "government",
    "members",
    "forces",
    "president",
    "party",
    "report",
    "people",
    "city",
    "state",
    "group",
    "law",
)
RARE_TERM = synth.RARE_WORD
FACET_SIZE = 50  # our /facets default
QUERIES: tuple[tuple[str, str], ...] = (
    ("a", "(a) window, 10 years, page of 50"),
    ("b", "(b) type + window"),
    ("c", "(c) actor by alias"),
    ("d", "(d) place subtree (a country)"),
    ("e1", "(e) q, common term"),
    ("e2", "(e) q, rare term"),
    ("f", "(f) page 1,000 by cursor"),
    ("g1", "(g) /facets, unfiltered"),
    ("g2", "(g) /facets, one year"),
    ("h1", "(h) /timelinejs?limit=500"),
    ("h2", "(h) /events.csv?limit=500"),
    ("i", "(i) /events/{id}"),
)


# --- settings --------------------------------------------------------------------------------


@dataclass
class Options:
    """What one run does, from the command line."""

    sizes: list[int]
    work: Path
    requests: int
    warmup: int
    budget: float
    duration: float
    connections: int
    engine: str
    datasette: bool
    datasette_venv: Path
    postgres: bool
    sqlite: bool
    postgres_url: str | None
    postgres_max_size: int
    quick: bool


# --- timing ----------------------------------------------------------------------------------


@dataclass
class Stat:
    """Sequential latencies of one query on one system, in milliseconds."""

    p50: float | None = None
    p95: float | None = None
    n: int = 0
    error: str | None = None
    early: bool = False  # stopped by the time budget before every request ran

    def cell(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.p50 is None:
            return "–"
        mark = f" (n={self.n})" if self.early else ""
        return f"{_fmt(self.p50)}{mark}"


def _fmt(ms: float | None) -> str:
    if ms is None:
        return "–"
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


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
    return Stat(
        p50=statistics.median(times),
        p95=_percentile(times, 0.95),
        n=len(times),
        early=len(times) < len(calls),
    )


class BenchError(Exception):
    """A request that did not answer 200 (the cell shows it instead of a time)."""


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


# --- raw SQL in-process: the floor ------------------------------------------------------------


class Raw:
    """A DB-API connection (sqlite3 or psycopg) with named `:param` SQL and dict rows."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", sql)

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.dialect == "sqlite":
            return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
        return params

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._sql(sql), self._params(params or {}))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._sql(sql), self._params(params or {}))
            row = cursor.fetchone()
            return row[0] if row else None
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()

    # SQL fragments that differ between the two databases

    def text_match(self, words: Sequence[str]) -> tuple[str, dict[str, Any]]:
        if self.dialect == "sqlite":
            phrase = " AND ".join(f'" {w}"' for w in words)
            return "rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH :phrase)", {
                "phrase": phrase
            }
        clauses = [f"search_text LIKE :w{i}" for i in range(len(words))]
        return " AND ".join(clauses), {f"w{i}": f"% {w}%" for i, w in enumerate(words)}

    def year(self, column: str) -> str:
        if self.dialect == "sqlite":
            return f"substr({column}, 1, 4)"
        return f"to_char({column}, 'YYYY')"


def _in_list(prefix: str, values: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{n}" for n in names), names


def raw_related(raw: Raw, items: list[dict[str, Any]]) -> None:
    """Actors, places, tags and sources of a page, one query per kind (as the API does)."""
    if not items:
        return
    marks, params = _in_list("e", [item["id"] for item in items])
    by_id = {item["id"]: item for item in items}
    for item in items:
        item.update(actors=[], places=[], tags=[], sources=[])
    for row in raw.rows(
        "SELECT l.event_id, a.id, a.name, a.kind, l.role FROM event_actors l "
        f"JOIN actors a ON a.id = l.actor_id WHERE l.event_id IN ({marks}) "
        "ORDER BY l.event_id, l.position",
        params,
    ):
        by_id[row.pop("event_id")]["actors"].append(row)
    for row in raw.rows(
        "SELECT l.event_id, p.id, p.name, p.kind, p.lat, p.lon FROM event_places l "
        f"JOIN places p ON p.id = l.place_id WHERE l.event_id IN ({marks}) "
        "ORDER BY l.event_id, l.position",
        params,
    ):
        by_id[row.pop("event_id")]["places"].append(row)
    for row in raw.rows(
        f"SELECT event_id, tag FROM event_tags WHERE event_id IN ({marks}) ORDER BY event_id, tag",
        params,
    ):
        by_id[row["event_id"]]["tags"].append(row["tag"])
    for row in raw.rows(
        f"SELECT event_id, source_id FROM citations WHERE event_id IN ({marks}) "
        "ORDER BY event_id, position",
        params,
    ):
        sources = by_id[row["event_id"]]["sources"]
        if row["source_id"] not in sources:
            sources.append(row["source_id"])


def raw_items(raw: Raw, where: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {ORDER} LIMIT {limit + 1}"
    items = raw.rows(sql, params)
    raw_related(raw, items[:limit])
    return items


def raw_page(raw: Raw, where: str, params: dict[str, Any], limit: int = 50) -> str:
    items = raw_items(raw, where, params, limit)
    more = len(items) > limit
    return json.dumps({"items": items[:limit], "more": more}, default=str)


def raw_timelinejs(raw: Raw, where: str, params: dict[str, Any]) -> str:
    items = raw_items(raw, where, params, 500)[:500]
    slides = [
        {
            "unique_id": e["id"],
            "start_date": {"year": str(e["date_start"])[:4], "display_date": e["edtf"]},
            "text": {"headline": e["title"], "text": e["summary"]},
            "group": e["type"],
        }
        for e in items
    ]
    return json.dumps({"title": {"text": {"headline": "timeline"}}, "events": slides}, default=str)


def raw_csv(raw: Raw, where: str, params: dict[str, Any]) -> str:
    items = raw_items(raw, where, params, 500)[:500]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "date", "start", "end", "type", "title", "actors", "places", "tags"])
    for e in items:
        writer.writerow(
            [
                e["id"],
                e["edtf"],
                e["date_start"],
                e["date_end"],
                e["type"],
                e["title"],
                "; ".join(f"{a['name']} ({a['role']})" for a in e["actors"]),
                "; ".join(p["name"] for p in e["places"]),
                "; ".join(e["tags"]),
            ]
        )
    return out.getvalue()


def raw_facets(raw: Raw, where: str, params: dict[str, Any]) -> str:
    """The five facets our /facets returns (type, year, top actors, places, sources)."""
    total = raw.scalar(f"SELECT count(*) FROM events WHERE {where}", params)
    types = raw.rows(
        f"SELECT type, count(*) AS n FROM events WHERE {where} GROUP BY type ORDER BY n DESC, type",
        params,
    )
    year = raw.year("date_start")
    years = raw.rows(
        f"SELECT {year} AS year, count(*) AS n FROM events WHERE {where} GROUP BY {year} "
        "ORDER BY year",
        params,
    )
    linked = {}
    for name, link, key, table, label in (
        ("actor", "event_actors", "actor_id", "actors", "name"),
        ("place", "event_places", "place_id", "places", "name"),
        ("source", "citations", "source_id", "sources", "title"),
    ):
        linked[name] = raw.rows(
            f"SELECT l.{key} AS value, t.{label} AS label, count(DISTINCT l.event_id) AS n "
            f"FROM {link} l JOIN {table} t ON t.id = l.{key} "
            f"WHERE l.event_id IN (SELECT id FROM events WHERE {where}) "
            f"GROUP BY l.{key}, t.{label} ORDER BY n DESC, l.{key} LIMIT {FACET_SIZE}",
            params,
        )
    return json.dumps({"total": total, "type": types, "year": years, **linked}, default=str)


def raw_event(raw: Raw, event_id: str) -> str:
    """One event in full: what /events/{id} returns, in seven queries."""
    p = {"id": event_id}
    rows = raw.rows(f"SELECT {EVENT_COLUMNS}, notes FROM events WHERE id = :id", p)
    if not rows:
        raise BenchError(f"no event {event_id}")
    event = rows[0]
    raw_related(raw, [event])
    places = raw.rows(
        "SELECT p.id, p.name, p.kind, p.lat, p.lon, p.path FROM event_places l "
        "JOIN places p ON p.id = l.place_id WHERE l.event_id = :id ORDER BY l.position",
        p,
    )
    ancestors = sorted({a for pl in places for a in pl["path"].strip("/").split("/")[:-1]})
    if ancestors:
        marks, params = _in_list("p", ancestors)
        parents = {
            r["id"]: r
            for r in raw.rows(
                f"SELECT id, name, kind, lat, lon FROM places WHERE id IN ({marks})", params
            )
        }
        for pl in places:
            pl["parents"] = [parents[a] for a in pl.pop("path").strip("/").split("/")[:-1]]
    event["places"] = places
    event["citations"] = raw.rows(
        "SELECT s.id, s.title, s.author, s.publisher, s.published, c.quote, c.claimed_date "
        "FROM citations c JOIN sources s ON s.id = c.source_id WHERE c.event_id = :id "
        "ORDER BY c.position",
        p,
    )
    event["figures"] = raw.rows(
        "SELECT metric, value, low, high, approximate, unit, source_id, quote FROM figures "
        "WHERE event_id = :id ORDER BY position",
        p,
    )
    event["related"] = raw.rows(
        "SELECT id, title, edtf, type FROM events WHERE id IN "
        "(SELECT related_id FROM event_relations WHERE event_id = :id "
        "UNION SELECT event_id FROM event_relations WHERE related_id = :id) "
        f"ORDER BY {ORDER}",
        p,
    )
    return json.dumps(event, default=str)


# --- the mix -----------------------------------------------------------------------------------


@dataclass
class Variant:
    """One request of a query, as each system asks it."""

    ours: str
    raw: Callable[[Raw], str]
    ds: tuple[str, str] | None = None  # Datasette (default URL, lean URL)


@dataclass
class Case:
    """One row of the table: a repeated variant (the first) and varied ones (all, in turn)."""

    key: str
    label: str
    variants: list[Variant]
    ds_kind: str = "table"  # how Datasette is asked: table API, SQL or row page


@dataclass
class Context:
    """Values taken from the loaded data to build requests from."""

    db: Path
    size: int
    db_name: str
    max_span: int
    years: list[int]
    types: list[str]
    actors: list[tuple[str, str]]  # (alias, key)
    countries: list[tuple[str, str]]  # (name, path)
    common_terms: list[str]
    rare_terms: list[str]
    event_ids: list[str]
    page_size: int
    target_page: int
    cursors: list[str] = field(default_factory=list)  # ours, pages target.. target+n-1
    ds_next: list[str] = field(default_factory=list)  # Datasette's, the same pages


def discover(db: Path, size: int, n: int) -> Context:
    """Pick windows, types, popular actors, countries, terms and ids from the loaded file."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        one = con.execute("SELECT min(date_start), max(date_start) FROM events").fetchone()
        first, last = int(one[0][:4]), int(one[1][:4])
        span = con.execute(
            "SELECT max(julianday(date_end) - julianday(date_start)) FROM events"
        ).fetchone()[0]
        types = [
            t
            for (t,) in con.execute(
                "SELECT type FROM events GROUP BY type ORDER BY count(*) DESC, type"
            )
        ]
        top = con.execute(
            "SELECT actor_id FROM event_actors GROUP BY actor_id ORDER BY count(*) DESC, actor_id "
            "LIMIT ?",
            (max(n, 10),),
        ).fetchall()
        actors: list[tuple[str, str]] = []
        for (actor_id,) in top:
            names = con.execute(
                "SELECT name FROM actor_names WHERE actor_id = ? AND is_alias AND name != ? "
                "ORDER BY id",
                (actor_id, actor_id),
            ).fetchall()
            if not names:
                names = con.execute(
                    "SELECT name FROM actor_names WHERE actor_id = ? ORDER BY id", (actor_id,)
                ).fetchall()
            alias = names[-1][0]
            actors.append((alias, name_key(alias)))
        countries = [
            (str(name), str(path))
            for name, path in con.execute(
                "SELECT name, path FROM places WHERE parent_id IS NULL ORDER BY sort_key"
            )
        ]
        rare = [RARE_TERM, *_rare_words(con, size, n)]
        high = con.execute("SELECT max(rowid) FROM events").fetchone()[0]
        ids = []
        for i in range(n + 1):
            row = con.execute(
                "SELECT id FROM events WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                (1 + (high * (2 * i + 1)) // (2 * (n + 1)),),
            ).fetchone()
            ids.append(row[0])
    finally:
        con.close()
    page_size = max(1, min(50, size // 2000))
    pages = size // page_size
    return Context(
        db=db,
        size=size,
        db_name=db.stem,
        max_span=int(span or 0) + 1,
        years=list(range(first, last + 1)),
        types=types,
        actors=actors,
        countries=countries,
        common_terms=[t for t in COMMON_TERMS if search_words(t)],
        rare_terms=list(dict.fromkeys(rare)),
        event_ids=ids,
        page_size=page_size,
        target_page=max(2, min(1000, pages - n - 2)),
    )


def _rare_words(con: sqlite3.Connection, size: int, n: int) -> list[str]:
    """Made-up words about as rare as zhuldyzsky (0.03–0.3% of events), from summaries."""
    common = set(synth._COMMON)
    words: list[str] = []
    seen: set[str] = set()
    started = time.perf_counter()
    low, high = max(1, size * 3 // 10000), max(2, size * 3 // 1000)
    for (summary,) in con.execute(
        "SELECT summary FROM events WHERE rowid % 97 = 0 LIMIT 400"
    ).fetchall():
        for word in re.findall(r"[a-z]{6,}", summary.lower()):
            if word in common or word in seen:
                continue
            seen.add(word)
            keyed = search_words(word)
            if len(keyed) != 1:
                continue
            count = con.execute(
                "SELECT count(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ? "
                "LIMIT ?)",
                (f'" {keyed[0]}"', high + 1),
            ).fetchone()[0]
            if low <= count <= high:
                words.append(word)
            if len(words) >= n or time.perf_counter() - started > 10:
                return words
    return words


def _window(start: str, years: int) -> tuple[str, str, date, date]:
    """`from`/`to` values for a window of `years` years starting at `start` (YYYY or YYYY-MM)."""
    year = int(start[:4])
    to = str(year + years - 1)
    begin = date(year, int(start[5:7]), 1) if len(start) > 4 else date(year, 1, 1)
    return start, to, begin, date(year + years - 1, 12, 31)


def windows(ctx: Context, n: int, years: int = 10) -> list[tuple[str, str, date, date]]:
    """`n` different windows of `years` years (the first is 2000–2009 when possible)."""
    starts = [y for y in ctx.years if y + years - 1 <= ctx.years[-1]] or ctx.years[:1]
    middle = 2000 if 2000 in starts else starts[len(starts) // 2]
    order = [middle] + [y for y in starts if y != middle]
    out = []
    for i in range(n):
        year = order[i % len(order)]
        round_ = i // len(order)
        start = str(year) if round_ == 0 else f"{year}-{(round_ % 12) + 1:02d}"
        out.append(_window(start, years))
    return out


def build_cases(ctx: Context, n: int) -> list[Case]:
    """The mix: for each query, `n` variants (the first is the repeated one)."""
    db = ctx.db_name
    table = f"/{db}/events"
    lean = "&_nocount=1&_nofacet=1"

    def ds_sql(where: str, params: dict[str, Any], limit: int = 50) -> tuple[str, str]:
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {ORDER} LIMIT {limit}"
        values = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
        url = f"/{db}.json?" + urlencode({"sql": sql, **values})
        return url, url + "&_shape=array"

    def window_sql(begin: date, end: date) -> tuple[str, dict[str, Any]]:
        lo = begin - timedelta(days=ctx.max_span)
        where = "date_end >= :start AND date_start >= :lo AND date_start <= :end"
        return where, {"start": begin, "lo": lo, "end": end}

    def window_ds(begin: date, end: date) -> str:
        lo = begin - timedelta(days=ctx.max_span)
        return (
            f"date_end__gte={begin.isoformat()}&date_start__gte={lo.isoformat()}"
            f"&date_start__lte={end.isoformat()}"
        )

    def page(where: str, params: dict[str, Any], limit: int = 50) -> Callable[[Raw], str]:
        return partial(raw_page, where=where, params=params, limit=limit)

    cases: list[Case] = []
    wins = windows(ctx, n)

    variants = []
    for start, to, begin, end in wins:
        where, params = window_sql(begin, end)
        url = f"{table}.json?_size=50&_sort=date_start&{window_ds(begin, end)}"
        variants.append(
            Variant(f"/events?from={start}&to={to}", page(where, params), (url, url + lean))
        )
    cases.append(Case("a", "", variants))

    variants = []
    common_types = ctx.types[: max(1, len(ctx.types) // 2)]
    first_type = "arrest" if "arrest" in ctx.types else ctx.types[0]
    types = [first_type] + [t for t in common_types if t != first_type]
    for i, (start, to, begin, end) in enumerate(wins):
        type_ = types[i % len(types)]
        where, params = window_sql(begin, end)
        where, params = f"type = :type AND {where}", {**params, "type": type_}
        url = f"{table}.json?_size=50&_sort=date_start&type={type_}&{window_ds(begin, end)}"
        variants.append(
            Variant(
                f"/events?type={type_}&from={start}&to={to}", page(where, params), (url, url + lean)
            )
        )
    cases.append(Case("b", "", variants))

    variants = []
    for alias, key in ctx.actors[:n]:
        where = (
            "id IN (SELECT l.event_id FROM event_actors l WHERE l.actor_id IN "
            "(SELECT actor_id FROM actor_names WHERE key = :key))"
        )
        params = {"key": key}
        variants.append(
            Variant(
                "/events?" + urlencode({"actor": alias}), page(where, params), ds_sql(where, params)
            )
        )
    cases.append(Case("c", "", variants, "sql"))

    variants = []
    for name, path in ctx.countries[:n]:
        where = (
            "id IN (SELECT l.event_id FROM event_places l WHERE l.place_id IN "
            "(SELECT id FROM places WHERE path LIKE :prefix))"
        )
        params = {"prefix": path + "%"}
        variants.append(
            Variant(
                "/events?" + urlencode({"place": name}), page(where, params), ds_sql(where, params)
            )
        )
    cases.append(Case("d", "", variants, "sql"))

    for key, terms in (("e1", ctx.common_terms), ("e2", ctx.rare_terms)):
        variants = []
        for term in terms[:n]:
            words = search_words(term)
            phrase = " AND ".join(f'" {w}"' for w in words)
            sqlite_where = "rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH :phrase)"

            def text_page(raw: Raw, words: list[str] = words) -> str:
                where, params = raw.text_match(words)
                return raw_page(raw, where, params)

            variants.append(
                Variant(
                    "/events?" + urlencode({"q": term}),
                    text_page,
                    ds_sql(sqlite_where, {"phrase": phrase}),
                )
            )
        cases.append(Case(key, "", variants, "sql"))

    variants = []
    for cursor in ctx.cursors[:n]:
        after_start, after_end, event_id = decode_cursor(cursor)
        where = "(date_start, date_end, id) > (:s, :e, :id)"
        params = {"s": after_start, "e": after_end, "id": event_id}
        variants.append(
            Variant(
                f"/events?limit={ctx.page_size}&cursor={cursor}",
                page(where, params, ctx.page_size),
            )
        )
    for variant, token in zip(variants, ctx.ds_next, strict=False):
        url = f"{table}.json?_size={ctx.page_size}&_sort=date_start&_next={quote(token)}"
        variant.ds = (url, url + lean)
    cases.append(Case("f", "", variants))

    facet_years = [y for y in ctx.years if y >= 1960] or ctx.years
    everything = Variant(
        "/facets",
        partial(raw_facets, where="1 = 1", params={}),
        (f"{table}.json?_facet=type&_size=0", f"{table}.json?_facet=type&_size=0&_nocount=1"),
    )
    cases.append(Case("g1", "", [everything], "facet"))
    variants = []
    middle = 2010 if 2010 in facet_years else facet_years[len(facet_years) // 2]
    for year in [middle, *[y for y in facet_years if y != middle][: n - 1]]:
        start, to, begin, end = _window(str(year), 1)
        where, params = window_sql(begin, end)
        url = f"{table}.json?_facet=type&_size=0&{window_ds(begin, end)}"
        variants.append(
            Variant(
                f"/facets?from={year}&to={year}",
                partial(raw_facets, where=where, params=params),
                (url, url + "&_nocount=1"),
            )
        )
    cases.append(Case("g2", "", variants, "facet"))

    for key, path, fmt, render in (
        ("h1", "/timelinejs", "json", raw_timelinejs),
        ("h2", "/events.csv", "csv", raw_csv),
    ):
        variants = []
        everything_url = f"{table}.{fmt}?_size=500&_sort=date_start"
        variants.append(
            Variant(
                f"{path}?limit=500",
                partial(render, where="1 = 1", params={}),
                (everything_url, everything_url + lean),
            )
        )
        for start, to, begin, end in wins[: n - 1]:
            where, params = window_sql(begin, end)
            url = f"{everything_url}&{window_ds(begin, end)}"
            variants.append(
                Variant(
                    f"{path}?limit=500&from={start}&to={to}",
                    partial(render, where=where, params=params),
                    (url, url + lean),
                )
            )
        cases.append(Case(key, "", variants))

    variants = []
    for event_id in ctx.event_ids[:n]:
        url = f"{table}/{quote(event_id)}.json"
        variants.append(
            Variant(
                f"/events/{quote(event_id)}",
                partial(raw_event, event_id=event_id),
                (url, url + "?_shape=objects"),
            )
        )
    cases.append(Case("i", "", variants, "row"))

    labels = dict(QUERIES)
    for case in cases:
        case.label = labels[case.key]
        if case.key == "f":
            case.label = f"(f) page {ctx.target_page:,} by cursor (limit {ctx.page_size})"
    return cases


def decode_cursor(cursor: str) -> tuple[date, date, str]:
    """The (start, end, id) position in one of our `next_cursor` tokens."""
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    _sort, start, end, event_id = payload
    return date.fromisoformat(start), date.fromisoformat(end), str(event_id)


# --- running systems ------------------------------------------------------------------------------


@dataclass
class Server:
    """A server process in its own process group."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def rss_mb(self) -> dict[int, float]:
        """Resident memory of every process in the group (ps), in MB."""
        out = subprocess.run(
            ["ps", "-o", "pid=,rss=", "-g", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        result = {}
        for line in out.splitlines():
            pid, rss = line.split()
            result[int(pid)] = int(rss) / 1024
        return result


@contextlib.contextmanager
def serve(
    command: list[str], env: dict[str, str], port: int, log: Path, health: str
) -> Iterator[Server]:
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited ({process.returncode}): see {log}")
                with contextlib.suppress(OSError, http.client.HTTPException, BenchError):
                    client = Http(base_url, timeout=5)
                    client.get(health)
                    client.close()
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{base_url}{health} did not answer; see {log}")
                time.sleep(0.2)
            yield Server(process, base_url, log)
        finally:
            loadtest._stop(process)


def serve_ours(
    opts: Options, url: str, workers: int, tag: str, *, response_cache: bool = False
) -> contextlib.AbstractContextManager[Server]:
    """Our API on `url`. Latencies are measured with the response cache off, so that each
    request runs its queries (the in-process memos of counts and filters stay on)."""
    port = loadtest.free_port()
    env = {**os.environ, "TIMELINE_DATABASE_URL": url}
    if not response_cache:
        env["TIMELINE_RESPONSE_CACHE_MB"] = "0"
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--no-server-header", "--no-proxy-headers"]
    return serve(command, env, port, opts.work / f"serve-{tag}-{workers}w.log", "/health")


def serve_datasette(opts: Options, db: Path) -> contextlib.AbstractContextManager[Server]:
    port = loadtest.free_port()
    command = [str(opts.datasette_venv / "bin" / "datasette"), "serve", "-i", str(db)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    for setting, value in DATASETTE_SETTINGS:
        command += ["--setting", setting, value]
    return serve(
        command, dict(os.environ), port, opts.work / f"datasette-{db.stem}.log", "/-/versions.json"
    )


DATASETTE_SETTINGS = (
    ("sql_time_limit_ms", "60000"),
    ("facet_time_limit_ms", "60000"),
    ("max_returned_rows", "1000"),
)


def ensure_datasette(opts: Options) -> str:
    """Datasette in its own venv (never in the project's dependencies); its version."""
    binary = opts.datasette_venv / "bin" / "datasette"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(opts.datasette_venv)], check=True)
        pip = opts.datasette_venv / "bin" / "pip"
        # The version the reference figures were measured with.
        subprocess.run([str(pip), "install", "-q", "datasette==0.65.5"], check=True)
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


# --- preparing a dataset ------------------------------------------------------------------------


def data_signature(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def prepare(opts: Options, size: int) -> tuple[Path, Path, dict[str, Any]]:
    """The dataset directory and the loaded SQLite file for `size`, made or reused."""
    data = opts.work / f"synth-{size}"
    db = opts.work / f"timeline-{size}.db"
    info: dict[str, Any] = {}
    if not (data / "events").is_dir() or not (data / "actors.yaml").exists():
        print(f"[{size}] generating {data}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        command = [sys.executable, str(ROOT / "bench" / "synth.py"), str(size), "--out", str(data)]
        if opts.quick:
            command += ["--countries", "4", "--regions", "3", "--cities", "3"]
        subprocess.run(command, check=True, cwd=ROOT)
        info["synth_s"] = round(time.perf_counter() - started, 1)
    marker = db.with_suffix(".bench.json")
    signature = data_signature(data)
    previous = json.loads(marker.read_text()) if marker.exists() else {}
    if (
        db.exists()
        and previous.get("signature") == signature
        and loaded_hash(db) == previous.get("dataset_hash")
    ):
        print(f"[{size}] reusing {db} (loaded before; migrating)", file=sys.stderr, flush=True)
        env = {**os.environ, "TIMELINE_DATABASE_URL": f"sqlite:///{db}"}
        command = [sys.executable, "-m", "app.cli", "migrate"]
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        return data, db, {**previous, "reused": True}
    print(f"[{size}] timeline load --data {data} -> {db}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    load = run_load(f"sqlite:///{db}", data)
    info.update(load, signature=signature, dataset_hash=loaded_hash(db))
    info["load_s"] = round(time.perf_counter() - started, 1)
    con = sqlite3.connect(db)  # fold the WAL into the file: Datasette opens it immutable
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    marker.write_text(json.dumps(info, indent=1))
    return data, db, {**info, "reused": False}


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
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT dataset_hash FROM dataset_meta").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


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


def throughput(opts: Options, base_url: str, paths: Sequence[str]) -> loadtest.Result | str:
    pairs = [("a", p) for p in paths]
    try:
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


def rss_line(rss: dict[int, float]) -> str:
    if not rss:
        return "–"
    parts = ", ".join(f"{mb:,.0f}" for _, mb in sorted(rss.items()))
    total = sum(rss.values())
    return f"{total:,.0f} MB" if len(rss) == 1 else f"{total:,.0f} MB in all ({parts} MB)"


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
    _data, db, info = prepare(opts, size)
    n = opts.requests
    print(f"[{size}] discovering request values", file=sys.stderr, flush=True)
    ctx = discover(db, size, n)
    lines: list[str] = []
    url = f"sqlite:///{db}"

    print(f"[{size}] ours, 1 worker", file=sys.stderr, flush=True)
    with serve_ours(opts, url, 1, f"sqlite-{size}") as server:
        client = Http(server.base_url)
        walk_ours(client, ctx, n)
        cases = build_cases(ctx, n)
        ours = measure_all(opts, cases, lambda v: lambda: client.get(v.ours))
        client.close()
        window_paths = [v.ours for v in cases[0].variants]
        t1 = throughput(opts, server.base_url, window_paths)
        rss1 = server.rss_mb()
    print(f"[{size}] ours, 2 workers", file=sys.stderr, flush=True)
    with serve_ours(opts, url, 2, f"sqlite-{size}") as server:
        t2 = throughput(opts, server.base_url, window_paths)
        rss2 = server.rss_mb()
    print(f"[{size}] ours, response cache on (the default)", file=sys.stderr, flush=True)
    with serve_ours(opts, url, 1, f"sqlite-{size}-cached", response_cache=True) as server:
        client = Http(server.base_url)
        first = window_paths[0]
        cached = time_calls(
            [lambda: client.get(first)] * opts.requests, warmup=opts.warmup, budget=opts.budget
        )
        client.close()
        c1 = throughput(opts, server.base_url, window_paths)
    with serve_ours(opts, url, 2, f"sqlite-{size}-cached", response_cache=True) as server:
        c2 = throughput(opts, server.base_url, window_paths)
    lines.append(f"- ours (a), 1 worker: {describe(t1)}")
    lines.append(f"- ours (a), 2 workers: {describe(t2)}")
    lines.append(
        f"- with the response cache on (the default; the {len(window_paths)} URLs of the "
        f"rotation answered from memory after their first request): (a) repeated p50 "
        f"{_fmt(cached.p50)} ms; 1 worker: {describe(c1)}; 2 workers: {describe(c2)}"
    )

    print(f"[{size}] raw sqlite3 in-process", file=sys.stderr, flush=True)
    raw = Raw(sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False), "sqlite")
    raw_col = measure_all(opts, cases, lambda v: lambda: v.raw(raw))
    raw_rate = raw_throughput(raw, cases[0].variants, min(opts.duration, 5))
    raw.close()

    ds_default = ds_lean = None
    ds_lines: list[str] = []
    if opts.datasette:
        version = ensure_datasette(opts)
        print(f"[{size}] {version}", file=sys.stderr, flush=True)
        with serve_datasette(opts, db) as server:
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
    lines.append(_load_line(info, db))
    return Report(
        title=f"SQLite, {size:,} events",
        ours=ours,
        raw=raw_col,
        ds_default=ds_default,
        ds_lean=ds_lean,
        cases=cases,
        lines=lines,
    )


def _load_line(info: dict[str, Any], db: Path) -> str:
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


def postgres_base(opts: Options) -> str | None:
    url = opts.postgres_url or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
    if not url:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    return url


def run_postgres(opts: Options, size: int) -> Report | None:
    import psycopg  # the project's own dependency

    base = postgres_base(opts)
    if base is None:
        return None
    parts = urlsplit(base)
    name = f"timeline_bench_{size}_{os.getpid()}"
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    try:
        admin_con = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        print(f"[{size}] PostgreSQL not available ({exc}); skipped", file=sys.stderr)
        return None
    url = parts._replace(path=f"/{name}").geturl()
    data = opts.work / f"synth-{size}"
    db = opts.work / f"timeline-{size}.db"
    try:
        admin_con.execute(f'CREATE DATABASE "{name}"')
        print(f"[{size}] PostgreSQL: timeline load into {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        load = run_load(url, data)
        load_s = time.perf_counter() - started
        ctx = discover(db, size, opts.requests)
        with serve_ours(opts, url, 1, f"pg-{size}") as server:
            client = Http(server.base_url)
            walk_ours(client, ctx, opts.requests)
            cases = build_cases(ctx, opts.requests)
            ours = measure_all(opts, cases, lambda v: lambda: client.get(v.ours))
            client.close()
            t1 = throughput(opts, server.base_url, [v.ours for v in cases[0].variants])
            rss1 = server.rss_mb()
        raw = Raw(
            psycopg.connect(parts._replace(scheme="postgresql", path=f"/{name}").geturl()), "pg"
        )
        raw.connection.autocommit = True
        raw_col = measure_all(opts, cases, lambda v: lambda: v.raw(raw))
        raw.close()
    finally:
        with contextlib.suppress(psycopg.Error):
            admin_con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_con.close()
    peak = load.get("load_peak_rss_mb")
    lines = [
        f"- ours (a), 1 worker: {describe(t1)}",
        f"- ours RSS at the end, 1 worker: {rss_line(rss1)}",
        f"- `timeline load` into PostgreSQL: {load_s:.1f} s"
        + (f", peak RSS {peak:,} MB" if peak else ""),
        f"- database `{name}` created for the run and dropped after it",
    ]
    return Report(f"PostgreSQL, {size:,} events", ours, raw_col, cases=cases, lines=lines)


# --- output -------------------------------------------------------------------------------------


def _ratio(a: Stat | None, b: Stat | None) -> str:
    if a is None or b is None or a.p50 is None or b.p50 is None or b.p50 == 0:
        return "–"
    return f"{a.p50 / b.p50:.2f}"


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
        p95 = _fmt(ours.p95) if ours and not ours.error else "–"
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


# --- command --------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Our API vs Datasette vs raw SQLite on synthetic datasets (issue 6)."
    )
    parser.add_argument("--sizes", help="comma-separated event counts (default 10000,1000000)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (500 events, 5 req)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--requests", type=int, help="sequential requests per query (50)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per query (5)")
    parser.add_argument("--budget", type=float, help="seconds per query and system (15)")
    parser.add_argument("--duration", type=float, help="seconds per throughput run (10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--engine", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--datasette-venv", type=Path)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--no-sqlite",
        action="store_true",
        help="PostgreSQL only (needs the SQLite file of an earlier run for request values); "
        "writes results-<size>-postgresql.md",
    )
    parser.add_argument("--postgres-url", help="a server's URL (loopback); a new db is made")
    parser.add_argument("--postgres-max-size", type=int, default=10000)
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    sizes = args.sizes or ("500" if quick else "10000,1000000")
    work: Path = args.work.resolve()
    return Options(
        sizes=[int(s.replace("_", "")) for s in sizes.split(",") if s.strip()],
        work=work,
        requests=args.requests or (5 if quick else 50),
        warmup=args.warmup if args.warmup is not None else (1 if quick else 5),
        budget=args.budget or (5.0 if quick else 15.0),
        duration=args.duration or (2.0 if quick else 10.0),
        connections=args.connections,
        engine=args.engine,
        datasette=not args.no_datasette,
        datasette_venv=(args.datasette_venv or work / ".venv-datasette").resolve(),
        postgres=not args.no_postgres,
        sqlite=not args.no_sqlite,
        postgres_url=args.postgres_url,
        postgres_max_size=args.postgres_max_size,
        quick=quick,
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    opts.work.mkdir(parents=True, exist_ok=True)
    if opts.engine == "auto" and not shutil.which("wrk"):
        print("wrk not found: throughput uses the Python engine", file=sys.stderr)
    for size in opts.sizes:
        reports = [run_sqlite(opts, size)] if opts.sqlite else []
        if opts.postgres and size <= opts.postgres_max_size:
            pg = run_postgres(opts, size)
            if pg is not None:
                reports.append(pg)
        if not reports:
            continue
        text = render(reports, opts, size)
        name = f"results-{size}.md" if opts.sqlite else f"results-{size}-postgresql.md"
        (opts.work / name).write_text(text)
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
