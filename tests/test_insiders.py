"""analytics.insiders: the roster, the insider headline, filings and late-filings lists, the transactions table.

Small frames built through loaders.schema.conform (every column with its real dtype); each docstring names the bug
it guards against."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import insiders
from loaders.schema import conform

D1, D2 = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-04")


def _t(**kw) -> dict:
    base = {
        "accession": "0001234567-24-000001", "seq": 1, "issuer_cik": 1234567, "ticker": "ACME",
        "owner_cik": 1, "owner_name": "Roe Jane", "role": "CEO", "table": "nonDerivative",
        "security_title": "Common Stock", "direct_indirect": "D", "code": "S", "shares": 10.0, "price": 10.0,
        "value": 100.0, "signed_value": -100.0, "signed_shares": -10.0, "owned_after": 90.0,
        "transaction_date": D1, "filing_date": D2, "is_10b5_1": False,
    }  # fmt: skip
    return {**base, **kw}


def _tx(*rows: dict) -> pd.DataFrame:
    return conform(list(rows), "transactions")


def _roster_frames():
    tx = _tx(
        _t(accession="0001234567-24-000001", code="P", value=30.0, signed_value=30.0, owned_after=190.0,
           transaction_date=D1),
        _t(accession="0001234567-24-000002", code="S", value=100.0, signed_value=-100.0, owned_after=90.0,
           transaction_date=D2),
        _t(accession="0001234567-24-000002", seq=2, code="S", value=7.0, signed_value=-7.0, owned_after=1000.0,
           transaction_date=D2, direct_indirect="I", nature="By Trust"),
        _t(accession="0001234567-24-000003", owner_cik=2, owner_name="Doe John", role="Director", code="S",
           value=500.0, signed_value=-500.0, owned_after=40.0),
    )  # fmt: skip
    return tx, conform([], "holdings")


def test_roster_sums_each_insiders_own_trades_and_latest_direct_holding():
    """Guards against a roster that mixes insiders (== flipped), counts sales as buys (codes), sums every point of
    the holdings line instead of its last, adds indirect holdings or another insider's shares to "last holding",
    or sorts the smaller seller first / keeps the old index as a column."""
    tx, holdings = _roster_frames()
    r = insiders.roster(tx, conform([], "owners"), holdings, tx)
    assert list(r.columns) == [
        "insider", "roles", "net_flow", "bought", "sold", "plan_sale_share", "trades", "last_holding",
        "last_holding_date", "last_filing", "owner_cik",
    ]  # fmt: skip
    assert list(r.index) == [0, 1] and list(r["owner_cik"]) == [2, 1]  # the bigger seller first
    jane = r.iloc[1]
    assert (jane["bought"], jane["sold"], jane["net_flow"], jane["trades"]) == (30.0, 107.0, -77.0, 3)
    assert jane["last_holding"] == 90.0 and jane["last_holding_date"] == D2
    assert r.iloc[0]["last_holding"] == 40.0 and r.iloc[0]["sold"] == 500.0
    # no owners table rows: the name and role come from the insider's last transaction row
    assert (jane["insider"], jane["roles"]) == ("Roe Jane", "CEO")
    assert (r.iloc[0]["insider"], r.iloc[0]["roles"]) == ("Doe John", "Director")


def test_roster_of_nothing_is_an_empty_table_with_its_columns():
    """Guards against roster() returning None (a page crash) when the selection has no transactions."""
    empty = _tx()
    r = insiders.roster(empty, conform([], "owners"), conform([], "holdings"), empty)
    assert r.empty and "net_flow" in r.columns and "owner_cik" in r.columns


def test_insider_summary_counts_buys_and_sales_by_code():
    """Guards against the insider headline adding awards (A) or sales to "bought", or buys to "sold"."""
    tx = _tx(
        _t(code="P", value=30.0), _t(seq=2, code="S", value=100.0), _t(seq=3, code="A", value=1000.0),
    )  # fmt: skip
    filings = conform([{"accession": "0001234567-24-000001", "ticker": "ACME"}], "filings")
    s = insiders.insider_summary(tx, filings, "Roe Jane")
    assert (s.bought, s.sold, s.filings, s.issuers) == (30.0, 100.0, 1, ["ACME"])


def test_filings_list_newest_first_without_an_index_column():
    """Guards against the filings list shown oldest first, same-day filings in a random order, or the old
    index leaking in as a column."""
    filings = conform(
        [
            {"accession": "0001234567-24-000001", "filing_date": D1, "form": "4"},
            {"accession": "0001234567-24-000003", "filing_date": D2, "form": "4"},
            {"accession": "0001234567-24-000002", "filing_date": D2, "form": "4/A"},
        ],
        "filings",
    )
    out = insiders.filings_list(filings)
    assert list(out["accession"]) == ["0001234567-24-000003", "0001234567-24-000002", "0001234567-24-000001"]
    assert list(out.index) == [0, 1, 2] and "index" not in out.columns and out.columns[0] == "filing_date"


def test_late_rows_rule_boundaries():
    """Guards against: an unknown lateness (<NA>) counted as late; a gift made ON 27 Feb 2023 (the day gifts
    moved to Form 4, SEC Release 33-11138) excused as an old Form 5 gift; a late row without a code excused as if
    it were a gift."""
    tx = _tx(
        _t(accession="a", code="G", is_late=True, transaction_date=pd.Timestamp("2023-02-27")),
        _t(accession="b", code="G", is_late=True, transaction_date=pd.Timestamp("2023-02-24")),
        _t(accession="c", code=None, is_late=True, transaction_date=pd.Timestamp("2022-06-01")),
        _t(accession="d", code="S", is_late=None),
        _t(accession="e", code="S", is_late=False),
    )
    assert list(insiders.late_rows(tx)) == [True, False, True, False, False]


def test_late_filings_most_late_first_with_their_links():
    """Guards against late filings listed least-late first, losing their filing links, or carrying the old index."""
    tx = _tx(
        _t(accession="a", is_late=True, late_business_days=3),
        _t(accession="b", is_late=True, late_business_days=9),
        _t(accession="c", is_late=False, late_business_days=0),
    )
    filings = conform([{"accession": a, "filing_url": f"u-{a}"} for a in "abc"], "filings")
    out = insiders.late_filings(tx, filings)
    assert list(out["accession"]) == ["b", "a"] and list(out["filing_url"]) == ["u-b", "u-a"]
    assert list(out.index) == [0, 1] and out.columns[0] == "ticker" and "index" not in out.columns


def test_transactions_table_order_rounding_and_empty():
    """Guards against the transactions table sorted oldest first, filings or rows within a filing out of order,
    values shown with float noise (1307004.1849999998 instead of 1307004.18), the old index as a column, and an
    empty selection crashing (None) instead of showing the headers."""
    tx = _tx(
        _t(accession="0001234567-24-000002", seq=2, transaction_date=D2, shares=1.0),
        _t(accession="0001234567-24-000002", seq=1, transaction_date=D2, shares=2.0),
        _t(
            accession="0001234567-24-000001", seq=1, transaction_date=D2, shares=3.0, value=1307004.1849999998
        ),
        _t(accession="0001234567-24-000000", seq=1, transaction_date=D1, shares=4.0),
    )
    table = insiders.transactions_table(tx)
    assert list(table["Shares"]) == [3.0, 2.0, 1.0, 4.0]
    assert table["Value ($)"].iloc[0] == pytest.approx(1307004.18, abs=1e-6)
    assert list(table.columns) == list(insiders.TABLE_COLUMNS.values()) and list(table.index) == [0, 1, 2, 3]
    empty = insiders.transactions_table(_tx())
    assert empty.empty and list(empty.columns) == list(insiders.TABLE_COLUMNS.values())


def test_transactions_table_links_each_row_to_its_own_filing():
    """Guards against a row linking to another filing's EDGAR page (links are made once per filing and mapped back
    to its rows) and a file ingested without an accession number getting a made-up link."""
    tx = _tx(
        _t(accession="0001234567-24-000002", seq=1, issuer_cik=1234567, shares=1.0),
        _t(accession="0000007654-24-000009", seq=1, issuer_cik=7654321, shares=2.0),
        _t(accession="0001234567-24-000002", seq=2, issuer_cik=1234567, shares=3.0),
        _t(accession="local-file-1", seq=1, issuer_cik=1234567, shares=4.0),
    )
    link = insiders.transactions_table(tx).set_index("Shares")["Filing"]
    base = "https://www.sec.gov/Archives/edgar/data"
    assert link[1.0] == link[3.0] == f"{base}/1234567/000123456724000002/0001234567-24-000002-index.htm"
    assert link[2.0] == f"{base}/7654321/000000765424000009/0000007654-24-000009-index.htm"
    assert pd.isna(link[4.0])
