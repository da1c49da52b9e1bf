"""Filter values -> ids and keys: names in any spelling, and close matches for a typo.

A value naming nothing is refused with the closest names, so that a misspelt actor is
not mistaken for an actor with no events.
"""

from __future__ import annotations

import difflib

from app.db import ReadSession
from app.errors import InvalidParameter
from app.prepared import numbered, placeholders, run
from app.text import name_key


def resolve_actor_ids(session: ReadSession, values: tuple[str, ...]) -> tuple[str, ...]:
    """Actor ids a client's values name: id, name or any alias, in any spelling.

    A value equal to a whole name matches only that; otherwise names containing it as
    whole words ('Rahmon' -> 'Emomali Rahmon'). A value matching nothing is refused with
    the closest names."""
    return _resolve(session, "actor", "actor", "actor_names", "actor_id", values)


def resolve_place_ids(
    session: ReadSession, values: tuple[str, ...], parameter: str = "place"
) -> tuple[str, ...]:
    """Place ids a client's values of `parameter` name, by id, name or alias (everything
    inside is matched by the place's key)."""
    return _resolve(session, parameter, "place", "place_names", "place_id", values)


def _resolve(
    session: ReadSession, parameter: str, noun: str, table: str, owner: str, values: tuple[str, ...]
) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for value in values:
        key = name_key(value)
        # The id as written, or a whole name's key: both are index lookups.
        exact = f"SELECT {owner} FROM {table} WHERE {owner} = :value"
        keys = {"key": key} if key else {}
        if key:
            exact += f" UNION SELECT {owner} FROM {table} WHERE key = :key"
        ids = {row[0] for row in run(session, exact, value=value.strip(), **keys)}
        if not ids and key:
            # Keys are lowercase ASCII words, so the pattern needs no escaping.
            words = f"SELECT DISTINCT {owner} FROM {table} WHERE ' ' || key || ' ' LIKE :words"
            ids = {row[0] for row in run(session, words, words=f"% {key} %")}
        if not ids:
            # Names before aliases, so each suggestion shows its owner's own name, with
            # the keys the load stored (folding every name again took most of a second
            # at a million events).
            names = run(session, f"SELECT key, name FROM {table} ORDER BY is_alias, id")
            spellings = [(str(key), str(name)) for key, name in names]
            raise InvalidParameter(parameter, _unknown(noun, value, spellings))
        found |= dict.fromkeys(sorted(ids))
    return tuple(found)


def known_keys(
    session: ReadSession, parameter: str, prefix: str, values: tuple[str, ...]
) -> tuple[str, ...]:
    """Keys for values that must exist as they are (roles, tags, source ids)."""
    keys = tuple(f"{prefix}{value.strip()}" for value in values)
    rows = run(
        session,
        f"SELECT key FROM key_stats WHERE key IN ({placeholders('k', len(keys))})",
        **numbered("k", keys),
    )
    present = {row[0] for row in rows}
    for value, key in zip(values, keys, strict=True):
        if key not in present:
            known = [
                row[0][len(prefix) :]
                for row in run(
                    session,
                    "SELECT key FROM key_stats WHERE key >= :low AND key < :high",
                    low=prefix,
                    high=prefix[:-1] + chr(ord(prefix[-1]) + 1),
                )
            ]
            keyed = [(name_key(name) or name.lower(), name) for name in known]
            raise InvalidParameter(parameter, _unknown(parameter, value, keyed))
    return keys


def _unknown(noun: str, value: str, known: list[tuple[str, str]]) -> str:
    """'matches no actor; did you mean ...?': a typo is not mistaken for 'nothing happened'.
    `known` holds (key, name) pairs, the first name of a key shown."""
    by_key: dict[str, str] = {}
    for key, name in known:
        by_key.setdefault(key, name)
    close = difflib.get_close_matches(name_key(value) or value.lower(), list(by_key), n=3)
    hint = f"; did you mean {', '.join(repr(by_key[c]) for c in close)}?" if close else ""
    return f"{value!r} matches no {noun}{hint}"
