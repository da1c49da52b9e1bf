"""Filters -> a plan (a named strategy over ready-made keys) -> ranks in date order.

Every event list, feed and facet turns its filters into a `Plan` here, so a filter means
the same thing in `/events`, `/facets`, the feeds and the `/…/{id}/events` lists. A plan
reads only what the load wrote for it (`event_order`, `event_keys`, `key_stats`, the
full-text index): a page is a walk along one key's events in date order, testing the
others, until it has enough.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from app.dates import SPAN_CLASS_DAYS
from app.db import ReadSession
from app.errors import InvalidParameter
from app.names import known_keys, resolve_actor_ids, resolve_place_ids
from app.prepared import numbered, placeholders, run
from app.text import SIGNATURE_BYTES, search_terms, signature_mask

Match = Literal["overlap", "within"]
Sort = Literal["date", "-date"]
Strategy = Literal["nothing", "keys", "text"]
CLASSES = range(len(SPAN_CLASS_DAYS) + 1)


@dataclass(frozen=True)
class EventFilters:
    """What a client asked for; names are resolved by `plan_events`."""

    window_start: date | None = None
    window_end: date | None = None
    match: Match = "overlap"
    actors: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    q: str | None = None
    sort: Sort = "date"
    # Set by the /actors|places|sources/{id}/events routes: exact ids, ANDed with the rest.
    actor_ids: tuple[str, ...] = ()
    place_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    """The planner's limits, passed in (tests pass small ones to reach every strategy)."""

    # Counts stop here and say so (`total_exact: false`): counting millions of matches
    # would cost more than the page.
    count_limit: int = 10_000
    # With words, each match counted is a read of the full-text index or a text tested:
    # counts stop sooner.
    words_count_limit: int = 1_000
    # With other filters, words matching at most this many events (and fewer than the
    # smallest filter value's) drive the walk where the full-text index can count them
    # (SQLite): their matches, in date order; commoner words, and all words elsewhere,
    # are tested on that value's events. Words alone always drive it. 0 turns the
    # words' walk off.
    text_drive: int = 20_000
    # A word of `q` matches the words it begins (`protest`: protest, protests, protesters).
    # Up to this many are asked of the full-text index as they are, each a seek into its
    # list; a word beginning more, or of three letters or fewer, is asked as a prefix,
    # which the index answers from ready lists up to three letters and beyond that by
    # merging the list of every word it begins.
    terms_per_word: int = 64
    # For words on SQLite, the events starting before an overlap window, of the classes
    # lasting at most a month or a year, are found by the full-text index's matches in
    # that month or year, each looked up, when the words are estimated (from their event
    # counts) to be in at most this share of events; commoner words are tested on each
    # event of the class walked instead. 0 turns the lookups off.
    probe_share: float = 0.05


@dataclass(frozen=True)
class Plan:
    """How to find the matching events, in date order.

    `nothing`: a filter matches no event. `keys`: walk the events of any `driver` key in
    date order; `text`: walk the events the full-text index finds for `words`. Either way
    an event must also have a key of each group in `tests`, contain every word, and meet
    the window, whose rank bounds (`low` per span class, `high`) the load made lookups.
    """

    strategy: Strategy
    driver: tuple[str, ...] = ()
    tests: tuple[tuple[str, ...], ...] = ()
    # Each word of `q` as the keys it may begin (`app.text.search_terms`): any of them.
    words: tuple[tuple[str, ...], ...] = ()
    match: str | None = None  # the words as a full-text query (SQLite), see `_match_query`
    # The share of events estimated to hold every word (SQLite): the product of each
    # word's share, 1 for a word whose events were not all counted.
    share: float = 1.0
    low: tuple[int, ...] = (1, 1, 1)
    high: int | None = None
    ends_from: date | None = None  # overlap: the event ends on or after this day
    ends_by: date | None = None  # within: the event ends on or before this day
    ended_before: int = 0  # overlap: how many events end before the window starts
    first: int | None = None  # overlap: the first rank starting in the window
    total: int | None = None  # exact, known without counting
    sort: Sort = "date"
    dialect: str = "sqlite"
    thresholds: Thresholds = field(default_factory=Thresholds)


def _scalar(session: ReadSession, sql: str, default: int, **values: Any) -> int:
    rows = run(session, sql, **values)
    return int(rows[0][0]) if rows and rows[0][0] is not None else default


# --- planning ----------------------------------------------------------------------------


def plan_events(
    session: ReadSession, filters: EventFilters, thresholds: Thresholds | None = None
) -> Plan:
    """The plan for `filters`: names resolved (422 for one matching nothing), keys
    chosen, window turned into rank bounds."""
    thresholds = thresholds or Thresholds()
    dialect = session.dialect.name
    groups: list[tuple[str, ...]] = []
    if filters.actors:
        actor_ids = resolve_actor_ids(session, filters.actors)
        if filters.roles:
            known_keys(session, "role", "role:", filters.roles)
            groups.append(
                tuple(f"actor-role:{a}|{r.strip()}" for a in actor_ids for r in filters.roles)
            )
        else:
            groups.append(tuple(f"actor:{a}" for a in actor_ids))
    elif filters.roles:
        groups.append(known_keys(session, "role", "role:", filters.roles))
    if filters.places:
        groups.append(tuple(f"place:{p}" for p in resolve_place_ids(session, filters.places)))
    if filters.types:
        groups.append(tuple(f"type:{t}" for t in filters.types))
    if filters.tags:
        groups.append(known_keys(session, "tag", "tag:", filters.tags))
    if filters.sources:
        groups.append(known_keys(session, "source", "source:", filters.sources))
    groups += [(f"actor:{i}",) for i in filters.actor_ids]
    groups += [(f"place:{i}",) for i in filters.place_ids]
    groups += [(f"source:{i}",) for i in filters.source_ids]
    groups = [tuple(dict.fromkeys(group)) for group in groups]  # type=ban&type=ban: once
    words: tuple[tuple[str, ...], ...] = ()
    match = None
    word_events: list[int | None] = []
    if filters.q is not None:
        words = tuple(search_terms(filters.q))
        if not words:
            raise InvalidParameter("q", "contains no letters or digits to search for")
        if dialect == "sqlite":
            match, word_events = _match_query(session, words, thresholds.terms_per_word)
            if match is None:
                return Plan("nothing", sort=filters.sort, dialect=dialect, thresholds=thresholds)

    stats, bounds = _counts_and_bounds(session, {key for group in groups for key in group}, filters)
    sizes = [sum(stats.get(key, 0) for key in group) for group in groups]
    if any(size == 0 for size in sizes):
        return Plan("nothing", sort=filters.sort, dialect=dialect, thresholds=thresholds)
    share = 1.0
    for events in word_events:
        share *= 1.0 if events is None else min(1.0, events / max(stats["*"], 1))
    base = Plan(
        "keys", match=match, share=share, sort=filters.sort, dialect=dialect, thresholds=thresholds
    )
    plan = _with_window(base, filters, bounds)
    if not groups:
        groups, sizes = [("*",)], [stats["*"]]
    order = sorted(range(len(groups)), key=lambda i: sizes[i])
    driver, tests = groups[order[0]], tuple(groups[i] for i in order[1:])
    strategy: Strategy = "keys"
    if words and driver == ("*",) and thresholds.text_drive > 0:
        # Only words and dates: the window's matches walked in date order, however common
        # the words: along the full-text index (SQLite), or along each event's words,
        # tested (PostgreSQL: the first page of common words comes soonest that way, and
        # counting matches to choose would cost more than it saves).
        strategy = "text"
    elif words and match is not None:
        cap = min(thresholds.text_drive, sizes[order[0]])
        matches = _text_matches(session, plan, words, cap + 1)
        if matches == 0:
            return Plan("nothing", sort=filters.sort, dialect=dialect, thresholds=thresholds)
        if matches <= cap:
            strategy, tests = "text", tuple(groups[i] for i in order if groups[i] != ("*",))
    total = None
    if strategy == "keys" and not tests and not words:
        total = _exact_total(plan, driver, sizes[order[0]], filters)
    return replace(
        plan,
        strategy=strategy,
        driver=driver if strategy == "keys" else (),
        tests=tests,
        words=words,
        total=total,
    )


def _match_query(
    session: ReadSession, words: tuple[tuple[str, ...], ...], most: int
) -> tuple[str | None, list[int | None]]:
    """The full-text query for events holding every word (SQLite), each as the `most`
    words its keys begin or as prefixes (see `Thresholds.terms_per_word`), with how many
    events hold each word's indexed words (an estimate: an event may hold several; None
    when asked as a prefix, not all counted); None when a word begins no indexed word,
    so that nothing matches."""
    keys = [(i, key) for i, alternatives in enumerate(words) for key in alternatives]
    # Keyed words are [a-z0-9]: every word beginning with `w` sorts from `w` to `w~`.
    ranges = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {i} AS word, term, events FROM events_fts_terms"
        f" WHERE term >= :w{n} AND term < :w{n} || '~' LIMIT {most + 1})"
        for n, (i, _) in enumerate(keys)
    )
    begun: dict[int, dict[str, int]] = {i: {} for i in range(len(words))}
    for i, term, events in run(session, ranges, **numbered("w", tuple(key for _, key in keys))):
        begun[int(i)][str(term)] = int(events)
    parts = []
    counts: list[int | None] = []
    for i, alternatives in enumerate(words):
        terms = begun[i]
        if not terms:
            return None, []
        if any(len(key) <= 3 for key in alternatives) or len(terms) > most:
            parts.append("(" + " OR ".join(f'"{key}"*' for key in alternatives) + ")")
            counts.append(None)
        else:
            parts.append("(" + " OR ".join(f'"{term}"' for term in terms) + ")")
            counts.append(sum(terms.values()))
    return " AND ".join(parts), counts


def _counts_and_bounds(
    session: ReadSession, keys: set[str], filters: EventFilters
) -> tuple[dict[str, int], dict[str, int | None]]:
    """How many events have each of `keys` (0 if none), with every event's count under
    `*`; and the window's rank bounds (`_window_lookups`). One round trip for the plan."""
    wanted = tuple(sorted(keys | {"*"}))
    lookups, days = _window_lookups(filters, session.dialect.name)
    window = "".join(f" UNION ALL SELECT '{name}', ({sql})" for name, sql in lookups.items())
    rows = run(
        session,
        f"SELECT key, events FROM key_stats WHERE key IN ({placeholders('k', len(wanted))})"
        + window,
        **numbered("k", wanted),
        **days,
    )
    found = {str(key): None if n is None else int(n) for key, n in rows}
    stats = {key: found.get(key) or 0 for key in wanted}
    return stats, {name: found.get(name) for name in lookups}


# Rank lookups on event_order's (date_start, date_end, event_id) and (date_end, end_rank)
# indexes; `_counts_and_bounds` asks the ones a window needs in its statement.
_LAST_STARTING_BY = (
    "SELECT rank FROM event_order WHERE date_start <= {day}"
    " ORDER BY date_start DESC, date_end DESC, event_id DESC LIMIT 1"
)
_FIRST_STARTING_FROM = (
    "SELECT rank FROM event_order WHERE date_start >= {day}"
    " ORDER BY date_start, date_end, event_id LIMIT 1"
)
_ENDED_BEFORE = (
    "SELECT end_rank FROM event_order WHERE date_end < {day}"
    " ORDER BY date_end DESC, end_rank DESC LIMIT 1"
)
# The longest events' class reaches back from the window's start by the longest span
# the loaded dataset holds (at least the last class's limit), read in the same statement
# and never past the first day a date can hold (`:before` caps it).
_LONGEST_SPAN = (
    "{least}({greatest}(COALESCE((SELECT max_span_days FROM dataset_meta), 0),"
    f" {SPAN_CLASS_DAYS[-1]}), :before)"
)
_BACK = {
    "sqlite": "date(:start, '-' || {span} || ' days')",
    "postgresql": "CAST(:start AS DATE) - {span}",
}
_EXTREMES = {"sqlite": ("min", "max"), "postgresql": ("LEAST", "GREATEST")}


def _window_lookups(filters: EventFilters, dialect: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The rank lookups a window needs, by name, and their days. Events are ranked by
    start, so "starts by T" is a rank prefix, and an event of span class k overlapping a
    window starting on F starts no earlier than F minus that class's longest span. Also
    how many events ended before F, which makes a window's total two lookups (see
    `_exact_total`)."""
    start, end = filters.window_start, filters.window_end
    lookups: dict[str, str] = {}
    days: dict[str, Any] = {}
    if end is not None:
        lookups["high"], days["end"] = _LAST_STARTING_BY.format(day=":end"), end
    if start is None:
        return lookups, days
    days["start"] = start
    if filters.match == "within":
        lookups["low"] = _FIRST_STARTING_FROM.format(day=":start")
        return lookups, days
    for k, span in enumerate(SPAN_CLASS_DAYS):
        lookups[f"low{k}"] = _FIRST_STARTING_FROM.format(day=f":from{k}")
        days[f"from{k}"] = _days_before(start, span)
    least, greatest = _EXTREMES.get(dialect, _EXTREMES["postgresql"])
    longest = _LONGEST_SPAN.format(least=least, greatest=greatest)
    back = _BACK.get(dialect, _BACK["postgresql"]).format(span=longest)
    lookups[f"low{len(SPAN_CLASS_DAYS)}"] = _FIRST_STARTING_FROM.format(day=back)
    days["before"] = (start - date.min).days
    lookups["first"] = _FIRST_STARTING_FROM.format(day=":start")
    lookups["ended"] = _ENDED_BEFORE.format(day=":start")
    return lookups, days


def _with_window(plan: Plan, filters: EventFilters, found: dict[str, int | None]) -> Plan:
    """The window as rank bounds on `plan`, from the lookups `_counts_and_bounds` made."""
    start, end = filters.window_start, filters.window_end
    high = None if end is None else int(found["high"] or 0)
    if start is None:
        if end is None:
            return plan
        return replace(plan, high=high, ends_by=end if filters.match == "within" else None)
    if filters.match == "within":
        first = _rank(found["low"])
        return replace(plan, low=tuple(first for _ in CLASSES), high=high, ends_by=end)
    low = tuple(_rank(found[f"low{k}"]) for k in CLASSES)
    ended = int(found["ended"] or 0)
    first = _rank(found["first"])
    return replace(plan, low=low, high=high, ends_from=start, ended_before=ended, first=first)


def _rank(value: Any) -> int:
    """A first rank looked up, or one past every rank when no event qualifies."""
    return 1 << 62 if value is None else int(value)


def _days_before(day: date, days: int) -> date:
    return day - timedelta(days=min(days, (day - date.min).days))


def _exact_total(
    plan: Plan, driver: tuple[str, ...], size: int, filters: EventFilters
) -> int | None:
    """The total without counting, where lookups give it: one key and no window is its
    count; all events in an overlap window are those starting by its end less those
    ending before its start (which all start before that end)."""
    window = filters.window_start is not None or filters.window_end is not None
    if _disjoint(driver) and not window:
        return size
    if driver == ("*",) and filters.match == "overlap":
        started = size if plan.high is None else plan.high
        return max(started - plan.ended_before, 0)
    return None


def _disjoint(keys: tuple[str, ...]) -> bool:
    """Whether no event has two of `keys`, so that their counts add up: one key, or
    types (an event has one type)."""
    return len(keys) == 1 or all(key.startswith("type:") for key in keys)


# --- running a plan ----------------------------------------------------------------------


def _tests_sql(plan: Plan, rank: str, span_class: str) -> tuple[list[str], dict[str, Any]]:
    """Conditions every matching event meets beyond the walk's own: a key of each test
    group, every word, the window's end."""
    conditions: list[str] = []
    values: dict[str, Any] = {}
    for g, group in enumerate(plan.tests):
        conditions.append(
            f"EXISTS (SELECT 1 FROM event_keys t{g}"
            f" WHERE t{g}.key IN ({placeholders(f't{g}_', len(group))})"
            f" AND t{g}.span_class = {span_class} AND t{g}.rank = {rank})"
        )
        values |= numbered(f"t{g}_", group)
    if plan.words and plan.strategy != "text":
        found, found_values = _contains(plan)
        conditions.append(f"EXISTS (SELECT 1 FROM event_words w WHERE w.rank = {rank} AND {found})")
        values |= found_values
    return conditions, values


_POSITION = {"sqlite": "instr", "postgresql": "strpos"}  # (text, part) -> where, or 0


def _contains(plan: Plan) -> tuple[str, dict[str, Any]]:
    """Every word in `event_words w`, tested as a substring, which no index serves: a
    LIKE let PostgreSQL fetch every match from a trigram index first, once per walk,
    often ten times slower than testing the events walked.

    On PostgreSQL each word's bits are first looked for in the signature its primary
    key carries (`app.text.word_signature`), and only the words of the events that have
    them all are read and tested: reading them costs most of a walk."""
    mask = 0
    if plan.dialect == "postgresql":
        for keys in plan.words:
            mask |= signature_mask(keys)
    row = "s" if mask else "w"
    position = _POSITION.get(plan.dialect, "strpos")
    found = " AND ".join(
        "("
        + " OR ".join(f"{position}({row}.search_text, :s{i}_{j}) > 0" for j in range(len(keys)))
        + ")"
        for i, keys in enumerate(plan.words)
    )
    # search_text is space-padded keyed words ([a-z0-9]): " word" starts a word.
    values: dict[str, Any] = {
        f"s{i}_{j}": f" {key}" for i, keys in enumerate(plan.words) for j, key in enumerate(keys)
    }
    if not mask:
        return found, values
    bits = [(at, byte) for at, byte in enumerate(mask.to_bytes(SIGNATURE_BYTES, "little")) if byte]
    tests = [f"get_byte(w.signature, :g{n}) & :b{n} = :b{n}" for n in range(len(bits))]
    for n, (at, byte) in enumerate(bits):
        values |= {f"g{n}": at, f"b{n}": byte}
    # The words in a subquery, which PostgreSQL runs after the cheap tests beside it: the
    # walk itself reads only the primary key.
    tests.append(f"(SELECT {found} FROM event_words s WHERE s.rank = w.rank)")
    return " AND ".join(tests), values


def _window_sql(
    plan: Plan, rank: str, date_end: str, low: str, after: int | None
) -> tuple[list[str], dict[str, Any]]:
    """The window and the cursor as conditions on a walk's `rank` and `date_end`."""
    conditions = [f"{rank} >= :{low}"]
    values: dict[str, Any] = {}
    if plan.high is not None:
        conditions.append(f"{rank} <= :high")
        values["high"] = plan.high
    if plan.ends_from is not None:
        conditions.append(f"{date_end} >= :ends_from")
        values["ends_from"] = plan.ends_from
    if plan.ends_by is not None:
        conditions.append(f"{date_end} <= :ends_by")
        values["ends_by"] = plan.ends_by
    if after is not None:
        conditions.append(f"{rank} > :after" if plan.sort == "date" else f"{rank} < :after")
        values["after"] = after
    return conditions, values


def _key_arm(plan: Plan, k: int, after: int | None) -> tuple[str, dict[str, Any]]:
    """The driver's events of span class `k` that match, in no particular order."""
    window, values = _window_sql(plan, "d.rank", "d.date_end", f"low{k}", after)
    conditions = [
        f"d.key IN ({placeholders('d', len(plan.driver))})",
        f"d.span_class = {k}",
        *window,
    ]
    values |= {**numbered("d", plan.driver), f"low{k}": plan.low[k]}
    tests, test_values = _tests_sql(plan, "d.rank", "d.span_class")
    distinct = "DISTINCT " if len(plan.driver) > 1 else ""
    sql = f"SELECT {distinct}d.rank AS rank FROM event_keys d WHERE " + " AND ".join(
        conditions + tests
    )
    return sql, values | test_values


def _text_arms(plan: Plan, after: int | None) -> list[tuple[str, dict[str, Any]]]:
    """The events containing every word, that match.

    The full-text index (SQLite), or the events' stored words (PostgreSQL), are walked
    from the window's earliest bound, or for an overlap window from its first rank
    (`plan.first`), where every event overlaps it. The events starting before an overlap
    window are walked by date instead, each span class from its bound, ends first, and
    kept when the index matches them in that range (elsewhere, when their words do): a
    month's, a year's or the longest events' worth of events are tested, where the
    index alone would read every match since the earliest bound. For rare words
    (`Thresholds.probe_share`), the index's matches in the month or the year are fewer
    than the events it spans: those are looked up instead. On PostgreSQL, the month's
    and the year's events are walked along their stored words, whose signatures, ends
    and classes the walk tests before reading any words.
    """
    if plan.first is None:  # `first` is set for overlap windows with a start
        return [_text_arm(plan, after, min(plan.low))]
    arms = [_text_arm(replace(plan, ends_from=None), after, plan.first)]
    if plan.first > 1:
        driver, tests = (plan.tests[0], plan.tests[1:]) if plan.tests else (("*",), ())
        before = replace(plan, strategy="keys", driver=driver, tests=tests, high=plan.first - 1)
        matched = replace(plan, tests=(), ends_from=None, high=plan.first - 1)
        # Without a full-text index (PostgreSQL), the stored words, with their signature,
        # end and class, are walked through the month or the year: cheaper than looking
        # each event of the class up.
        probe = plan.match is None or plan.share <= plan.thresholds.probe_share
        for k in CLASSES:
            if plan.match is None and k == CLASSES[-1]:
                arms.append(_prefixed(f"b{k}", *_key_arm(before, k, after)))
                continue
            if probe and k < CLASSES[-1]:  # a month's or a year's matches, looked up
                probed = _text_arm(replace(plan, high=plan.first - 1), after, plan.low[k], k)
                arms.append(_prefixed(f"b{k}", *probed))
                continue
            walk, values = _key_arm(replace(before, words=()), k, after)
            found, found_values = _prefixed("m", *_text_arm(matched, None, plan.low[k]))
            arms.append(
                _prefixed(f"b{k}", f"{walk} AND d.rank IN ({found})", values | found_values)
            )
    return arms


def _prefixed(prefix: str, sql: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An arm with its parameters renamed, to sit beside arms that use the same names."""
    renamed = re.sub(r":(\w+)", lambda m: f":{prefix}{m.group(1)}", sql)
    return renamed, {f"{prefix}{name}": value for name, value in values.items()}


def _text_arm(
    plan: Plan, after: int | None, low: int, span_class: int | None = None
) -> tuple[str, dict[str, Any]]:
    """The events from rank `low` containing every word (found by the full-text index on
    SQLite, each event's words read in rank order and tested elsewhere), that meet the
    window and the other filters (and are of `span_class`, if given), in no particular
    order."""
    fts = plan.match is not None
    # The rank as the full-text index knows it (its row ids are ranks), or as the words
    # are stored: bounds on it skip to the window. The stored words carry their event's
    # end and span class (PostgreSQL), where the index needs the date order's row.
    rank, order = ("f.rowid", "o") if fts else ("w.rank", "w")
    conditions, values = _window_sql(plan, rank, f"{order}.date_end", "tlow", after)
    values["tlow"] = low
    tests, test_values = _tests_sql(plan, rank, f"{order}.span_class")
    conditions += tests
    values |= test_values
    # The date order's row only when a condition reads it.
    joined = fts and (
        plan.tests
        or plan.ends_from is not None
        or plan.ends_by is not None
        or span_class is not None
    )
    if span_class is not None:
        conditions.append(f"{order}.span_class = {span_class}")
    if fts:
        values["match"] = plan.match
        source = "events_fts f"
        conditions.insert(0, "events_fts MATCH :match")
    else:
        source = "event_words w"
        found, found_values = _contains(plan)
        conditions.append(found)
        values |= found_values
    if joined:
        source += f" JOIN event_order o ON o.rank = {rank}"
    sql = f"SELECT {rank} AS rank FROM {source} WHERE " + " AND ".join(conditions)
    return sql, values


def _arms(plan: Plan, after: int | None) -> list[tuple[str, dict[str, Any]]]:
    if plan.strategy == "text":
        return _text_arms(plan, after)
    return [_key_arm(plan, k, after) for k in CLASSES]


def matching_sql(plan: Plan) -> tuple[str, dict[str, Any]]:
    """SQL selecting every matching event's `rank`, unordered (facets, counts)."""
    arms = _arms(plan, None)
    values: dict[str, Any] = {}
    for _, arm_values in arms:
        values |= arm_values
    return " UNION ALL ".join(sql for sql, _ in arms), values


def page_sql(plan: Plan, after: int | None) -> tuple[str, dict[str, Any]]:
    """SQL selecting the ranks of the first `:size` matching events after `after`, in the
    plan's order (the plan must not be `nothing`)."""
    direction = "" if plan.sort == "date" else " DESC"
    # With several driver keys (`type=arrest&type=ban`, a name several actors bear), each
    # key is walked along its own index, instead of every event of every key being read
    # and sorted; an event may have several of them, so the merged ranks are made distinct.
    several = plan.strategy == "keys" and len(plan.driver) > 1
    walks = (
        [
            _prefixed(f"k{i}_", *_key_arm(replace(plan, driver=(key,)), k, after))
            for i, key in enumerate(plan.driver)
            for k in CLASSES
        ]
        if several
        else _arms(plan, after)
    )
    selects: list[str] = []
    values: dict[str, Any] = {}
    for n, (arm, arm_values) in enumerate(walks):
        # Each walk's first page, then the first of those.
        selects.append(f"SELECT rank FROM ({arm} ORDER BY rank{direction} LIMIT :size) AS a{n}")
        values |= arm_values
    arms = " UNION ALL ".join(selects)
    order = f" ORDER BY rank{direction} LIMIT :size"
    if several:
        return f"SELECT DISTINCT rank FROM ({arms}) AS u" + order, values
    return arms + order, values


def count_matches(session: ReadSession, plan: Plan) -> tuple[int, bool]:
    """How many events match (up to the count limit), and whether that is exact."""
    if plan.strategy == "nothing":
        return 0, True
    if plan.total is not None:
        return plan.total, True
    if _disjoint(plan.driver) and not plan.tests and not plan.words and plan.ends_by is None:
        return _positional_count(session, plan), True
    limits = plan.thresholds
    limit = limits.words_count_limit if plan.words else limits.count_limit
    total = _count_upto(session, *matching_sql(plan), limit + 1)
    return min(total, limit), total <= limit


def _positional_count(session: ReadSession, plan: Plan) -> int:
    """One key's events (or several keys' no event shares) in an overlap window (or up to a
    date), exactly, in lookups.

    Per span class: the key's rows from the first rank starting in the window to the
    last starting by its end are the difference of two positions (`event_keys.pos`);
    the rows starting before the window, back to the class's bound, are tested for their
    end: a month's, a year's or the longest events' worth of that key, not the window's.
    """
    # Where the positions count from: the first rank starting in the window (overlap),
    # its lower bound (within), or the first rank of all (no start).
    first = plan.first if plan.first is not None else min(plan.low)
    values: dict[str, Any] = {**numbered("key", plan.driver), "first": first}
    upto = ""
    if plan.high is not None:
        upto, values["high"] = " AND rank <= :high", plan.high
    lookups = []
    for i in range(len(plan.driver)):  # keys no event shares (`_disjoint`): counts add up
        for k in CLASSES:
            rows = f"FROM event_keys WHERE key = :key{i} AND span_class = {k}"
            lookups += [
                f"(SELECT pos {rows}{upto} ORDER BY rank DESC LIMIT 1)",
                f"(SELECT pos {rows} AND rank < :first ORDER BY rank DESC LIMIT 1)",
            ]
            if plan.ends_from is not None:
                lookups.append(
                    f"(SELECT count(*) {rows}{upto} AND rank >= :low{k} AND rank < :first"
                    " AND date_end >= :ends_from)"
                )
                values |= {f"low{k}": plan.low[k], "ends_from": plan.ends_from}
    found = [int(n or 0) for n in run(session, f"SELECT {', '.join(lookups)}", **values)[0]]
    per_class = 3 if plan.ends_from is not None else 2
    total = 0
    for at in range(0, len(found), per_class):
        through, before, *earlier = found[at : at + per_class]
        total += max(through - before, 0) + sum(earlier)
    return total


def _count_upto(session: ReadSession, sql: str, values: dict[str, Any], cap: int) -> int:
    """How many rows `sql` selects, counting no further than `cap`."""
    return _scalar(session, f"SELECT count(*) FROM ({sql} LIMIT :cap) AS m", 0, **values, cap=cap)


def _text_matches(
    session: ReadSession, plan: Plan, words: tuple[tuple[str, ...], ...], cap: int
) -> int:
    """How many events (up to `cap`) contain every word and meet the window."""
    return _count_upto(
        session, *matching_sql(replace(plan, strategy="text", tests=(), words=words)), cap
    )


# --- cursors -----------------------------------------------------------------------------


def encode_cursor(position: tuple[str, str, str], sort: Sort) -> str:
    """An opaque token for the position after the event at `position` (start, end, id)."""
    raw = json.dumps([sort, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[date, date, str]:
    """The position a cursor names; `InvalidParameter('cursor')` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, start, end, event_id = json.loads(raw)
        if not isinstance(event_id, str) or "\x00" in event_id or len(event_id) > 200:
            raise ValueError(event_id)
        position = (date.fromisoformat(start), date.fromisoformat(end), event_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor", "not a cursor this API issued; use next_cursor from a response"
        ) from None
    if cursor_sort != sort:
        raise InvalidParameter("cursor", f"this cursor belongs to sort={cursor_sort}")
    return position


def cursor_rank(session: ReadSession, cursor: str, sort: Sort) -> int:
    """The rank a page after `cursor` starts beyond; a cursor outlives a reload, since it
    names a position in date order, not a rank."""
    start, end, event_id = decode_cursor(cursor, sort)
    if sort == "date":
        sql = (
            "SELECT rank FROM event_order WHERE (date_start, date_end, event_id) <= (:s, :e, :i)"
            " ORDER BY date_start DESC, date_end DESC, event_id DESC LIMIT 1"
        )
        return _scalar(session, sql, 0, s=start, e=end, i=event_id)
    sql = (
        "SELECT rank FROM event_order WHERE (date_start, date_end, event_id) >= (:s, :e, :i)"
        " ORDER BY date_start, date_end, event_id LIMIT 1"
    )
    return _scalar(session, sql, 1 << 62, s=start, e=end, i=event_id)
