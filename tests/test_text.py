"""Name folding: the spellings users type must meet the spellings sources print."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rows import search_text
from app.text import (
    fold,
    name_key,
    search_terms,
    search_words,
    signature_mask,
    text_key,
    word_signature,
)


@pytest.mark.parametrize(
    ("value", "folded"),
    [
        ("Bérengère Müller", "berengere muller"),
        ("  Group-24 ", "group 24"),
        ("O’Brien's", "obriens"),
        ("Хоруғ", "khorugh"),
        ("Тоҷикистон", "tojikiston"),
        ("ŁÓDŹ", "lodz"),
        ("Straße", "strasse"),
        ("'%_\x00*", ""),
    ],
)
def test_fold(value, folded):
    assert fold(value) == folded


@pytest.mark.parametrize(
    "spellings",
    [
        ["Quvvatov", "Quvatov", "Kuvvatov", "KUVATOV", "Кувватов"],
        ["Rakhmonov", "Rahmonov", "Рахмонов"],
        ["Emomali", "Emomalii", "Emomalī"],
        ["Atovulloyev", "Atovulloev"],
        ["Khorog", "Xorog", "Хорог"],
        ["Group 24", "group-24", "GROUP  24"],
    ],
)
def test_name_key_unifies_spellings(spellings):
    assert len({name_key(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [("Rahmon", "Rakhmonov"), ("Emomali", "Imomali"), ("Quvvatov", "Kabiri")],
)
def test_name_key_keeps_different_names_apart(a, b):
    # Different words stay different: such pairs are listed as aliases in the data.
    assert name_key(a) != name_key(b)


def test_search_words_are_keyed_and_unique():
    assert search_words("Kuvvatov, Quvatov; Istanbul!") == ["kuvatov", "istanbul"]


@pytest.mark.parametrize(
    "value",
    [
        "Umarali Quvvatov was shot dead in Istanbul in March 2015.",
        "Atovulloyev\u2028O’Brien\u3000Хоруғ\u00a0ŁÓDŹ — Straße ½ İstanbul ﬁnal",
        "a\u0301ye  ay\u0301e\tq\u200bh  kh\x1ch  ",
        "",
        " \n ",
    ],
)
def test_text_key_is_name_key_word_by_word(value):
    assert text_key(value) == name_key(value)


@given(st.text())
def test_text_key_equals_name_key_for_any_text(value):
    """The loader keys search text word by word (cached): the result must not change."""
    assert text_key(value) == name_key(value)


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Αθήνα", "Athina"),  # Greek
        ("محمد", "mhmd"),  # Arabic (consonants: the script writes no short vowels)
        ("北京", "Beijing"),  # Chinese
        ("Łódź", "Lodz"),
        ("𝔄𝔟𝔡𝔲𝔩𝔩𝔬", "Abdullo"),  # compatibility letters decompose, capitals included
    ],
)
def test_other_scripts_fold_to_their_usual_latin(written, typed):
    assert name_key(written) == name_key(typed) != ""


def test_our_table_stays_where_it_spells_better():
    assert fold("Ёқубов") == "yoqubov"  # a general library would give "equbov"
    assert fold("Хуҷанд") == "khujand"
    assert name_key("Ёқубов") == name_key("Yokubov")


def test_symbols_are_word_breaks_not_words():
    assert fold("😀 Rahmon ★") == "rahmon"
    assert name_key("!!! 😀") == ""


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("Badak", "Badakhshan"),
        ("Atovulloy", "Atovulloyev"),
        ("suk", "Sukhan"),
        ("Rak", "Rakhmonov"),
        ("Dz", "Dzhurayev"),
        ("Kaz", "Kazhegeldin"),
        ("Quvv", "Kuvvatov"),
        ("biograp", "biography"),
        ("Badakhshan", "Badakhshan"),
    ],
)
def test_every_beginning_of_a_word_finds_it(typed, word):
    # Search as you type: a shorter beginning never finds less than a longer one.
    key = text_key(word)
    for end in range(1, len(typed) + 1):
        (keys,) = search_terms(typed[:end])
        assert any(key.startswith(k) for k in keys), (typed[:end], keys, key)


def test_search_terms_keep_the_plain_key_first_and_drop_repeats():
    assert search_terms("Kuvvatov, Quvatov; Istanbul!") == [("kuvatov",), ("istanbul",)]
    assert search_terms("Badak") == [("badak", "badah")]
    assert search_terms("!!") == []


def _has(signature: bytes, mask: int) -> bool:
    return int.from_bytes(signature, "little") & mask == mask


_WORDS = st.text(alphabet="abcdeghikloqrsuyzшҷхō -'", min_size=1, max_size=30) | st.text(max_size=9)


@given(st.lists(_WORDS, min_size=1, max_size=40))
def test_a_signature_never_rules_out_an_event_holding_the_word(texts):
    # The signature only skips reading words: whatever the words' test would find, typed
    # as any beginning of a word the event holds, must pass it.
    words = search_text(texts)
    signature = word_signature(words)
    for word in words.split():
        for end in range(1, len(word) + 1):
            for keys in search_terms(word[:end]):
                if any(f" {key}" in words for key in keys):
                    assert _has(signature, signature_mask(keys)), (word[:end], keys)


def test_a_signature_rules_out_most_events_without_the_word():
    words = search_text(["Police detained opposition activists in Khorog after the protest."])
    signature = word_signature(words)
    absent = search_words("parliament election journalist Istanbul deported")
    assert all(f" {w}" not in words for w in absent)
    assert sum(_has(signature, signature_mask((w,))) for w in absent) <= 1
    assert all(_has(signature, signature_mask(k)) for k in search_terms("polic detain Khorog"))
    assert signature_mask(("irp",)) == 0  # too short to have bits: nothing is ruled out


def test_completed_and_long_words_keep_the_bits_of_their_beginnings():
    # `denied` is searched as `deniej` too (it may stop inside `dzh`): the bits both
    # share, of `deni`, still rule out events without it. A long word needs the bits of
    # its 4-letter beginning as well as of its 6-letter one.
    events = word_signature(search_text(["Police detained activists in Khorog."]))
    (keys,) = search_terms("denied")
    assert len(keys) == 2
    beginning = signature_mask(("deni",))
    assert beginning and signature_mask(keys) & beginning == beginning
    assert not _has(events, signature_mask(keys))
    assert signature_mask(("detained",)) & signature_mask(("deta",)) == signature_mask(("deta",))
