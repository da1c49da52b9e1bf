"""The repeated mode's query cases, (a) to (i): each as our API, Datasette (default and lean
URL) and the raw floor ask it, with values picked from the loaded SQLite file."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from app.text import name_key, search_words
from bench import synth
from bench.floor import (
    EVENT_COLUMNS,
    ORDER,
    Raw,
    fts_match,
    raw_csv,
    raw_event,
    raw_facets,
    raw_page,
    raw_timelinejs,
)

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


# --- the cases -----------------------------------------------------------------------------------


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
                (fts_match(keyed), high + 1),
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
            phrase = fts_match(words)
            sqlite_where = (
                "id IN (SELECT event_id FROM event_order WHERE rank IN"
                " (SELECT rowid FROM events_fts WHERE events_fts MATCH :phrase))"
            )

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
