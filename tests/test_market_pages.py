"""The market pages in-process (AppTest) over a store with a known multi-year history."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import market
from analytics.market_filters import MarketFilters
from loaders.ingest import ingest_dir
from loaders.store import Store
from tests.conftest import ROOT
from tests.fixtures.market_history import (
    CLUSTER_DLTA,
    EXPECTED,
    JOINT,
    N_FILINGS,
    TRADES,
    write_market_history,
)

APP = str(ROOT / "app.py")
ALL = {"start": "2019-01-01", "end": "2022-12-31"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("market-app")
    write_market_history(tmp / "xml")
    assert ingest_dir(tmp / "xml", Store(tmp / "data")).new == N_FILINGS
    return tmp / "data"


@pytest.fixture
def app(data_dir, monkeypatch):
    monkeypatch.setenv("INSIDER_DATA_DIR", str(data_dir))
    monkeypatch.delenv("EDGAR_IDENTITY", raising=False)

    def make(page: str, query: dict | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        at.switch_page(page)
        return at.run()

    return make


def _table(at: AppTest, index: int = 0) -> pd.DataFrame:
    return at.dataframe[index].value


def _values(v) -> list[float]:
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize(
    ("page", "heading", "query"),
    [
        ("pages/latest.py", "Latest insider filings", {}),
        ("pages/screener.py", "Screener", {}),
        ("pages/clusters.py", "Cluster buys", ALL),
        ("pages/market.py", "Market flow", ALL),
    ],
)
def test_every_market_page_renders(app, page, heading, query):
    """Guards against a market page raising (a traceback in the browser) or showing an error box."""
    at = app(page, query)
    _ok(at)
    assert heading in [t.value for t in at.title]
    assert at.dataframe and len(_table(at)) > 0


def test_preset_url_opens_the_preset_and_matches_the_analytics(app, data_dir):
    """Guards against a preset link showing another screen: the table is exactly the named function's rows."""
    at = app("pages/latest.py", {"preset": "ceo-cfo-purchases"})
    _ok(at)
    shown = _table(at)
    want = market.latest_table(market.latest_preset(Store(data_dir), "ceo-cfo-purchases"))
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), want, check_dtype=False)
    assert list(shown["Insider"]) == ["Unclassified Uma"] and list(shown["Value ($)"]) == [42_000]
    assert at.query_params["preset"] == "ceo-cfo-purchases"


def test_screener_shows_exact_signal_labels(app):
    """Guards against signal words on the page that differ from the rule (routine, opportunistic,
    unclassified, first buy) for a fixture with a known history."""
    at = app("pages/screener.py", {"codes": "all"})
    _ok(at)
    shown = _table(at)
    got = {
        (r["Insider"], pd.Timestamp(r["Trade date"]).date().isoformat(), r["Code"]): (
            r["Trader type"],
            r["First buy"],
        )
        for _, r in shown.iterrows()
    }
    names = {t[0].cik: t[0].name for t in TRADES}
    words = {"routine": "Routine", "opportunistic": "Opportunistic", "unclassified": "Unclassified"}
    for (cik, _ticker, day, code), (cmp_class, first, _largest) in EXPECTED.items():
        first_word = {True: "Yes", False: "No", None: ""}[first] if code == "P" else ""
        assert got[(names[cik], day, code)] == (words[cmp_class], first_word), (names[cik], day, code)


def test_screener_filter_change_updates_url_and_rows(app):
    """Guards against a filter box that changes the rows but not the URL (or the other way round)."""
    at = app("pages/screener.py", {"codes": "P"})
    _ok(at)
    before = len(_table(at))
    at.number_input(key="m_min_value").set_value(20_000.0).run()
    _ok(at)
    assert at.query_params["min"] == "20000"
    rows = _table(at)
    assert len(rows) < before and (rows["Value ($)"] >= 20_000).all()
    at.multiselect(key="m_roles").set_value(["cfo"]).run()
    assert at.query_params["role"] == "cfo"
    assert list(_table(at)["Insider"]) == ["Unclassified Uma"]
    at.selectbox(key="m_sort").set_value("value").run()
    at.radio(key="m_order").set_value("asc").run()
    assert at.query_params["sort"] == "value" and at.query_params["order"] == "asc"


def test_screener_url_reproduces_the_screen(app, data_dir):
    """Guards against a shared screener link showing different rows from the same filters."""
    q = {"pmin": "12", "pmax": "30", "late": "no", "sort": "price", "order": "asc"}
    at = app("pages/screener.py", q)
    _ok(at)
    f = MarketFilters.from_query(q)
    page = market.screen(Store(data_dir), f.base_where(), signal_where=f.signal_where(), sort="price",
                         descending=False)  # fmt: skip
    pd.testing.assert_frame_equal(
        _table(at).reset_index(drop=True), market.screen_table(page), check_dtype=False
    )
    assert {k: at.query_params[k] for k in q} == q
    assert "priced $12 to $30, filed on time only" in at.markdown[0].value.replace("\\", "")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"codes": "ZZ"}, "unknown transaction code"),
        ({"min": "50000", "max": "100"}, "swapped"),
        ({"max": "1e400"}, "more than $1,000,000,000,000"),
        ({"ticker": ",".join(f"T{i}" for i in range(3000))}, "3,000 tickers were given"),
        ({"role": ",".join(["x"] * 3000)}, "unknown role"),
        ({"page": "99999"}, "past the last page"),
        ({"years": "abc", "sort": "nope"}, "not a whole number"),
    ],
)
def test_bad_screener_urls_get_a_plain_message_and_the_page_still_works(app, query, words):
    """Guards against bad input in the URL (unknown code, min > max, a huge number, a 3,000-item list, a page
    that does not exist) crashing the page or hiding the rest of the screen."""
    at = app("pages/screener.py", query)
    _ok(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")
    assert words in text, text
    assert at.dataframe and at.get("download_button")  # the table and its exports are still there
    assert "Screener" in [t.value for t in at.title]


def test_min_above_max_typed_in_the_boxes_gets_the_same_message(app):
    """Guards against the boxes accepting an empty range silently (min above max shows no rows, no word)."""
    at = app("pages/screener.py", {"codes": "P"})
    at.number_input(key="m_min_price").set_value(30.0).run()
    at.number_input(key="m_max_price").set_value(10.0).run()
    _ok(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "minimum price was above the maximum price; swapped" in text
    assert at.query_params["pmin"] == "10" and at.query_params["pmax"] == "30"
    assert len(_table(at)) > 0


def test_clusters_page_lists_the_known_clusters(app):
    """Guards against the page showing other clusters than the rule gives (DLTA: 3 insiders, $74,000)."""
    at = app("pages/clusters.py", ALL)
    _ok(at)
    shown = _table(at)
    dlta = shown[shown["Ticker"] == "DLTA"].iloc[0]
    assert dlta["Insiders"] == len(CLUSTER_DLTA["insiders"]) and dlta["Total ($)"] == CLUSTER_DLTA["value"]
    assert sorted(shown["Ticker"]) == ["DLTA", "GAMA", "GAMA"]
    at.selectbox(key="m_cluster").set_value(f"3000002:{CLUSTER_DLTA['start']}").run()
    _ok(at)
    assert at.query_params["cluster"] == f"3000002:{CLUSTER_DLTA['start']}"
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in fig["data"]} == {
        "First Fred",
        "Crossissuer Carl",
        "Day-thirty Dora",
        "Delta Fund LP",
    }
    trades = _table(at, 1)
    assert trades["Value ($)"].sum() == CLUSTER_DLTA["value"]
    at.number_input(key="m_buyers").set_value(3).run()
    assert at.query_params["buyers"] == "3" and sorted(_table(at)["Ticker"]) == ["DLTA", "GAMA"]


def test_market_page_charts_add_up(app):
    """Guards against the flow chart drawing other totals than the trades (buys up, sales down)."""
    at = app("pages/market.py", {**ALL, "per": "Q"})
    _ok(at)
    flow = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [t for t in flow["data"] if t["type"] == "bar"]
    bought = sum(sum(_values(t["y"])) for t in bars if t["name"].startswith("Purchases"))
    sold = sum(sum(_values(t["y"])) for t in bars if t["name"].startswith("Sales"))
    rows = [(code, sum(s * p for s, p in tranches)) for _, _, _, code, tranches, *_ in TRADES]
    fund = JOINT["shares"] * JOINT["price"]  # reported twice, counted once; the typo sale is left out
    assert bought == pytest.approx(sum(v for c, v in rows if c == "P") + fund)
    assert sold == pytest.approx(-sum(v for c, v in rows if c == "S"))
    assert at.query_params["per"] == "Q"
    top = _table(at)
    assert list(top["Net ($)"]) == sorted(top["Net ($)"], reverse=True)


def test_market_pages_on_an_empty_store_explain_how_to_start(tmp_path, monkeypatch):
    """Guards against a blank page or traceback on a fresh install."""
    monkeypatch.setenv("INSIDER_DATA_DIR", str(tmp_path / "empty"))
    for page in ("pages/latest.py", "pages/screener.py", "pages/clusters.py", "pages/market.py"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page(page)
        at.run()
        assert not at.exception
        assert "python -m loaders sync" in " ".join(i.value for i in at.info)
