"""The shipped dataset: valid, every quote verbatim, the headline events complete.

These tests read `data/` and the source snapshots in `../shared/seeds/`; they check facts a
researcher relies on, so they name events by id and compare against the sources' words.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from app.dataset import Dataset, EventRecord
from app.dates import parse_edtf
from app.quotes import verify_quotes
from app.reader import read_dataset
from app.text import name_key
from tests.conftest import PROJECT

DATA = PROJECT / "data"
SEEDS = PROJECT.parent / "shared" / "seeds"
ARTICLES = {"belafatti-2014", "sobiri-2017", "hug-2021", "pannier-2016", "abdullo-2003"}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return read_dataset(DATA)


@pytest.fixture(scope="module")
def events(dataset) -> dict[str, EventRecord]:
    return {e.record.id: e.record for e in dataset.events}


def test_every_quote_is_verbatim_in_its_source(dataset):
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} (the source snapshots) is not beside the project")
    checked, problems = verify_quotes(dataset, SEEDS)
    assert [str(p) for p in problems] == []
    assert checked >= 2 * len(dataset.events)


def test_every_article_is_archived_and_every_outside_source_has_an_address(dataset):
    for item in dataset.sources:
        source = item.record
        if source.id in ARTICLES:
            assert source.archive and (SEEDS / source.archive).name == source.archive
        else:
            assert source.archive is None and source.url, source.id
    assert {s.record.id for s in dataset.sources} >= ARTICLES


def test_undated_sources_say_how_their_date_was_inferred(dataset):
    inferred = {
        s.record.id: s.record for s in dataset.sources if s.record.published_basis == "inferred"
    }
    assert set(inferred) == {"pannier-2016", "abdullo-2003"}
    assert all(len(s.basis_note or "") > 40 for s in inferred.values())


def test_every_article_is_cited(dataset):
    cited = {c.source for e in dataset.events for c in e.record.citations}
    assert cited >= ARTICLES


def test_khorog_clashes_with_both_casualty_accounts(events):
    khorog = events["2012-07-khorog-clashes"]
    assert (khorog.date, khorog.type, khorog.places[0]) == ("2012-07-24", "armed_clash", "khorog")
    killed = {(f.source, f.value, f.approximate) for f in khorog.figures if f.metric == "killed"}
    assert killed == {("belafatti-2014", 70, True), ("sobiri-2017", 41, False)}
    claimed = {c.claimed_date for c in khorog.citations if c.source == "sobiri-2017"}
    assert "2012-06-24" in claimed
    assert khorog.notes and "24 June" in khorog.notes


def test_quvvatov_killing(events):
    killing = events["2015-03-quvvatov-killed-istanbul"]
    assert (killing.date, killing.type, killing.places) == ("2015-03", "killing", ["istanbul"])
    assert ("umarali-quvvatov", "victim") in {(a.actor, a.role) for a in killing.actors}
    assert {c.source for c in killing.citations} >= {"sobiri-2017", "pannier-2016"}


def test_irpt_ban_sequence_is_linked(events):
    irpt = {i: e for i, e in events.items() if "irpt" in {a.actor for a in e.actors}}
    ban = events["2015-irpt-banned"]
    assert ban.type == "ban" and ban.span.start.year == 2015
    seats = [e for e in irpt.values() if e.type == "election" and e.date.startswith("2015-03")]
    assert seats, "the loss of the IRPT's seats in March 2015"
    trials = [
        e for e in irpt.values() if e.type in ("sentencing", "arrest") and e.span.start.year == 2015
    ]
    assert trials, "the arrests and trials of its leaders"
    designation = [e for e in irpt.values() if e.type == "designation"]
    assert designation
    linked = set(ban.related) | {i for i, e in events.items() if ban.id in e.related}
    assert seats[0].id in linked
    assert {t.id for t in trials} & linked


def test_osce_mandate_dispute(events):
    osce = {i: e for i, e in events.items() if "osce" in {a.actor for a in e.actors}}
    extension = [
        e for e in osce.values() if e.type == "mandate_decision" and e.date.startswith("2017-03")
    ]
    assert len(extension) == 1
    assert "six months" in " ".join(c.quote for c in extension[0].citations)
    assert any(e.date.startswith("2016-10") and e.type == "statement" for e in osce.values())
    protests = [e for e in events.values() if e.type == "protest" and e.span.start.year == 2016]
    places = {p for e in protests for p in e.places}
    assert "dushanbe" in places and "warsaw" in places  # the EU office and the OSCE meeting
    steps = [e.id for e in osce.values() if 2016 <= e.span.start.year <= 2017]
    related = {r for i in steps for r in events[i].related}
    assert related & set(steps), "the dispute's steps are linked"


@pytest.mark.parametrize(
    "spellings",
    [
        ["Quvvatov", "Quvatov", "Kuvvatov"],
        ["Rahmon", "Rakhmonov", "Emomali Rahmon", "Imomali Rakhmonov"],
        ["Atovulloyev", "Atovullo"],
        ["Rustami Emomali", "Rustam Emomali"],
        ["IRPT", "Islamic Renaissance Party of Tajikistan"],
        ["Group 24"],
    ],
)
def test_alias_groups_resolve_to_one_actor(dataset, spellings):
    owners: dict[str, set[str]] = defaultdict(set)
    for item in dataset.actors:
        actor = item.record
        for name in (actor.name, *actor.aliases):
            owners[name_key(name)].add(actor.id)
    found = [owners.get(name_key(s), set()) for s in spellings]
    assert all(len(ids) == 1 for ids in found), dict(zip(spellings, found, strict=True))
    assert len(set().union(*found)) == 1


@pytest.mark.parametrize(
    "spellings",
    [["GBAO", "Gorno-Badakhshan", "Badakhshan", "Gorno-Badakhshan Autonomous Oblast"]],
)
def test_place_abbreviations_readers_use_find_the_place(dataset, spellings):
    owners: dict[str, set[str]] = defaultdict(set)
    for item in dataset.places:
        for name in (item.record.name, *item.record.aliases):
            owners[name_key(name)].add(item.record.id)
    assert {frozenset(owners.get(name_key(s), set())) for s in spellings} == {
        frozenset({"gorno-badakhshan"})
    }


def test_every_place_is_located_and_inside_a_country(dataset):
    places = {p.record.id: p.record for p in dataset.places}
    for place in places.values():
        assert place.lat is not None and place.lon is not None, place.id
        top = place
        while top.parent is not None:
            top = places[top.parent]
        assert top.kind == "country", place.id


# Pairs sharing date, type and actors that are nonetheless different events.
DISTINCT = {
    frozenset({"2001-internet-censorship-relaxed", "2001-ngo-registration-cost-reduced"}),
}


def test_no_duplicate_events(dataset):
    seen: dict[tuple[str, str, frozenset[str]], str] = {}
    duplicates = []
    for item in dataset.events:
        event = item.record
        key = (event.date, event.type, frozenset(a.actor for a in event.actors))
        if key in seen and frozenset({seen[key], event.id}) not in DISTINCT:
            duplicates.append((seen[key], event.id))
        seen.setdefault(key, event.id)
    assert duplicates == []


def _file_holds_year(name: str, year: int) -> bool:
    """`2017.yaml`, `2000s.yaml` or `2010-2011.yaml` holding `year`."""
    stem = Path(name).stem
    if stem.endswith("s"):
        return int(stem[:-1]) <= year < int(stem[:-1]) + 10
    first, _, last = stem.partition("-")
    return int(first) <= year <= int(last or first)


def test_events_known_only_to_precede_an_article_end_at_its_date(dataset):
    # DESIGN rule 2: such an event is an interval ending at the article's publication date,
    # with an open start when the text gives no earlier anchor; it sits in its end year's file.
    published = {s.record.id: parse_edtf(s.record.published) for s in dataset.sources}
    open_start = [e for e in dataset.events if e.record.date.startswith("../")]
    assert open_start
    for item in open_start:
        event = item.record
        end = parse_edtf(event.date.partition("/")[2])
        cited = [published[c.source] for c in event.citations if c.claimed_date is None]
        assert any(end.start <= p.start and p.end <= end.end for p in cited), event.id
        assert _file_holds_year(item.file, end.start.year), (event.id, item.file)
        assert event.id.startswith(f"{end.start.year}-"), event.id
        assert event.notes and "../" in event.notes, event.id


@pytest.mark.parametrize(
    ("event_id", "date", "kind"),
    [
        ("2015-kabiri-flees-to-eu-asylum", "2015/2017-07-07", "asylum"),
        ("2017-ibragimov-abducted-russia", "../2017-07-07", "abduction"),
        ("2017-ibragimov-sentenced-17-years", "../2017-07-07", "sentencing"),
        ("2021-shovalizoda-deported-from-austria", "../2021-05-17", "deportation"),
        ("2014-07-odnoklassniki-unblocked", "2014-07/2014-09-08", "policy_change"),
    ],
)
def test_events_dated_only_before_publication_are_recorded(events, event_id, date, kind):
    assert (events[event_id].date, events[event_id].type) == (date, kind)


def test_other_is_the_rare_exception(dataset):
    """The contract allows `other` for at most 8% of events; a recurring kind gets a type."""
    others = [e.record.id for e in dataset.events if e.record.type == "other"]
    assert len(others) <= 0.08 * len(dataset.events), others


def test_readme_counts_match(dataset):
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert f"| **all** | **{len(dataset.events)}** |" in readme


def test_shipped_data_is_what_the_readme_serves(dataset):
    assert Path(DATA, "events").is_dir() and len(dataset.events) > 100
