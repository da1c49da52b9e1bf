"""The raw floor: the plain SQL of each page on the same database, in-process (sqlite3 or
psycopg), rows -> dicts -> json.dumps, with no HTTP, no framework and no counting."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from bench.timing import BenchError

EVENT_COLUMNS = (
    "id, title, edtf, precision, date_start, date_end, approximate, uncertain, type, summary"
)
ORDER = "date_start, date_end, id"


def fts_match(words: Sequence[str]) -> str:
    """Events holding a word beginning with each of `words`, in the full-text index's
    own query syntax (what a Datasette user writes against `events_fts`)."""
    return " AND ".join(f'"{w}"*' for w in words)


FACET_SIZE = 50  # our /facets default


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
            phrase = fts_match(words)
            # The full-text index's row ids are the events' ranks (event_order).
            where = (
                "id IN (SELECT event_id FROM event_order WHERE rank IN"
                " (SELECT rowid FROM events_fts WHERE events_fts MATCH :phrase))"
            )
            return where, {"phrase": phrase}
        likes = " AND ".join(f"w.search_text LIKE :w{i}" for i in range(len(words)))
        where = (
            "id IN (SELECT o.event_id FROM event_order o JOIN event_words w ON w.rank = o.rank"
            f" WHERE {likes})"
        )
        return where, {f"w{i}": f"% {w}%" for i, w in enumerate(words)}

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


def _aliases(raw: Raw, table: str, owner: str, ids: Sequence[str]) -> dict[str, list[str]]:
    marks, params = _in_list("o", ids)
    out: dict[str, list[str]] = {}
    for row in raw.rows(
        f"SELECT {owner} AS owner, name FROM {table} WHERE is_alias AND {owner} IN ({marks}) "
        "ORDER BY id",
        params,
    ):
        out.setdefault(row["owner"], []).append(row["name"])
    return out


def raw_actors(raw: Raw, kind: str | None, after: tuple[str, str] | None) -> list[dict[str, Any]]:
    """A page of 50 actors by sort key (keyset), with aliases and event counts."""
    where, params = ["1 = 1"], {}
    if kind:
        where.append("kind = :kind")
        params["kind"] = kind
    if after:
        where.append("(sort_key, id) > (:sk, :id)")
        params.update(sk=after[0], id=after[1])
    rows = raw.rows(
        "SELECT id, name, kind, description, country, sort_key FROM actors "
        f"WHERE {' AND '.join(where)} ORDER BY sort_key, id LIMIT 50",
        params,
    )
    if rows:
        ids = [r["id"] for r in rows]
        aliases = _aliases(raw, "actor_names", "actor_id", ids)
        marks, p = _in_list("a", ids)
        counts = {
            r["actor_id"]: r["n"]
            for r in raw.rows(
                "SELECT actor_id, count(DISTINCT event_id) AS n FROM event_actors "
                f"WHERE actor_id IN ({marks}) GROUP BY actor_id",
                p,
            )
        }
        for r in rows:
            r.update(aliases=aliases.get(r["id"], []), event_count=counts.get(r["id"], 0))
    json.dumps(rows, default=str)
    return rows


def _place_count(raw: Raw, path: str) -> dict[str, Any]:
    return raw.rows(
        "SELECT count(DISTINCT l.event_id) AS n, min(e.date_start) AS first, "
        "max(e.date_end) AS last FROM event_places l JOIN events e ON e.id = l.event_id "
        "WHERE l.place_id IN (SELECT id FROM places WHERE path LIKE :prefix)",
        {"prefix": path + "%"},
    )[0]


def raw_places(
    raw: Raw, kind: str | None, parent: str | None, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """A page of 50 places by sort key (keyset), with aliases and events anywhere inside."""
    where, params = ["1 = 1"], {}
    if kind:
        where.append("kind = :kind")
        params["kind"] = kind
    if parent:
        where.append("parent_id = :parent")
        params["parent"] = parent
    if after:
        where.append("(sort_key, id) > (:sk, :id)")
        params.update(sk=after[0], id=after[1])
    rows = raw.rows(
        "SELECT id, name, kind, lat, lon, parent_id, path, sort_key FROM places "
        f"WHERE {' AND '.join(where)} ORDER BY sort_key, id LIMIT 50",
        params,
    )
    if rows:
        aliases = _aliases(raw, "place_names", "place_id", [r["id"] for r in rows])
        for r in rows:
            r.update(
                aliases=aliases.get(r["id"], []), event_count=_place_count(raw, r["path"])["n"]
            )
    json.dumps(rows, default=str)
    return rows


def raw_sources(raw: Raw) -> str:
    """Every source with how many events cite it."""
    counts = {
        r["source_id"]: r["n"]
        for r in raw.rows(
            "SELECT source_id, count(DISTINCT event_id) AS n FROM citations GROUP BY source_id"
        )
    }
    rows = raw.rows("SELECT * FROM sources ORDER BY published_start, id")
    for r in rows:
        r["event_count"] = counts.get(r["id"], 0)
    return json.dumps(rows, default=str)


def raw_actor(raw: Raw, actor_id: str) -> str:
    """One actor: its row, aliases, event count and first/last dates."""
    rows = raw.rows("SELECT * FROM actors WHERE id = :id", {"id": actor_id})
    if not rows:
        raise BenchError(f"no actor {actor_id}")
    actor = rows[0]
    actor["aliases"] = _aliases(raw, "actor_names", "actor_id", [actor_id]).get(actor_id, [])
    actor.update(
        raw.rows(
            "SELECT count(DISTINCT l.event_id) AS event_count, min(e.date_start) AS first, "
            "max(e.date_end) AS last FROM event_actors l JOIN events e ON e.id = l.event_id "
            "WHERE l.actor_id = :id",
            {"id": actor_id},
        )[0]
    )
    return json.dumps(actor, default=str)


def raw_place(raw: Raw, place_id: str) -> str:
    """One place: its row, aliases, parents, children, events inside and first/last dates."""
    rows = raw.rows("SELECT * FROM places WHERE id = :id", {"id": place_id})
    if not rows:
        raise BenchError(f"no place {place_id}")
    place = rows[0]
    place["aliases"] = _aliases(raw, "place_names", "place_id", [place_id]).get(place_id, [])
    parents = place["path"].strip("/").split("/")[:-1]
    if parents:
        marks, params = _in_list("p", parents)
        place["parents"] = raw.rows(
            f"SELECT id, name, kind FROM places WHERE id IN ({marks}) ORDER BY depth", params
        )
    place["children"] = raw.rows(
        "SELECT id, name, kind FROM places WHERE parent_id = :id ORDER BY sort_key, id",
        {"id": place_id},
    )
    place.update(_place_count(raw, place["path"]))
    return json.dumps(place, default=str)


def raw_source(raw: Raw, source_id: str) -> str:
    """One source: its row, events citing it and first/last dates."""
    rows = raw.rows("SELECT * FROM sources WHERE id = :id", {"id": source_id})
    if not rows:
        raise BenchError(f"no source {source_id}")
    source = rows[0]
    source.update(
        raw.rows(
            "SELECT count(DISTINCT c.event_id) AS event_count, min(e.date_start) AS first, "
            "max(e.date_end) AS last FROM citations c JOIN events e ON e.id = c.event_id "
            "WHERE c.source_id = :id",
            {"id": source_id},
        )[0]
    )
    return json.dumps(source, default=str)
