"""The app in a real browser (Debian chromium via Playwright) against fake EDGAR, as a newcomer uses it.

Screenshots of every page go to artifacts/screenshots/ (git-ignored) for review.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from analytics.filters import Filters, apply_filters, default_range
from loaders.frames import load
from loaders.store import Store
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, StreamlitServer, need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.fake_edgar]


@pytest.fixture(scope="module")
def site(fake_edgar, tmp_path_factory):
    need_chromium()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("browser")
    server = StreamlitServer(fake_edgar.env(tmp / "data"), tmp / "streamlit.log")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        try:
            yield server, context, tmp / "data"
        finally:
            context.close()
            browser.close()
            server.stop()


def _wait_app(page) -> None:
    page.wait_for_selector("[data-testid='stSidebar']", timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )


def _plot_traces(page) -> list[int]:
    """Number of data points drawn in each plotly chart on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(
            d => (d.data || []).reduce((n, t) => n + ((t.x && t.x.length) || 0), 0))"""
    )


def _shot(page, name: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 3200})
    page.wait_for_timeout(1500)  # let data grids and plots paint
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1100})


def test_newcomer_flow(site):
    """Guards against the whole user journey breaking: pull by typing a ticker, charts with data, URL state,
    shared links, real PNG and CSV downloads, and the insider page for a named insider."""
    server, context, data_dir = site
    page = context.new_page()
    page.goto(server.url)
    _wait_app(page)
    page.get_by_text("Insider trading, from the SEC's own filings").wait_for()
    _shot(page, "0-welcome")

    ticker = page.get_by_role("textbox", name="Ticker(s)")
    ticker.fill("NLY")
    ticker.press("Enter")
    page.get_by_role("heading", name=re.compile("NLY — ANNALY CAPITAL")).wait_for(timeout=120_000)
    _wait_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    assert "ticker=NLY" in page.url

    # every code: the flow chart then has bars too
    page.goto(server.url + "/?ticker=NLY&codes=all")
    _wait_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    flow_points, holding_points = _plot_traces(page)[:2]
    assert flow_points > 0 and holding_points > 0
    _shot(page, "1-issuer")

    page.get_by_text("Quarter", exact=True).click()
    page.wait_for_url(re.compile(r"freq=Q"), timeout=30_000)
    _wait_app(page)
    shared = page.url
    assert parse_qs(urlparse(shared).query) == {"ticker": ["NLY"], "codes": ["all"], "freq": ["Q"]}

    other = context.new_page()
    other.goto(shared)
    _wait_app(other)
    other.get_by_role("heading", name=re.compile("NLY — ANNALY CAPITAL")).wait_for(timeout=60_000)
    assert other.get_by_label("Quarter").is_checked()
    other.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    title = other.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")
    assert "Net insider flow per quarter (US$)" in title
    other.close()

    page.get_by_role("button", name="Export chart").first.click()  # one menu per chart
    with page.expect_download(timeout=60_000) as png:
        page.get_by_role("button", name="PNG", exact=True).first.click()
    assert png.value.suggested_filename.startswith("NLY_net-flow") and png.value.suggested_filename.endswith(
        ".png"
    )
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.keyboard.press("Escape")
    page.get_by_role("button", name="Export table").last.click()
    with page.expect_download(timeout=60_000) as got:
        page.get_by_role("button", name="CSV", exact=True).last.click()
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    frames = load(Store(data_dir), tickers=["NLY"])
    f = Filters(tickers=("NLY",), codes=()).with_range(default_range(frames.filings))
    expected = apply_filters(frames.transactions, f)
    assert len(rows) == len(expected) > 0
    assert sorted(r["Date"][:10] for r in rows) == sorted(
        expected["transaction_date"].dt.strftime("%Y-%m-%d")
    )

    insider = page.get_by_role("textbox", name="Insider (name or CIK)")
    insider.fill("David L Finkelstein")
    insider.press("Enter")
    page.get_by_text("→ Finkelstein David L (CIK 1688537)").wait_for(timeout=30_000)
    page.get_by_role("link", name="Insider").click()
    page.get_by_role("heading", name="Finkelstein David L").wait_for(timeout=60_000)
    _wait_app(page)
    assert "insider=1688537" in page.url
    _shot(page, "2-insider")

    for name, link in (("3-plans", "10b5-1 plans"), ("4-explorer", "Filings explorer")):
        page.get_by_role("link", name=link).click()
        page.get_by_role("heading", name=re.compile(link.split()[0], re.I)).first.wait_for(timeout=60_000)
        _wait_app(page)
        assert "ticker=NLY" in page.url  # filters carried across pages
        _shot(page, name)
    assert "Traceback" not in page.content()
