"""Issue 7 in a real browser (Debian chromium via Playwright) against fake EDGAR serving the real corpus plus a
small synthetic one (tests/fixtures/newuser.py): each numbered item of the issue, reproduced as a new user meets it.

Screenshots of every page at 390, 1440 and 1920 px, with one data point, one month and many years, go to
artifacts/screenshots/ (git-ignored) for review.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest

from loaders import listings
from loaders.store import Store
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    StreamlitServer,
    free_port,
    need_chromium,
)
from tests.conftest import FakeEdgar, need_corpus
from tests.fixtures.newuser import ADDED, COST, FRME, JELINEK, write_addition, write_newuser_corpus

pytestmark = [pytest.mark.browser, pytest.mark.fake_edgar]
WIDTHS = (390, 1440, 1920)


# ---------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    need_corpus()
    folder = tmp_path_factory.mktemp("newuser-corpus")
    write_newuser_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def site(corpus, browser, tmp_path_factory):
    """Fake EDGAR (real corpus + synthetic) and a fresh Streamlit server; its first request is tested below."""
    from tests.conftest import CORPUS

    tmp = tmp_path_factory.mktemp("newuser-site")
    edgar = FakeEdgar(["--corpus", str(CORPUS), "--corpus", str(corpus)])
    server = StreamlitServer(edgar.env(tmp / "data"), tmp / "streamlit.log")
    try:
        yield edgar, server, tmp / "data"
    finally:
        server.stop()
        edgar.stop()


def _context(browser, width: int = 1440, **kw):
    return browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True, **kw)


def _wait(page, timeout: float = 120) -> None:
    """Until the script has stopped running and no pull is in progress, for 2 s in a row."""
    page.wait_for_selector("[data-testid='stSidebar']", state="attached", timeout=60_000)
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 5:
        assert time.monotonic() < deadline, f"page still busy after {timeout} s: {page.url}"
        busy = page.query_selector("[data-testid='stStatusWidget']") or page.query_selector(
            "[data-testid='stProgress']"
        )
        quiet = 0 if busy else quiet + 1
        page.wait_for_timeout(400)


def _text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def _shots(page, name: str) -> None:
    """Screenshots at phone, laptop and desktop widths (tall, so the whole page is in them)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 3600 if width > 400 else 5200})
        page.wait_for_timeout(2500)  # data grids and plots repaint for the new width
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1440, "height": 1000})


def _axes(page) -> list[dict]:
    """Per plotly chart: its x and y tick labels as drawn, and the x range in days."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => {
            const texts = sel => [...d.querySelectorAll(sel)].map(t => t.textContent);
            const xr = d._fullLayout.xaxis.range.map(v => new Date(v).getTime());
            return {title: (d.layout.title || {}).text || '', x: texts('.xtick text'), y: texts('.ytick text'),
                    y2: texts('.y2tick text'), xdays: (xr[1] - xr[0]) / 86400000, type: d._fullLayout.xaxis.type};
        })"""
    )


def _assert_readable_axes(page) -> None:
    """Item 8: no time-of-day ticks on date axes, no repeated value ticks, no milli ('m') prefix, % axes as %."""
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .xtick').length > 0", timeout=60_000
    )
    for ax in _axes(page):
        assert not any(re.search(r"\d:\d\d", t) for t in ax["x"]), ax
        if ax["type"] == "date":
            assert ax["xdays"] >= 28, ax  # never a sub-second window around one trade
        ys = [t for t in ax["y"] if t.strip()]
        assert len(ys) == len(set(ys)), ax
        assert not any(re.search(r"\d\s?m$", t) for t in ys), ax
        assert all(t.endswith("%") for t in ax["y2"]), ax


# ---------------------------------------------------------------------- item 12 (first: needs a fresh server)
def test_first_request_after_start_is_the_app(site, browser, tmp_path):
    """Guards against issue 7 item 12: the first load after a server start showed Streamlit's own page list (from
    the pages/ folder) and a blank page, and a deep link ran the page without app.py's sidebar."""
    edgar, server, _ = site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(server.url)  # the first request this server gets
    _wait(page)
    page.get_by_text("Insider trading, from the SEC's own filings").wait_for()
    assert page.query_selector("[data-testid='stSidebarNav']") is None  # no folder-scan page list
    links = [a.inner_text().split("\n")[-1] for a in page.query_selector_all("[data-testid='stSidebar'] a")]
    assert links[:4] == ["Issuer", "Insider", "10b5-1 plans", "Filings explorer"]
    _shots(page, "0-welcome")

    deep = StreamlitServer(edgar.env(tmp_path / "data"), tmp_path / "streamlit.log")
    try:
        page.goto(deep.url + "/plans?codes=S&freq=Q")  # a deep link as the first request of a fresh server
        _wait(page)
        page.get_by_role("heading", name="Rule 10b5-1 trading plans").wait_for()
        assert page.query_selector("[data-testid='stSidebarNav']") is None
        assert page.get_by_role("textbox", name="Ticker(s)").is_visible()  # app.py's sidebar ran
        assert parse_qs(urlparse(page.url).query) == {"codes": ["S"], "freq": ["Q"]}
    finally:
        deep.stop()
    ctx.close()


# ---------------------------------------------------------------------- items 3, 1, 4
def test_insider_pull_then_issuer_then_search(site, browser):
    """Guards against issue 7 items 3 and 1: after pulling COST director Jelinek (2 filings), typing COST showed
    his 2 of COST's 10 filings and never fetched COST's list; picking an insider from the search crashed."""
    edgar, server, data_dir = site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{server.url}/insider?insider={JELINEK.cik}")
    _wait(page)
    page.get_by_role("button", name=re.compile("Pull every filing of insider CIK")).click()
    page.get_by_role("heading", name="JELINEK W CRAIG").wait_for(timeout=120_000)
    _wait(page)
    assert "Filings in range (2)" in _text(page)
    assert listings.read(data_dir, "issuer", COST[0]) is None

    page.goto(server.url)  # a new visit, no filters
    _wait(page)
    box = page.get_by_role("textbox", name="Ticker(s)")
    box.fill("COST")
    box.press("Enter")
    page.get_by_role("heading", name=re.compile("COST — COSTCO")).wait_for(timeout=120_000)
    _wait(page)
    assert "10 of 10 filings on EDGAR stored" in _text(page)
    assert re.search(r"Filings\s+10\b", _text(page))

    # item 1: search by name, pick a match -> the profile (no error box)
    page.get_by_role("link", name="Insider").click()
    _wait(page)
    search = page.get_by_role("textbox", name="Search insiders by name or CIK")
    search.fill("Costco Officer")
    search.press("Enter")
    _wait(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Matches").click()
    page.get_by_role("option", name=re.compile("Costco Officer 2")).click()
    page.get_by_role("heading", name="Costco Officer 2").wait_for(timeout=60_000)
    _wait(page)
    assert "insider=1500002" in page.url
    assert "by Costco Officer 2" in _text(page)
    assert not page.query_selector("[data-testid='stException']")
    search.fill("Jelinek")  # one match opens at once
    search.press("Enter")
    page.get_by_role("heading", name="JELINEK W CRAIG").wait_for(timeout=60_000)
    ctx.close()


def test_share_class_tickers_resolve_both_ways(site, browser):
    """Guards against issue 7 item 4: WLY (filings naming "WLY, WLYB") showed 0 filings and "Nothing is loaded",
    and "WLY, WLYB" as listed could not be typed back."""
    _, server, data_dir = site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{server.url}/?ticker=WLY&codes=all")
    page.get_by_role("heading", name=re.compile("WLY — JOHN WILEY")).wait_for(timeout=120_000)
    _wait(page)
    assert "36 of 36 filings on EDGAR stored" in _text(page)
    listing = listings.read(data_dir, "issuer", 107140)
    assert len(listing.listed) == 36 and not listing.missing(Store(data_dir).known_accessions())
    for typed in ("WLY, WLYB", "WLYB"):
        page.goto(f"{server.url}/explorer?ticker={typed}&codes=all&start=2014-01-01")
        _wait(page)
        text = _text(page)
        assert "Nothing is loaded" not in text and "not in EDGAR" not in text, text
        assert int(re.search(r"([\d,]+) transactions\.", text).group(1).replace(",", "")) > 36
    ctx.close()


# ---------------------------------------------------------------------- item 6 and issue 6's last bullet
@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("ticker=COST&start=1800-01-01", "Start date 1800-01-01 is before 1990-01-01"),
        ("ticker=COST&insider=" + "7" * 40, "a CIK is a number of at most 10 digits"),
        (
            "ticker=" + ",".join(f"Q{i}" for i in range(3000)),
            "3,000 tickers were given; showing the first 20",
        ),
        ("ticker=COST&min=1e308", "more than $1T"),
    ],
    ids=["1800", "40-digit-cik", "3000-tickers", "1e308"],
)
def test_crash_urls_get_a_message(site, browser, query, words):
    """Guards against issue 7 item 6: URLs that crashed a page (date widget minimum, DuckDB overflow) or started
    3,000 pulls now show the page with a plain message."""
    _, server, _ = site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{server.url}/?{query}")
    page.get_by_text(words).first.wait_for(timeout=60_000)
    _wait(page, timeout=180)
    assert not page.query_selector("[data-testid='stException']")
    ctx.close()


def test_one_bad_ticker_does_not_hide_the_good_one_and_text_stays_plain(site, browser):
    """Guards against issue 7 item 6 ("MSFT, ZZZZQ" showed only the error) and issue 6 (markdown images from a
    URL's ?title= rendered)."""
    _, server, _ = site
    ctx = _context(browser)
    page = ctx.new_page()
    title = "![x](http://127.0.0.1:9/evil.png) **bold**"
    page.goto(f"{server.url}/?ticker=MSFT,ZZZZQ&codes=all&title={title}")
    page.get_by_role("heading", name=re.compile("MSFT — MICROSOFT")).wait_for(timeout=120_000)
    _wait(page)
    text = _text(page)
    assert "ZZZZQ" in text and "not in EDGAR's ticker list" in text
    assert "![x](http://127.0.0.1:9/evil.png) **bold**" in text  # shown as typed ...
    assert not page.query_selector("[data-testid='stMain'] img")  # ... never as an image
    ctx.close()


# ---------------------------------------------------------------------- item 7
def test_back_restores_the_previous_filters(site, browser):
    """Guards against issue 7 item 7: each filter change added a history entry but Back restored nothing."""
    _, server, _ = site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{server.url}/?ticker=COST")
    _wait(page)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    sidebar.get_by_text("Quarter", exact=True).click()
    page.wait_for_url(re.compile(r"freq=Q"), timeout=30_000)
    _wait(page)
    sidebar.get_by_text("Shares", exact=True).click()
    page.wait_for_url(re.compile(r"unit=shares"), timeout=30_000)
    _wait(page)
    page.go_back()
    page.wait_for_url(lambda url: "unit=" not in url and "freq=Q" in url, timeout=30_000)
    _wait(page)
    assert (
        page.get_by_role("radio", name="Quarter").is_checked()
        and page.get_by_role("radio", name="US$").is_checked()
    )
    page.go_back()
    page.wait_for_url(lambda url: "freq=" not in url, timeout=30_000)
    _wait(page)
    assert page.get_by_role("radio", name="Month").is_checked()
    title = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")
    assert "per month (US$)" in title
    page.go_forward()
    page.wait_for_url(re.compile(r"freq=Q"), timeout=30_000)
    _wait(page)
    assert page.get_by_role("radio", name="Quarter").is_checked()
    ctx.close()


# ---------------------------------------------------------------------- item 5
def test_two_sessions_pulling_at_once_stay_under_the_limit(site, browser):
    """Guards against issue 7 item 5: pulls from the page broke EDGAR's limit (11 and 13 requests in one second,
    two 429s) and a URL with many tickers started that many pulls at once."""
    edgar, server, data_dir = site
    edgar.reset()
    first, second = _context(browser), _context(browser)
    a, b = first.new_page(), second.new_page()
    a.goto(f"{server.url}/?ticker=SBUX,KLAC,KMI,REXR")
    b.goto(f"{server.url}/?ticker=KLAC,KMI,GRBK,DX")
    a.get_by_text(re.compile("waiting to be pulled")).first.wait_for(
        timeout=60_000
    )  # queued, not all at once
    for page in (a, b):
        _wait(page, timeout=240)
    stats = edgar.stats()
    assert stats["max_requests_in_1s"] <= 10, stats
    assert stats.get("by_status", {}).get("429", 0) == 0, stats
    submissions = {k: v for k, v in stats["by_prefix"].items() if k.startswith("/submissions/")}
    assert all(v == 1 for v in submissions.values()), (
        submissions
    )  # KLAC and KMI pulled once for both sessions
    for page, tickers in ((a, "SBUX · KLAC · KMI · REXR"), (b, "KLAC · KMI · GRBK · DX")):
        assert page.get_by_role("heading", name=re.compile(re.escape(tickers))).is_visible()
    first.close()
    second.close()


# ---------------------------------------------------------------------- items 8-11: screenshots
SCENARIOS = {  # page -> query; plans and explorer use the issuer's
    "one-point": {
        "issuer": "ticker=COST&start=2024-01-08&end=2024-01-08",
        "insider": f"insider={JELINEK.cik}&start=2024-01-11&end=2024-01-11&codes=all",
    },
    "one-month": {
        "issuer": "ticker=COST&start=2024-01-01&end=2024-01-31",
        "insider": f"insider={JELINEK.cik}&start=2024-01-01&end=2024-01-31",
    },
    "many-years": {
        "issuer": "ticker=MU&codes=all&start=2012-01-01&end=2023-12-31",
        "insider": "insider=1273666&codes=all&start=2015-01-01&end=2024-12-31",  # Wolin (AMD), 2017 to 2023
    },
}
PAGES = {"issuer": "", "insider": "insider", "plans": "plans", "explorer": "explorer"}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_page_readable_at_three_widths(site, browser, scenario):
    """Guards against issue 7 items 8-11: unreadable axes (sub-ms ticks, repeated ticks, "$29.7641%", "$500m"),
    tables cut off, five export buttons per chart, captions naming a CIK. Saves the screenshots to look at."""
    _, server, _ = site
    ctx = _context(browser)
    page = ctx.new_page()
    queries = SCENARIOS[scenario]
    for name, path in PAGES.items():
        page.goto(f"{server.url}/{path}?{queries.get(name, queries['issuer'])}")
        _wait(page, timeout=180)
        pull = page.get_by_role("button", name=re.compile("Pull every filing of insider"))
        if pull.count():
            pull.click()
            page.get_by_text(re.compile(r"^Filings in range \(\d+\)$")).wait_for(timeout=120_000)
            _wait(page)
        assert not page.query_selector("[data-testid='stException']")
        text = _text(page)
        assert "insider CIK" not in text and "None" not in text
        if page.query_selector(".js-plotly-plot"):
            _assert_readable_axes(page)
            assert len(page.get_by_role("button", name="PNG", exact=True).all()) == 0  # behind one menu
            assert len(page.get_by_role("button", name=re.compile("Export chart")).all()) == len(_axes(page))
        _shots(page, f"{scenario}-{name}")
    ctx.close()


def test_dark_theme_and_phone_layout(site, browser):
    """Guards against issue 7 item 10: the theme was forced light (no dark option), and at 390 px the sidebar
    covered the page."""
    _, server, _ = site

    def background(page) -> int:
        rgb = page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        return sum(int(c) for c in re.findall(r"\d+", rgb)[:3])

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    page = ctx.new_page()
    page.goto(f"{server.url}/?ticker=COST")
    _wait(page)
    page.get_by_role("heading", name=re.compile("COST — COSTCO")).wait_for(timeout=60_000)
    sidebar = page.query_selector("[data-testid='stSidebar']")
    assert sidebar.get_attribute("data-collapsed") == "true"  # collapsed on a phone: the page is visible
    assert background(page) < 150  # a dark system gets the dark theme
    page.set_viewport_size({"width": 390, "height": 5200})
    page.wait_for_timeout(2500)
    page.screenshot(path=str(SCREENSHOTS / "dark-issuer-390.png"))
    ctx.close()

    ctx = _context(browser, color_scheme="light")
    page = ctx.new_page()
    page.goto(f"{server.url}/?ticker=COST")
    _wait(page)
    assert background(page) > 600
    page.get_by_test_id("stMainMenu").click()  # the menu offers the dark theme
    page.get_by_test_id("stMainMenuItem-theme-Dark").click()
    page.wait_for_timeout(500)
    assert background(page) < 150
    ctx.close()


# ---------------------------------------------------------------------- item 2 (its own EDGAR, killed and restarted)
@pytest.fixture
def flaky_site(corpus, tmp_path):
    """Fake EDGAR on a fixed port (so it can be killed and started again) and its own Streamlit server."""
    port = free_port()
    args = ["--corpus", str(corpus), "--port", str(port)]
    servers = {"edgar": FakeEdgar([*args, "--latency-ms", "60"])}
    app = StreamlitServer(servers["edgar"].env(tmp_path / "data"), tmp_path / "streamlit.log")

    def restart(*extra: str) -> FakeEdgar:
        if servers["edgar"].proc.poll() is None:
            servers["edgar"].stop()
        servers["edgar"] = FakeEdgar([*args, *extra])
        return servers["edgar"]

    try:
        yield servers, app, restart, tmp_path
    finally:
        app.stop()
        servers["edgar"].stop()


def test_pull_cut_short_then_completed_then_refreshed(flaky_site, browser):
    """Guards against issue 7 item 2: EDGAR down at filing 13 of 55 left a partial issuer with no warning, counted
    as loaded forever; and a loaded issuer could never be refreshed. Now: a message naming the missing filings,
    completion on the next visit, and a Refresh button that fetches a filing added since."""
    servers, app, restart, tmp = flaky_site
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{app.url}/?ticker=FRME&codes=all")
    deadline = time.monotonic() + 60
    while servers["edgar"].stats()["by_prefix"].get("/Archives/edgar", 0) < 13:
        assert time.monotonic() < deadline, "the pull did not start"
        time.sleep(0.05)
    servers["edgar"].stop()  # EDGAR goes away mid-pull
    page.get_by_text(re.compile(r"of 55 filings of FRME are missing")).wait_for(timeout=180_000)
    _wait(page)
    missing = listings.read(tmp / "data", "issuer", FRME[0]).missing(Store(tmp / "data").known_accessions())
    assert missing and missing[0] in _text(page)
    page.screenshot(path=str(SCREENSHOTS / "pull-cut-short-1440.png"))

    restart()  # EDGAR is back; the next visit completes the pull
    page.goto(f"{app.url}/?ticker=FRME&codes=all")
    page.get_by_text("55 of 55 filings on EDGAR stored").wait_for(timeout=180_000)
    assert "are missing" not in _text(page)

    page.goto(f"{app.url}/?ticker=COST")
    page.get_by_text("10 of 10 filings on EDGAR stored").wait_for(timeout=180_000)
    _wait(page)
    extra = tmp / "addition"
    write_addition(extra)
    restart("--corpus", str(extra))  # EDGAR now lists one more COST filing
    page.get_by_role("button", name="Refresh").first.click()
    page.get_by_text("11 of 11 filings on EDGAR stored").wait_for(timeout=120_000)
    assert ADDED in Store(tmp / "data").known_accessions()
    ctx.close()
