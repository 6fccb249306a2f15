"""The Streamlit app in-process (AppTest) over a store filled from the fixture corpus."""

from __future__ import annotations

import base64
import json
import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics.filters import fmt_money
from tests.conftest import ROOT
from tests.fixtures.builder import FIXTURE_TOTALS
from tests.store_support import fixture_store

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    fixture_store(tmp)
    return tmp / "data"


@pytest.fixture
def app(data_dir, monkeypatch):
    monkeypatch.setenv("INSIDER_DATA_DIR", str(data_dir))
    monkeypatch.delenv("EDGAR_IDENTITY", raising=False)

    def make(query: dict | None = None, page: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        if page:
            at.switch_page(page)
        return at.run()

    return make


def _unescape(markdown: str) -> str:
    """Text as shown: markdown backslash escapes (ui.text.plain) removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _values(v) -> list[float]:
    """Plotly 6 sends arrays as {'dtype': 'f8', 'bdata': base64}; older versions as lists."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.mark.parametrize(
    ("page", "heading"),
    [
        (None, "ACME — ACME Widgets Inc"),
        ("pages/insider.py", "Insider"),
        ("pages/plans.py", "Rule 10b5-1 trading plans"),
        ("pages/explorer.py", "Filings explorer"),
    ],
)
def test_every_page_renders_without_exception(app, page, heading):
    """Guards against any page raising (a traceback in the browser) on real stored data."""
    at = app({"ticker": "ACME"}, page)
    assert not at.exception, at.exception
    assert heading in [t.value for t in at.title]
    assert not at.error, [e.value for e in at.error]


def test_issuer_headline_and_flow_chart_numbers(app):
    """Guards against wrong totals: double-counted amendments or joint filings, or holdings counted as flow."""
    at = app({"ticker": "ACME"})
    acme = FIXTURE_TOTALS["ACME"]
    assert _metric(at, "Sold (S)") == fmt_money(acme["sale_value"])
    assert _metric(at, "Bought (P)") == fmt_money(acme["purchase_value"])
    assert _metric(at, "Sales under 10b5-1") == f"{acme['plan_sale_value'] / acme['sale_value']:.0%}"
    flow = _figures(at)[0]
    sells = sum(
        sum(_values(t["y"])) for t in flow["data"] if t["type"] == "bar" and t["name"].startswith("Sells")
    )
    assert sells == pytest.approx(-acme["sale_value"])
    tables = at.dataframe
    assert any(len(t.value) == 12 for t in tables)  # 12 open-market trades in range


def test_changing_filters_updates_url_and_numbers(app):
    """Guards against filters that change the view but not the URL (or the other way round)."""
    at = app({"ticker": "ACME"})
    at.multiselect(key="f_codes").set_value(["S"]).run()
    assert at.query_params["codes"] == "S"
    assert _metric(at, "Bought (P)") == "$0"
    at.text_input(key="f_title").set_value("Financial").run()
    assert at.query_params["title"] == "Financial"
    assert _metric(at, "Sold (S)") == fmt_money(15_000 * 45.0)


def test_pasted_url_reproduces_view(app):
    """Guards against a shared link showing a different view: every filter comes back from the query string."""
    q = {"ticker": "ACME", "codes": "S", "plan": "yes", "start": "2023-01-01", "end": "2024-12-31"}
    at = app(q)
    caption = " ".join(c.value for c in at.caption)
    assert "Open-market sales of ACME, 2023-01-01 to 2024-12-31, under a 10b5-1 plan only." in caption
    assert _metric(at, "Sold (S)") == fmt_money(
        10_000 * (31 + 33.5 + 35 + 44 + 46) + 6_000 * 41.2 + 4_000 * 41.8
    )
    assert {k: at.query_params[k] for k in q} == q


def test_insider_page_spans_issuers(app):
    """Guards against the insider page showing only one issuer of a multi-issuer insider."""
    at = app({"ticker": "ACME", "insider": "1000001", "codes": "all"}, "pages/insider.py")
    assert not at.exception
    assert "Roe Jane" in [h.value for h in at.header]
    assert _metric(at, "Issuers") == "ACME, BETA"
    assert _metric(at, "Bought (P)") == fmt_money(2_000 * 14.0)


def test_insider_page_filings_follow_the_date_range(app):
    """Guards against the insider page mixing all-time and in-range figures (seen at 15 M rows: "Filings 6,768",
    every filing ever, beside sales of the two-year range): the Filings metric, the Issuers and the filings list
    cover the filings filed in the range, as the trades do."""
    at = app(
        {"insider": "1000001", "codes": "all", "start": "2024-01-01", "end": "2024-12-31"}, "pages/insider.py"
    )
    assert not at.exception
    assert _metric(at, "Filings") == "4" and _metric(at, "Issuers") == "ACME, BETA"
    assert "Filings in range (4)" in [h.value for h in at.subheader]
    listed = next(
        t.value for t in at.dataframe if "form" in t.value.columns and "n_holdings" in t.value.columns
    )
    assert sorted(listed["filing_date"].astype(str).str[:10]) == [
        "2024-03-19",
        "2024-05-17",
        "2024-06-18",
        "2024-09-18",
    ]
    at = app(
        {"insider": "1000001", "codes": "all", "start": "2022-01-01", "end": "2023-07-01"}, "pages/insider.py"
    )
    assert _metric(at, "Filings") == "2" and _metric(at, "Issuers") == "ACME"


def test_plans_page_adoption_and_share(app):
    """Guards against losing adoption dates or the cooling-off check on the 10b5-1 page."""
    at = app({"ticker": "ACME"}, "pages/plans.py")
    adoptions = next(t.value for t in at.dataframe if "owner_name" in t.value.columns)
    assert set(adoptions["adoption_date"].astype(str)) == {"2022-09-01", "2023-03-01"}
    assert _metric(at, "Sales under 10b5-1 plans") == f"{2_533_400 / 7_208_400:.0%}"


def test_unknown_ticker_without_identity_gets_plain_message(app):
    """Guards against a traceback (or a silent spinner) when a pull cannot start."""
    at = app({"ticker": "ZZZQ"})
    for _ in range(20):
        time.sleep(0.25)
        at.run()
        if at.warning or at.error:
            break
    assert not at.exception
    messages = _unescape(" ".join(w.value for w in at.warning) + " ".join(e.value for e in at.error))
    assert "EDGAR_IDENTITY" in messages


def test_empty_store_explains_how_to_start(tmp_path, monkeypatch):
    """Guards against a blank first start: the page says how to pull and what identity to set."""
    monkeypatch.setenv("INSIDER_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("EDGAR_IDENTITY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    text = " ".join(x.value for x in [*at.info, *at.warning, *at.markdown])
    assert "Nothing is loaded yet" in text and "EDGAR_IDENTITY" in text


def test_edgar_down_says_unreachable_and_shows_cache(app, monkeypatch):
    """Guards against a blank page or traceback when EDGAR cannot be reached: name it, list what is cached."""
    monkeypatch.setenv("EDGAR_IDENTITY", "Tests tests@example.com")
    monkeypatch.setenv("EDGAR_WWW", "http://127.0.0.1:9")
    monkeypatch.setenv("EDGAR_DATA", "http://127.0.0.1:9")
    at = app({"ticker": "QQQZ"})
    for _ in range(60):
        time.sleep(0.25)
        at.run()
        if at.error:
            break
    assert not at.exception
    assert "EDGAR is unreachable" in _unescape(" ".join(e.value for e in at.error))
    assert "Loaded issuers (2)" in [h.value for h in at.subheader]


@pytest.mark.fake_edgar
def test_insider_not_loaded_can_be_pulled(fake_edgar, tmp_path, monkeypatch):
    """Guards against a dead end on the insider page when the insider is not in the store yet."""
    for k, v in fake_edgar.env(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["insider"] = "1688537"
    at.switch_page("pages/insider.py")
    at.run()
    assert "No filings of insider CIK 1688537 are loaded yet." in [i.value for i in at.info]
    pull = next(b for b in at.button if b.label.startswith("Pull every filing of insider CIK 1688537"))
    pull.click().run()
    for _ in range(120):
        if "Finkelstein David L" in [h.value for h in at.header]:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception
    assert "Finkelstein David L" in [h.value for h in at.header]
    assert _metric(at, "Issuers") == "NLY"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"ticker": "ACME", "start": "1800-01-01"}, "Start date 1800-01-01 is before 1990-01-01"),
        ({"ticker": "ACME", "insider": "9" * 40}, "a CIK is a number of at most 10 digits"),
        ({"ticker": "ACME", "min": "1e308"}, "more than $1T"),
        ({"ticker": "ACME,<x>"}, "not a ticker symbol"),
    ],
)
def test_crash_urls_get_a_message_and_the_page(app, query, words):
    """Guards against issue 7 item 6: URLs that crashed a page now render it, with a plain message."""
    at = app(query)
    assert not at.exception, at.exception
    assert "ACME — ACME Widgets Inc" in [t.value for t in at.title]
    warnings = _unescape(" ".join(w.value for w in at.warning))
    assert words in warnings, warnings


def test_explorer_over_every_issuer_selects_in_duckdb(app, data_dir):
    """Guards against the all-issuers explorer loading the whole store into pandas (a market-wide store has 15 M
    rows) or counting differently from the per-issuer filters."""
    from analytics.filters import Filters, apply_filters, default_range
    from loaders.frames import load, loaded_issuers
    from loaders.store import Store

    at = app({"codes": "all"}, "pages/explorer.py")
    assert not at.exception, at.exception
    store = Store(data_dir)
    f = Filters.from_query({"codes": "all"})
    f = f.with_range(default_range(loaded_issuers(store), column="last_filing"))
    want = len(apply_filters(load(store).transactions, f))
    text = " ".join(_unescape(m.value) for m in at.markdown)
    assert f"**{want:,} transactions**" in text
    assert any(len(t.value) == want for t in at.dataframe)


def test_insider_search_pick_opens_the_profile(app):
    """Guards against issue 7 item 1: picking a search match raised StreamlitWidgetAlreadyInstantiatedError
    (the page set the sidebar's insider box after it was drawn)."""
    at = app({"ticker": "ACME"}, "pages/insider.py")
    at.text_input(key="insider_search").set_value("Major").run()  # one match: opens at once
    assert not at.exception, at.exception
    assert "Major Mary" in [h.value for h in at.header]
    assert at.query_params["insider"] == "1000003"
    at.text_input(key="insider_search").set_value("Acme Capital").run()  # two matches: pick one
    assert not at.exception, at.exception
    assert at.query_params["insider"] == "1000003"  # no match is opened before the user picks
    at.selectbox(key="insider_pick").select(1000005).run()
    assert not at.exception, at.exception
    assert "Acme Capital GP LLC" in [h.value for h in at.header]
    assert at.query_params["insider"] == "1000005"
    assert "by Acme Capital GP LLC" in " ".join(c.value for c in at.caption)


def test_url_changed_outside_the_widgets_restores_filters(app):
    """Guards against issue 7 item 7: Back/Forward gave the page an older query string but the widgets kept the
    newer filters and wrote them straight back (Back restored nothing)."""
    at = app({"ticker": "ACME"})
    bought = _metric(at, "Bought (P)")
    at.multiselect(key="f_codes").set_value(["S"]).run()
    assert at.query_params["codes"] == "S" and _metric(at, "Bought (P)") == "$0"
    del at.query_params["codes"]  # what the browser's Back sends: the previous URL
    at.run()
    assert not at.exception
    assert at.multiselect(key="f_codes").value == ["P", "S"]
    assert "codes" not in at.query_params and _metric(at, "Bought (P)") == bought
    at.query_params["codes"] = "S"  # Forward
    at.run()
    assert at.multiselect(key="f_codes").value == ["S"] and _metric(at, "Bought (P)") == "$0"


def test_stale_listing_is_refreshed_and_stored_data_stays_on_screen(app, data_dir, monkeypatch):
    """Guards against issue 7 item 2: a listing older than its TTL was never fetched again (new filings never
    arrived); and a refresh that fails must not hide what is stored, nor put a red error box over it (seen on TEAM
    at 15 M rows): the outage is a warning that says the stored filings are shown."""
    from loaders import listings

    stored = listings.started(data_dir, "issuer", 1234567, "ACME Widgets Inc", "ACME", [], now=1_000.0)
    listings.finished(data_dir, stored, [], now=1_001.0)  # fetched in 1970: long past the TTL
    monkeypatch.setenv("EDGAR_IDENTITY", "Tests tests@example.com")
    monkeypatch.setenv("EDGAR_WWW", "http://127.0.0.1:9")
    monkeypatch.setenv("EDGAR_DATA", "http://127.0.0.1:9")
    try:
        at = app({"ticker": "ACME"})
        for _ in range(60):
            if at.warning or at.error:
                break
            time.sleep(0.25)
            at.run()
        assert not at.exception and not at.error
        notice = _unescape(" ".join(w.value for w in at.warning))
        assert "EDGAR is unreachable" in notice and "Showing what is stored." in notice  # it tried to refresh
        assert (
            notice.count("EDGAR is unreachable") == 1 and ". Showing what is stored." in notice
        )  # said once
        assert "ACME — ACME Widgets Inc" in [t.value for t in at.title]  # and the stored filings are shown
        assert _metric(at, "Sold (S)") == fmt_money(FIXTURE_TOTALS["ACME"]["sale_value"])
    finally:
        listings.path(data_dir, "issuer", 1234567).unlink()


def test_issuer_data_quality_section_and_suspect_toggle_0001209191_23_018495(tmp_path, monkeypatch):
    """Guards against a typo price (PANW: $188,139 for ~$188) reaching the headline by default, against the
    toggle not putting it back, and against the Data quality section missing the flag and its reason."""
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import ACME, JANE, Tx, form_xml

    store = fixture_store(tmp_path)
    note = "weighted average sale price of the shares sold ranging from $41.875 to $42.41 per share."
    typo = form_xml(issuer=ACME, owners=[JANE], period="2024-10-01", footnotes={"F1": note},
                    transactions=[Tx("2024-10-01", "S", 1500, 42139.0, "D", 430500, price_footnotes=["F1"])])  # fmt: skip
    store.write([parse_ownership(typo, "0001234567-24-000999", "2024-10-02")])
    monkeypatch.setenv("INSIDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EDGAR_IDENTITY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ticker"] = "ACME"
    at.run()
    assert not at.exception, at.exception
    sold = FIXTURE_TOTALS["ACME"]["sale_value"]
    assert _metric(at, "Sold (S)") == fmt_money(sold)
    assert "Data quality" in [h.value for h in at.subheader]
    quality = next(t.value for t in at.dataframe if "reason" in t.value.columns)
    row = quality.set_index("flag").loc["price_far_outside_range"]
    assert (row["rows"], row["totals"]) == (1, "left out")
    at.toggle(key="include_suspect").set_value(True).run()
    assert _metric(at, "Sold (S)") == fmt_money(sold + 1500 * 42139.0)


def test_plans_over_every_issuer_reads_only_its_rows_and_agrees(app, data_dir):
    """Guards against the all-issuers plans page loading the whole store, or its figures differing from the same
    filters applied to every loaded row."""
    from analytics import plans
    from analytics.filters import Filters, apply_filters, default_range
    from loaders.frames import load, load_where, loaded_issuers
    from loaders.store import Store

    at = app({}, "pages/plans.py")
    assert not at.exception, at.exception
    store = Store(data_dir)
    f = Filters.from_query({}).with_range(default_range(loaded_issuers(store), column="last_filing"))
    f = f.replace(codes=("S",))
    everything = load(store)
    want = plans.plan_share(apply_filters(everything.transactions, f))
    got = _metric(at, "Sales under 10b5-1 plans")
    assert got == ("–" if want is None else f"{want:.0%}")
    part = load_where(store, *plans.market_scope(f))
    assert len(part.transactions) < len(everything.transactions)  # only the rows the page reads
    assert len(apply_filters(part.transactions, f)) == len(apply_filters(everything.transactions, f))


def test_errors_on_pages_name_no_server_address():
    """Guards against issue 7 item 11: an error showed an internal URL (the CIK 0000000000 pull)."""
    from analytics.filters import Filters
    from ui.pulls import _why, public

    assert (
        public("EDGAR has no http://10.0.0.7:8765/submissions/CIK0000000000.json (404)")
        == "EDGAR has no (404)"
    )
    assert (
        public("EDGAR is unreachable at 127.0.0.1: cannot connect") == "EDGAR is unreachable: cannot connect"
    )
    assert public("EDGAR is unreachable at edgar.internal.example:8443.") == "EDGAR is unreachable."
    assert _why("EDGAR is unreachable at 127.0.0.1: cannot connect") == "EDGAR could not be reached"
    f, notices = Filters.parse_query({"ticker": "0000000000,NLY"})
    assert f.tickers == ("NLY",) and "not a ticker symbol" in str(notices[0])
