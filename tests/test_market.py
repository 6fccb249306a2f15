"""Market analytics (analytics/market.py, analytics/signals.py) over a store with a known multi-year history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics import market, signals
from loaders.ingest import ingest_dir
from loaders.store import Store
from tests.fixtures.market_history import (
    CLUSTER_DLTA,
    EXPECTED,
    JOINT,
    N_FILINGS,
    N_ROWS,
    TRADES,
    TYPO,
    write_market_history,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    tmp = tmp_path_factory.mktemp("market")
    write_market_history(tmp / "xml")
    s = Store(tmp / "data")
    report = ingest_dir(tmp / "xml", s)
    assert report.new == N_FILINGS and not report.failed
    return s


def _labels(page: market.Page) -> dict[tuple, tuple]:
    rows = page.rows
    out = {}
    for r in rows.itertuples():
        key = (int(r.owner_cik), r.ticker, r.transaction_date.date().isoformat(), r.code)
        first = None if pd.isna(r.first_buy) else bool(r.first_buy)
        largest = None if pd.isna(r.largest) else bool(r.largest)
        out[key] = (r.cmp_class, first, largest)
    return out


def _all_rows(store: Store, **kw) -> market.Page:
    return market.screen(store, page_size=500, **kw)


def test_signal_labels_are_exact_on_known_history(store):
    """Guards against a wrong routine/opportunistic rule (months not matched across all three years, awards
    counted as trades, trades of other issuers ignored), first buys that ignore the N-year gap or the store's
    history, and 'largest' compared with the wrong trades."""
    got = _labels(_all_rows(store))
    assert {k: got[k] for k in EXPECTED} == EXPECTED


def test_signal_filter_path_gives_the_same_labels(store):
    """Guards against the two code paths (signals for the shown page only vs signals before filtering) drifting
    apart: sorting by a signal column computes them over every candidate row."""
    fast = _labels(_all_rows(store))
    full = _labels(_all_rows(store, sort="cmp_class"))
    assert full == fast


def test_filter_on_signals(store):
    """Guards against signal filters being ignored or applied to the wrong rows."""
    page = _all_rows(store, signal_where=("t.cmp_class = 'routine'", []))
    assert set(zip(page.rows["owner_name"], page.rows["transaction_date"].dt.year, strict=True)) == {
        ("Routine Rita", 2022),
        ("Crossissuer Carl", 2022),
    }
    assert page.total == 3
    firsts = _all_rows(store, signal_where=("t.first_buy", []))
    # Otto 2019 + 2022, Uma 2019, Carl, Alan, Dora 2020, Fred DLTA 2019 + 2022-01-10 (two rows) + GAMA, Nora,
    # the fund and its GP (each owner's report is a row here); not Gina (EPSL's history is too short to tell)
    assert firsts.total == 13 == len(firsts.rows) and firsts.rows["first_buy"].all()
    assert "Greenfield Gina" not in set(firsts.rows["owner_name"])


def test_first_buy_years_is_a_parameter(store):
    """Guards against N being ignored: with N = 4, Otto's 2022 buy (last buy 2020-02-14) is no longer a first buy."""
    page = _all_rows(store, first_buy_years=4)
    got = _labels(page)
    assert got[(4000002, "GAMA", "2022-05-02", "P")][1] is False
    assert got[(4000007, "DLTA", "2022-01-10", "P")][1] is False  # 2019-06-03 is 2.6 years earlier, within 4
    assert got[(4000007, "DLTA", "2019-06-03", "P")][1] is None  # DLTA's history starts 2016: < 4 years back
    assert signals.years(10_000) == signals.MAX_YEARS and signals.years(-3) == 1


def test_row_values_delta_own_days_and_late(store):
    """Guards against ΔOwn computed from the holding after the trade, sign errors on sales, and late filings
    missed."""
    rows = _all_rows(store).rows.set_index(["owner_name", "transaction_date", "price"]).sort_index()
    fred = rows.loc[("First Fred", pd.Timestamp("2022-01-10"))]
    assert fred.loc[12.0, "owned_before"] == 1_000 and fred.loc[12.0, "delta_own"] == pytest.approx(2.0)
    assert fred.loc[13.0, "owned_before"] == 3_000 and fred.loc[13.0, "delta_own"] == pytest.approx(2 / 3)
    rita = rows.loc[("Routine Rita", pd.Timestamp("2022-09-01"), 15.0)]
    assert rita["owned_before"] == 95_000 and rita["delta_own"] == pytest.approx(2_000 / 95_000)
    assert rita["plan"] == "plan" and not rita["is_late"] and rita["days_to_file"] == 4  # Thu -> Mon
    otto = rows.loc[("Opportunist Otto", pd.Timestamp("2022-05-02"), 14.0)]
    assert otto["is_late"] and otto["days_to_file"] == 7 and otto["plan"] == "discretionary"
    gina = rows.loc[("Greenfield Gina", pd.Timestamp("2022-01-05"), 5.0)]
    assert pd.isna(gina["delta_own"])  # a new position: nothing owned before
    assert rows.loc[("Unclassified Uma", pd.Timestamp("2022-06-01"), 14.0), "is_cfo"]


def test_screen_sorts_by_every_column_and_paginates(store):
    """Guards against a column that cannot be sorted, pages that overlap or skip rows, and a wrong total."""
    everything = _all_rows(store, sort="value", descending=True)
    n = everything.total
    assert n == len(everything.rows) == N_ROWS
    pages = [market.screen(store, sort="value", page=p, page_size=7) for p in range(1, 7)]
    assert pages[0].pages == -(-n // 7)
    stitched = pd.concat([p.rows for p in pages if len(p.rows)])
    assert list(stitched["row_id"]) == list(everything.rows["row_id"])
    assert list(everything.rows["value"]) == sorted(everything.rows["value"], reverse=True)
    for col in market.SCREEN_COLUMNS:
        assert market.screen(store, sort=col, descending=False, page_size=3).total == n
    with pytest.raises(ValueError):
        market.screen(store, sort="value; DROP TABLE filings")


def test_latest_summarises_each_filing_and_code(store):
    """Guards against a filing's tranches shown as separate trades, a price that is not the weighted average,
    and ΔOwn of a summary taken from the wrong row."""
    page = market.latest(store, market.codes_where(("P",)), page_size=500)
    fred = page.rows[(page.rows["owner_name"] == "First Fred") & (page.rows["trade_date"] == "2022-01-10")]
    assert len(fred) == 1
    f = fred.iloc[0]
    assert f["shares"] == 4_000 and f["value"] == 50_000 and f["price"] == pytest.approx(12.5)
    assert f["owned_before"] == 1_000 and f["owned_after"] == 5_000 and f["delta_own"] == pytest.approx(4.0)
    assert f["first_buy"] and f["largest"] and f["n_rows"] == 2 and f["cmp_class"] == "unclassified"
    n_p = sum(1 for t in TRADES if t[3] == "P") + 2  # + the joint filing, as each owner filed it
    assert len(page.rows) == n_p and not page.more and page.total is None
    assert list(page.rows["filing_date"]) == sorted(page.rows["filing_date"], reverse=True)
    assert f["filing_url"].endswith(f"/{f['accession']}-index.htm")


def test_latest_pages_through_the_feed(store):
    """Guards against a feed page that skips or repeats filings, a wrong 'more' flag, and a cutoff that drops a
    filing whose $ floor is only met further back (the window widens until the page is full)."""
    full = market.latest(store, page_size=500).rows
    stitched, p = [], 1
    while True:
        page = market.latest(store, page=p, page_size=4)
        stitched.append(page.rows)
        if not page.more:
            break
        assert page.pages == p + 1 and len(page.rows) == 4
        p += 1
    both = pd.concat(stitched)
    assert list(zip(both["accession"], both["code"], strict=True)) == list(
        zip(full["accession"], full["code"], strict=True)
    )
    rich = market.latest(store, market.codes_where(("P",)), min_value=45_000, page_size=1)
    assert list(rich.rows["owner_name"]) == ["First Fred"] and not rich.more


def test_latest_widens_its_window_until_the_page_is_full(store, monkeypatch):
    """Guards against the speed-up (group only recently filed rows) losing older filings: with a window of a
    few rows, a $ floor met only by older filings still fills the page."""
    monkeypatch.setattr(market, "WINDOW_ROWS", 1)
    page = market.latest(store, market.codes_where(("S",)), min_value=13_000, page_size=2)
    assert list(page.rows["trade_date"].dt.date.astype(str)) == ["2022-09-01", "2022-08-15"] and page.more
    second = market.latest(store, market.codes_where(("S",)), min_value=13_000, page_size=2, page=2)
    assert (
        list(second.rows["trade_date"].dt.date.astype(str)) == ["2022-03-14", "2021-08-02"]
        and not second.more
    )


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("purchases", {t[0].name for t in TRADES if t[3] == "P"} | {"Delta Fund LP", "Delta Fund GP LLC"}),
        ("sales", {t[0].name for t in TRADES if t[3] == "S"} | {"Typo Tom"}),
        ("officer-purchases", {"Unclassified Uma", "Awards Alan"}),
        ("ceo-cfo-purchases", {"Unclassified Uma"}),
        ("biggest-week", {"Routine Rita"}),
    ],
)
def test_presets_select_their_trades(store, preset, expected):
    """Guards against a preset with the wrong codes or roles (CFO titles such as 'EVP & CFO' missed), the
    $25k floor not applied per filing, or 'this week' anchored on the wrong date."""
    page = market.latest_preset(store, preset, page_size=500, today=dt.date(2026, 1, 1))
    assert set(page.rows["owner_name"]) == expected
    if preset == "ceo-cfo-purchases":
        assert len(page.rows) == 1 and page.rows["value"].iloc[0] == 42_000
    if preset == "biggest-week":
        assert list(page.rows["trade_date"]) == [pd.Timestamp("2022-09-01")]


def test_newest_filing_date_ignores_future_dates(store):
    """Guards against a mistyped future filing date moving 'this week'."""
    assert market.newest_filing_date(store, today=dt.date(2026, 1, 1)) == dt.date(2022, 9, 5)
    assert market.newest_filing_date(store, today=dt.date(2021, 1, 1)) == dt.date(2020, 11, 11)


def test_cluster_buys_on_known_history(store):
    """Guards against awards or sales counted as cluster buys, a window boundary off by one (day 30 is inside),
    an insider counted twice, and totals that miss a tranche."""
    clusters = market.cluster_buys(store, dt.date(2019, 1, 1), dt.date(2022, 12, 31))
    dlta = clusters[clusters["ticker"] == "DLTA"]
    assert len(dlta) == 1
    c = dlta.iloc[0]
    assert set(map(int, c["owner_ciks"].split("|"))) == CLUSTER_DLTA["insiders"]
    assert (
        c["insiders"] == 4 and c["value"] == CLUSTER_DLTA["value"] and c["trades"] == CLUSTER_DLTA["trades"]
    )  # the fund's purchase, reported by the fund and by its general partner, counts once
    assert (c["start"], c["end"]) == (pd.Timestamp(CLUSTER_DLTA["start"]), pd.Timestamp(CLUSTER_DLTA["end"]))
    assert c["names"] == "Crossissuer Carl; Day-thirty Dora; Delta Fund LP; First Fred"
    # buyers' holdings before their first buy in the cluster: Fred 1,000, Carl 4,800, Dora 1,000, the fund 100,000
    assert c["delta_own"] == pytest.approx((4_000 + 600 + 300 + 1_000) / (1_000 + 4_800 + 1_000 + 100_000))
    gama = clusters[clusters["ticker"] == "GAMA"].sort_values("start")
    assert [(r.start.date().isoformat(), r.insiders, r.value) for r in gama.itertuples()] == [
        ("2022-05-01", 2, 1_400 + 35_000),  # Fred, Otto
        ("2022-06-01", 3, 42_000 + 1_400 + 7_000),  # Uma, Alan (his awards are not buys), Nora
    ]
    # Nora held nothing before: her shares stay out of ΔOwn (Uma held 1,200, Alan 3,000)
    assert gama.iloc[1]["delta_own"] == pytest.approx((3_000 + 100) / (1_200 + 3_000))
    narrow = market.cluster_buys(store, dt.date(2019, 1, 1), dt.date(2022, 12, 31), window_days=29)
    narrow_dlta = narrow[narrow["ticker"] == "DLTA"].sort_values("start")
    # Dora (day 30) falls out, and opens the next window with Fred's 2022-03-01 buy
    assert [(r.start.date().isoformat(), r.insiders) for r in narrow_dlta.itertuples()] == [
        ("2022-01-10", 3),
        ("2022-02-09", 2),
    ]
    big = market.cluster_buys(store, dt.date(2019, 1, 1), dt.date(2022, 12, 31), min_insiders=3)
    assert sorted(big["ticker"]) == ["DLTA", "GAMA"]
    rich = market.cluster_buys(store, dt.date(2019, 1, 1), dt.date(2022, 12, 31), min_value=40_000)
    assert sorted(rich["ticker"]) == ["DLTA", "GAMA"] and rich["value"].min() >= 40_000
    trades = market.cluster_trades(store, c["issuer_cik"], c["start"], c["window_end"])
    assert trades["value"].sum() == CLUSTER_DLTA["value"] and len(trades) == CLUSTER_DLTA["trades"]


def _expected_frame(include_suspect: bool = False) -> pd.DataFrame:
    """Every counted trade row written out from the fixture: the joint filing once, the typo only if asked."""
    rows = []
    for owner, issuer, day, code, tranches, _owned, plan, _late in TRADES:
        for shares, price in tranches:
            rows.append({"owner": owner.cik, "ticker": issuer[2], "date": pd.Timestamp(day), "code": code,
                         "value": shares * price, "plan": plan})  # fmt: skip
    rows.append({"owner": JOINT["fund"], "ticker": "DLTA", "date": pd.Timestamp(JOINT["day"]), "code": "P",
                 "value": JOINT["shares"] * JOINT["price"], "plan": False})  # fmt: skip
    if include_suspect:
        rows.append({"owner": TYPO["owner"], "ticker": "GAMA", "date": pd.Timestamp(TYPO["day"]), "code": "S",
                     "value": TYPO["value"], "plan": False})  # fmt: skip
    return pd.DataFrame(rows)


def test_market_flow_ratio_and_top_issuers_match_an_independent_count(store):
    """Guards against sells added with the wrong sign, plan sales not kept apart, awards counted as buys, and
    a buy/sell ratio over rows instead of filings."""
    exp = _expected_frame()
    om = exp[exp["code"].isin(["P", "S"])]
    flow = market.market_flow(store, freq="M")
    by_month = om.assign(period=om["date"].dt.to_period("M").dt.start_time)
    signed = by_month["value"].where(by_month["code"] == "P", -by_month["value"])
    want = signed.groupby(by_month["period"]).sum()
    got = flow.groupby("period")["value"].sum()
    assert got.round(2).to_dict() == want.round(2).to_dict()
    plan_sales = flow[(flow["direction"] == "Sell") & (flow["plan"] == "10b5-1 plan")]["value"].sum()
    assert plan_sales == -om[(om["code"] == "S") & om["plan"]]["value"].sum()
    weekly = market.market_flow(store, freq="W")
    assert (weekly["period"].dt.dayofweek == 0).all() and weekly["value"].sum() == pytest.approx(signed.sum())

    ratio = market.buy_sell_ratio(store, freq="Q").set_index("period")
    q = pd.Timestamp(
        "2022-01-01"
    )  # Q1 2022: Fred x2, Carl, Dora, Gina, the fund (not its GP); Rita sells once
    assert (
        ratio.loc[q, "buy_filings"] == 6 and ratio.loc[q, "sell_filings"] == 1 and ratio.loc[q, "ratio"] == 6
    )

    top = market.top_issuers(
        store, market.date_where("transaction_date", dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    )
    y22 = om[om["date"].dt.year == 2022]
    net = (y22["value"].where(y22["code"] == "P", -y22["value"])).groupby(y22["ticker"]).sum()
    assert dict(zip(top["ticker"], top["net"], strict=True)) == pytest.approx(net[net > 0].to_dict())
    assert list(top["net"]) == sorted(top["net"], reverse=True)


def test_joint_duplicates_and_suspect_values_stay_out_of_market_totals(store):
    """Guards against a trade reported by a fund and by its general partner counted twice, and a unit-typo price
    ($1,400 against a $13.50-$14.50 range) swamping the market's sales, while the toggle still brings it back."""
    aug = pd.Timestamp("2022-08-01")
    sold = market.market_flow(store).query("direction == 'Sell'").groupby("period")["value"].sum()
    assert aug not in sold.index or sold[aug] == 0
    with_typo = market.market_flow(store, include_suspect=True).query("direction == 'Sell'")
    assert with_typo.groupby("period")["value"].sum()[aug] == -TYPO["value"]
    jan = market.market_flow(store).query("direction == 'Buy'").groupby("period")["value"].sum()
    assert (
        jan[pd.Timestamp("2022-01-01")] == 50_000 + 500 + JOINT["shares"] * JOINT["price"]
    )  # Fred, Gina, fund
    top = market.top_issuers(store, include_suspect=True)
    assert "GAMA" not in set(top["ticker"])  # the typo sale makes GAMA a net seller once included
    page = market.screen(store, market.codes_where(("P", "S")), page_size=500)
    assert {JOINT["fund"], JOINT["gp"]} <= set(page.rows["owner_cik"])  # listings show each owner's report
    checks = market.screen_table(page).set_index("Insider")["Check"]
    assert checks["Delta Fund GP LLC"].startswith("Same trade as another owner's filing")
    assert checks["Typo Tom"] == "Suspect value (left out of totals)" and checks["Delta Fund LP"] == ""


def test_empty_store_gives_empty_frames(tmp_path):
    """Guards against a traceback on a fresh install: every market function answers an empty frame."""
    s = Store(tmp_path / "nothing")
    assert market.screen(s).total == 0 and market.latest(s).rows.empty
    assert market.market_flow(s).empty and market.buy_sell_ratio(s).empty and market.top_issuers(s).empty
    assert market.cluster_buys(s, None, None).empty and market.newest_filing_date(s) is None


@pytest.mark.parametrize(
    ("title", "ceo", "cfo"),
    [
        ("Chief Executive Officer", True, False),
        ("President and CEO", True, False),
        ("Co-CEO", True, False),
        ("Principal Executive Officer", True, False),
        ("EVP & CFO", False, True),
        ("Chief Financial Officer and Treasurer", False, True),
        ("Principal Financial and Accounting Officer", False, True),
        ("Executive Vice President", False, False),
        ("Chief Operating Officer", False, False),
        ("Chairman, CEO & CFO", True, True),
        ("", False, False),
    ],
)
def test_ceo_cfo_titles(title, ceo, cfo):
    """Guards against CEO/CFO roles missed for common title spellings, matched inside other titles, or the SQL
    (with its cheap pre-test) and the pandas mask disagreeing."""
    import duckdb

    from analytics.market_filters import MarketFilters, title_sql

    def col(_name):
        return "x"

    got = duckdb.sql(f"SELECT {title_sql(col, 'ceo')}, {title_sql(col, 'cfo')} FROM (SELECT ?::VARCHAR AS x)",
                     params=[title or None]).fetchone()  # fmt: skip
    assert got == (ceo, cfo)
    frame = pd.DataFrame({"officer_title": [title or None]})
    for role, want in (("ceo", ceo), ("cfo", cfo)):
        assert bool(MarketFilters.roles.mask(frame, (role,)).iloc[0]) == want


def test_screen_count_stops_at_the_cap(store, monkeypatch):
    """Guards against a capped count showing a wrong total: below the cap it is exact, above it says 'more'."""
    monkeypatch.setattr(market, "COUNT_CAP", 5)
    page = market.screen(store, page_size=3)
    assert page.total == 5 and page.capped and len(page.rows) == 3
    monkeypatch.setattr(market, "COUNT_CAP", 1_000)
    page = market.screen(store, page_size=3)
    assert page.total == N_ROWS and not page.capped


def test_signal_index_follows_the_store(tmp_path):
    """Guards against a stale signal index: after new filings are stored, labels and totals include them."""
    from tests.fixtures.builder import Tx, form_xml
    from tests.fixtures.market_history import EPSL, GINA

    write_market_history(tmp_path / "xml")
    s = Store(tmp_path / "data")
    ingest_dir(tmp_path / "xml", s)
    before = signals.ensure_index(s)
    extra = tmp_path / "more"
    extra.mkdir()
    xml = form_xml(
        issuer=EPSL,
        owners=[GINA],
        period="2024-03-01",
        transactions=[Tx("2024-03-01", "P", 100, 9.0, "A", 200)],
    )
    (extra / "0009000009-24-000001.xml").write_bytes(xml)
    assert ingest_dir(extra, s).new == 1
    after = signals.ensure_index(s)
    assert after != before
    got = _labels(market.screen(s, market.codes_where(("P",)), page_size=500))
    # her only earlier buy (2022-01-05) lies more than two years back, and was smaller
    assert got[(4000009, "EPSL", "2024-03-01", "P")] == ("unclassified", True, True)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"codes": "P", "sort": "value"},
        {"codes": "S", "role": "ceo,director", "sort": "delta_own", "order": "asc"},
        {"cmp": "routine,opportunistic", "sort": "cmp_class"},
        {"first": "yes", "years": "4"},
        {"largest": "yes", "ticker": "GAMA", "plan": "yes,no"},
        {"min": "5000", "max": "40000", "dmin": "5", "late": "no", "sort": "days_to_file"},
        {"filed_start": "2022-01-01", "insider": "4000007", "sort": "first_buy"},
    ],
)
def test_open_market_table_and_store_give_the_same_screen(store, query):
    """Guards against the fast path (the index's open-market table), the index's rows table and the store path
    showing different rows, labels or checks for the same open-market screen."""
    from analytics.market_filters import MarketFilters

    f = MarketFilters.from_query(query)
    pages = [
        market.screen(store, f.base_where(), signal_where=f.signal_where(), sort=f.sort, descending=f.order == "desc",
                      page_size=500, first_buy_years=f.years, open_market=fast, from_store=slow)
        for fast, slow in ((True, False), (False, False), (False, True))
    ]  # fmt: skip
    fast, rows, slow = (p.rows.reset_index(drop=True) for p in pages)
    assert len(fast) > 0 and pages[0].total == pages[1].total == pages[2].total == len(fast)
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    pd.testing.assert_frame_equal(rows, slow, check_dtype=False)


@pytest.mark.parametrize(
    "query",
    [
        {"codes": "A,M", "sort": "value"},
        {"codes": "A,F,M,P,S,G", "sort": "cmp_class", "order": "asc"},
        {"codes": "", "sort": "shares", "order": "asc"},
        {"codes": "A,S", "cmp": "routine,unclassified", "sort": "transaction_date"},
        {"codes": "A,P", "first": "yes", "sort": "first_buy"},
        {"codes": "F,A,S", "largest": "yes", "sort": "largest"},
    ],
)
def test_index_rows_table_and_store_give_the_same_screen_on_any_code(store, query):
    """Guards against the index's rows table (every code) missing rows of codes other than P and S, giving them
    other signal labels than the store path (trader type applies to every code, first buy / largest only to P/S),
    or sorting them differently."""
    from analytics.market_filters import MarketFilters

    f = MarketFilters.from_query(query)
    pages = [
        market.screen(store, f.base_where(), signal_where=f.signal_where(), sort=f.sort, descending=f.order == "desc",
                      page_size=500, first_buy_years=f.years, from_store=slow)
        for slow in (False, True)
    ]  # fmt: skip
    fast, slow = (p.rows.reset_index(drop=True) for p in pages)
    assert len(fast) > 0 and pages[0].total == pages[1].total == len(fast)
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)


def test_rows_table_holds_every_live_table_one_row(store):
    """Guards against the rows table of the index dropping codes other than P/S, Table II rows leaking in, or
    superseded rows being kept: its codes and counts equal the store's live Table I rows."""
    index = signals.ensure_index(store)
    got = store.query(f"SELECT code, count(*) AS n FROM {index.rows} GROUP BY code ORDER BY code")
    want = store.query(
        "SELECT code, count(*) AS n FROM transactions WHERE superseded_by IS NULL AND \"table\" = 'nonDerivative' "
        "GROUP BY code ORDER BY code"
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert len(set(got["code"])) > 2


def test_rows_table_labels_trader_type_on_other_codes(tmp_path):
    """Guards against the rows table leaving the trader type blank (or 'unclassified') on codes other than P/S:
    the insider's class for the year applies to every row of it; first buy and largest stay blank there."""
    from tests.fixtures.builder import Tx, form_xml
    from tests.fixtures.market_history import GAMA, RITA

    write_market_history(tmp_path / "xml")
    extra = tmp_path / "xml" / "0009000009-22-000077.xml"
    extra.write_bytes(form_xml(issuer=GAMA, owners=[RITA], period="2022-10-03",
                               transactions=[Tx("2022-10-03", "F", 300, 15.0, "D", 92_700),
                                             Tx("2022-10-03", "G", 700, 0.0, "D", 92_000)]))  # fmt: skip
    s = Store(tmp_path / "data")
    assert ingest_dir(tmp_path / "xml", s).new == N_FILINGS + 1
    pages = [
        market.screen(s, market.codes_where(("F", "G")), page_size=500, from_store=slow)
        for slow in (False, True)
    ]
    rows = pages[0].rows
    assert sorted(rows["code"]) == ["F", "G"] and set(rows["cmp_class"]) == {"routine"}
    assert rows["first_buy"].isna().all() and rows["largest"].isna().all()
    pd.testing.assert_frame_equal(rows, pages[1].rows, check_dtype=False)


def test_index_queries_fall_back_to_the_store_views_when_a_filter_names_one(store):
    """Guards against the bare index connection (no store views) failing, or answering differently, when a
    filter reads the store's `transactions` view (the shared ticker filter): the query falls back to the store."""
    from analytics.filters import Filters
    from analytics.market_filters import MarketFilters

    def col(c):
        return f't."{c}"'

    shared = Filters.tickers.where(("GAMA",), col)
    market_only = MarketFilters.tickers.where(("GAMA",), col)
    assert "transactions" in shared[0] and "transactions" not in market_only[0]
    pages = [market.screen(store, market.and_(w, market.codes_where(("P", "S"))), page_size=500, open_market=True)
             for w in (shared, market_only)]  # fmt: skip
    want = store.query(
        "SELECT count(*) AS n FROM transactions WHERE superseded_by IS NULL AND \"table\" = 'nonDerivative' "
        "AND code IN ('P', 'S') AND upper(ticker) = 'GAMA'"
    )["n"].iloc[0]
    assert len(pages[0].rows) == want == 22 and pages[0].total == pages[1].total == want
    pd.testing.assert_frame_equal(pages[0].rows, pages[1].rows)


def test_issuer_filing_ticker_none_is_named_not_labelled_none(tmp_path):
    """Guards against the top-issuers chart and table showing "NONE" (filed as the trading symbol by issuers
    without one) as if it were a ticker: the ticker is left blank and the chart labels the bar with the name."""
    from charts import figures
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import JANE, Tx, form_xml

    issuers = [(5555555, "Nameless Holdings Trust", "NONE"), (6666666, "Listed Corp", "lstd")]
    s = Store(tmp_path / "data")
    for i, issuer in enumerate(issuers):
        xml = form_xml(issuer=issuer, owners=[JANE], period="2024-03-01",
                       transactions=[Tx("2024-03-01", "P", 1000, 10.0 + i, "A", 5000)])  # fmt: skip
        s.write([parse_ownership(xml, f"000555555{i}-24-00000{i}", "2024-03-04")])
    top = market.top_issuers(s)
    assert list(top["issuer_name"]) == ["Listed Corp", "Nameless Holdings Trust"]
    assert top["ticker"].iloc[0] == "LSTD" and pd.isna(top["ticker"].iloc[1])
    bars = figures.top_issuers_figure(top).data[0]
    assert set(bars.y) == {"LSTD", "Nameless Holdings Trust"}
