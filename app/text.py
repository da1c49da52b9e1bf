"""Name and text folding shared by the loader and the queries.

Names reach us in many spellings (Quvvatov / Quvatov / Kuvvatov, Rakhmonov / Rahmonov,
Cyrillic or Latin). Both the stored search keys and the query values go through the same
`name_key`, so matching is a plain equality or substring test on either database.
"""

from __future__ import annotations

import re
import unicodedata

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
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^0-9a-z]+")

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
_DOUBLED = re.compile(r"([a-z])\1+")
_VOWEL_YE = re.compile(r"(?<=[aeiou])y(?=e)")  # Atovulloyev / Atovulloev


def fold(value: str) -> str:
    """Lowercase ASCII words separated by single spaces: no accents, no punctuation."""
    text = _APOSTROPHES.sub("", value.casefold())
    text = "".join(_CYRILLIC.get(ch, _LATIN.get(ch, ch)) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text).strip()


def name_key(value: str) -> str:
    """Spelling-insensitive key: `name_key('Kuvvatov') == name_key('Quvatov')`."""
    text = _VOWEL_YE.sub("", fold(value))
    for source, target in _SKELETON:
        text = text.replace(source, target)
    return _DOUBLED.sub(r"\1", text)


def search_words(value: str) -> list[str]:
    """The keyed words of a search string, in order, without repeats."""
    return list(dict.fromkeys(name_key(value).split()))
