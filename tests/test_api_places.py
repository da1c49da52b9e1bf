"""/places: the hierarchy (Khorog inside Gorno-Badakhshan inside Tajikistan)."""

from __future__ import annotations


def test_place_detail_has_parents_and_children(client):
    body = client.get("/places/gorno-badakhshan").json()
    assert body["parents"] == [
        {"id": "tajikistan", "name": "Tajikistan", "kind": "country", "lat": 38.861, "lon": 71.2761}
    ]
    assert [c["id"] for c in body["children"]] == ["khorog"]
    assert (body["aliases"], body["event_count"]) == (["GBAO"], 3)
    assert (body["first_date"], body["last_date"]) == ("2012-07-24", "2014-06-30")


def test_khorog_chain(client):
    body = client.get("/places/khorog").json()
    assert [p["id"] for p in body["parents"]] == ["tajikistan", "gorno-badakhshan"]
    assert body["children"] == []
    assert body["aliases"] == ["Khorugh", "Хоруғ"]


def test_country_counts_include_events_inside(client):
    body = client.get("/places?kind=country").json()
    counts = {p["id"]: p["event_count"] for p in body["items"]}
    assert counts == {"poland": 1, "russia": 1, "tajikistan": 8, "turkey": 1}


def test_place_list_filters(client):
    assert [p["id"] for p in client.get("/places?parent=tajikistan").json()["items"]] == [
        "dushanbe",
        "gorno-badakhshan",
    ]
    assert [p["id"] for p in client.get("/places?q=xorug").json()["items"]] == ["khorog"]


def test_a_parent_is_named_as_a_place_filter_is(client):
    inside = [p["id"] for p in client.get("/places?parent=tajikistan").json()["items"]]
    for name in ("Tajikistan", "TAJIKISTAN", " tajikistan "):
        body = client.get("/places", params={"parent": name}).json()
        assert [p["id"] for p in body["items"]] == inside, name
    # A parent matching no place is refused, not answered with an empty list.
    response = client.get("/places?parent=Tajikstan")
    assert response.status_code == 422
    detail = response.json()["details"][0]
    assert detail["parameter"] == "parent" and "Tajikistan" in detail["message"]
    # A place with nothing inside it is a real empty answer.
    assert client.get("/places?parent=khorog").json()["items"] == []


def test_place_without_coordinates_is_null(client):
    body = client.get("/places/poland").json()
    assert (body["lat"], body["lon"]) == (None, None)


def test_place_events_include_the_subtree(client):
    body = client.get("/places/tajikistan/events?from=2012&to=2012").json()
    assert [e["id"] for e in body["items"]] == ["2012-07-khorog-clashes"]


def test_unknown_place_404s(client):
    assert client.get("/places/atlantis").json()["message"] == "place 'atlantis' not found"
    assert client.get("/places/atlantis/events").status_code == 404


def test_a_name_typed_so_far_finds_the_place(client):
    # Gorno-Badakhshan is keyed gorno badahshan: `Badak` stops inside the kh.
    for typed in ("Badak", "badakh", "Gorno-Badak", "Gorno-Badakhshan"):
        ids = [p["id"] for p in client.get("/places", params={"q": typed}).json()["items"]]
        assert "gorno-badakhshan" in ids, typed
    events = client.get("/events", params={"q": "Badak"}).json()
    assert events["total"] == client.get("/events?q=Badakhshan").json()["total"] > 0
