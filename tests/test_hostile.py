"""Hostile and malformed requests: a clear 4xx or a correct empty result, never a 5xx."""

from __future__ import annotations

import base64
import json

import pytest

from app.directory import encode_offset

ERROR_KEYS = {"status", "error", "message", "details"}


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "q=%27",
        "q=%22",
        "q=*",
        "q=NEAR(",
        "q=%25",
        "q=_",
        "q=%27%20OR%201%3D1%20--",
        "q=osce%22%20OR%20%22",
        "q=%5C",
        "q=%F0%9F%92%A5",
        "actor=%27%3B%20DROP%20TABLE%20events",
        "actor=%25",
        "actor=_",
        "place=%25%25",
        "tag=%27",
        "source=%22",
        "role=%25",
        "actor=" + "x" * 200,
        "place=..%2F..%2Fetc%2Fpasswd",
        "q=%E2%80%AE",
        "q=%0A%0D%09",
    ],
)
def test_injection_attempts_are_plain_text(client, query):
    response = client.get(f"/events?{query}")
    assert response.status_code in (200, 422), response.text
    body = response.json()
    if response.status_code == 200:
        assert body["items"] == [] or all("id" in item for item in body["items"])
        assert body["total"] == len(body["items"]) or body["next_cursor"] is not None
    else:
        assert set(body) == ERROR_KEYS


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("q=%00", "q"),
        ("actor=a%00b", "actor"),
        ("q=" + "x" * 5000, "q"),
        ("actor=" + "x" * 5000, "actor"),
        ("place=" + "p" * 201, "place"),
        ("cursor=" + "A" * 5000, "cursor"),
        ("limit=99999999999999999999999", "limit"),
        ("from=2015-02-30", "from"),
        ("from=0000", "from"),
        ("to=9999-12-32", "to"),
        ("from=-2015", "from"),
        ("actor=" + "&actor=".join(["a"] * 51), "actor"),
    ],
)
def test_malformed_parameters_are_named(client, query, parameter):
    response = client.get(f"/events?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert [d["parameter"] for d in body["details"]] == [parameter]
    assert "Traceback" not in response.text


def test_the_far_future_is_a_correct_empty_result(client):
    body = client.get("/events?from=9999-12-31").json()
    assert (body["items"], body["total"]) == ([], 0)
    assert client.get("/events?to=0001").json()["total"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        ["date", "2015-03-01", "2015-03-31", "zzzz"],  # forged but well-formed: a position
        ["date", "9999-12-31", "9999-12-31", ""],
        ["date", "0001-01-01", "0001-01-01", "\u0000"],
    ],
)
def test_forged_cursors_are_positions(client, payload):
    response = client.get(f"/events?cursor={cursor(payload)}")
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        ids = [item["id"] for item in response.json()["items"]]
        full = [item["id"] for item in client.get("/events?limit=500").json()["items"]]
        assert ids == [i for i in full if i in ids]


@pytest.mark.parametrize(
    "payload",
    [
        ["date"],
        {"a": 1},
        ["date", "2015-13-01", "2015-03-31", "x"],
        ["date", 1, 2, 3],
        "text",
        None,
        ["-date", "2015-03-01", "2015-03-01", "x"],
        [[], [], [], []],
    ],
)
def test_tampered_cursors_are_422(client, payload):
    response = client.get(f"/events?cursor={cursor(payload)}")
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["parameter"] == "cursor"


@pytest.mark.parametrize(
    "path",
    [
        "/events/..%2F..%2Fetc%2Fpasswd",
        "/events/%2e%2e",
        "/actors/%00",
        "/places/' OR 1=1",
        "/sources/" + "s" * 3000,
        "/static/../app/main.py",
        "/static/..%2Fmain.py",
        "/events/%F0%9F%92%A5",
    ],
)
def test_odd_ids_and_traversal_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert set(response.json()) == ERROR_KEYS


def test_write_methods_are_405(client):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, "/events")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        assert response.json()["error"] == "method_not_allowed"


def test_options_says_what_the_api_allows(client):
    # A plain OPTIONS (not a CORS preflight) asks which methods a path takes.
    for path in ("/events", "/actors/umarali-quvvatov", "/static/timeline.js"):
        response = client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    preflight = client.options(
        "/events",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_oversized_query_string_is_414(client):
    response = client.get("/events?q=" + "a" * 9000)
    assert (response.status_code, response.json()["error"]) == (414, "uri_too_long")


def test_security_headers(client):
    response = client.get("/events?limit=1")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    page = client.get("/")
    assert page.headers["content-security-policy"].startswith(
        "default-src 'none'; script-src 'self'"
    )
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    for answer in (response, page, client.get("/nowhere"), client.get("/static/timeline.css")):
        for name in ("x-frame-options", "cross-origin-resource-policy", "content-security-policy"):
            assert len(answer.headers.get_list(name)) == 1, (answer.url, name)


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc", "/events?limit=1"])
def test_a_304_carries_the_headers_of_its_200(client, path):
    # A browser copies a 304's headers onto the page it kept: the page's own policy must
    # survive a reload, or its scripts and styles are blocked.
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    for name in ("content-security-policy", "cache-control", "etag"):
        assert again.headers[name] == first.headers[name], name
    if path == "/":
        assert first.headers["cache-control"] == "no-cache"


def test_docs_work_offline(client):
    docs = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in docs
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert "cdn.jsdelivr.net" not in client.get("/redoc").text


def test_errors_leak_no_internals(client):
    for url in ("/events?cursor=%%%", "/events?from=x", "/nowhere", "/events/x"):
        text = client.get(url).text
        for leak in ("Traceback", "sqlalchemy", 'File "', "psycopg", "sqlite3"):
            assert leak not in text


@pytest.mark.parametrize("offset", [2**31, 2**63, 2**70, -1])
@pytest.mark.parametrize(
    "path", ["/actors?", "/actors?kind=person&", "/actors?q=a&", "/places?parent=tajikistan&"]
)
def test_forged_list_cursors_beyond_any_table_are_422(client, path, offset):
    # A list cursor holds an offset; one no table reaches was forged, and no database
    # integer may hold it.
    response = client.get(f"{path}cursor={encode_offset(offset)}")
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["parameter"] == "cursor"
