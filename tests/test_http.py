"""HTTP as clients use it: HEAD, compression, and the query parameters each route takes."""

from __future__ import annotations

import pytest

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
    from app.dataset import read_dataset
    from app.db import make_engine
    from app.main import create_app
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
            assert "Accept-Encoding" in response.headers["vary"]
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


def test_small_answers_are_not_compressed(client):
    response, _ = _raw(client, "/health", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]
