"""Market analytics over the real corpus (../shared/edgar/form4), checked against an independent count from the
XML files (tests/market_support.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import market
from loaders.ingest import ingest_dir, read_filing_dates
from loaders.store import Store
from tests.conftest import need_corpus
from tests.market_support import clusters, read_purchases

pytestmark = pytest.mark.corpus
START, END = dt.date(2023, 1, 1), dt.date(2023, 7, 31)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = need_corpus() / "form4"
    store = Store(tmp_path_factory.mktemp("market-corpus") / "data")
    report = ingest_dir(folder, store)
    assert not report.failed
    files, dates = sorted(folder.glob("*.xml")), read_filing_dates(folder)
    return store, read_purchases(files, dates), read_purchases(files, dates, once=False)


def test_cluster_buys_equal_an_independent_count_from_the_xml(corpus):
    """Guards against clusters that count an insider twice, take awards/exercises or sales as buys, lose a
    tranche or an amendment's restatement, or cut the window differently from the documented rule: every
    cluster of the first seven months of 2023 (insiders, $ total to the cent, rows) equals the count from XML."""
    store, purchases, _ = corpus
    want = clusters(purchases, START, END)
    got = market.cluster_buys(store, START, END)
    mine = {
        (int(r.issuer_cik), r.start.date()): {
            "insiders": set(map(int, r.owner_ciks.split("|"))),
            "value": round(r.value, 2),
            "trades": r.trades,
        }
        for r in got.itertuples()
    }
    assert len(want) > 100
    assert mine == want
    assert (got["insiders"] == got["owner_ciks"].str.count(r"\|") + 1).all()


def test_purchase_screen_total_equals_the_xml(corpus):
    """Guards against the screener dropping or duplicating rows: purchases in range = P rows in the XML."""
    store, _, listed = corpus
    where = market.and_(market.codes_where(("P",)), market.date_where("transaction_date", START, END))
    page = market.screen(store, where, sort="value")
    want = [
        p for p in listed if p["date"] and START <= p["date"] <= END
    ]  # listings show every owner's report
    assert page.total == len(want)
    assert page.rows["value"].iloc[0] == pytest.approx(max(p["value"] for p in want))
