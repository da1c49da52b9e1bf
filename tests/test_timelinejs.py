"""The /timelinejs feed of the shipped dataset, loaded by TimelineJS3 itself.

Knight Lab's widget (`@knight-lab/timelinejs` 3.9.11 from the npm registry) runs in
headless Chromium and must build its data model from our JSON without errors, dropping
nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import load_directory
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.conftest import PROJECT
from tests.test_page import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is needed")
TIMELINEJS = "@knight-lab/timelinejs@3.9.11"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch TimelineJS"),
]
PAGE = (
    '<html><head><link rel="stylesheet" href="css/timeline.css">'
    '<script src="js/timeline.js"></script></head>'
    '<body><div id="timeline"></div></body></html>'
)
LOAD = """(data) => new Promise((resolve) => {
  // font: null, or the widget fetches its default fonts' CSS from a CDN.
  const timeline = new TL.Timeline("timeline", data, {language: "en", font: null});
  timeline.on("loaded", () => resolve({
    ids: timeline.config.events.map((e) => e.unique_id),
    days: timeline.config.events.map((e) => e.start_date.data.day ?? null),
    title: timeline.config.title ? timeline.config.title.text.headline : null,
  }));
  setTimeout(() => resolve({timeout: true}), 20000);
})"""


@pytest.fixture(scope="module")
def timelinejs_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("timelinejs")
    subprocess.run(
        [
            "npm",
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(root),
            TIMELINEJS,
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return root / "node_modules" / "@knight-lab" / "timelinejs" / "dist"


@pytest.fixture(scope="module")
def shipped_feed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    url = f"sqlite:///{tmp_path_factory.mktemp('shipped') / 'timeline.db'}"
    engine = make_engine(url)
    load_directory(engine, PROJECT / "data")
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        return {
            "timeline": client.get("/timelinejs?limit=10000").json(),
            "events": client.get("/events?limit=500").json()["items"],
        }


def test_timelinejs_builds_every_event_of_the_shipped_dataset(timelinejs_dist, shipped_feed):
    data = shipped_feed["timeline"]
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def serve(route) -> None:  # the widget's files, from disk; nothing from the network
            path = route.request.url.removeprefix("http://timeline.test/")
            if path == "index.html":
                route.fulfill(body=PAGE, content_type="text/html")
            elif (timelinejs_dist / path).is_file():
                route.fulfill(path=str(timelinejs_dist / path))
            else:
                route.fulfill(status=404, body="")

        page.route("http://timeline.test/**", serve)
        page.goto("http://timeline.test/index.html")
        model = page.evaluate(LOAD, data)
        browser.close()
    assert errors == []
    assert "timeout" not in model
    assert model["title"] == data["title"]["text"]["headline"]
    # Nothing dropped or renamed, and no day invented for a month or year.
    assert sorted(model["ids"]) == sorted(e["id"] for e in shipped_feed["events"])
    precision = {e["id"]: e["precision"] for e in shipped_feed["events"]}
    for event_id, day in zip(model["ids"], model["days"], strict=True):
        if precision[event_id] != "day":
            assert day is None, event_id


SHOWN = """(data) => new Promise((resolve) => {
  const timeline = new TL.Timeline("timeline", data, {language: "en", font: null});
  timeline.on("loaded", () => setTimeout(() => resolve({
    title: document.querySelector(".tl-headline-title").textContent,
    body: document.querySelector(".tl-slide-titleslide .tl-text-content").textContent,
  }), 100));
  setTimeout(() => resolve({timeout: true}), 20000);
})"""


def test_timelinejs_shows_names_as_typed(timelinejs_dist):
    """What the widget shows for text with markup characters and quotes: exactly that text."""
    from app.formats import timelinejs

    typed = 'O\'Brien & "Group 24" <b>not bold</b>'
    data = timelinejs([], title=typed, description=f"{typed} — 0 events", source_titles={})
    data["events"] = [{"start_date": {"year": 2015}, "text": {"headline": "x"}, "unique_id": "x"}]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()

        def serve(route) -> None:
            path = route.request.url.removeprefix("http://timeline.test/")
            if path == "index.html":
                route.fulfill(body=PAGE, content_type="text/html")
            elif (timelinejs_dist / path).is_file():
                route.fulfill(path=str(timelinejs_dist / path))
            else:
                route.fulfill(status=404, body="")

        page.route("http://timeline.test/**", serve)
        page.goto("http://timeline.test/index.html")
        shown = page.evaluate(SHOWN, data)
        browser.close()
    assert shown == {"title": typed, "body": f"{typed} — 0 events"}
