"""Write a realistic synthetic dataset in the project's YAML format, fast enough for 1M events.

    python bench/synth.py 100000 --out /tmp/synth-100k [--seed 1]

Events are streamed to one file per year as YAML text (every string JSON-quoted, which is
valid YAML), so memory stays flat and no per-event pydantic model is built.
"""

from __future__ import annotations

import argparse
import calendar
import math
import os
import random
import sys
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring as _encode_json_string
from pathlib import Path
from typing import TextIO

from app.dataset import EVENT_TYPES

FIRST_YEAR, LAST_YEAR = 1950, 2024
RARE_WORD = "zhuldyzsky"  # in about 0.1% of events: the rare full-text term
COMMON_WORD = "protest"  # in a large share of events: the common full-text term
RARE_SHARE = 0.001


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of YAML's)."""
    quoted: str = _encode_json_string(text)
    return quoted


def slug(text: str) -> str:
    out = []
    for char in text.lower():
        if char.isascii() and char.isalnum():
            out.append(char)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-") or "x"


def zipf_cum_weights(n: int, exponent: float = 1.0, offset: float = 1.0) -> list[float]:
    """Cumulative Zipf-like weights for ranks 0..n-1 (rank 0 the most popular)."""
    total, cum = 0.0, []
    for rank in range(n):
        total += 1.0 / (rank + offset) ** exponent
        cum.append(total)
    return cum


def _words(text: str) -> list[str]:
    return text.split()


# --- vocabulary --------------------------------------------------------------------------

# Ordered roughly by frequency: function words first, then the domain's own words.
_COMMON = _words("""the of and to in a on was by for that with as were from at his their after
which had an its who be said government he this not they have also been it or against
over more than police people city during officials two protest authorities state report
new law members court group opposition security forces president party according later
three would national local public political several minister press country leaders
region some into protesters other rights its under while human years since border both
military between united official former demonstrators many number about ministry year
statement including following made office held told killed arrested detained release
released charges trial prison election vote votes campaign parliament constitution
amendment decree leader leadership movement organization organisations activists
journalists media newspaper television radio website blocked closed banned ban
sentence sentenced years months accused charged extremism terrorism treason fraud
corruption bribery investigation investigators prosecutor prosecutors judge lawyer
lawyers family relatives wife son daughter brother mother father village villages town
district capital streets square building embassy mission delegation visit talks
agreement treaty cooperation aid assistance loan grant funds budget economy economic
prices workers migrants migration labour abroad returned deported deportation asylum
refugees refugee camp camps border crossing troops soldiers army clashes fighting
fighters armed attack attacks attacked wounded injured dead bodies hospital violence
unrest crackdown raid raids search searched seized weapons checkpoint curfew
emergency commission committee council assembly session resolution declaration
appeal appeals demanded demands called calls warned warning criticised criticism
condemned denied confirmed announced reported claimed alleged allegedly reportedly
sources witnesses residents community communities religious religion mosque clerics
students university school teachers doctors farmers traders market bazaar water
electricity gas energy dam road railway bridge airport mountains valley river province
provincial regional central northern southern eastern western international foreign
neighbouring observers monitors organisation mandate office field operation program
programme project projects reform reforms policy policies rule rules regulation
registration licence licences permit permits rally rallies march marched gathered
crowd crowds hundreds thousands dozens detentions arrests interrogation custody
torture abuse ill-treatment complaint complaints hearing closed-door verdict acquitted
pardoned amnesty exile exiled abducted disappeared missing whereabouts unknown
kidnapped extradited extradition requested request interpol notice warrant wanted
fled escape escaped hiding""")

_SYLLABLES = _words("""ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na
ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu sha
she shi sho shu kha khi kho khu dzh ya yo yu gu ghu ghi qa qo qu ja jo ju fa fi fo far dor
sar mir zar nav kul tash bek bol dar gor kan lom mun nor pol ros sul tor vor yar zan""")


def _pseudo_words(rng: random.Random, count: int) -> list[str]:
    """Made-up but pronounceable words: the long tail of rare terms."""
    seen = set(_COMMON)
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word in seen or word.startswith(("zhuld", COMMON_WORD)):
            continue
        seen.add(word)
        words.append(word)
    return words


# --- names and transliteration -------------------------------------------------------------

_FIRST = _words("""Umarali Emomali Rustam Davlat Muhiddin Sulaymon Mahmadruzi Saidumar Zayd
Alexander Buzurgmehr Ozoda Rukhshona Gulnora Mavjuda Nodira Shabnam Farrukh Jamshed
Khayrullo Dilshod Firuz Bakhtiyor Abdullo Nurali Qurbon Rahmatullo Sherali Ismoil
Karim Yusuf Zarina Parvina Munira Aziz Olim Shodi Ibrohim Tohir Hakim Saodat Mehrangez
Nargis Sitora Anvar Bahrom Jurabek Kamol Latif Manuchehr Nasim Rahim Safar Tolib Umed
Valijon Yodgor Zafar Akbar Bobojon Daler Ehson Faridun Ghafur Hasan Husayn Ilhom""")

_ROOTS = _words("""Quvvat Rahmon Kabir Iskandar Sodiq Hamroq Nazar Sharip Abdull Mirzo Davlat
Rakhim Saidov Yusuf Kurbon Ismoil Karim Nurmakhmad Sharif Khudoy Latip Mahmud Boboj
Olim Zarif Hakim Safar Tursun Umar Valiev Yorov Zokir Ashur Bahrom Jalol Fayz Gadoy
Haydar Ibrohim Jabbor Kamol Lutf Manon Nabi Oqil Pulod Qahhor Rajab Salim Toshm Usmon
Vohid Yodgor Zubayd Ahmad Bakir Dzhur Ergash Fattoh Ghani Hasan Idris Jumaboy Kholiq""")

_SUFFIXES = ("ov", "ov", "ov", "ova", "zoda", "i", "ev", "yon", "zod")

_ORG_ADJ = _words("""National Democratic Islamic Social Popular Free United Independent Civic
Progressive Agrarian Patriotic Republican Liberal Socialist Reform Unity Justice
Revival Renaissance Youth Workers Women's Human Rights Legal Press""")
_ORG_NOUN = _words("""Party Front Movement Union Alliance Council Committee Association Centre
Foundation Network Coalition Congress League Initiative Group Bureau Service Agency
Commission""")
_BODIES = _words("""Interior Justice Defence Foreign Affairs Finance Education Health Labour
Migration Security Culture Energy Agriculture Transport Communications""")
_MEDIA = _words("""Times Herald Courier Post Voice Echo Mirror Review Observer Daily News Radio
Television Asia Ozodi Sadoi Payom""")

# Latin to Cyrillic, digraphs first, so Cyrillic aliases fold back to the Latin name.
_TO_CYRILLIC: tuple[tuple[str, str], ...] = (
    ("shch", "щ"),
    ("dzh", "дж"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("yo", "ё"),
    ("yu", "ю"),
    ("ya", "я"),
    ("gh", "ғ"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("i", "и"),
    ("y", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("h", "ҳ"),
    ("q", "қ"),
    ("j", "ҷ"),
    ("c", "к"),
    ("w", "в"),
    ("x", "кс"),
)


def cyrillic(text: str) -> str:
    """A Cyrillic spelling of a Latin name (the reverse of the app's folding, roughly)."""
    out: list[str] = []
    for word in text.split(" "):
        lower, i, letters = word.lower(), 0, []
        while i < len(lower):
            for latin, cyr in _TO_CYRILLIC:
                if lower.startswith(latin, i):
                    letters.append(cyr)
                    i += len(latin)
                    break
            else:
                letters.append(lower[i])
                i += 1
        spelled = "".join(letters)
        out.append(spelled[:1].upper() + spelled[1:])
    return " ".join(out)


# One-way rewrites, as different sources transliterate the same name.
_VARIANTS: tuple[tuple[str, str], ...] = (
    ("q", "k"),
    ("k", "q"),
    ("kh", "h"),
    ("vv", "v"),
    ("ov", "ev"),
    ("ev", "yev"),
    ("u", "ou"),
    ("o", "u"),
    ("j", "dzh"),
    ("dzh", "j"),
    ("zoda", "zade"),
    ("yo", "io"),
    ("ee", "i"),
    ("i", "ee"),
)


def spelling_variants(name: str) -> list[str]:
    """Other Latin spellings of a name, as different sources transliterate it."""
    lower, variants = name.lower(), []
    for old, new in _VARIANTS:
        if old in lower:
            variant = " ".join(w.capitalize() for w in lower.replace(old, new, 1).split(" "))
            variants.append(variant)
    return variants


# --- entities --------------------------------------------------------------------------------


@dataclass(eq=False)
class Place:
    id: str
    name: str
    kind: str
    parent: Place | None
    lat: float
    lon: float
    aliases: list[str]
    country: Place | None = None


@dataclass(eq=False)
class Actor:
    id: str
    name: str
    kind: str
    aliases: list[str]
    description: str
    country: str | None


@dataclass
class World:
    """Everything events refer to, plus the samplers events draw from."""

    sources: list[str]
    actors: list[Actor]
    actor_cum: list[float]
    persons: list[Actor]
    person_cum: list[float]
    places: list[Place]
    cities: list[Place]
    city_cum: list[float]
    regions: list[Place]
    countries: list[Place]
    vocab: list[str]
    vocab_cum: list[float]
    tags: list[str]
    tag_cum: list[float]
    ids: set[str] = field(default_factory=set)


def _unique_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _place_name(rng: random.Random, endings: Sequence[str]) -> str:
    stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return stem.capitalize() + rng.choice(endings)


def make_places(
    rng: random.Random, countries: int, regions: int, cities: int
) -> tuple[list[Place], list[Place], list[Place], list[Place]]:
    taken: set[str] = set()
    all_places: list[Place] = []
    country_list, region_list, city_list = [], [], []
    for _ in range(countries):
        name = _place_name(rng, ("stan", "ia", "land", "istan", "ania", ""))
        lat, lon = round(rng.uniform(-35, 60), 4), round(rng.uniform(-120, 150), 4)
        aliases = [name, f"Republic of {name}", cyrillic(name)]
        country = Place(_unique_id(slug(name), taken), name, "country", None, lat, lon, aliases)
        country.country = country
        country_list.append(country)
        all_places.append(country)
        for _ in range(regions):
            rname = _place_name(rng, (" Region", " Province", "", " Oblast"))
            region = Place(
                _unique_id(slug(rname), taken),
                rname,
                "region",
                country,
                _clamp(lat + rng.uniform(-4, 4), 89),
                _clamp(lon + rng.uniform(-4, 4), 179),
                [rname, *spelling_variants(rname)[:1]],
                country,
            )
            region_list.append(region)
            all_places.append(region)
            for _ in range(cities):
                cname = _place_name(rng, ("abad", "obod", "kent", "grad", "shahr", "", "ov"))
                city = Place(
                    _unique_id(slug(cname), taken),
                    cname,
                    "city",
                    region,
                    _clamp(region.lat + rng.uniform(-1.5, 1.5), 89),
                    _clamp(region.lon + rng.uniform(-1.5, 1.5), 179),
                    [
                        cname,
                        *spelling_variants(cname)[:1],
                        *([cyrillic(cname)] * (rng.random() < 0.4)),
                    ],
                    country,
                )
                city_list.append(city)
                all_places.append(city)
    return all_places, country_list, region_list, city_list


def _clamp(value: float, bound: float) -> float:
    return round(max(-bound, min(bound, value)), 4)


_KIND_WEIGHTS = (
    ("person", 60),
    ("organization", 9),
    ("party", 5),
    ("movement", 5),
    ("government_body", 9),
    ("media", 4),
    ("ngo", 5),
    ("intergovernmental", 1),
    ("other", 2),
)


def _actor_name(rng: random.Random, kind: str, countries: list[Place]) -> tuple[str, list[str]]:
    """A name and its other spellings (1-4 in all, including the name itself)."""
    if kind == "person":
        first, surname = rng.choice(_FIRST), rng.choice(_ROOTS) + rng.choice(_SUFFIXES)
        name = f"{first} {surname}"
        pool = [
            surname,
            *spelling_variants(surname),
            f"{first[0]}. {surname}",
            cyrillic(name),
            *(f"{first} {v}" for v in spelling_variants(surname)),
        ]
    elif kind == "government_body":
        country = rng.choice(countries).name
        name = f"Ministry of {rng.choice(_BODIES)} of {country}"
        pool = [name.replace("Ministry of", "MO", 1), cyrillic(name.split(" of ")[1])]
    elif kind == "media":
        name = f"{rng.choice(_ROOTS)} {rng.choice(_MEDIA)}"
        pool = [name.lower(), cyrillic(name), name.split(" ")[0]]
    elif kind == "intergovernmental":
        name = f"{rng.choice(_ORG_ADJ)} {rng.choice(_ORG_NOUN)} for Co-operation"
        pool = ["".join(w[0] for w in name.split() if w[0].isupper()), cyrillic(name)]
    else:
        name = f"{rng.choice(_ORG_ADJ)} {rng.choice(_ORG_ADJ)} {rng.choice(_ORG_NOUN)}"
        if rng.random() < 0.5:
            name += f" of {rng.choice(countries).name}"
        acronym = "".join(w[0] for w in name.split() if w[0].isupper())
        pool = [acronym, f"the {name}", cyrillic(name)]
    pool = [p for p in dict.fromkeys(pool) if p and p != name]
    extra = rng.sample(pool, min(len(pool), rng.choice((0, 1, 1, 2, 2, 3))))
    return name, [name, *extra]


def make_actors(rng: random.Random, count: int, countries: list[Place]) -> list[Actor]:
    taken: set[str] = set()
    kinds = [k for k, _ in _KIND_WEIGHTS]
    weights = [w for _, w in _KIND_WEIGHTS]
    actors: list[Actor] = []
    # Every country is also a state actor, as in real data.
    for country in countries:
        actors.append(
            Actor(
                _unique_id(slug(country.name) + "-state", taken),
                country.name,
                "state",
                [country.name, f"Government of {country.name}"],
                f"The state of {country.name}.",
                country.id,
            )
        )
    while len(actors) < count:
        kind = rng.choices(kinds, weights)[0]
        name, aliases = _actor_name(rng, kind, countries)
        home = rng.choice(countries)
        actors.append(
            Actor(
                _unique_id(slug(name), taken),
                name,
                kind,
                aliases,
                f"A {kind.replace('_', ' ')} active in {home.name}.",
                home.id,
            )
        )
    return actors


_SOURCE_PUBLISHERS = (
    ("Radio Free Europe/Radio Liberty", "en"),
    ("openDemocracy", "en"),
    ("Foreign Policy Centre", "en"),
    ("Asia-Plus", "ru"),
    ("Ozodi", "tg"),
    ("Eurasianet", "en"),
    ("Human Rights Watch", "en"),
    ("Amnesty International", "en"),
    ("Fergana News", "ru"),
    ("The Diplomat", "en"),
)


def write_sources(rng: random.Random, out: Path) -> list[str]:
    count = rng.randint(3, 10)
    chosen = rng.sample(_SOURCE_PUBLISHERS, count)
    ids, lines = [], []
    for i, (publisher, language) in enumerate(chosen):
        year = rng.randint(2005, 2024)
        source_id = f"{slug(publisher)}-{year}-{i}"
        ids.append(source_id)
        lines += [
            f"- id: {q(source_id)}",
            f"  title: {q(f'{publisher} report {year}: events and reactions')}",
            f"  author: {q(rng.choice(_FIRST) + ' ' + rng.choice(_ROOTS) + 'ov')}",
            f"  publisher: {q(publisher)}",
            f"  published: {q(f'{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}')}",
            "  published_basis: explicit",
            f"  url: {q(f'https://example.org/{slug(publisher)}/{year}/{i}')}",
            f"  language: {language}",
            "",
        ]
    (out / "sources.yaml").write_text("\n".join(lines), encoding="utf-8")
    return ids


def write_actors(actors: list[Actor], out: Path) -> None:
    with (out / "actors.yaml").open("w", encoding="utf-8") as fh:
        for a in actors:
            fh.write(
                f"- id: {q(a.id)}\n  name: {q(a.name)}\n  kind: {a.kind}\n"
                f"  aliases: [{', '.join(q(x) for x in a.aliases)}]\n"
                f"  description: {q(a.description)}\n"
            )
            if a.country:
                fh.write(f"  country: {q(a.country)}\n")
            fh.write("\n")


def write_places(places: list[Place], out: Path) -> None:
    with (out / "places.yaml").open("w", encoding="utf-8") as fh:
        for p in places:
            fh.write(f"- id: {q(p.id)}\n  name: {q(p.name)}\n  kind: {p.kind}\n")
            if p.parent is not None:
                fh.write(f"  parent: {q(p.parent.id)}\n")
            fh.write(
                f"  lat: {p.lat}\n  lon: {p.lon}\n"
                f"  aliases: [{', '.join(q(x) for x in dict.fromkeys(p.aliases))}]\n\n"
            )


# --- events --------------------------------------------------------------------------------

_TYPE_WEIGHTS: dict[str, int] = {
    "statement": 12,
    "arrest": 10,
    "protest": 9,
    "armed_clash": 7,
    "detention": 6,
    "sentencing": 6,
    "killing": 4,
    "diplomatic_visit": 5,
    "agreement": 4,
    "legislation": 4,
    "appointment": 4,
    "dismissal": 3,
    "election": 2,
    "censorship": 3,
    "media_closure": 2,
    "ban": 2,
    "designation": 1,
    "abduction": 2,
    "disappearance": 2,
    "deportation": 2,
    "extradition": 1,
    "migration": 2,
    "asylum": 1,
    "aid": 2,
    "resolution": 1,
    "mandate_decision": 1,
    "constitutional_change": 1,
    "assassination_attempt": 1,
    "attack_on_mission": 1,
    "other": 3,
}

# title template, first actor's role, second actor's role
_TYPE_TEXT: dict[str, tuple[str, str, str]] = {
    "armed_clash": ("Clashes between {a} and {b} in {p}", "party", "party"),
    "killing": ("{a} killed in {p}", "victim", "perpetrator"),
    "assassination_attempt": ("Attempt on the life of {a} in {p}", "target", "perpetrator"),
    "arrest": ("{a} arrested in {p}", "detainee", "perpetrator"),
    "detention": ("{a} detained in {p}", "detainee", "perpetrator"),
    "sentencing": ("{a} sentenced in {p}", "defendant", "court"),
    "abduction": ("{a} abducted in {p}", "victim", "perpetrator"),
    "disappearance": ("{a} disappears in {p}", "victim", "suspect"),
    "deportation": ("{a} deported from {p}", "subject", "authority"),
    "extradition": ("{b} seeks extradition of {a} from {p}", "subject", "requester"),
    "ban": ("{b} bans {a}", "target", "authority"),
    "designation": ("{b} designates {a} as extremist", "target", "authority"),
    "election": ("Elections in {p}: {a} declared winner", "candidate", "organizer"),
    "constitutional_change": ("Constitutional referendum in {p}", "initiator", "organizer"),
    "legislation": ("{a} adopts a new law in {p}", "legislator", "subject"),
    "appointment": ("{a} appointed by {b}", "appointee", "appointer"),
    "dismissal": ("{a} dismissed by {b}", "subject", "authority"),
    "protest": ("Protest by {a} in {p}", "organizer", "target"),
    "attack_on_mission": ("Attack on the mission of {a} in {p}", "target", "perpetrator"),
    "censorship": ("{b} blocks {a}", "target", "perpetrator"),
    "media_closure": ("{a} closed in {p}", "subject", "authority"),
    "diplomatic_visit": ("{a} visits {p}", "visitor", "host"),
    "agreement": ("{a} and {b} sign an agreement in {p}", "party", "party"),
    "mandate_decision": ("{b} decides on the mandate of {a}", "subject", "authority"),
    "aid": ("{a} sends aid to {p}", "donor", "recipient"),
    "statement": ("{a} issues a statement on {p}", "speaker", "subject"),
    "resolution": ("{a} adopts a resolution on {p}", "author", "subject"),
    "migration": ("Migrants from {p} leave for work abroad", "subject", "authority"),
    "asylum": ("{a} seeks asylum abroad", "applicant", "authority"),
    "other": ("{a}: events in {p}", "subject", "participant"),
}

# Types whose first actor is nearly always a person.
_ABOUT_A_PERSON = frozenset(
    _words(
        "killing assassination_attempt arrest detention sentencing abduction disappearance "
        "deportation extradition appointment dismissal asylum"
    )
)
_METRICS = ("killed", "injured", "arrested", "detained", "participants", "displaced")
_MONTHS = tuple(calendar.month_name)
_SEASONS = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}


def _when(rng: random.Random, year: int) -> tuple[int, str, str]:
    """(sort day, EDTF date, phrase for the summary) with the real mix of precisions."""
    roll = rng.random()
    first = date(year, 1, 1).toordinal()
    days = 366 if calendar.isleap(year) else 365
    if roll < 0.35:  # day
        d = date.fromordinal(first + rng.randrange(days))
        return d.toordinal(), d.isoformat(), f"on {d.day} {_MONTHS[d.month]} {year}"
    if roll < 0.65:  # month
        m = rng.randint(1, 12)
        return date(year, m, 1).toordinal(), f"{year}-{m:02d}", f"in {_MONTHS[m]} {year}"
    if roll < 0.80:  # year
        return first, f"{year}", f"in {year}"
    if roll < 0.85:  # season
        s = rng.randint(21, 24)
        start = date(year, (3, 6, 9, 12)[s - 21], 1).toordinal()
        return start, f"{year}-{s}", f"in the {_SEASONS[s]} of {year}"
    if roll < 0.95:  # interval
        kind = rng.random()
        if kind < 0.5:
            d1 = date.fromordinal(first + rng.randrange(days))
            d2 = date.fromordinal(
                min(d1.toordinal() + rng.randint(1, 60), date(LAST_YEAR, 12, 31).toordinal())
            )
            phrase = (
                f"between {d1.day} {_MONTHS[d1.month]} {d1.year} "
                f"and {d2.day} {_MONTHS[d2.month]} {d2.year}"
            )
            return d1.toordinal(), f"{d1.isoformat()}/{d2.isoformat()}", phrase
        if kind < 0.8:
            m1 = rng.randint(1, 12)
            months = m1 + rng.randint(1, 8)
            y2, m2 = year + (months - 1) // 12, (months - 1) % 12 + 1
            if y2 > LAST_YEAR:
                y2, m2 = year, 12
            phrase = f"from {_MONTHS[m1]} {year} to {_MONTHS[m2]} {y2}"
            return date(year, m1, 1).toordinal(), f"{year}-{m1:02d}/{y2}-{m2:02d}", phrase
        y2 = min(LAST_YEAR, year + rng.randint(1, 3))
        if y2 == year:
            return first, f"{year}", f"in {year}"
        return first, f"{year}/{y2}", f"between {year} and {y2}"
    # approximate / uncertain flags on a day, month or year date
    flag = rng.choices(("~", "?", "%"), (6, 3, 1))[0]
    word = {"~": "around", "?": "possibly", "%": "possibly around"}[flag]
    kind = rng.random()
    if kind < 0.4:
        m = rng.randint(1, 12)
        return date(year, m, 1).toordinal(), f"{year}-{m:02d}{flag}", f"{word} {_MONTHS[m]} {year}"
    if kind < 0.8:
        return first, f"{year}{flag}", f"{word} {year}"
    d = date.fromordinal(first + rng.randrange(days))
    return d.toordinal(), f"{d.isoformat()}{flag}", f"{word} {d.day} {_MONTHS[d.month]} {year}"


def _year_counts(n: int) -> dict[int, int]:
    """How many events each year gets: more in recent decades, as in real collections."""
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    weights = [1 + 4 * ((y - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR)) ** 2 for y in years]
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(years)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return dict(zip(years, counts, strict=True))


class EventWriter:
    """Generates events one at a time and writes them as YAML text."""

    def __init__(self, rng: random.Random, world: World) -> None:
        self.rng = rng
        self.w = world
        self.recent: deque[str] = deque(maxlen=2000)
        self.type_names = list(_TYPE_WEIGHTS)
        self.type_cum = list(_cum(_TYPE_WEIGHTS.values()))
        missing = set(EVENT_TYPES) - set(_TYPE_WEIGHTS)
        if missing:  # pragma: no cover - the vocabulary grew; give new types a share
            self.type_names += sorted(missing)
            self.type_cum += [self.type_cum[-1] + i + 1 for i in range(len(missing))]
        self.q_actor = {a.id: q(a.id) for a in world.actors}
        self.q_place = {p.id: q(p.id) for p in world.places}
        self.q_source = {s: q(s) for s in world.sources}
        self.q_tag = {t: q(t) for t in world.tags}

    def sentences(self, size: int, target: int) -> list[str]:
        """Sentences of Zipf-drawn words adding about `target - size` characters."""
        rng, out = self.rng, []
        # One draw for the whole summary (about 6.5 characters a word with its space).
        words = rng.choices(self.w.vocab, cum_weights=self.w.vocab_cum, k=(target - size) // 6 + 8)
        start = 0
        while size < target and start < len(words):
            length = rng.randint(6, 22)
            text = " ".join(words[start : start + length])
            start += length
            if size + len(text) + 2 > 800:
                break
            out.append(text[0].upper() + text[1:] + ".")
            size += len(text) + 2
        if size < 200:  # a long lead left little room: pad with a short sentence
            text = " ".join(rng.choices(self.w.vocab, cum_weights=self.w.vocab_cum, k=12))
            out.append(text[0].upper() + text[1:] + ".")
        return out

    def write(self, fh: TextIO, event_id: str, edtf: str, phrase: str, year: int) -> None:
        rng, w = self.rng, self.w
        etype = rng.choices(self.type_names, cum_weights=self.type_cum)[0]
        template, role_a, role_b = _TYPE_TEXT.get(etype, _TYPE_TEXT["other"])

        n_actors = rng.choices((1, 2, 3, 4), (45, 35, 14, 6))[0]
        picked = rng.choices(w.actors, cum_weights=w.actor_cum, k=n_actors + 1)
        if etype in _ABOUT_A_PERSON:
            picked[0] = rng.choices(w.persons, cum_weights=w.person_cum)[0]
        picked = list(dict.fromkeys(picked))
        actor_a = picked[0]
        actor_b = picked[1] if len(picked) > 1 else picked[0]
        refs = [(actor_a.id, role_a)]
        if actor_b is not actor_a:
            refs.append((actor_b.id, role_b))
        refs += [(a.id, "participant") for a in picked[2:n_actors]]

        roll = rng.random()
        if roll < 0.8:
            place = rng.choices(w.cities, cum_weights=w.city_cum)[0]
        elif roll < 0.92:
            place = rng.choice(w.regions)
        else:
            place = rng.choice(w.countries)
        places = [place]
        if rng.random() < 0.15:
            other = rng.choices(w.cities, cum_weights=w.city_cum)[0]
            if other is not place:
                places.append(other)
        country = place.country.name if place.country else place.name

        title = template.format(a=actor_a.name, b=actor_b.name, p=place.name)
        where = "" if "{p}" in template else f" in {place.name}"
        lead = f"{title}{where} {phrase}" + (f", {country}." if country != place.name else ".")
        sentences = [lead]
        if etype == "protest" or rng.random() < 0.15:
            sentences.append(
                f"The {COMMON_WORD} drew {rng.choice(('dozens', 'hundreds', 'thousands'))} "
                f"of people in {place.name}."
            )
        if rng.random() < RARE_SHARE:
            sentences.append(f"Witnesses mentioned the {RARE_WORD} quarter of {place.name}.")
        size = sum(len(s) + 1 for s in sentences)
        sentences += self.sentences(size, rng.randint(200, 800))
        summary = " ".join(sentences)

        n_cit = rng.choices((1, 2, 3), (55, 30, 15))[0]
        cited = rng.sample(w.sources, min(n_cit, len(w.sources)))
        out = [
            f"- id: {event_id}\n  title: {q(title)}\n  date: {q(edtf)}\n  type: {etype}\n"
            f"  summary: {q(summary)}\n  actors:\n"
        ]
        out += [f"    - {{actor: {self.q_actor[a]}, role: {role}}}\n" for a, role in refs]
        out.append(f"  places: [{', '.join(self.q_place[p.id] for p in places)}]\n")
        n_tags = rng.choices((1, 2, 3, 4), (30, 35, 25, 10))[0]
        tags = dict.fromkeys(
            [etype.replace("_", "-"), *rng.choices(w.tags, cum_weights=w.tag_cum, k=n_tags)]
        )
        out.append(f"  tags: [{', '.join(self.q_tag.get(t) or q(t) for t in tags)}]\n")
        out.append("  citations:\n")
        disagreement = len(cited) > 1 and rng.random() < 0.05
        for i, source in enumerate(cited):
            quote = sentences[min(i, len(sentences) - 1)]
            extra = ""
            if disagreement and i == 1:
                extra = f", claimed_date: {q(str(min(year + 1, LAST_YEAR)))}"
            out.append(f"    - {{source: {self.q_source[source]}, quote: {q(quote)}{extra}}}\n")
        n_fig = rng.choices((0, 1, 2), (70, 20, 10))[0]
        if n_fig:
            out.append("  figures:\n")
            metric = rng.choice(_METRICS)
            for i in range(n_fig):
                source = cited[i % len(cited)]
                if rng.random() < 0.6:
                    value = rng.randint(1, 500)
                    out.append(
                        f"    - {{metric: {metric}, value: {value}, "
                        f"source: {self.q_source[source]}, "
                        f"quote: {q(f'{value} people were reported {metric}')}}}\n"
                    )
                else:
                    low = rng.randint(1, 200)
                    high = low + rng.randint(1, 300)
                    out.append(
                        f"    - {{metric: {metric}, low: {low}, high: {high}, approximate: true, "
                        f"source: {self.q_source[source]}, "
                        f"quote: {q(f'between {low} and {high} people were {metric}')}}}\n"
                    )
        if self.recent and rng.random() < 0.08:
            related = dict.fromkeys(
                rng.sample(self.recent, min(len(self.recent), rng.randint(1, 2)))
            )
            out.append(f"  related: [{', '.join(related)}]\n")
        if disagreement:
            out.append(
                f"  notes: {q('Sources disagree on the date; both are recorded as cited.')}\n"
            )
        out.append("\n")
        fh.write("".join(out))
        self.recent.append(event_id)


def _cum(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def build_world(
    rng: random.Random, n: int, out: Path, countries: int, regions: int, cities: int
) -> World:
    places, country_list, region_list, city_list = make_places(rng, countries, regions, cities)
    actors = make_actors(rng, max(200, n // 50), country_list)
    sources = write_sources(rng, out)
    write_actors(actors, out)
    write_places(places, out)
    # Popularity: actors and cities in a random order, then Zipf by that rank.
    popular_actors = actors[:]
    rng.shuffle(popular_actors)
    persons = [a for a in popular_actors if a.kind == "person"]
    popular_cities = city_list[:]
    rng.shuffle(popular_cities)
    # Real words carry 94% of the text (Zipf); made-up words the other 6%, themselves
    # Zipf-distributed, so the text has terms of every frequency down to very rare ones.
    tail = _pseudo_words(rng, 5000)
    head_cum = zipf_cum_weights(len(_COMMON), 1.0, 2.7)
    tail_cum = zipf_cum_weights(len(tail), 1.0, 1.0)
    scale = head_cum[-1] * 0.06 / 0.94 / tail_cum[-1]
    vocab = _COMMON + tail
    vocab_cum = head_cum + [head_cum[-1] + c * scale for c in tail_cum]
    tags = [
        "opposition", "human-rights", "security", "elections", "media", "religion",
        "migration", "economy", "diplomacy", "border", "justice", "transnational-repression",
        "civil-society", "energy", "water", "corruption", "youth", "women", "labour",
        "health", "education", "military", "police", "prisons", "refugees",
    ]  # fmt: skip
    tags += [slug(word) for word in _pseudo_words(rng, 200)]
    return World(
        sources=sources,
        actors=popular_actors,
        actor_cum=zipf_cum_weights(len(popular_actors), 1.07, 1.0),
        persons=persons,
        person_cum=zipf_cum_weights(len(persons), 1.07, 1.0),
        places=places,
        cities=popular_cities,
        city_cum=zipf_cum_weights(len(popular_cities), 0.9, 2.0),
        regions=region_list,
        countries=country_list,
        vocab=vocab,
        vocab_cum=vocab_cum,
        tags=tags,
        tag_cum=zipf_cum_weights(len(tags), 1.0, 1.0),
    )


_WORKER: dict[str, object] = {}


def _init_worker(world: World, seed: int, events_dir: Path) -> None:
    _WORKER.update(world=world, seed=seed, events_dir=events_dir)


def _write_year(year: int, count: int) -> int:
    world, seed, events_dir = _WORKER["world"], _WORKER["seed"], _WORKER["events_dir"]
    assert isinstance(world, World) and isinstance(events_dir, Path)
    rng = random.Random(f"{seed}-{year}")
    writer = EventWriter(rng, world)
    dates = sorted(_when(rng, year) for _ in range(count))
    with (events_dir / f"{year}.yaml").open("w", encoding="utf-8", buffering=1 << 20) as fh:
        for k, (_, edtf, phrase) in enumerate(dates, 1):
            writer.write(fh, f'"{year}-{k:06d}"', edtf, phrase, year)
    return count


def generate(
    n: int,
    out: Path,
    *,
    seed: int = 1,
    countries: int = 30,
    regions: int = 10,
    cities: int = 8,
    jobs: int = 1,
) -> dict[str, int]:
    """Write an `n`-event dataset into `out`; returns counts of what was written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    events_dir = out / "events"
    events_dir.mkdir(exist_ok=True)
    for old in events_dir.glob("*.yaml"):
        old.unlink()
    world = build_world(rng, n, out, countries, regions, cities)
    # Each year has its own random stream, so the output is the same for any --jobs.
    todo = sorted(
        ((year, count) for year, count in _year_counts(n).items() if count),
        key=lambda item: -item[1],
    )
    if jobs <= 1:
        _init_worker(world, seed, events_dir)
        written = sum(_write_year(year, count) for year, count in todo)
    else:
        with ProcessPoolExecutor(
            jobs, initializer=_init_worker, initargs=(world, seed, events_dir)
        ) as pool:
            written = sum(pool.map(_write_year, *zip(*todo, strict=True)))
    return {
        "events": written,
        "actors": len(world.actors),
        "places": len(world.places),
        "sources": len(world.sources),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int, help="number of events")
    parser.add_argument("--out", required=True, type=Path, help="dataset directory to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--countries", type=int, default=30)
    parser.add_argument("--regions", type=int, default=10, help="regions per country")
    parser.add_argument("--cities", type=int, default=8, help="cities per region")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("n must be at least 1")
    started = time.perf_counter()
    counts = generate(
        args.n,
        args.out,
        seed=args.seed,
        countries=args.countries,
        regions=args.regions,
        cities=args.cities,
        jobs=args.jobs,
    )
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"wrote {summary} to {args.out} in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
