"""/sources: how each source is dated, and what it reports."""

from __future__ import annotations


def test_sources_oldest_first(client):
    body = client.get("/sources").json()
    assert [(s["id"], s["event_count"]) for s in body["items"]] == [
        ("beta-2014", 7),
        ("gamma-2016", 1),
        ("alpha-2017", 9),
    ]


def test_inferred_date_carries_its_basis(client):
    body = client.get("/sources/gamma-2016").json()
    assert (body["published"], body["published_basis"]) == ("2016-08~", "inferred")
    assert body["basis_note"].startswith("No date printed")
    assert body["archive"] is None


def test_source_detail_and_events(client):
    body = client.get("/sources/beta-2014").json()
    assert (body["archive"], body["url"], body["first_date"], body["last_date"]) == (
        "beta.txt",
        "https://example.org/beta",
        "2002-11-01",
        "2016-12-31",
    )
    events = client.get("/sources/beta-2014/events?type=arrest").json()
    assert [e["id"] for e in events["items"]] == ["2014-06-sodiqov-arrested"]


def test_unknown_source_404s(client):
    assert client.get("/sources/nope").status_code == 404
    assert client.get("/sources/nope/events").json()["message"] == "source 'nope' not found"
