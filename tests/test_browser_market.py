"""The market pages in a real browser (Debian chromium via Playwright) over the real corpus.

The store is built from ../shared/edgar/form4 with `python -m loaders ingest` (the XML path the data-set sync
maps into the same store). Screenshots of every market page at 390, 1440 and 1920 px go to artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from analytics import market
from analytics.market_filters import MarketFilters
from charts import export
from loaders.ingest import read_filing_dates
from loaders.store import Store
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, StreamlitServer, need_chromium
from tests.conftest import ROOT, need_corpus
from tests.market_support import clusters, read_purchases

pytestmark = [pytest.mark.browser, pytest.mark.corpus]
RANGE = "start=2023-01-01&end=2023-07-31"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_chromium()
    corpus = need_corpus() / "form4"
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("browser-market")
    data = tmp / "data"
    env = {"INSIDER_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "loaders", "ingest", str(corpus)], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    server = StreamlitServer({"INSIDER_DATA_DIR": str(data)}, tmp / "streamlit.log")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield server, browser, Store(data), corpus
        finally:
            browser.close()
            server.stop()


def _open(browser, url: str, width: int = 1440):
    context = browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    _settle(page)
    return context, page


def _settle(page) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )
    page.wait_for_timeout(500)


def _download(page, key: str) -> bytes:
    with page.expect_download(timeout=60_000) as got:
        page.locator(f".st-key-{key} button").click()
    return Path(got.value.path()).read_bytes()


def _shot(page, name: str, width: int) -> None:
    if width < 640:  # on a phone the sidebar overlays the page: close it, as a reader would
        button = page.locator("[data-testid='stSidebarCollapseButton'] button")
        if button.count() and page.locator("[data-testid='stSidebar'][data-collapsed='false']").count():
            button.first.click()
            page.wait_for_timeout(500)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1200")
    page.set_viewport_size({"width": width, "height": min(max(900, height + 40), 6000)})
    page.wait_for_timeout(1500)  # let grids and plots paint at the new size
    page.screenshot(path=str(SCREENSHOTS / f"market-{name}-{width}.png"))


def test_preset_link_opens_the_same_screen_in_a_fresh_browser(site):
    """Guards against a shared preset link opening another screen: a fresh browser shows the preset selected and
    its CSV export is byte for byte the named function's table."""
    server, browser, store, _ = site
    context, page = _open(browser, server.url + "/latest?preset=purchases")
    active = page.locator("button[aria-checked='true']")
    assert active.inner_text().strip() == "Latest purchases"
    want = market.latest_table(market.latest_preset(store, "purchases"))
    assert _download(page, "dl-latest-csv") == export.to_csv(want)
    assert len(want) == 50
    page.locator("button", has_text="Latest sales").click()
    page.wait_for_url(re.compile(r"preset=sales"), timeout=30_000)
    context.close()


def test_filter_change_updates_the_url_and_the_export_has_the_rows_shown(site):
    """Guards against a screener box that does not reach the URL, and an export that differs from the screen."""
    server, browser, store, _ = site
    context, page = _open(browser, server.url + "/screener?codes=P&sort=value")
    box = page.get_by_role("spinbutton", name="Value ($) min")
    box.fill("250000")
    box.press("Enter")
    page.wait_for_url(re.compile(r"min=250000"), timeout=30_000)
    _settle(page)
    query = {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert query == {"codes": "P", "sort": "value", "min": "250000"}
    f = MarketFilters.from_query(query)
    want = market.screen_table(market.screen(store, f.base_where(), sort="value"))
    body = _download(page, "dl-screen-csv")
    assert body == export.to_csv(want)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 50 and all(float(r["Value ($)"]) >= 250_000 for r in rows)
    other = browser.new_context()  # the URL alone gives the same screen in a fresh browser
    fresh = other.new_page()
    fresh.goto(page.url)
    _settle(fresh)
    fresh.get_by_text("at least $250,000 each").wait_for(timeout=30_000)
    expect(fresh.get_by_role("spinbutton", name="Value ($) min")).to_have_value(
        re.compile(r"^250000(\.00)?$")
    )
    other.close()
    context.close()


def test_cluster_insiders_and_totals_equal_an_independent_count_from_the_xml(site):
    """Guards against the cluster page showing other insiders or totals than the XML files give (counted here
    without the project's parser or store)."""
    server, browser, _, corpus = site
    context, page = _open(browser, server.url + "/clusters?" + RANGE)
    rows = list(csv.DictReader(io.StringIO(_download(page, "dl-clusters-csv").decode())))
    want = clusters(
        read_purchases(sorted(corpus.glob("*.xml")), read_filing_dates(corpus)),
        dt.date(2023, 1, 1),
        dt.date(2023, 7, 31),
    )
    got = {(int(r["CIK"]), r["First buy"][:10]): (int(r["Insiders"]), float(r["Total ($)"])) for r in rows}
    expected = {(cik, day.isoformat()): (len(c["insiders"]), c["value"]) for (cik, day), c in want.items()}
    assert got.keys() == expected.keys() and len(got) > 100
    for key, (insiders, total) in expected.items():
        assert got[key][0] == insiders, key
        assert abs(got[key][1] - total) <= 0.5 + 1e-6, key  # the page shows whole dollars
    context.close()


@pytest.mark.parametrize("width", [390, 1440, 1920])
def test_screenshots_of_every_market_page(site, width):
    """Guards against unreadable pages at phone and desktop widths (the screenshots are looked at): every page
    renders without an error box at each width."""
    server, browser, _, _ = site
    pages = {
        "latest": "/latest?preset=purchases",
        "screener": "/screener?codes=P&sort=value&min=100000",
        "clusters": "/clusters?" + RANGE + "&cluster=316709:2023-03-14",
        "market": "/market?per=W&" + RANGE,
    }
    for name, path in pages.items():
        context, page = _open(browser, server.url + path, width)
        if name in ("clusters", "market"):
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=60_000
            )
        assert not page.locator("[data-testid='stException']").count()
        assert not page.locator("[data-testid='stAlertContentError']").count()
        _shot(page, name, width)
        context.close()
