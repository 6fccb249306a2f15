"""Market filters (analytics/market_filters.py): SQL and pandas agree, bad URL values get a plain message."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from analytics import market
from analytics.filters import apply_filters
from analytics.market_filters import MarketFilters, delta_own
from loaders.ingest import ingest_dir
from loaders.schema import conform
from tests.fixtures.market_history import write_market_history
from tests.store_support import fixture_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The project fixture corpus plus the market history, in one store: (store, every transaction row)."""
    tmp = tmp_path_factory.mktemp("mfilters")
    store = fixture_store(tmp)
    write_market_history(tmp / "history")
    assert ingest_dir(tmp / "history", store).new > 30
    return store, conform(store.query("SELECT * FROM transactions"), "transactions")


M = MarketFilters
CASES = [
    M(codes=(), roles=("ceo",)),
    M(codes=(), roles=("cfo",)),
    M(codes=("P",), roles=("ceo", "cfo", "ten_percent")),
    M(codes=(), filed_start=dt.date(2024, 1, 1), filed_end=dt.date(2024, 6, 30)),
    M(codes=(), filed_start=dt.date(2022, 9, 5)),  # inclusive: Rita's last filing is dated 2022-09-05
    M(codes=(), max_value=42_000),  # inclusive: Uma's buy is exactly $42,000
    M(codes=(), min_value=10_000, max_value=50_000),
    M(codes=(), min_price=30, max_price=41.2),
    M(codes=(), min_shares=2_000, max_shares=10_000),
    M(codes=(), min_own=50),  # ΔOwn >= 50 %
    M(codes=(), min_own=1, max_own=5),
    M(codes=(), late="yes"),
    M(codes=("P", "S"), late="no", roles=("director",)),
    M(codes=(), tickers=("DLTA",), insider=4000007),
]


@pytest.mark.parametrize("f", CASES, ids=repr)
def test_market_sql_selects_the_same_rows_as_the_row_mask(stores, f):
    """Guards against the screener (SQL) and an export or issuer view (pandas) selecting different rows for one
    URL: ΔOwn, CEO/CFO titles, filing dates, price/shares/value bounds and lateness, in both paths."""
    store, tx = stores
    sql, params = f.base_where("t")
    got = set(store.query(f"SELECT row_id FROM transactions t WHERE {sql}", params)["row_id"])
    want = set(apply_filters(tx, f, skip=f.signal_names() + f.VIEW)["row_id"])
    assert got == want
    assert want and len(want) < len(tx)


def test_screen_applies_market_filters_to_table_one_rows(stores):
    """Guards against the screener ignoring a market filter: its rows equal the pandas mask over Table I."""
    store, tx = stores
    f = M(codes=("P",), min_own=50, roles=("director",))
    page = market.screen(store, f.base_where("t"), page_size=500)
    table1 = tx[tx["table"] == "nonDerivative"]
    want = apply_filters(table1, f, skip=f.signal_names() + f.VIEW)
    assert set(page.rows["row_id"]) == set(want["row_id"]) and page.total == len(want) > 0
    assert (page.rows["delta_own"] >= 0.5).all()


def test_signal_filters_go_to_signal_where(stores):
    """Guards against a signal filter reaching the base SQL (which has no signal columns) or being dropped."""
    store, _ = stores
    f = M(codes=(), cmp=("routine",), first_buy="yes")
    assert "cmp_class" not in f.base_where()[0] and "first_buy" not in f.base_where()[0]
    page = market.screen(store, f.base_where(), signal_where=f.signal_where(), page_size=500)
    assert page.total == 1 and page.rows["owner_name"].tolist() == ["Crossissuer Carl"]


def test_delta_own_in_pandas():
    """Guards against ΔOwn of sales computed from the holding after the sale, or new positions dividing by 0."""
    import pandas as pd

    tx = pd.DataFrame({"acquired_disposed": ["A", "D", "A", None], "shares": [100.0, 100.0, 100.0, 5.0],
                       "owned_after": [300.0, 300.0, 100.0, 10.0]})  # fmt: skip
    got = delta_own(tx).tolist()
    assert got[0] == pytest.approx(0.5) and got[1] == pytest.approx(0.25)
    assert pd.isna(got[2]) and pd.isna(got[3])


def test_round_trip_over_many_combinations():
    """Guards against a shared screener link coming back as a different screen."""
    options = {
        "roles": [(), ("ceo", "cfo"), ("director",)],
        "max_value": [None, 1_000_000.0],
        "min_price": [None, 2.5],
        "max_shares": [None, 10_000.0],
        "min_own": [None, 12.5],
        "late": ["all", "yes", "no"],
        "cmp": [(), ("routine",), ("opportunistic", "unclassified")],
        "first_buy": ["all", "yes"],
        "sort": ["filing_date", "value", "delta_own"],
        "order": ["desc", "asc"],
        "page": [1, 7],
        "years": [2, 5],
    }
    keys = list(options)
    for combo in itertools.islice(itertools.product(*options.values()), 0, None, 11):
        f = M(**dict(zip(keys, combo, strict=True)), filed_start=dt.date(2023, 1, 1), codes=("P",))
        again, notices = M.parse_query(f.to_query())
        assert again == f and notices == []
    assert M().to_query() == {}


@pytest.mark.parametrize(
    ("query", "expected", "words"),
    [
        ({"codes": "ZZ"}, M(), "unknown transaction code \u201cZZ\u201d"),
        ({"min": "5000", "max": "100"}, M(min_value=100, max_value=5000), "swapped"),
        ({"pmin": "50", "pmax": "5"}, M(min_price=5, max_price=50), "swapped"),
        ({"dmin": "80", "dmax": "20"}, M(min_own=20, max_own=80), "swapped"),
        ({"filed_start": "2024-05-01", "filed_end": "2024-01-01"},
         M(filed_start=dt.date(2024, 1, 1), filed_end=dt.date(2024, 5, 1)), "swapped"),
        ({"max": "1e400"}, M(max_value=1e12), "more than $1,000,000,000,000"),
        ({"smax": "9" * 400}, M(max_shares=1e12), "more than 1,000,000,000,000"),
        ({"pmin": "-3"}, M(), "zero or more"),
        ({"dmin": "abc"}, M(), "not a number"),
        ({"late": "maybe"}, M(), "late filing \u201cmaybe\u201d"),
        ({"cmp": "lucky"}, M(), "unknown trader type"),
        ({"first": "no"}, M(), "yes or all"),
        ({"years": "1e9"}, M(years=20), "outside 1\u201320"),
        ({"page": "0"}, M(page=1), "outside 1\u20131,000,000"),
        ({"sort": "row_id; drop"}, M(), "sort column"),
        ({"role": "ceo,king"}, M(roles=("ceo",)), "unknown role \u201cking\u201d"),
    ],
)  # fmt: skip
def test_bad_url_values_get_a_plain_message(query, expected, words):
    """Guards against a bad screener URL (unknown code, min > max, a huge number) crashing the page or being
    dropped without a word."""
    f, notices = M.parse_query(query)
    assert f == expected
    assert len(notices) == 1 and words in str(notices[0]), notices


def test_three_thousand_item_lists_are_capped_or_ignored_with_a_message():
    """Guards against a 3,000-item list in the URL (tickers, codes, roles) hanging or crashing a page."""
    many = ",".join(f"T{i}" for i in range(3000))
    f, notices = M.parse_query(
        {"ticker": many, "codes": ",".join(["P"] * 3000), "role": ",".join(["x"] * 3000)}
    )
    assert len(f.tickers) == 20 and f.codes == ("P",) and f.roles == ()
    text = " ".join(map(str, notices))
    assert "3,000 tickers were given" in text and "unknown role" in text and len(text) < 2_000


@pytest.mark.parametrize(
    ("f", "sentence"),
    [
        (M(codes=("P",), roles=("ceo", "cfo"), min_value=25_000),
         "Open-market purchases by CEOs and CFOs of all loaded issuers, all dates, at least $25,000 each."),
        (M(min_price=5, max_price=50, min_shares=1_000, min_own=10, max_own=50, late="yes"),
         "Open-market purchases and sales of all loaded issuers, all dates, priced $5 to $50, at least 1,000 "
         "shares, \u0394Own 10% to 50%, filed late only."),
        (M(filed_start=dt.date(2024, 1, 1), max_value=1e6, cmp=("opportunistic",), first_buy="yes"),
         "Open-market purchases and sales of all loaded issuers, all dates, filed from 2024-01-01, at most "
         "$1,000,000 each, opportunistic traders only, first buys only."),
    ],
)  # fmt: skip
def test_screen_sentences(f, sentence):
    """Guards against a screen whose sentence says something other than what it selects."""
    assert f.describe() == sentence
