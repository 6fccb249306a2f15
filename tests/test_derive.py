"""loaders.derive: one derivation for the XML parser and the SEC data-set loader.

Each docstring names the silent failure it guards against."""

from __future__ import annotations

import datetime as dt

import pytest

from loaders.derive import derive_filing, to_date
from loaders.parser import parse_ownership
from loaders.schema import TRANSACTIONS
from tests.fixtures.builder import ACME, JANE, RANGE_NOTE, Holding, Tx, form_xml

_PLAN = "Sold under a Rule 10b5-1 trading plan adopted on March 1, 2023."
# Raw-fact keys (what a loader provides); everything else in TRANSACTIONS is derived.
_RAW_TX = {
    "row_id", "accession", "table", "seq", "issuer_cik", "issuer_name", "ticker", "owner_cik", "owner_name",
    "owner_ciks", "owner_names", "n_owners", "is_director", "is_officer", "is_ten_percent_owner", "is_other",
    "officer_title", "role", "security_title", "transaction_date_raw", "deemed_execution_date",
    "transaction_form_type", "code", "equity_swap", "timeliness", "acquired_disposed", "shares_raw", "price_raw",
    "owned_after_raw", "value_owned_after", "conversion_price", "exercise_date", "expiration_date",
    "underlying_title", "underlying_shares", "direct_indirect", "nature", "footnote_ids", "superseded_by",
}  # fmt: skip


def _dataset_style(row: dict) -> dict:
    """The raw facts of a parsed row as the SEC data sets give them: numbers '250000.0', dates DD-MON-YYYY."""
    out = {k: row[k] for k in _RAW_TX}
    for k in ("shares_raw", "price_raw", "owned_after_raw"):
        if out[k] is not None:
            out[k] = f"{float(out[k].replace(',', '').replace('$', '')):.1f}"
    d = to_date(out["transaction_date_raw"])
    out["transaction_date_raw"] = d.strftime("%d-%b-%Y").upper()
    out["code"] = out["code"].lower()  # case as filed must not matter
    return out


def test_dataset_raw_strings_derive_like_the_xml():
    """Guards against the data-set path and the XML path giving different answers for the same filing (the
    promise of loaders.derive): values, signs, plan status + source + adoption date, price range, late days."""
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2023-06-15",
        transactions=[
            Tx("2023-06-15", "S", "6,000", "$41.20", "D", 94000, footnotes=["F1"], price_footnotes=["F2"]),
            Tx("2023-06-15", "S", 4000, 41.80, "D", 90000, footnotes=["F1"], price_footnotes=["F2"]),
            Tx("2023-06-15", "A", 500, 0, "A", 90500),
        ],
        holdings=[Holding(1200, "I", "By Trust")],
        footnotes={"F1": _PLAN, "F2": RANGE_NOTE},
    )
    parsed = parse_ownership(xml, "0001234567-23-000001", "2023-06-21")
    filing = {
        k: parsed.filing[k]
        for k in ("accession", "form", "remarks", "issuer_cik", "signature_date", "aff10b5one")
    }
    filing.update(period_of_report="15-JUN-2023", filing_date="21-JUN-2023", filing_date_source="dataset")
    rows = [_dataset_style(r) for r in parsed.transactions]
    holds = [
        {k: h[k] for k in h if k not in ("shares_owned", "footnotes", "flags")}
        | {"shares_owned_raw": "1200.0"}
        for h in parsed.holdings
    ]
    notes = {f["footnote_id"]: f["text"] for f in parsed.footnotes}
    derive_filing(filing, rows, holds, notes)
    derived = [c for c in TRANSACTIONS if c not in _RAW_TX and c not in ("transaction_date_raw",)]
    for got, want in zip(rows, parsed.transactions, strict=True):
        assert {c: got[c] for c in derived} == {c: want[c] for c in derived}
    assert rows[0]["value"] == 6000 * 41.2 and rows[0]["is_10b5_1"] is True
    assert rows[0]["plan_adoption_date"] == dt.date(2023, 3, 1) and rows[0]["price_low"] == 41.10
    assert rows[2]["code"] == "A" and rows[2]["is_10b5_1"] is None
    assert holds[0]["shares_owned"] == 1200.0 and holds[0]["form"] == "4"
    assert filing["filing_date"] == dt.date(2023, 6, 21) and filing["n_transactions"] == 3


def test_filing_date_falls_back_to_signature_then_period():
    """Guards against a filing without an EDGAR date getting no date (it would vanish from every chart)."""
    f = {"accession": "x", "form": "4", "period_of_report": "2024-03-15", "signature_date": "2024-03-18"}
    derive_filing(f, [], [], {})
    assert (f["filing_date"], f["filing_date_source"]) == (dt.date(2024, 3, 18), "signature")
    g = {"accession": "x", "form": "4/A", "period_of_report": "2024-03-15"}
    derive_filing(g, [], [], {})
    assert (g["filing_date"], g["filing_date_source"], g["is_amendment"]) == (
        dt.date(2024, 3, 15),
        "period",
        True,
    )


@pytest.mark.parametrize(
    ("raw", "date"),
    [
        ("2024-07-31", dt.date(2024, 7, 31)),
        ("2024-07-31-05:00", dt.date(2024, 7, 31)),
        ("7/31/2024", dt.date(2024, 7, 31)),
        ("31-JUL-2024", dt.date(2024, 7, 31)),
        ("31-FOO-2024", None),
        ("31-FEB-2024", None),
        ("", None),
    ],
)
def test_to_date_formats(raw, date):
    """Guards against the data sets' DD-MON-YYYY dates (or a bad month name) becoming null or a wrong date."""
    assert to_date(raw) == date
