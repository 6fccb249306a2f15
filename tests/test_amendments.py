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


def _store(tmp_path, filings):
    from loaders.parser import parse_ownership
    from loaders.store import Store

    store = Store(tmp_path / "data")
    store.write([parse_ownership(xml, acc, filed) for acc, filed, xml in filings])
    return store


def test_second_amendment_supersedes_the_first(tmp_path):
    """Guards against a second 4/A leaving the first 4/A's restated rows live (both would count)."""
    from tests.fixtures.builder import ACME, JANE, Tx, form_xml

    def sale(price, doc="4", original=None):
        return form_xml(issuer=ACME, owners=[JANE], period="2024-03-15", document_type=doc, original=original,
                        transactions=[Tx("2024-03-15", "S", 100, price, "D", 0)])  # fmt: skip

    store = _store(tmp_path, [
        ("0001234567-24-000701", "2024-03-19", sale(10.0)),
        ("0001234567-24-000702", "2024-03-25", sale(11.0, "4/A", "2024-03-19")),
        ("0001234567-24-000703", "2024-04-02", sale(12.0, "4/A", "2024-03-19")),
    ])  # fmt: skip
    live = load(store, tickers=["ACME"]).transactions
    assert list(live["price"]) == [12.0]


def test_amendment_restates_only_its_table_and_owner(tmp_path):
    """Guards against a 4/A restating Table I wiping the original's Table II rows, or wiping another owner's
    filing of the same day (same issuer, same filing date)."""
    from tests.fixtures.builder import ACME, JANE, JOHN, Tx, form_xml

    opt = Tx("2024-03-15", "M", 100, 1.0, "D", 0, derivative=True, title="Stock Option", exercise_price=1.0)
    original = form_xml(issuer=ACME, owners=[JANE], period="2024-03-15",
                        transactions=[Tx("2024-03-15", "S", 100, 10.0, "D", 0), opt])  # fmt: skip
    other = form_xml(issuer=ACME, owners=[JOHN], period="2024-03-15",
                     transactions=[Tx("2024-03-15", "S", 50, 10.0, "D", 0)])  # fmt: skip
    fix = form_xml(issuer=ACME, owners=[JANE], period="2024-03-15", document_type="4/A", original="2024-03-19",
                   transactions=[Tx("2024-03-15", "S", 100, 10.5, "D", 0)])  # fmt: skip
    store = _store(tmp_path, [
        ("0001234567-24-000711", "2024-03-19", original),
        ("0001234567-24-000712", "2024-03-19", other),
        ("0001234567-24-000713", "2024-03-26", fix),
    ])  # fmt: skip
    live = load(store, tickers=["ACME"]).transactions.sort_values(["accession", "table"])
    assert list(zip(live["accession"], live["table"], live["price"], strict=True)) == [
        ("0001234567-24-000711", "derivative", 1.0),
        ("0001234567-24-000712", "nonDerivative", 10.0),
        ("0001234567-24-000713", "nonDerivative", 10.5),
    ]


def test_amendment_without_original_date_restates_the_latest_earlier_original(tmp_path):
    """Guards against the fallback (no dateOfOriginalSubmission) picking an older filing, a later one, another
    amendment, or another issuer's filing; and against an amendment of transactions wiping the original's
    holdings rows."""
    from tests.fixtures.builder import ACME, BETA, JANE, Holding, Tx, form_xml

    def doc(issuer, price, doc_type="4", holdings=()):
        return form_xml(issuer=issuer, owners=[JANE], period="2024-03-15", document_type=doc_type,
                        transactions=[Tx("2024-03-15", "S", 100, price, "D", 0)], holdings=list(holdings))  # fmt: skip

    store = _store(tmp_path, [
        ("0001234567-24-000801", "2024-03-18", doc(ACME, 9.0)),  # an older original of the same period
        ("0001234567-24-000802", "2024-03-19", doc(ACME, 10.0, holdings=[Holding(500, "I", "By Trust")])),
        ("0001234567-24-000803", "2024-03-19", doc(BETA, 20.0)),  # another issuer, same owner and day
        ("0001234567-24-000804", "2024-03-19", doc(ACME, 11.0, "4/A")),  # restates 802's Table I, same day
        ("0001234567-24-000805", "2024-03-25", doc(ACME, 12.0)),  # a later filing is never the original
    ])  # fmt: skip
    frames = load(store, include_superseded=True)
    sup = frames.transactions.set_index("accession")["superseded_by"]
    assert sup.isna().to_dict() == {
        "0001234567-24-000801": True, "0001234567-24-000802": False, "0001234567-24-000803": True,
        "0001234567-24-000804": True, "0001234567-24-000805": True,
    }  # fmt: skip
    assert frames.holdings["superseded_by"].isna().all()  # 804 restates no holdings


def _reference_resolve(filings, owners, transactions, holdings):
    """The pre-issue-9 pandas implementation (one scan per amendment), kept here as the oracle for the SQL rule."""
    filings, transactions, holdings = filings.copy(), transactions.copy(), holdings.copy()
    transactions["superseded_by"] = pd.Series(pd.NA, index=transactions.index, dtype="string")
    holdings["superseded_by"] = pd.Series(pd.NA, index=holdings.index, dtype="string")
    amendments = filings[filings["is_amendment"].fillna(False).astype(bool)]
    first_owner = (
        owners[owners["position"] == 0].drop_duplicates("accession").set_index("accession")["owner_cik"]
    )
    restated_by: dict[str, list[str]] = {}
    for _, amendment in amendments.sort_values(["filing_date", "accession"]).iterrows():
        acc = amendment["accession"]
        owner = first_owner.get(acc)
        same = filings[
            (filings["issuer_cik"] == amendment["issuer_cik"])
            & (filings["accession"] != acc)
            & (filings["accession"].map(first_owner) == owner)
        ]
        original = None
        if not same.empty:
            dos = amendment["date_of_original_submission"]
            exact = (
                same[same["filing_date"] == dos].sort_values(["is_amendment", "accession"])
                if pd.notna(dos)
                else []
            )
            if len(exact):
                original = exact["accession"].iloc[0]
            else:
                fb = same[
                    (~same["is_amendment"].fillna(False).astype(bool))
                    & (same["period_of_report"] == amendment["period_of_report"])
                    & (same["filing_date"] <= amendment["filing_date"])
                ].sort_values(["filing_date", "accession"])
                original = fb["accession"].iloc[-1] if not fb.empty else None
        if original is None:
            continue
        targets = [original, *restated_by.get(original, [])]
        kinds = {(t, "T") for t in transactions.loc[transactions["accession"] == acc, "table"]}
        kinds |= {(t, "H") for t in holdings.loc[holdings["accession"] == acc, "table"]}
        for table, kind in kinds:
            frame = transactions if kind == "T" else holdings
            frame.loc[frame["accession"].isin(targets) & (frame["table"] == table), "superseded_by"] = acc
        restated_by.setdefault(original, []).append(acc)
    return transactions, holdings


def test_sql_rule_matches_the_reference_on_real_quarters(fake_edgar, tmp_path):
    """Guards against the one-join SQL rule (run once per store snapshot) disagreeing with the row-by-row rule it
    replaced, on the real amendments of fake EDGAR's 2023 data sets."""
    from loaders.datasets import read_quarter
    from loaders.store import Store
    from tests.test_sync import _zip_bytes

    store = Store(tmp_path)
    for q in ("2023q1", "2023q2", "2023q3"):
        store.write_quarter(q, read_quarter(_zip_bytes(fake_edgar, q), q).frames)
    frames = load(store, include_superseded=True)
    tx, holds = _reference_resolve(frames.filings, frames.owners, frames.transactions, frames.holdings)
    assert frames.transactions["superseded_by"].notna().sum() >= 1  # real amendments are exercised
    got = frames.transactions.set_index("row_id")["superseded_by"].fillna("")
    want = tx.set_index("row_id")["superseded_by"].fillna("")
    assert (got.sort_index() == want.sort_index()).all()
    got_h = frames.holdings.set_index("row_id")["superseded_by"].fillna("")
    want_h = holds.set_index("row_id")["superseded_by"].fillna("")
    assert (got_h.sort_index() == want_h.sort_index()).all()


def test_resolve_in_memory_matches_the_store(tmp_path):
    """Guards against `resolve()` (the in-memory path) skipping the supersede step when amendments are present,
    recording the wrong lineage (amends_accession), or returning nothing for frames without any amendment (its
    shortcut)."""
    from loaders.amendments import resolve

    frames = load(fixture_store(tmp_path), tickers=["ACME"], include_superseded=True)
    tx = frames.transactions.assign(
        superseded_by=pd.Series(pd.NA, index=frames.transactions.index, dtype="string")
    )
    h = frames.holdings.assign(superseded_by=pd.Series(pd.NA, index=frames.holdings.index, dtype="string"))
    f2, tx2, h2 = resolve(frames.filings, frames.owners, tx, h)
    assert tx2["superseded_by"].notna().any()  # the fixture's 4/A restate rows
    assert list(f2["amends_accession"].fillna("")) == list(frames.filings["amends_accession"].fillna(""))
    assert list(tx2["superseded_by"].fillna("")) == list(frames.transactions["superseded_by"].fillna(""))
    assert list(h2["superseded_by"].fillna("")) == list(frames.holdings["superseded_by"].fillna(""))
    originals = frames.filings[~frames.filings["is_amendment"].fillna(False).astype(bool)]
    kept = resolve(originals, frames.owners, tx, h)
    assert kept is not None and list(kept[0]["accession"]) == list(originals["accession"])
    assert kept[1]["superseded_by"].isna().all() and len(kept[1]) == len(tx)
