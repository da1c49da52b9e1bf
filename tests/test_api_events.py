"""/events and /events/{id}: every filter alone and combined, paging, and errors."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from app.schemas import EventSummary

ALL = [
    "1992-civil-war",
    "2002-11-deportation-moscow",
    "2002-12-muller-visit",
    "2012-07-khorog-clashes",
    "2014-05-gbao-clashes",
    "2014-06-sodiqov-arrested",
    "2014-summer-embassy-attack",
    "2015-03-irpt-loses-seats",
    "2015-03-group24-statement",
    "2015-03-quvvatov-killed-istanbul",
    "2015-09-irpt-banned",
    "2015-09-irpt-trials",
    "2016-asylum-warsaw",
    "2016-10-osce-condemnation",
    "2017-03-osce-extension",
]


def ids(client, query: str) -> list[str]:
    response = client.get(f"/events?limit=500&{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [item["id"] for item in body["items"]]


def test_default_lists_everything_by_start_end_id(client):
    body = client.get("/events").json()
    assert [item["id"] for item in body["items"]] == ALL
    assert (body["total"], body["next_cursor"]) == (15, None)


def test_descending_sort_is_the_exact_reverse(client):
    assert ids(client, "sort=-date") == ALL[::-1]


def test_summary_shape(client):
    item = client.get("/events?actor=Kuvvatov").json()["items"][0]
    assert item == {
        "id": "2015-03-quvvatov-killed-istanbul",
        "title": "Umarali Quvvatov shot dead in Istanbul",
        "date": "2015-03",
        "display_date": "March 2015",
        "precision": "month",
        "start": "2015-03-01",
        "end": "2015-03-31",
        "approximate": False,
        "uncertain": False,
        "type": "killing",
        "summary": "The Group 24 leader was shot dead in Istanbul.",
        "actors": [
            {
                "id": "umarali-quvvatov",
                "name": "Umarali Quvvatov",
                "kind": "person",
                "role": "victim",
            }
        ],
        "places": [
            {"id": "istanbul", "name": "Istanbul", "kind": "city", "lat": 41.0082, "lon": 28.9784}
        ],
        "tags": ["transnational-repression"],
        "sources": ["alpha-2017"],
        "added_in": 1,
        "changed_in": 1,
    }
    # The declared model is what clients get: every field, nothing else.
    TypeAdapter(EventSummary).validate_python(item, strict=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a window of whole years, overlap (default) against within
        ("from=2015&to=2015", ALL[7:12]),
        ("from=2015&to=2015&match=within", ALL[7:11]),
        ("to=2015", ALL[:12]),
        ("from=2016", ALL[11:]),
        ("from=2016&match=within", ALL[12:]),
        # a month-precision event against a day window: it may fall there, not surely
        (
            "from=2015-03-15&to=2015-03-20",
            ["2015-03-group24-statement", "2015-03-quvvatov-killed-istanbul"],
        ),
        ("from=2015-03-15&to=2015-03-20&match=within", []),
        ("from=2015-03-01&to=2015-03-01&match=within", ["2015-03-irpt-loses-seats"]),
        # intervals and seasons
        ("from=1995&to=1995", ["1992-civil-war"]),
        ("from=1995&to=1995&match=within", []),
        ("from=2016-07&to=2016-07", ["2016-asylum-warsaw"]),
        ("from=2014-08&to=2014-08", ["2014-summer-embassy-attack"]),
        ("from=2014-06&to=2014-06&match=within", ["2014-06-sodiqov-arrested"]),
    ],
)
def test_date_window(client, query, expected):
    assert ids(client, query) == expected


@pytest.mark.parametrize(
    "spelling",
    [
        "Kuvvatov",
        "Quvatov",
        "Quvvatov",
        "QUVVATOV",
        "umarali-quvvatov",
        "Кувватов",
        "Umarali Quvvatov",
        "umarali kuvatov",
    ],
)
def test_actor_in_any_spelling(client, spelling):
    assert ids(client, f"actor={spelling}") == ["2015-03-quvvatov-killed-istanbul"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=Rakhmonov", ["2002-12-muller-visit"]),
        ("actor=Rahmon", ["2002-12-muller-visit"]),
        ("actor=Imomali", ["2002-12-muller-visit"]),
        ("actor=Muller", ["2002-12-muller-visit"]),
        ("actor=B%C3%A9reng%C3%A8re%20M%C3%BCller", ["2002-12-muller-visit"]),
        ("actor=IRPT", ["2015-03-irpt-loses-seats", "2015-09-irpt-banned", "2015-09-irpt-trials"]),
        (
            "actor=Islamic%20Renaissance%20Party",
            ["2015-03-irpt-loses-seats", "2015-09-irpt-banned", "2015-09-irpt-trials"],
        ),
        ("actor=irpt&role=target", ["2015-09-irpt-banned"]),
        ("role=victim", ["2015-03-quvvatov-killed-istanbul"]),
        (
            "role=perpetrator",
            ["2012-07-khorog-clashes", "2014-06-sodiqov-arrested", "2015-09-irpt-banned"],
        ),
        (
            "actor=osce&actor=Kuvvatov",
            [
                "2015-03-quvvatov-killed-istanbul",
                "2016-10-osce-condemnation",
                "2017-03-osce-extension",
            ],
        ),
    ],
)
def test_actor_and_role(client, query, expected):
    assert ids(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "place=Tajikistan",
            [
                "1992-civil-war",
                "2002-12-muller-visit",
                "2012-07-khorog-clashes",
                "2014-05-gbao-clashes",
                "2014-06-sodiqov-arrested",
                "2014-summer-embassy-attack",
                "2015-03-irpt-loses-seats",
                "2015-09-irpt-banned",
            ],
        ),
        ("place=Tajikistan&from=2012&to=2012", ["2012-07-khorog-clashes"]),
        (
            "place=gorno-badakhshan",
            ["2012-07-khorog-clashes", "2014-05-gbao-clashes", "2014-06-sodiqov-arrested"],
        ),
        (
            "place=GBAO",
            ["2012-07-khorog-clashes", "2014-05-gbao-clashes", "2014-06-sodiqov-arrested"],
        ),
        ("place=Khorugh", ["2012-07-khorog-clashes", "2014-06-sodiqov-arrested"]),
        (
            "place=%D0%A5%D0%BE%D1%80%D1%83%D2%93",
            ["2012-07-khorog-clashes", "2014-06-sodiqov-arrested"],
        ),
        ("place=Turkey", ["2015-03-quvvatov-killed-istanbul"]),
        ("place=Turkey&place=Poland", ["2015-03-quvvatov-killed-istanbul", "2016-asylum-warsaw"]),
    ],
)
def test_place_includes_everything_inside(client, query, expected):
    assert ids(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=killing", ["2015-03-quvvatov-killed-istanbul"]),
        (
            "type=armed_clash&type=killing",
            [
                "1992-civil-war",
                "2012-07-khorog-clashes",
                "2014-05-gbao-clashes",
                "2015-03-quvvatov-killed-istanbul",
            ],
        ),
        ("tag=osce", ["2016-10-osce-condemnation", "2017-03-osce-extension"]),
        (
            "tag=osce&tag=migration",
            ["2016-asylum-warsaw", "2016-10-osce-condemnation", "2017-03-osce-extension"],
        ),
        ("source=gamma-2016", ["2016-asylum-warsaw"]),
        (
            "source=beta-2014",
            [
                "2002-11-deportation-moscow",
                "2002-12-muller-visit",
                "2012-07-khorog-clashes",
                "2014-05-gbao-clashes",
                "2014-06-sodiqov-arrested",
                "2014-summer-embassy-attack",
                "2016-asylum-warsaw",
            ],
        ),
    ],
)
def test_type_tag_source(client, query, expected):
    assert ids(client, query) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Istanbul", ["2015-03-quvvatov-killed-istanbul"]),
        ("kuvatov", ["2015-03-quvvatov-killed-istanbul"]),
        ("shot dead", ["2015-03-quvvatov-killed-istanbul"]),
        ("MÜLLER", ["2002-12-muller-visit"]),
        ("embassy dushanbe", ["2014-summer-embassy-attack"]),
        ("khor", ["2012-07-khorog-clashes", "2014-06-sodiqov-arrested"]),
        ("seventy", ["2012-07-khorog-clashes"]),  # from a figure's quote
        ("OSCE", ["2016-10-osce-condemnation", "2017-03-osce-extension"]),
        ("' OR 1=1 --", []),
        ("NEAR(osce", []),  # every word must match; "near" is in no event
        ('"osce"*', ["2016-10-osce-condemnation", "2017-03-osce-extension"]),
        ("100%_", []),
    ],
)
def test_full_text(client, q, expected):
    assert ids(client, f"q={q}") == expected


@pytest.mark.parametrize(
    ("query", "parameter", "hint"),
    [
        ("actor=Quvvatof", "actor", "Quvvatov"),
        ("actor=nobody-at-all", "actor", ""),
        ("place=Chorog", "place", "Khorog"),
        ("source=alpha-2071", "source", "alpha-2017"),
        ("role=victm", "role", "victim"),
        ("tag=osc", "tag", "osce"),
    ],
)
def test_a_value_matching_nothing_is_refused_with_the_closest_names(client, query, parameter, hint):
    """A typo must not look like "nothing happened": 422, naming the closest values."""
    response = client.get(f"/events?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["details"][0]["parameter"] == parameter
    assert "matches no " + parameter in body["message"]
    assert hint in body["message"]
    if not hint:
        assert "did you mean" not in body["message"]


def test_filters_combine_with_and(client):
    assert ids(client, "actor=irpt&type=ban&from=2015-09&place=Dushanbe") == ["2015-09-irpt-banned"]
    assert ids(client, "actor=irpt&type=killing") == []


@pytest.mark.parametrize("query", ["", "sort=-date", "from=2014&to=2016", "place=Tajikistan"])
@pytest.mark.parametrize("limit", [1, 2, 4, 7])
def test_walking_every_page_gives_the_single_page_result(client, query, limit):
    expected = ids(client, query)
    seen: list[str] = []
    cursor = None
    while True:
        url = f"/events?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        assert body["total"] == len(expected)
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == limit
    assert seen == expected
    assert len(set(seen)) == len(seen)


WINDOWS = [
    ("1990", "1995"),
    ("1995", "2014"),
    ("2002-11", "2002-11"),
    ("2002-12-15", "2015-03-10"),
    ("2014", "2014"),
    ("2014-07", "2015-02"),
    ("2015-03-05", "2016-12-31"),
    ("2016", None),
    ("2016-11", "2017-02"),
]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
@pytest.mark.parametrize("limit", [1, 3, 500])
def test_window_pages_read_one_span_class_at_a_time_find_every_overlap(
    uncached_client, start, end, limit
):
    """Broad windows are read per span class (a day, a month, a year, longer), each with
    its own lower bound; walking the pages must still give exactly the overlapping events
    in date order, whichever class each comes from."""
    from app.dates import parse_partial

    client = uncached_client
    everything = client.get("/events?limit=500").json()["items"]
    low = parse_partial(start)[0].isoformat()
    high = parse_partial(end)[1].isoformat() if end else "9999-12-31"
    expected = [e["id"] for e in everything if e["start"] <= high and e["end"] >= low]
    window = f"from={start}" + (f"&to={end}" if end else "")
    seen: list[str] = []
    cursor = None
    while True:
        url = f"/events?limit={limit}&{window}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        assert body["total"] == len(expected)
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_event_detail(client):
    body = client.get("/events/2012-07-khorog-clashes").json()
    assert body["places"] == [
        {
            "id": "khorog",
            "name": "Khorog",
            "kind": "city",
            "lat": 37.4897,
            "lon": 71.5531,
            "parents": [
                {
                    "id": "tajikistan",
                    "name": "Tajikistan",
                    "kind": "country",
                    "lat": 38.861,
                    "lon": 71.2761,
                },
                {
                    "id": "gorno-badakhshan",
                    "name": "Gorno-Badakhshan",
                    "kind": "region",
                    "lat": 38.4,
                    "lon": 73.0,
                },
            ],
        }
    ]
    assert [(c["source"]["id"], c["claimed_date"]) for c in body["citations"]] == [
        ("alpha-2017", "2012-06-24"),
        ("beta-2014", None),
    ]
    assert body["citations"][0]["quote"] == "On 24 June 2012, a riot broke out in Khorog"
    assert [(f["metric"], f["value"], f["approximate"], f["source"]) for f in body["figures"]] == [
        ("killed", 70, True, "beta-2014"),
        ("killed", 41, False, "alpha-2017"),
        ("civilians_killed", 23, False, "alpha-2017"),
    ]
    assert body["related"] == [
        {
            "id": "2014-05-gbao-clashes",
            "title": "Renewed clashes in Gorno-Badakhshan",
            "date": "2014-05",
            "type": "armed_clash",
        }
    ]
    assert body["notes"] == "The sources disagree on the month and on the toll; both are kept."


def test_related_events_are_linked_both_ways(client):
    banned = client.get("/events/2015-09-irpt-banned").json()
    assert [r["id"] for r in banned["related"]] == [
        "2015-03-irpt-loses-seats",
        "2015-09-irpt-trials",
    ]


def test_unknown_event_is_a_404_naming_it(client):
    response = client.get("/events/no-such-event")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "error": "not_found",
        "message": "event 'no-such-event' not found",
        "details": [],
    }


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2015-13", "from"),
        ("from=2015-02-30", "from"),
        ("to=0000", "to"),
        ("to=March", "to"),
        ("from=2016&to=2015", "to"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("sort=date-desc", "sort"),
        ("match=maybe", "match"),
        ("type=riot", "type"),
        ("type=arrest&type=riot", "type"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJkYXRlIl0", "cursor"),
        ("q=%25%25", "q"),
        ("q=" + "x" * 501, "q"),
    ],
)
def test_bad_parameters_are_422_naming_them(client, query, parameter):
    response = client.get(f"/events?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["status"], body["error"]) == (422, "invalid_parameter")
    assert [d["parameter"] for d in body["details"]] == [parameter]
    assert body["message"].startswith(f"{parameter}: ")


def test_a_cursor_only_works_with_its_own_sort(client):
    cursor = client.get("/events?limit=2").json()["next_cursor"]
    response = client.get(f"/events?limit=2&sort=-date&cursor={cursor}")
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"parameter": "cursor", "message": "this cursor belongs to sort=date"}
    ]


@pytest.mark.parametrize(
    "path", ["/events", "/events?from=2015&to=2016", "/events/2015-09-irpt-banned", "/facets"]
)
def test_a_database_without_tables_answers_503_not_500(database_url, path):
    """The lean paths run statements through the driver; its errors still say 503."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    with TestClient(create_app(Settings(database_url=database_url))) as client:
        response = client.get(path)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"
