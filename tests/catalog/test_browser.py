"""The catalog in a real headless Chromium (Debian's chromium, driven by Playwright): the home page lists
every model and its search narrows the list, a model page charts one point per version, a version page
shows its diff, hostile texts stay text, a phone-width screen needs no sideways scrolling, and no page
logs a console error or asks for anything outside the site. One browser per session (per xdist worker)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from testing import browser
from testing.catalog_demo import HOSTILE_DESCRIPTION, HOSTILE_MODEL, Demo

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.skipif(browser.skip_reason() is not None, reason=str(browser.skip_reason()))


@dataclass
class Watch:
    """What pages asked for and logged, since the last ``clear``."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.requests.clear()
        self.errors.clear()

    def assert_clean(self, allowed_prefix: str) -> None:
        assert self.requests, "no request was seen: the watch itself is broken"
        outside = [url for url in self.requests if not url.startswith(allowed_prefix)]
        assert outside == [], outside
        assert self.errors == [], self.errors


@pytest.fixture(scope="session")
def context() -> Iterator[tuple[BrowserContext, Watch]]:
    watch = Watch()
    with browser.browser_context() as ctx:
        ctx.set_default_timeout(15_000)
        # every request is seen, and anything outside the site is refused (so it cannot slow a test down)
        ctx.on("request", lambda request: watch.requests.append(request.url))

        def on_page(page: Page) -> None:
            page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: watch.errors.append(str(exc)))

        ctx.on("page", on_page)
        yield ctx, watch


@pytest.fixture
def page(context: tuple[BrowserContext, Watch], site: Path) -> Iterator[tuple[Page, Watch]]:
    ctx, watch = context
    watch.clear()
    tab = ctx.new_page()
    tab.set_viewport_size({"width": 1280, "height": 900})
    yield tab, watch
    tab.close()
    watch.assert_clean(site.as_uri() + "/")


def visible_models(tab: Page) -> list[str]:
    names: list[str] = tab.eval_on_selector_all(
        "#models > li", "items => items.filter(li => !li.hidden).map(li => li.dataset.model)"
    )
    return names


def test_home_lists_every_model_and_the_search_narrows_it(
    page: tuple[Page, Watch], site: Path, demo: Demo
) -> None:
    tab, _ = page
    tab.goto((site / "index.html").as_uri())
    assert sorted(visible_models(tab)) == sorted(demo.models)
    tab.fill("#q", "fraud")
    assert visible_models(tab) == ["fraud-detector"]
    assert tab.inner_text("#count") == f"1 of {len(demo.models)} models"
    tab.fill("#q", "")
    tab.select_option("#f-stage", "production")
    assert sorted(visible_models(tab)) == ["churn", "fraud-detector"]
    tab.select_option("#f-framework", "xgboost")
    assert visible_models(tab) == ["churn"]
    tab.fill("#q", "no such model anywhere")
    assert visible_models(tab) == [] and tab.is_visible("#none")


def test_a_model_page_charts_one_point_per_version(page: tuple[Page, Watch], site: Path) -> None:
    tab, _ = page
    tab.goto((site / "index.html").as_uri())
    tab.click("text=fraud-detector")  # a relative link, followed from file://
    assert tab.url.endswith("/models/fraud-detector/index.html")
    charts = tab.locator("svg.chart")
    assert charts.count() == 3
    for i in range(3):
        chart = charts.nth(i)
        assert chart.is_visible()
        assert chart.locator("circle.point").count() == 6
        assert chart.locator("circle.ring").count() == 2
    assert tab.locator("table.versions tbody tr").count() == 6
    assert tab.locator("table.history tr.flagged").count() == 5


def test_a_version_page_shows_the_diff(page: tuple[Page, Watch], site: Path) -> None:
    tab, _ = page
    tab.goto((site / "models" / "fraud-detector" / "index.html").as_uri())
    tab.click("table.versions >> text=v5")
    assert tab.url.endswith("/models/fraud-detector/5/index.html")
    rows = tab.locator("table.diff tbody tr")
    assert rows.first.inner_text().split("\t")[:3] == ["metrics.auc", "0.921", "0.934"]
    tab.click("nav.others >> text=v2")
    assert tab.url.endswith("/models/fraud-detector/2/index.html")


def test_hostile_texts_are_shown_as_text(page: tuple[Page, Watch], site: Path) -> None:
    tab, _ = page
    for url in ("index.html", f"models/{HOSTILE_MODEL}/index.html", f"models/{HOSTILE_MODEL}/1/index.html"):
        tab.goto((site / url).as_uri())
        assert tab.evaluate("window.__pwned") is None
        assert tab.locator("img").count() == 0
        assert HOSTILE_DESCRIPTION in tab.inner_text("main")
    tab.goto((site / "index.html").as_uri())
    tab.fill("#q", "ünïcødé")
    assert visible_models(tab) == [HOSTILE_MODEL]


def test_pages_fit_a_phone_width_screen(page: tuple[Page, Watch], site: Path) -> None:
    tab, _ = page
    tab.set_viewport_size({"width": 375, "height": 740})
    for url in (
        "index.html",
        "models/fraud-detector/index.html",
        "models/churn/2/index.html",
        "audit/index.html",
    ):
        tab.goto((site / url).as_uri())
        width: Any = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, url  # wide tables scroll inside their own box, not the page


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_site_works_under_a_sub_path(context: tuple[BrowserContext, Watch], site: Path) -> None:
    """As GitHub or GitLab Pages publish it: http://host/<project>/..."""
    ctx, watch = context
    watch.clear()
    handler = functools.partial(_Quiet, directory=str(site.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/{site.name}/"
    tab = ctx.new_page()
    try:
        tab.goto(base)
        assert tab.is_visible("#filters")  # the script and its index loaded
        tab.click("text=churn")
        assert tab.url == base + "models/churn/index.html"
        tab.click("text=Audit")
        assert tab.url == base + "audit/index.html"
    finally:
        tab.close()
        server.shutdown()
        server.server_close()
    watch.assert_clean(base)
