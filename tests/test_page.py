"""The timeline page at `/`, driven in headless Chromium against the real server and data.

Each test compares what the page shows with what the JSON API answers for the same query.
Screenshots and the measured load time go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is needed for the browser tests"
)

CHROMIUM = Path(os.environ.get("TIMELINE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)

# The list is rendered for the URL's query once #events says so; the page writes the query
# it rendered to data-query, so a stale render of an earlier query never counts.
READY = """() => {
  const list = document.getElementById("events");
  return list.dataset.state === "ready"
    && list.dataset.query === location.search.replace(/^\\?/, "");
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real `timeline serve` over the shipped data, on a free port."""
    root = tmp_path_factory.mktemp("page")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    env["TIMELINE_DATABASE_URL"] = f"sqlite:///{root / 'page.db'}"
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    command += ["--data", str(PROJECT / "data")]
    base = f"http://127.0.0.1:{port}"
    with (root / "server.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited: {(root / 'server.log').read_text()}")
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {(root / 'server.log').read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Problems(list[str]):
    """Console errors, uncaught exceptions and CSP violations seen by a page."""


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(browser: Any, problems: Problems) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch(page, problems)
    yield page
    context.close()


def watch(page: Any, problems: Problems) -> None:
    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    # Playwright's init scripts run outside the page's CSP; this records any violation.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


def api_ids(base: str, query: list[tuple[str, str]]) -> tuple[list[str], int]:
    """Every event id `/events` returns for `query`, in order, following the cursor."""
    ids: list[str] = []
    cursor = None
    total = -1
    while True:
        params = [*query, ("limit", "500")] + ([("cursor", cursor)] if cursor else [])
        body = httpx.get(f"{base}/events", params=params, timeout=30).json()
        ids += [item["id"] for item in body["items"]]
        total = body["total"]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, total


def page_ids(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all("[data-event-id]", "els => els.map(e => e.dataset.eventId)")
    )


def result_count(page: Any) -> int:
    return int(page.inner_text("#result-count").strip())


@pytest.mark.browser
def test_page_lists_every_event(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/")
    ids, total = api_ids(server, [])
    assert total == httpx.get(f"{server}/health").json()["events"]
    assert page_ids(page) == ids
    assert len(ids) == total
    assert result_count(page) == total
    assert page.get_attribute("#json-link", "href") == "/events"
    assert problems == []


@pytest.mark.parametrize(
    ("fill", "query"),
    [
        pytest.param({"actor": "Kuvvatov"}, [("actor", "Kuvvatov")], id="actor"),
        pytest.param({"type": "killing"}, [("type", "killing")], id="type"),
        pytest.param(
            {"q": "OSCE", "from": "2014", "to": "2016-09"},
            [("from", "2014"), ("to", "2016-09"), ("q", "OSCE")],
            id="q-from-to",
        ),
        pytest.param(
            {"place": "Russia", "sort": "-date"},
            [("place", "Russia"), ("sort", "-date")],
            id="place-newest-first",
        ),
    ],
)
@pytest.mark.browser
def test_filters_narrow_to_what_the_api_returns(
    server: str, page: Any, problems: Problems, fill: dict[str, str], query: list[tuple[str, str]]
) -> None:
    open_page(page, f"{server}/")
    everything = result_count(page)
    form = page.locator("#filters")
    for name, value in fill.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator('button[type="submit"]').click()
    page.wait_for_function(READY, timeout=30_000)

    ids, total = api_ids(server, query)
    assert 0 < total < everything
    assert page_ids(page) == ids
    assert result_count(page) == total
    assert page.evaluate("location.search") == "?" + urlencode(query)
    assert page.get_attribute("#json-link", "href") == "/events?" + urlencode(query)
    assert page.get_attribute("#csv-link", "href") == (
        "/events.csv?" + urlencode(query) + "&bom=true"
    )
    assert problems == []


@pytest.mark.browser
def test_facet_click_applies_the_filter(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/")
    page.locator("#facet-type a", has_text="killing").click()
    page.wait_for_function(READY, timeout=30_000)
    ids, total = api_ids(server, [("type", "killing")])
    assert page_ids(page) == ids
    assert result_count(page) == total
    assert page.input_value("#filters [name=type]") == "killing"
    page.go_back()
    page.wait_for_function(READY, timeout=30_000)
    assert page.input_value("#filters [name=type]") == ""
    assert len(page_ids(page)) == api_ids(server, [])[1]
    assert problems == []


@pytest.mark.browser
def test_event_expands_to_its_verbatim_quotes(server: str, page: Any, problems: Problems) -> None:
    event_id = "2015-03-quvvatov-killed-istanbul"
    detail = httpx.get(f"{server}/events/{event_id}").json()
    open_page(page, f"{server}/")
    item = page.locator(f'[data-event-id="{event_id}"]')
    toggle = item.locator("button.toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert item.locator(".quote").count() == 0
    toggle.focus()
    page.keyboard.press("Enter")
    quotes = item.locator(".quote")
    quotes.first.wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    shown = [text.strip() for text in quotes.all_text_contents()]
    assert shown[0] == detail["citations"][0]["quote"]
    assert shown == [c["quote"] for c in detail["citations"]]
    text = item.inner_text()
    for actor in detail["actors"]:
        assert actor["name"] in text
    for place in detail["places"]:
        assert place["name"] in text
    assert detail["citations"][0]["source"]["title"] in text
    assert problems == []


@pytest.mark.browser
def test_deep_link_restores_its_filters(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/?actor=Kuvvatov&from=2015")
    assert page.input_value("#filters [name=actor]") == "Kuvvatov"
    assert page.input_value("#filters [name=from]") == "2015"
    assert page.input_value("#filters [name=to]") == ""
    ids, total = api_ids(server, [("actor", "Kuvvatov"), ("from", "2015")])
    assert page_ids(page) == ids
    assert result_count(page) == total >= 1
    page.reload()
    page.wait_for_function(READY, timeout=30_000)
    assert page.input_value("#filters [name=actor]") == "Kuvvatov"
    assert page_ids(page) == ids
    assert problems == []


@pytest.mark.browser
def test_two_selected_types_both_show(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/?type=arrest&type=killing")
    shown = page.eval_on_selector("#f-type", "s => s.options[s.selectedIndex].textContent")
    assert shown == "arrest or killing"
    ids, total = api_ids(server, [("type", "arrest"), ("type", "killing")])
    assert page_ids(page) == ids and total >= 2
    # Applying the form again keeps both; picking one type from the menu means just that one.
    page.click('#filters button[type="submit"]')
    page.wait_for_function(READY, timeout=30_000)
    assert page.evaluate("location.search") == "?type=arrest&type=killing"
    page.select_option("#f-type", "ban")
    page.wait_for_function("() => location.search === '?type=ban'", timeout=30_000)
    page.wait_for_function(READY, timeout=30_000)
    assert page_ids(page) == api_ids(server, [("type", "ban")])[0]
    assert problems == []


@pytest.mark.browser
def test_empty_result_and_refused_filter(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/?q=zzzqqqxxx")
    assert result_count(page) == 0
    assert page_ids(page) == []
    assert page.is_visible("#empty")

    page.goto(f"{server}/?from=2015-13")
    page.wait_for_function("() => document.getElementById('events').dataset.state === 'error'")
    message = page.locator("#message")
    assert message.is_visible()
    assert "From: month 13 does not exist" in message.inner_text()
    assert "pattern" not in message.inner_text() and "[0-9]" not in message.inner_text()
    assert page.get_attribute("#filters [name=from]", "aria-invalid") == "true"
    # the refused request itself is the only console error (Chromium logs failed fetches)
    assert all("422" in p for p in problems), problems


@pytest.mark.browser
def test_a_count_that_stopped_early_reads_as_a_lower_bound(
    server: str, page: Any, problems: Problems
) -> None:
    # The shipped dataset is too small for the API to stop counting (10,000 events, or
    # 1,000 with words), so its answer is marked as one that did.
    def stopped_early(route: Any) -> None:
        body = route.fetch().json()
        route.fulfill(json={**body, "total": 1000, "total_exact": False})

    page.route("**/events?*", stopped_early)
    open_page(page, f"{server}/?q=osce")
    assert page.inner_text("#result-count").strip() == "1000+"
    assert problems == []


@pytest.mark.browser
def test_no_console_errors_or_csp_violations(server: str, page: Any, problems: Problems) -> None:
    open_page(page, f"{server}/?type=killing")
    page.locator("[data-event-id] button.toggle").first.click()
    page.locator(".quote").first.wait_for()
    page.locator("#clear").click()
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_load_state("networkidle")
    headers = httpx.get(f"{server}/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert problems == []


@pytest.mark.browser
def test_the_page_works_again_when_reloaded(server: str, page: Any, problems: Problems) -> None:
    # The browser revalidates the page it kept (no-cache) and is answered 304: the page
    # must come back with its own scripts and styles allowed, not stuck on "loading".
    open_page(page, f"{server}/?type=killing")
    with page.expect_request(lambda r: r.url.endswith("/?type=killing")) as asked:
        page.reload()
    page.wait_for_function(READY, timeout=30_000)
    assert asked.value.all_headers().get("if-none-match")  # asked with its ETag: a 304
    assert page_ids(page) == api_ids(server, [("type", "killing")])[0]
    assert page.evaluate("getComputedStyle(document.body).margin") != "8px"  # styled
    assert problems == []


@pytest.mark.browser
def test_a_half_typed_name_waits_for_the_whole_name(
    server: str, page: Any, problems: Problems
) -> None:
    open_page(page, f"{server}/")
    everything = result_count(page)
    actor = page.locator("#filters [name=actor]")
    actor.press_sequentially("Quvv", delay=50)
    page.wait_for_timeout(1000)  # twice the pause after which typing refines the list
    assert page.evaluate("location.search") == ""
    assert not page.is_visible("#message") and result_count(page) == everything
    actor.press_sequentially("atov", delay=50)
    actor.blur()  # leaving the field sends what it holds
    page.wait_for_function(READY, timeout=30_000)
    ids, total = api_ids(server, [("actor", "Quvvatov")])
    assert 0 < total < everything and page_ids(page) == ids
    assert problems == []


@pytest.mark.browser
def test_a_whole_name_refines_once(server: str, page: Any, problems: Problems) -> None:
    # A name the suggestions hold refines the list after the pause; leaving the field or
    # pressing Enter then adds no second history entry and no second load.
    open_page(page, f"{server}/")
    place = page.locator("#filters [name=place]")
    place.press_sequentially("Dushanbe", delay=30)
    page.wait_for_function("() => location.search === '?place=Dushanbe'", timeout=10_000)
    page.wait_for_function(READY, timeout=30_000)
    entries = page.evaluate("history.length")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/events?" in r.url else None)
    place.blur()
    page.wait_for_timeout(800)
    assert (page.evaluate("history.length"), asked) == (entries, [])
    place.press("Enter")  # asks again (a refresh), in the same history entry
    page.wait_for_function(READY, timeout=30_000)
    assert page.evaluate("history.length") == entries
    assert problems == []


@pytest.mark.browser
def test_screenshots_and_load_time(server: str, browser: Any, problems: Problems) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    total = api_ids(server, [])[1]
    lines = []
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        watch(page, problems)
        started = time.perf_counter()
        open_page(page, f"{server}/")
        wall_ms = (time.perf_counter() - started) * 1000
        page_ms = int(page.get_attribute("#events", "data-ready-ms") or "0")
        render_ms = int(page.get_attribute("#events", "data-render-ms") or "0")
        assert len(page_ids(page)) == total
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)
        page.screenshot(path=str(ARTIFACTS / f"page-{name}-top.png"))
        item = page.locator('[data-event-id="2015-03-quvvatov-killed-istanbul"]')
        item.locator("button.toggle").click()
        item.locator(".quote").first.wait_for()
        item.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"page-{name}-expanded.png"))
        lines.append(
            f"{name} {viewport['width']}x{viewport['height']}: {total} events rendered "
            f"{page_ms} ms after navigation start ({wall_ms:.0f} ms wall clock incl. goto; "
            f"{render_ms} ms of it building the list)"
        )
        context.close()
    report = "\n".join(lines) + "\n"
    (ARTIFACTS / "page-load.txt").write_text(report)
    print(report)
    assert problems == []
