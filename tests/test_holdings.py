"""analytics.holdings: the holdings lines (one point per trade or anchor) and the last known holding per line.

Small frames built through loaders.schema.conform; each docstring names the bug it guards against."""

from __future__ import annotations

import pandas as pd

from analytics import holdings
from loaders.schema import conform

D1, D2 = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-04")
LONG_NOTE = "W" + "x" * 398 + "Z"  # 400 characters: the hover keeps the first 300


def _t(**kw) -> dict:
    base = {
        "accession": "0001234567-24-000001", "seq": 1, "issuer_cik": 1234567, "ticker": "ACME",
        "owner_cik": 1, "owner_name": "Roe Jane", "table": "nonDerivative", "security_title": "Common Stock",
        "direct_indirect": "D", "code": "S", "shares": 10.0, "price": 10.0, "value": 100.0,
        "signed_shares": -10.0, "owned_after": 90.0, "transaction_date": D1, "filing_date": D2,
    }  # fmt: skip
    return {**base, **kw}


def _h(**kw) -> dict:
    base = {
        "accession": "0001234567-24-000009", "issuer_cik": 1234567, "ticker": "ACME", "owner_cik": 1,
        "owner_name": "Roe Jane", "table": "nonDerivative", "security_title": "Common Stock",
        "direct_indirect": "D", "shares_owned": 500.0, "period_of_report": D1, "filing_date": D2,
    }  # fmt: skip
    return {**base, **kw}


def test_ownership_labels_direct_indirect_and_nature():
    """Guards against a direct row carrying a nature being drawn as an indirect line, and an indirect row without a
    nature labelled "Indirect ()"."""
    tx = conform(
        [
            _t(direct_indirect="D", nature="By Trust"),
            _t(seq=2, direct_indirect="I", nature=None),
            _t(seq=3, direct_indirect="I", nature="By Trust"),
            _t(seq=4, direct_indirect=None),
        ],
        "transactions",
    )
    pts = holdings.holdings_series(tx, conform([], "holdings"))
    assert sorted(pts["ownership"]) == ["Direct", "Indirect", "Indirect (By Trust)", "Unknown"]


def test_points_keep_only_known_holdings_and_have_exact_columns():
    """Guards against trades without "owned after" or holdings rows without shares becoming points (at 0 or NaN),
    the old index leaking in as a column, and an empty selection returning None instead of an empty table."""
    tx = conform([_t(), _t(seq=2, owned_after=None)], "transactions")
    h = conform([_h(), _h(accession="0001234567-24-000010", shares_owned=None)], "holdings")
    pts = holdings.holdings_series(tx, h)
    assert list(pts.columns) == holdings.COLUMNS and list(pts.index) == [0, 1]
    assert sorted(zip(pts["kind"], pts["shares_owned"], strict=True)) == [("anchor", 500.0), ("trade", 90.0)]
    empty = holdings.holdings_series(conform([], "transactions"), conform([], "holdings"))
    assert empty.empty and list(empty.columns) == holdings.COLUMNS


def test_series_named_by_issuer_only_when_several():
    """Guards against the ticker prefix missing when an insider's lines span two issuers (two lines drawn as one
    name), or added on a one-issuer page."""
    one = holdings.holdings_series(conform([_t()], "transactions"), conform([], "holdings"))
    assert list(one["series"]) == ["Roe Jane \u2014 Direct"]
    two = holdings.holdings_series(
        conform(
            [_t(), _t(accession="0001234567-24-000002", ticker="BETA", issuer_cik=7654321)], "transactions"
        ),
        conform([], "holdings"),
    )
    assert sorted(two["series"]) == ["ACME: Roe Jane \u2014 Direct", "BETA: Roe Jane \u2014 Direct"]


def test_anchor_of_the_same_filing_comes_after_its_trades():
    """Guards against a holdings line drawn through a filing's own holdings row before its trades (the anchor is
    the position after them)."""
    acc = "0001234567-24-000001"
    tx = conform([_t(accession=acc, seq=1, owned_after=90.0), _t(accession=acc, seq=2, owned_after=80.0)],
                 "transactions")  # fmt: skip
    h = conform([_h(accession=acc, shares_owned=80.0, period_of_report=D1)], "holdings")
    pts = holdings.holdings_series(tx, h)
    assert list(pts["kind"]) == ["trade", "trade", "anchor"]


def test_hover_text_leads_with_the_check_and_keeps_300_characters():
    """Guards against the hover text losing the data-quality note ("Check: ...") on a flagged row, adding an
    empty "Check:" to a clean row, or cutting footnotes at the wrong place (start or length)."""
    tx = conform(
        [_t(footnotes=LONG_NOTE), _t(seq=2, flags="date_fallback", footnotes="F1: a note", owned_after=80.0)],
        "transactions",
    )
    h = conform([_h(footnotes=LONG_NOTE)], "holdings")
    pts = holdings.holdings_series(tx, h).set_index(["kind", "shares_owned"])
    clean, flagged = pts.loc[("trade", 90.0), "footnotes"], pts.loc[("trade", 80.0), "footnotes"]
    assert clean == LONG_NOTE[:300] and pts.loc[("anchor", 500.0), "footnotes"] == LONG_NOTE[:300]
    assert flagged.startswith("Check: ") and flagged.endswith("\nF1: a note")


def test_latest_holdings_one_row_per_line():
    """Guards against "last holding" taking more than the last point of a line, an index column leaking in, and
    None for an empty selection."""
    tx = conform([_t(transaction_date=D1, owned_after=90.0), _t(seq=2, transaction_date=D2, owned_after=70.0)],
                 "transactions")  # fmt: skip
    last = holdings.latest_holdings(holdings.holdings_series(tx, conform([], "holdings")))
    assert list(last["shares_owned"]) == [70.0] and list(last.index) == [0] and "index" not in last.columns
    empty = holdings.latest_holdings(
        holdings.holdings_series(conform([], "transactions"), conform([], "holdings"))
    )
    assert empty.empty and "shares_owned" in empty.columns
