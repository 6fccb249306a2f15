"""Amendments: a 4/A supersedes exactly what it restates, with lineage, and nothing counts twice."""

from __future__ import annotations

import pandas as pd

from loaders.frames import load
from tests.store_support import fixture_store


def test_price_restatement_supersedes_original_sale(tmp_path):
    """Guards against counting both the original and the restated sale (the 4/A fixes 33.00 -> 33.50)."""
    frames = load(fixture_store(tmp_path), tickers=["ACME"], include_superseded=True)
    tx = frames.transactions
    sept = tx[(tx["transaction_date"] == "2023-09-15") & (tx["code"] == "S")]
    assert sorted(sept["price"]) == [33.0, 33.5]
    original = sept[sept["price"] == 33.0].iloc[0]
    amendment = sept[sept["price"] == 33.5].iloc[0]
    assert pd.isna(amendment["superseded_by"])
    assert original["superseded_by"] == amendment["accession"]
    assert (
        str(frames.filings.set_index("accession").loc[amendment["accession"], "amends_accession"])
        == original["accession"]
    )
    live = load(fixture_store(tmp_path / "b"), tickers=["ACME"]).transactions
    assert list(live[(live["transaction_date"] == "2023-09-15")]["price"]) == [33.5]


def test_holdings_only_amendment_keeps_original_trades(tmp_path):
    """Guards against the real bug where a 4/A restating only holdings wiped the original's purchase."""
    frames = load(fixture_store(tmp_path), tickers=["ACME"])
    john = frames.transactions[frames.transactions["owner_name"] == "Doe John"]
    assert (john["code"] == "P").sum() == 2 and 5000.0 in set(john["shares"])
    trust = frames.holdings[frames.holdings["nature"] == "By Trust"]
    assert list(trust["shares_owned"]) == [12000.0]  # the restated holding, not the original 10,000


def test_amendment_without_original_counts_as_itself(tmp_path):
    """Guards against dropping an amendment whose original was never loaded."""
    store = fixture_store(tmp_path)
    frames = load(store, tickers=["ACME"], include_superseded=True)
    original = frames.filings[frames.filings["amends_accession"].notna()]["amends_accession"].iloc[0]
    from loaders.amendments import resolve

    f = frames.filings[frames.filings["accession"] != original]
    tx = frames.transactions[frames.transactions["accession"] != original].assign(superseded_by=None)
    h = frames.holdings.assign(superseded_by=None)
    _, tx2, _ = resolve(
        f, frames.owners, tx.astype({"superseded_by": "string"}), h.astype({"superseded_by": "string"})
    )
    assert tx2["superseded_by"].isna().all()
