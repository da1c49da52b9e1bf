"""The varied benchmark: what users meet. Every URL is new within a run, drawn from a seeded
random generator; our API (response cache off), Datasette (lean URLs) and the raw SQL floor
take turns on each request, so all three see the same requests under the same conditions."""

from __future__ import annotations

import math
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from app.text import search_words
from bench import floor, synth
from bench.floor import Raw
from bench.timing import BenchError, Http, Stat

# (key, row label, Datasette's equivalent). The window row is the reference for ratios.
KINDS: tuple[tuple[str, str, str], ...] = (
    ("window", "date window, 1 month–10 years", "table: `date_end__gte`, `date_start__lte`"),
    ("actor", "actor, by id or alias (Zipf)", "table: `_where=id in (… event_actors …)`"),
    ("place", "place (country, region or city)", "table: `_where=id in (… path like …)`"),
    ("type", "type from a date", "table: `type=`, `date_end__gte=`"),
    ("cursor", "next page of a window", "table: its own `_next=`"),
    ("event", "/events/{id}", "row: `/db/events/{id}.json`"),
    ("q", "two words within a window", "table: window + `_where=rowid in (… MATCH …)`"),
    ("facets", "/facets, window (1 in 3 with an actor)", "table: `_facet=type&_size=0`"),
    ("actors", "/actors?limit=50, page after page", "table: `actors`, `_next=`"),
    ("places", "/places?limit=50 (kind, parent, pages)", "table: `places`, `_next=`"),
    ("sources", "/sources (one URL: repeated)", "table: `sources`"),
    ("actor_detail", "/actors/{id}", "row: `/db/actors/{id}.json`"),
    ("place_detail", "/places/{id}", "row: `/db/places/{id}.json`"),
    ("source_detail", "/sources/{id}", "row: `/db/sources/{id}.json`"),
)
LEAN = "&_nocount=1&_nofacet=1"
# Throughput mix (share of requests); every kind here has a Datasette equivalent.
THROUGHPUT_MIX = {
    "window": 25,
    "actor": 15,
    "place": 10,
    "type": 10,
    "event": 15,
    "q": 10,
    "facets": 5,
    "actor_detail": 5,
    "place_detail": 5,
}
ENGINES = ("ours", "datasette", "raw")


@dataclass
class Pools:
    """Values to draw requests from, read from the loaded database."""

    first: date
    last: date
    max_span: int
    types: list[str]
    actors: list[tuple[str, list[str]]]  # (id, every spelling), most linked first
    actor_kinds: list[str]
    places: dict[str, list[tuple[str, str, str]]]  # kind -> (id, name, path)
    sources: list[str]
    event_ids: list[str]
    words: list[str]  # words of summaries, as often as they occur there


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def discover(raw: Raw, seed: int = 1) -> Pools:
    """Read the pools from the database (the same SQL on SQLite and PostgreSQL)."""
    one = raw.rows("SELECT min(date_start) AS a, max(date_end) AS b FROM events")[0]
    span = raw.scalar("SELECT max(max_span_days) FROM dataset_meta") or 3650
    types = [r["type"] for r in raw.rows("SELECT DISTINCT type FROM events ORDER BY type")]
    linked = raw.rows(
        "SELECT a.id, count(l.event_id) AS n FROM actors a LEFT JOIN event_actors l "
        "ON l.actor_id = a.id GROUP BY a.id ORDER BY n DESC, a.id"
    )
    spellings: dict[str, list[str]] = {}
    for r in raw.rows("SELECT actor_id, name FROM actor_names ORDER BY id"):
        spellings.setdefault(r["actor_id"], []).append(r["name"])
    kinds = [r["kind"] for r in raw.rows("SELECT DISTINCT kind FROM actors ORDER BY kind")]
    places: dict[str, list[tuple[str, str, str]]] = {}
    for r in raw.rows("SELECT id, name, kind, path FROM places ORDER BY id"):
        places.setdefault(r["kind"], []).append((r["id"], r["name"], r["path"]))
    sources = [r["id"] for r in raw.rows("SELECT id FROM sources ORDER BY id")]
    ids = [r["id"] for r in raw.rows("SELECT id FROM events ORDER BY id")]
    rng = random.Random(seed)
    sample = rng.sample(ids, min(300, len(ids)))
    marks, params = floor._in_list("e", sample)
    words = [
        w
        for r in raw.rows(f"SELECT summary FROM events WHERE id IN ({marks})", params)
        for w in re.findall(r"[a-z]{5,}", r["summary"].lower())
    ]
    return Pools(
        first=_day(one["a"]),
        last=_day(one["b"]),
        max_span=int(span) + 1,
        types=types,
        actors=[(r["id"], spellings.get(r["id"], [r["id"]])) for r in linked],
        actor_kinds=kinds,
        places=places,
        sources=sources,
        event_ids=ids,
        words=words or ["protest"],
    )


Call = Callable[[Any], float | None]  # runs one request on an engine, returns its ms


@dataclass
class Ask:
    """One request, as each engine asks it: a path to GET, or a call for chained pages."""

    ours: str | Call
    ds: str | Call | None
    raw: Callable[[Raw], object] | None
    chained: bool = False  # each engine's call times its own request (after an untimed one)


def timed(call: Callable[[], object]) -> float:
    sent = time.perf_counter()
    call()
    return (time.perf_counter() - sent) * 1000


@dataclass
class Chains:
    """Per-engine positions in list endpoints followed page by page (`next_cursor`)."""

    state: dict[tuple[str, str], Any] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)


class Requests:
    """Draws requests of each kind from a seeded generator; no URL of ours comes twice."""

    def __init__(self, pools: Pools, db_name: str, seed: int) -> None:
        self.p = pools
        self.rng = random.Random(seed)
        self.table = f"/{db_name}"
        self.seen: set[str] = set()
        self.actor_weights = synth.zipf_cum_weights(len(pools.actors), 1.07)
        self.chains = {"actors": Chains(), "places": Chains()}
        self.sources_asked = 0
        self.details: dict[str, list[str]] = {
            "source_detail": list(pools.sources),
        }

    # --- values ---

    def window(self, shortest: int = 30) -> tuple[date, date]:
        """A window of `shortest` days (default a month) to 10 years, at a random start."""
        days = (self.p.last - self.p.first).days
        shortest = min(shortest, 3652)
        length = int(math.exp(self.rng.uniform(math.log(shortest), math.log(3652))))
        start = self.p.first + timedelta(days=self.rng.randint(0, max(0, days - 30)))
        return start, min(self.p.last, start + timedelta(days=length))

    def window_sql(self, start: date, end: date) -> tuple[str, dict[str, Any], str]:
        lo = start - timedelta(days=self.p.max_span)
        where = "date_end >= :start AND date_start >= :lo AND date_start <= :end"
        ds = f"date_end__gte={start}&date_start__gte={lo}&date_start__lte={end}"
        return where, {"start": start, "lo": lo, "end": end}, ds

    def actor(self) -> tuple[str, str]:
        """(actor id, the value asked: the id or one of its spellings)."""
        actor_id, names = self.rng.choices(self.p.actors, cum_weights=self.actor_weights)[0]
        return actor_id, actor_id if self.rng.random() < 0.5 else self.rng.choice(names)

    def _table(self, table: str, query: str) -> str:
        return f"{self.table}/{table}.json?{query}"

    # --- kinds ---

    def make(self, kind: str) -> Ask | None:
        """A new request of `kind`, or None when the kind has no new URL left."""
        for _ in range(200):
            ask: Ask | None = getattr(self, f"_{kind}")()
            if ask is None:
                return None
            key = ask.ours if isinstance(ask.ours, str) else None
            if key is None or key not in self.seen or kind == "sources":
                if key is not None:
                    self.seen.add(key)
                return ask
        return None

    def _window(self) -> Ask:
        start, end = self.window()
        where, params, ds = self.window_sql(start, end)
        return Ask(
            f"/events?from={start}&to={end}",
            self._table("events", f"{ds}&_sort=date_start&_size=50{LEAN}"),
            lambda raw: floor.raw_page(raw, where, params),
        )

    def _actor(self) -> Ask:
        actor_id, value = self.actor()
        where = "id IN (SELECT event_id FROM event_actors WHERE actor_id = :a)"
        sql = f"id in (select event_id from event_actors where actor_id = '{actor_id}')"
        return Ask(
            "/events?" + urlencode({"actor": value}),
            self._table("events", urlencode({"_where": sql}) + f"&_sort=date_start&_size=50{LEAN}"),
            lambda raw: floor.raw_page(raw, where, {"a": actor_id}),
        )

    def _place(self) -> Ask:
        kind = self.rng.choice(sorted(self.p.places))
        place_id, name, path = self.rng.choice(self.p.places[kind])
        value = place_id if self.rng.random() < 0.5 else name
        inner = "select id from places where path like"
        where = f"id IN (SELECT event_id FROM event_places WHERE place_id IN ({inner} :prefix))"
        sql = f"id in (select event_id from event_places where place_id in ({inner} '{path}%'))"
        return Ask(
            "/events?" + urlencode({"place": value}),
            self._table("events", urlencode({"_where": sql}) + f"&_sort=date_start&_size=50{LEAN}"),
            lambda raw: floor.raw_page(raw, where, {"prefix": path + "%"}),
        )

    def _type(self) -> Ask:
        type_ = self.rng.choice(self.p.types)
        start, _ = self.window()
        where = "type = :type AND date_end >= :start"
        return Ask(
            f"/events?type={type_}&from={start}",
            self._table(
                "events", f"type={type_}&date_end__gte={start}&_sort=date_start&_size=50{LEAN}"
            ),
            lambda raw: floor.raw_page(raw, where, {"type": type_, "start": start}),
        )

    def _cursor(self) -> Ask:
        """Page 1 of a new window (not timed), then the page its next cursor points to."""
        days = (self.p.last - self.p.first).days
        start, end = self.window(150 * days // max(1, len(self.p.event_ids)))  # 150 events
        where, params, ds = self.window_sql(start, end)
        first = f"/events?from={start}&to={end}"
        ds_first = self._table("events", f"{ds}&_sort=date_start&_size=50{LEAN}")

        def ours(client: Http) -> float | None:
            cursor = client.json(first).get("next_cursor")
            return timed(lambda: client.get(f"{first}&cursor={cursor}")) if cursor else None

        def datasette(client: Http) -> float | None:
            token = client.json(ds_first).get("next")
            return timed(lambda: client.get(f"{ds_first}&_next={quote(token)}")) if token else None

        def raw_next(raw: Raw) -> float | None:
            items = floor.raw_items(raw, where, params, 50)
            if len(items) <= 50:
                return None
            last = items[49]
            after = f"{where} AND (date_start, date_end, id) > (:s, :e, :i)"
            more = {**params, "s": last["date_start"], "e": last["date_end"], "i": last["id"]}
            return timed(lambda: floor.raw_page(raw, after, more))

        ask = Ask(ours, datasette, raw_next, chained=True)
        self.seen.add(first)
        return ask

    def _event(self) -> Ask:
        event_id = self.rng.choice(self.p.event_ids)
        return Ask(
            f"/events/{quote(event_id)}",
            f"{self.table}/events/{quote(event_id)}.json",
            lambda raw: floor.raw_event(raw, event_id),
        )

    def _q(self) -> Ask:
        words = [self.rng.choice(self.p.words) for _ in range(2)]
        keyed = search_words(" ".join(words))
        start, end = self.window()
        where, params, ds = self.window_sql(start, end)
        phrase = floor.fts_match(keyed)
        # The full-text index's row ids are the events' ranks (event_order).
        match = (
            "id in (select event_id from event_order where rank in"
            f" (select rowid from events_fts where events_fts match '{phrase}'))"
        )

        def raw_q(raw: Raw) -> str:
            text, extra = raw.text_match(keyed)
            return floor.raw_page(raw, f"{where} AND {text}", {**params, **extra})

        return Ask(
            "/events?" + urlencode({"q": " ".join(words), "from": start, "to": end}),
            self._table(
                "events",
                f"{ds}&" + urlencode({"_where": match}) + f"&_sort=date_start&_size=50{LEAN}",
            ),
            raw_q,
        )

    def _facets(self) -> Ask:
        start, end = self.window()
        where, params, ds = self.window_sql(start, end)
        query = {"from": str(start), "to": str(end)}
        ds_query = f"{ds}&_facet=type&_size=0&_nocount=1"
        if self.rng.random() < 1 / 3:
            actor_id, value = self.actor()
            query["actor"] = value
            where += " AND id IN (SELECT event_id FROM event_actors WHERE actor_id = :a)"
            params = {**params, "a": actor_id}
            sql = f"id in (select event_id from event_actors where actor_id = '{actor_id}')"
            ds_query += "&" + urlencode({"_where": sql})
        return Ask(
            "/facets?" + urlencode(query),
            self._table("events", ds_query),
            lambda raw: floor.raw_facets(raw, where, params),
        )

    def _chain(self, kind: str, name: str, ours_path: str, ds_path: str, raw_page: Any) -> Ask:
        """The next page of list `name` (e.g. `kind=person`), each engine on its own cursor."""
        chains = self.chains[kind]

        def ours(client: Http) -> float | None:
            state = chains.state.get(("ours", name), "")
            if state is None:
                return None
            path = f"{ours_path}&cursor={state}" if state else ours_path
            body: dict[str, Any] = {}
            ms = timed(lambda: body.update(client.json(path)))
            chains.state[("ours", name)] = body.get("next_cursor")
            if body.get("next_cursor") is None:
                chains.done.add(name)
            return ms

        def datasette(client: Http) -> float | None:
            state = chains.state.get(("ds", name), "")
            if state is None:
                return None
            path = f"{ds_path}&_next={quote(state)}" if state else ds_path
            body: dict[str, Any] = {}
            ms = timed(lambda: body.update(client.json(path)))
            chains.state[("ds", name)] = body.get("next")
            return ms

        def raw_next(raw: Raw) -> float | None:
            state = chains.state.get(("raw", name), ())
            if state is None:
                return None
            rows: list[dict[str, Any]] = []
            ms = timed(lambda: rows.extend(raw_page(raw, state or None)))
            last = (rows[-1]["sort_key"], rows[-1]["id"]) if len(rows) == 50 else None
            chains.state[("raw", name)] = last
            return ms

        return Ask(ours, datasette, raw_next, chained=True)

    def _actors(self) -> Ask | None:
        names = ["", *self.p.actor_kinds]
        open_ = [n for n in names if n not in self.chains["actors"].done]
        if not open_:
            return None
        kind = self.rng.choice(open_)
        query = f"&kind={kind}" if kind else ""
        return self._chain(
            "actors",
            kind,
            f"/actors?limit=50{query}",
            self._table("actors", f"_size=50&_sort=sort_key{LEAN}{query}"),
            lambda raw, after: floor.raw_actors(raw, kind or None, after),
        )

    def _places(self) -> Ask | None:
        parents = [p for kind in ("country", "region") for p in self.p.places.get(kind, [])]
        if self.rng.random() < 0.3 and parents:
            parent = self.rng.choice(parents)[0]
            return Ask(
                f"/places?limit=50&parent={parent}",
                self._table("places", f"parent_id={parent}&_size=50&_sort=sort_key{LEAN}"),
                lambda raw: floor.raw_places(raw, None, parent, None),
            )
        names = ["", *sorted(self.p.places)]
        open_ = [n for n in names if n not in self.chains["places"].done]
        if not open_:
            return None
        kind = self.rng.choice(open_)
        query = f"&kind={kind}" if kind else ""
        return self._chain(
            "places",
            kind,
            f"/places?limit=50{query}",
            self._table("places", f"_size=50&_sort=sort_key{LEAN}{query}"),
            lambda raw, after: floor.raw_places(raw, kind or None, None, after),
        )

    def _sources(self) -> Ask | None:
        self.sources_asked += 1
        if self.sources_asked > 5:  # one URL only: a few samples are enough
            return None
        return Ask("/sources", self._table("sources", LEAN.lstrip("&")), floor.raw_sources)

    def _actor_detail(self) -> Ask:
        actor_id = self.rng.choice(self.p.actors)[0]
        return Ask(
            f"/actors/{quote(actor_id)}",
            f"{self.table}/actors/{quote(actor_id)}.json",
            lambda raw: floor.raw_actor(raw, actor_id),
        )

    def _place_detail(self) -> Ask:
        place_id = self.rng.choice([p for kind in self.p.places.values() for p in kind])[0]
        return Ask(
            f"/places/{quote(place_id)}",
            f"{self.table}/places/{quote(place_id)}.json",
            lambda raw: floor.raw_place(raw, place_id),
        )

    def _source_detail(self) -> Ask | None:
        left = self.details["source_detail"]
        if not left:
            return None
        source_id = left.pop(self.rng.randrange(len(left)))
        return Ask(
            f"/sources/{quote(source_id)}",
            f"{self.table}/sources/{quote(source_id)}.json",
            lambda raw: floor.raw_source(raw, source_id),
        )


# --- running ---------------------------------------------------------------------------------


@dataclass
class Results:
    """Latencies (ms) per kind and engine, and the last error of each."""

    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    last_error: dict[str, str] = field(default_factory=dict)
    early: set[tuple[str, str]] = field(default_factory=set)  # (kind, engine)

    def stat(self, kind: str, engine: str) -> Stat:
        values = self.times.get(kind, {}).get(engine, [])
        if not values and self.errors.get(kind, {}).get(engine):
            return Stat(error=self.last_error.get(f"{kind}/{engine}", "failed")[:60])
        return Stat.of(values)


def _run_one(ask: Ask, engine: str, target: Any) -> float | None:
    how = {"ours": ask.ours, "datasette": ask.ds, "raw": ask.raw}[engine]
    if how is None:
        return None
    if isinstance(how, str):
        return timed(lambda: target.get(how))
    if ask.chained:
        result = how(target)
        return result if isinstance(result, float) else None
    return timed(lambda: how(target))


def run(
    requests: Requests,
    targets: dict[str, Any],
    *,
    samples: int,
    budget: float,
    kinds: Sequence[str] | None = None,
    interleave: bool = True,
) -> Results:
    """Up to `samples` requests of every kind, kinds interleaved.

    Each request goes to every engine in `targets` (an Http client, or a Raw connection for
    "raw"). Interleaved, the engine that goes first rotates, so none always meets the
    others' warm pages. Not interleaved, each engine runs its own pass over the same
    requests, one after the other: on PostgreSQL the raw floor's plain SQL (up to seconds
    a query) would otherwise run between our requests on the same server, evicting its
    shared buffers, and time that server under a load no user of ours puts on it. A kind
    stops after `budget` seconds of requests in a pass (with at least 3 samples).
    """
    kinds = list(kinds or [k for k, _, _ in KINDS])
    engines = [e for e in ENGINES if e in targets]
    results = Results()
    asked: dict[str, list[Ask | None]] = {kind: [] for kind in kinds}  # the same in every pass
    for n, group in enumerate([engines] if interleave else [[engine] for engine in engines]):
        # A later pass asks only what the first one asked, so that every engine's figures
        # are of the same requests (fewer, if its own budget runs out first).
        _pass(requests if n == 0 else None, asked, targets, group, samples, budget, results)
    return results


def _pass(
    requests: Requests | None,
    asked: dict[str, list[Ask | None]],
    targets: dict[str, Any],
    engines: list[str],
    samples: int,
    budget: float,
    results: Results,
) -> None:
    spent = dict.fromkeys(asked, 0.0)
    active = list(asked)
    started = time.perf_counter()
    for i in range(samples):
        for k_index, kind in enumerate(list(active)):
            if len(asked[kind]) <= i:
                asked[kind].append(requests.make(kind) if requests is not None else None)
            ask = asked[kind][i]
            if ask is None:
                active.remove(kind)
                continue
            shift = (i + k_index) % len(engines)
            sent = time.perf_counter()
            for engine in engines[shift:] + engines[:shift]:
                try:
                    ms = _run_one(ask, engine, targets[engine])
                except (BenchError, OSError, ValueError) as exc:
                    results.errors.setdefault(kind, {}).setdefault(engine, 0)
                    results.errors[kind][engine] += 1
                    results.last_error[f"{kind}/{engine}"] = str(exc)
                    continue
                if ms is not None:
                    results.times.setdefault(kind, {}).setdefault(engine, []).append(ms)
            spent[kind] += time.perf_counter() - sent
            if spent[kind] > budget and i >= 2:
                active.remove(kind)
                results.early.update((kind, engine) for engine in engines)
        if i % 10 == 9 or not active:
            print(
                f"    {'/'.join(engines)}: {i + 1} rounds, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        if not active:
            break


def throughput_paths(requests: Requests, count: int) -> tuple[list[str], list[str]]:
    """`count` new requests in THROUGHPUT_MIX: our paths and Datasette's for the same ones."""
    kinds = list(THROUGHPUT_MIX)
    ours: list[str] = []
    ds: list[str] = []
    for kind in requests.rng.choices(kinds, weights=list(THROUGHPUT_MIX.values()), k=count):
        ask = requests.make(kind)
        if ask is not None and isinstance(ask.ours, str) and isinstance(ask.ds, str):
            ours.append(ask.ours)
            ds.append(ask.ds)
    return ours, ds
