"""Name and text folding shared by the loader and the queries.

Names reach us in many spellings (Quvvatov / Quvatov / Kuvvatov, Rakhmonov / Rahmonov,
Cyrillic or Latin). Both the stored search keys and the query values go through the same
`name_key`, so matching is a plain equality or substring test on either database.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from functools import lru_cache

from anyascii import anyascii

_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Tajik letters
    "ғ": "gh",
    "ӣ": "i",
    "қ": "q",
    "ӯ": "u",
    "ҳ": "h",
    "ҷ": "j",
    # Kazakh, Kyrgyz and Uzbek letters
    "ә": "a",
    "ң": "ng",
    "ө": "o",
    "ү": "u",
    "ұ": "u",
    "һ": "h",
    "і": "i",
    "ў": "u",
}
# Latin letters that Unicode decomposition leaves alone.
_LATIN = {
    "ø": "o",
    "ł": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ə": "a",
    "ʻ": "",
    "ʼ": "",
    "ʿ": "",
    "ʾ": "",
}
_NON_WORD = re.compile(r"[^0-9a-z]+")
# One C-level pass replaces the letters above (str.translate), not a Python loop per character.
_TRANSLATE = str.maketrans({**_CYRILLIC, **_LATIN, "'": "", "’": "", "‘": "", "`": "", "´": ""})
# ASCII: apostrophes vanish (O'Brien -> obrien), every other non-alphanumeric is a space.
_ASCII_WORDS = str.maketrans(
    {chr(c): ("" if chr(c) in "'`" else " ") for c in range(128) if not chr(c).isalnum()}
)
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

# Transliteration skeleton, applied to folded words: the usual Latin renderings of one
# Tajik/Russian sound collapse to one spelling (kh/h, q/k, dzh/j, y/i, w/v), then doubled
# letters collapse (Quvvatov -> kuvatov).
_SKELETON = (
    ("dzh", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("q", "k"),
    ("x", "h"),
    ("w", "v"),
    ("ph", "f"),
    ("y", "i"),
    ("ou", "u"),
)
_DOUBLES = [(letter * 2, letter) for letter in "abcdefghijklmnopqrstuvwxyz"]
_VOWEL_YE = re.compile(r"(?<=[aeiou])y(?=e)")  # Atovulloyev / Atovulloev


def fold(value: str) -> str:
    """Lowercase ASCII words separated by single spaces: no accents, no punctuation.

    Our table first (it spells Tajik and Russian as their sources do: Ё -> yo, Ҷ -> j),
    then Unicode decomposition; letters and digits of other scripts (Arabic, Greek, CJK...)
    go through anyascii, and anything else (symbols, emoji) is a word break.
    """
    text = value.casefold()
    if text.isascii():
        return " ".join(text.translate(_ASCII_WORDS).split())
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_TRANSLATE)))
    if not text.isascii():
        text = "".join(c if c.isascii() else _transliterate(c) for c in text)
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())  # NFKD may give capitals (𝔄 -> A)


@lru_cache(maxsize=1 << 14)
def _transliterate(char: str) -> str:
    """One character our table does not cover: a letter or digit in Latin, else a break."""
    return anyascii(char) if unicodedata.category(char)[0] in "LN" else " "


def name_key(value: str) -> str:
    """Spelling-insensitive key: `name_key('Kuvvatov') == name_key('Quvatov')`."""
    text = _VOWEL_YE.sub("", fold(value))
    for source, target in _SKELETON:
        text = text.replace(source, target)
    for double, single in _DOUBLES:
        while double in text:
            text = text.replace(double, single)
    return text


_word_key = lru_cache(maxsize=1 << 17)(name_key)


def text_key(value: str) -> str:
    """`name_key(value)`, word by word through a cache: for long texts, which repeat words.

    Equal because keying never joins or splits across whitespace: every character folds on
    its own, whitespace always becomes a word break, and the skeleton rewrites letters only.
    """
    return " ".join(filter(None, map(_word_key, value.split())))


def search_words(value: str) -> list[str]:
    """The keyed words of a search string, in order, without repeats."""
    return list(dict.fromkeys(name_key(value).split()))


# Endings that may be the first letters of a group the skeleton rewrites (kh -> h,
# zh -> j, dzh -> j, ph -> f), with the whole group. Not ou -> u: every word ending in o
# would also find the words beginning u (`Kho`: human).
_OPEN_ENDINGS = (("d", "dzh"), ("dz", "dzh"), ("k", "kh"), ("z", "zh"), ("p", "ph"))
_VOWEL_Y_END = re.compile(r"[aeiou]y$")  # the y of Atovulloyev, dropped before its e


def search_terms(value: str) -> list[tuple[str, ...]]:
    """Each word of a search string as the keys of the words it may begin, in order,
    without repeats.

    A word matches the words it begins, but keying rewrites letter groups: a word that
    stops inside one keys differently from the words it begins (`Badak` -> badak, and
    Badakhshan -> badahshan). Such a word is also searched with the group completed
    (`Badakh` -> badah): it finds every word it begins, and a few that begin like them.
    """
    terms: dict[tuple[str, ...], None] = {}
    for word in fold(value).split():
        keys = [name_key(word)]
        completed = [word[: -len(end)] + full for end, full in _OPEN_ENDINGS if word.endswith(end)]
        if _VOWEL_Y_END.search(word):
            completed.append(word + "e")
        keys += [name_key(whole) for whole in completed]
        if keys[0]:
            terms[tuple(dict.fromkeys(keys))] = None
    return list(terms)


def typed_keys(value: str) -> tuple[str, list[str]]:
    """`name_key(value)`, and the same with its last word completed as `search_terms`
    completes a word (what a name typed so far may be the beginning of); ("", []) when
    nothing is left to search by."""
    key = name_key(value)
    words = fold(value).split()
    if not key or not words:
        return "", []
    head = key.rpartition(" ")[0]
    completions = search_terms(words[-1])[0][1:]
    return key, [f"{head} {last}".strip() for last in completions]


# A word signature: a 1,024-bit Bloom filter of the beginnings (4 and 6 letters) of an
# event's keyed words, which a search word's own beginning must find set. It rules out
# most events before their words are read: an event lacking a bit lacks the word.
SIGNATURE_BYTES = 128
_SIGNATURE_BITS = SIGNATURE_BYTES * 8
_BEGINNINGS = (6, 4)


@lru_cache(maxsize=1 << 16)
def _beginning_bits(beginning: str) -> int:
    digest = zlib.crc32(beginning.encode())  # the same on every machine and run
    return 1 << (digest % _SIGNATURE_BITS) | 1 << ((digest >> 10) % _SIGNATURE_BITS)


@lru_cache(maxsize=1 << 17)
def _word_bits(word: str) -> int:
    bits = 0
    for size in _BEGINNINGS:
        if len(word) >= size:
            bits |= _beginning_bits(word[:size])
    return bits


def word_signature(search_text: str) -> bytes:
    """The signature of a `search_text` (its words' beginnings, as set bits)."""
    bits = 0
    for word in search_text.split():
        bits |= _word_bits(word)
    return bits.to_bytes(SIGNATURE_BYTES, "little")


def signature_mask(keys: tuple[str, ...]) -> int:
    """The bits every event holding a word that one of `keys` begins has set: those of
    every beginning a key has (a word it begins has them too), and of several keys
    (`Badak`: badak, badah) the bits all of theirs share; 0 when a key is too short to
    have any (three letters or fewer)."""
    mask = -1
    for key in keys:
        mask &= _word_bits(key)
    return max(mask, 0)
