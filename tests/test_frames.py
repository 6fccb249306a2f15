"""Frames: declared schemas, selection by ticker/CIK/insider, joint filings, roster helpers."""

from __future__ import annotations

import pytest

from loaders.frames import Frames, load, loaded_insiders, loaded_issuers, search_insiders
from loaders.schema import check
from loaders.store import Store
from tests.fixtures.builder import FIXTURE_TOTALS
from tests.store_support import fixture_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return fixture_store(tmp_path_factory.mktemp("frames"))


def test_every_frame_has_declared_schema(store):
    """Guards against a frame reaching the pages with a missing column or a wrong dtype."""
    frames = load(store)
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        check(getattr(frames, name), name)
        assert len(getattr(frames, name)) > 0, name
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        check(getattr(Frames.empty(), name), name)


def test_ticker_selection_and_exact_totals(store):
    """Guards against rows of other issuers leaking in, or amendments counting twice, in issuer totals."""
    tx = load(store, tickers=["acme"]).transactions
    assert set(tx["ticker"]) == {"ACME"}
    assert tx.loc[tx["code"] == "S", "value"].sum() == pytest.approx(FIXTURE_TOTALS["ACME"]["sale_value"])
    assert tx.loc[tx["code"] == "P", "value"].sum() == pytest.approx(FIXTURE_TOTALS["ACME"]["purchase_value"])
    assert tx["row_id"].is_unique


def test_insider_selection_spans_issuers_and_joint_filings(store):
    """Guards against an insider page missing other issuers, or a joint filer missing the shared filing."""
    jane = load(store, owner_cik=1000001).transactions
    assert set(jane["ticker"]) == {"ACME", "BETA"}
    gp = load(store, owner_cik=1000005).transactions  # second owner of the joint filing
    assert list(gp["shares"]) == [100000.0] and gp["owner_ciks"].iloc[0] == "1000004|1000005"


def test_loaded_issuers_and_insiders(store):
    """Guards against wrong counts in the issuer picker and insider search."""
    issuers = loaded_issuers(store).set_index("ticker")
    assert issuers.loc["ACME", "n_filings"] == 16 and issuers.loc["BETA", "n_filings"] == 3
    insiders = loaded_insiders(store).set_index("owner_cik")
    assert insiders.loc[1000001, "issuers"] == "ACME, BETA" and insiders.loc[1000001, "n_filings"] == 9
    assert list(search_insiders("jane roe", store)["owner_cik"]) == [1000001]
    assert list(search_insiders("1000003", store)["owner_name"]) == ["Major Mary"]
    assert search_insiders("nobody here", store).empty


def test_empty_store_gives_empty_frames(tmp_path):
    """Guards against a crash on first start, before anything was pulled."""
    frames = load(Store(tmp_path))
    assert len(frames) == 0
    check(frames.transactions, "transactions")
    assert loaded_issuers(Store(tmp_path)).empty
