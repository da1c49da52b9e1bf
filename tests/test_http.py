"""HTTP as clients use it: HEAD, compression, and the query parameters each route takes."""

from __future__ import annotations

import pytest
import sqlalchemy
from fastapi.testclient import TestClient

from app.caching import CacheMiddleware
from app.config import Settings
from app.main import create_app

GET_ROUTES = (
    "/events",
    "/events/2012-07-khorog-clashes",
    "/timelinejs",
    "/events.geojson",
    "/events.csv",
    "/facets",
    "/health",
    "/actors",
    "/actors/umarali-quvvatov",
    "/actors/umarali-quvvatov/events",
    "/places",
    "/places/tajikistan",
    "/places/tajikistan/events",
    "/sources",
    "/sources/alpha-2017",
    "/sources/alpha-2017/events",
    "/openapi.json",
    "/docs",
    "/",
    "/static/timeline.js",
)


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_answers_like_get_without_a_body(client, path):
    get = client.get(path, headers={"Accept-Encoding": "identity"})
    head = client.head(path, headers={"Accept-Encoding": "identity"})
    assert get.status_code == 200, get.text
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == get.headers["content-type"]
    if "content-length" in get.headers:
        assert head.headers["content-length"] == get.headers["content-length"]
    if "etag" in get.headers:
        assert head.headers["etag"] == get.headers["etag"]


def test_head_is_not_kept_as_the_get_answer(own_client):
    client, _ = own_client
    head = client.head("/events.csv?type=killing")
    assert head.status_code == 200 and head.content == b""
    get = client.get("/events.csv?type=killing")
    assert get.text.count("\r\n") > 1  # the header and the rows, not the HEAD's nothing
    again = client.head("/events?type=killing", headers={"If-None-Match": get.headers["etag"]})
    assert again.status_code in (200, 304)


def test_head_of_a_missing_event_is_404(client):
    response = client.head("/events/no-such-event")
    assert (response.status_code, response.content) == (404, b"")


@pytest.fixture
def own_client(database_url):
    from fastapi.testclient import TestClient

    from app.cli import load
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    engine = make_engine(database_url)
    load(engine, read_dataset(FIXTURE_DATA))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client, engine
    engine.dispose()


def _raw(client, path, **headers):
    """The bytes as sent, not decoded by the client."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_gzip_for_clients_that_ask_and_only_for_them(own_client):
    import gzip
    import json

    client, _ = own_client
    # Each order on its own URL: whichever client comes first, the other is served right.
    for (first, second), match in (
        (("gzip", "identity"), "overlap"),
        (("identity", "gzip"), "within"),
    ):
        path = f"/events?limit=50&match={match}"
        a, a_body = _raw(client, path, **{"Accept-Encoding": first})
        b, b_body = _raw(client, path, **{"Accept-Encoding": second})
        for response, body, encoding in ((a, a_body, first), (b, b_body, second)):
            assert response.headers["vary"].count("Accept-Encoding") == 1
            if encoding == "gzip":
                assert response.headers["content-encoding"] == "gzip"
                body = gzip.decompress(body)
            else:
                assert "content-encoding" not in response.headers
            assert json.loads(body)["total"] >= 1
        assert a.headers["etag"] != b.headers["etag"]
        # Each representation's ETag revalidates only that representation.
        same = client.get(
            path, headers={"Accept-Encoding": second, "If-None-Match": b.headers["etag"]}
        )
        assert same.status_code == 304 and "Accept-Encoding" in same.headers["vary"]
        other = client.get(
            path, headers={"Accept-Encoding": second, "If-None-Match": a.headers["etag"]}
        )
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;q=0.5", True),
        ("*", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *;q=1", False),
        ("gzip; q=0.000", False),
        ("*;q=0", False),
        ("identity", False),
        ("deflate, br", False),
        ("", False),
    ],
)
def test_gzip_only_where_accept_encoding_accepts_it(client, accept, gzipped):
    # RFC 9110: a weight of 0 refuses a coding; `*` stands for any coding not named.
    for _ in range(2):  # the second answer may come from the response cache
        response, body = _raw(client, "/events?limit=50&sort=-date", **{"Accept-Encoding": accept})
        assert response.status_code == 200
        assert (response.headers.get("content-encoding") == "gzip") is gzipped, accept
        assert response.headers["etag"].endswith('-gzip"') is gzipped
        assert body.startswith(b"\x1f\x8b") is gzipped


def test_small_answers_are_not_compressed(client):
    response, _ = _raw(client, "/events?q=zzzqqq", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]


def _refused(response):
    assert response.status_code == 422, response.text
    return {d["parameter"]: d["message"] for d in response.json()["details"]}


@pytest.mark.parametrize(
    ("path", "name", "suggestion"),
    [
        ("/events?actr=Kuvvatov", "actr", "`actor`"),
        ("/events.csv?plac=Khorog", "plac", "`place`"),
        ("/timelinejs?groupby=actor", "groupby", "`group_by`"),
        ("/facets?sise=3", "sise", "`size`"),
        ("/actors?knd=person", "knd", "`kind`"),
        ("/places?parnt=tajikistan", "parnt", "`parent`"),
        ("/sources/alpha-2017/events?tipe=ban", "tipe", "`type`"),
    ],
)
def test_an_unknown_parameter_is_refused_with_the_closest_name(client, path, name, suggestion):
    assert _refused(client.get(path))[name] == f"unknown parameter; did you mean {suggestion}?"


def test_a_route_without_parameters_says_so(client):
    assert _refused(client.get("/health?verbose=1"))["verbose"].endswith("takes no parameters")
    assert "unknown parameter" in _refused(client.get("/events/2012-07-khorog-clashes?x=1"))["x"]


def test_each_path_is_checked_against_its_own_route_every_time(client):
    # Paths are remembered with their route: asked again, with other parameters, a path
    # is still checked against the parameters of the route it reaches, and no other.
    for _ in range(2):
        assert client.get("/actors?limit=2&kind=person").status_code == 200
        assert "q" not in _refused(client.get("/actors?q=a&sort=date"))
        assert "sort" in _refused(client.get("/actors?q=a&sort=date"))
        assert client.get("/events?sort=date&limit=2").status_code == 200
        assert "kind" in _refused(client.get("/events?kind=person"))
        assert "x" in _refused(client.get("/actors/umarali-quvvatov?x=1"))
        assert client.get("/actors/umarali-quvvatov/events?limit=1").status_code == 200


def test_paths_clients_make_up_are_not_remembered(client):
    # The parameter check remembers the paths of routes without path parameters only:
    # ids, made-up paths and long junk paths do not make a worker grow.
    from app.params import QueryGuard, _api_routes

    for i in range(30):
        client.get(f"/events/made-up-{i}?x=1")
        client.get(f"/no-such-path-{'x' * 1000}{i}?x=1")
        client.get(f"/actors/umarali-quvvatov/events?limit={i + 1}")
    layer = client.app.middleware_stack
    while not isinstance(layer, QueryGuard):
        layer = layer.app
    fixed = {r.path for r in _api_routes(client.app.routes) if "{" not in r.path}
    assert "/actors" in layer._by_path
    assert set(layer._by_path) <= fixed


@pytest.mark.parametrize("name", ["page", "offset"])
def test_page_numbers_point_to_the_cursor(client, name):
    assert "`cursor`" in _refused(client.get(f"/events?{name}=2"))[name]
    assert "`cursor`" in _refused(client.get(f"/actors?{name}=2"))[name]
    assert "`limit`" in _refused(client.get(f"/timelinejs?{name}=2"))[name]


def test_a_single_valued_parameter_given_twice_is_refused(client):
    assert _refused(client.get("/events?limit=5&limit=6"))["limit"] == (
        "given 2 times; it takes one value"
    )
    assert "q" in _refused(client.get("/events?q=a&q=b"))
    # Repeatable ones match any of their values.
    assert client.get("/events?type=arrest&type=killing").status_code == 200


@pytest.mark.parametrize(
    "blank",
    ["actor=", "q=", "q=%20%20", "from=", "to=", "limit=", "cursor=", "type=", "sort=", "match="],
)
def test_a_blank_value_is_ignored_as_if_absent(client, blank):
    everything = client.get("/events").json()
    assert client.get(f"/events?{blank}").json() == everything
    assert client.get(f"/events?{blank}&{blank}").json() == everything


def test_a_blank_value_is_ignored_on_every_route(client):
    assert client.get("/actors?kind=&q=").json() == client.get("/actors").json()
    assert client.get("/timelinejs?group_by=&limit=").status_code == 200
    # A value with no letters is not blank: there is nothing to search for.
    assert "q" in _refused(client.get("/events?q=!!!"))


def test_pages_docs_and_static_files_take_any_query(client):
    for path in ("/?actor=Kuvvatov&whatever=1", "/static/timeline.js?v=3", "/docs?x=1"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "query",
    [
        "from=2015-13",
        "to=2015-02-30",
        "from=2015-1",
        "to=yesterday",
        "from=2015%2F03",
        "cursor=%25%25%25",
        "cursor=%C3%A9t%C3%A9",
        "limit=ten",
        "type=bogus",
        "sort=up",
    ],
)
def test_no_regular_expression_reaches_a_user(client, query):
    for path in ("/events", "/actors/umarali-quvvatov/events", "/timelinejs", "/events.csv"):
        if path != "/events" and query.startswith("cursor"):
            continue
        body = client.get(f"{path}?{query}").json()
        assert body["status"] == 422
        for text in [body["message"], *(d["message"] for d in body["details"])]:
            assert "pattern" not in text and "^" not in text and "[0-9" not in text, text


def test_a_bad_month_says_so(client):
    body = client.get("/events?from=2015-13").json()
    assert body["details"] == [
        {"parameter": "from", "message": "month 13 does not exist: months run from 01 to 12"}
    ]


def test_health_is_never_cached(own_client):
    client, engine = own_client
    first = client.get("/health")
    assert first.headers["cache-control"] == "no-store"
    assert "etag" not in first.headers
    assert client.get("/health", headers={"If-None-Match": "*"}).status_code == 200
    engine.dispose()  # the next check runs its own query: it must still answer
    assert client.get("/health").json()["status"] == "ok"


def test_postgresql_neither_starts_workers_nor_compiles_for_a_request(loaded_url, backend):
    # Starting parallel workers, or compiling a statement (JIT), takes longer than the
    # short walks a request makes (app.db).
    if backend != "postgresql":
        pytest.skip("SQLite has no parallel workers and no JIT")
    app = create_app(Settings(database_url=loaded_url, response_cache_mb=0))
    with TestClient(app) as client:
        assert client.get("/events?q=istanbul").status_code == 200
        with app.state.sessions() as session:
            for name, value in (("max_parallel_workers_per_gather", "0"), ("jit", "off")):
                setting = session.connection().execute(sqlalchemy.text(f"SHOW {name}"))
                assert setting.scalar_one() == value


def test_postgresql_keeps_the_statements_it_prepared_between_requests(
    loaded_url, backend, monkeypatch
):
    # A read transaction that ended with ROLLBACK would make the driver forget them, and
    # PostgreSQL would plan every request's queries again. The dataset checks between
    # requests (made before every request here) read on the same connections.
    if backend != "postgresql":
        pytest.skip("SQLite has no server-side prepared statements")
    monkeypatch.setattr(CacheMiddleware, "HASH_TTL", 0.0)
    app = create_app(Settings(database_url=loaded_url, response_cache_mb=0))
    with TestClient(app) as client:
        for _ in range(20):  # the driver prepares a statement on its fifth run
            assert client.get("/sources").status_code == 200
        with app.state.sessions() as session:
            prepared = session.connection().execute(
                sqlalchemy.text("SELECT count(*) FROM pg_prepared_statements")
            )
            assert prepared.scalar_one() >= 1


def test_postgresql_keeps_its_prepared_statements_after_a_404_or_a_422(loaded_url, backend):
    # Such a request read what it needed and wrote nothing: ended with ROLLBACK, it would
    # make the driver forget the connection's statements (a client probing ids would keep
    # every later request re-planning its queries).
    if backend != "postgresql":
        pytest.skip("SQLite has no server-side prepared statements")
    app = create_app(Settings(database_url=loaded_url, response_cache_mb=0))
    with TestClient(app) as client:
        for _ in range(20):  # the driver prepares a statement on its fifth run
            assert client.get("/sources").status_code == 200
        assert client.get("/actors/no-such-actor").status_code == 404
        assert client.get("/events/no-such-event").status_code == 404
        assert client.get("/events?actor=no-such-name-anywhere").status_code == 422
        with app.state.sessions() as session:
            prepared = session.connection().execute(
                sqlalchemy.text("SELECT count(*) FROM pg_prepared_statements")
            )
            assert prepared.scalar_one() >= 1
