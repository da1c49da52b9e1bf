"""/actors: directory, detail and the actor's events."""

from __future__ import annotations


def test_list_actors_sorted_by_name_with_aliases_and_counts(client):
    body = client.get("/actors").json()
    assert [a["id"] for a in body["items"]] == [
        "alexander-sodiqov",
        "berengere-muller",
        "emomali-rahmon",
        "tajik-government",
        "group-24",
        "irpt",
        "osce",
        "umarali-quvvatov",
    ]
    assert (body["total"], body["next_cursor"]) == (8, None)
    quvvatov = body["items"][-1]
    assert quvvatov == {
        "id": "umarali-quvvatov",
        "name": "Umarali Quvvatov",
        "kind": "person",
        "description": "Leader of Group 24.",
        "country": "tajikistan",
        "aliases": ["Quvvatov", "Quvatov", "Kuvvatov"],
        "event_count": 1,
    }


def test_actor_search_and_kind(client):
    assert [a["id"] for a in client.get("/actors?q=kuvat").json()["items"]] == ["umarali-quvvatov"]
    assert [a["id"] for a in client.get("/actors?kind=party").json()["items"]] == ["irpt"]
    assert client.get("/actors?kind=alien").status_code == 422
    # Search as you type: Rakhmonov keys to rahmonov, and `Rak` stops inside the kh.
    for typed in ("Rak", "Rakh", "Rakhmonov", "rahm"):
        found = [a["id"] for a in client.get("/actors", params={"q": typed}).json()["items"]]
        assert "emomali-rahmon" in found, typed
    # A completed group is looked for where a word begins: `Dz` (dzh, keyed j) does not
    # find every name with a j inside it (Tajikistan, keyed tajikistan).
    assert client.get("/actors?q=Dz").json()["items"] == []
    assert client.get("/actors?q=tajik").json()["total"] == 2


def test_actor_paging(client):
    first = client.get("/actors?limit=5").json()
    second = client.get(f"/actors?limit=5&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == 5
    assert [a["id"] for a in second["items"]] == ["irpt", "osce", "umarali-quvvatov"]
    assert second["next_cursor"] is None


def test_actor_detail(client):
    body = client.get("/actors/irpt").json()
    assert body == {
        "id": "irpt",
        "name": "Islamic Renaissance Party of Tajikistan",
        "kind": "party",
        "description": None,
        "country": None,
        "aliases": ["IRPT", "Islamic Renaissance Party"],
        "event_count": 3,
        "first_date": "2015-03-01",
        "last_date": "2016-06-30",
    }


def test_actor_events_take_event_filters(client):
    body = client.get("/actors/irpt/events?from=2015-09").json()
    assert [e["id"] for e in body["items"]] == ["2015-09-irpt-banned", "2015-09-irpt-trials"]
    # the scope is ANDed with an actor filter, not ORed
    assert client.get("/actors/irpt/events?actor=osce").json()["total"] == 0


def test_unknown_actor_404s(client):
    for path in ("/actors/nobody", "/actors/nobody/events"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["message"] == "actor 'nobody' not found"
