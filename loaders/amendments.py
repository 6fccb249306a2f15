"""Amendments (3/A, 4/A, 5/A): which original rows an amendment supersedes. Pure pandas, no I/O.

The rule:
- The ORIGINAL of an amendment is the filing with the same issuer and the same first reporting owner whose filing
  date equals the amendment's dateOfOriginalSubmission, preferring a non-amendment; failing that, the latest earlier
  non-amendment with the same period of report.
- The amendment restates only the kinds of rows it contains, per table: non-derivative transactions, non-derivative
  holdings, derivative transactions, derivative holdings. Rows of those kinds in the original (and in earlier
  amendments of the same original) get `superseded_by` = the amendment's accession; rows of kinds the amendment does
  not contain stay live. So a 4/A restating only holdings never wipes the original's trades.
- Amendments apply in filing order, so the last restatement wins. The amendment filing records its original in
  `amends_accession` (lineage). An amendment whose original is not loaded counts as itself.
"""

from __future__ import annotations

import pandas as pd


def _kinds(accession: str, transactions: pd.DataFrame, holdings: pd.DataFrame) -> set[tuple[str, str]]:
    kinds = {(t, "T") for t in transactions.loc[transactions["accession"] == accession, "table"].dropna()}
    kinds |= {(t, "H") for t in holdings.loc[holdings["accession"] == accession, "table"].dropna()}
    return kinds


def find_original(amendment: pd.Series, filings: pd.DataFrame, first_owner: pd.Series) -> str | None:
    """Accession of the filing `amendment` restates, or None when it is not among `filings`."""
    owner = first_owner.get(amendment["accession"])
    same = filings[
        (filings["issuer_cik"] == amendment["issuer_cik"])
        & (filings["accession"] != amendment["accession"])
        & (filings["accession"].map(first_owner) == owner)
    ]
    if same.empty:
        return None
    dos = amendment["date_of_original_submission"]
    if pd.notna(dos):
        exact = same[same["filing_date"] == dos].sort_values(["is_amendment", "accession"])
        if not exact.empty:
            return str(exact["accession"].iloc[0])
    fallback = same[
        (~same["is_amendment"].fillna(False).astype(bool))
        & (same["period_of_report"] == amendment["period_of_report"])
        & (same["filing_date"] <= amendment["filing_date"])
    ].sort_values(["filing_date", "accession"])
    return str(fallback["accession"].iloc[-1]) if not fallback.empty else None


def resolve(
    filings: pd.DataFrame, owners: pd.DataFrame, transactions: pd.DataFrame, holdings: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Copies of (filings, transactions, holdings) with amends_accession and superseded_by filled in."""
    filings, transactions, holdings = filings.copy(), transactions.copy(), holdings.copy()
    amendments = filings[filings["is_amendment"].fillna(False).astype(bool)]
    if amendments.empty:
        return filings, transactions, holdings
    first_owner = (
        owners[owners["position"] == 0].drop_duplicates("accession").set_index("accession")["owner_cik"]
    )
    restated_by: dict[str, list[str]] = {}  # original -> amendments applied so far
    for _, amendment in amendments.sort_values(["filing_date", "accession"]).iterrows():
        acc = amendment["accession"]
        original = find_original(amendment, filings, first_owner)
        if original is None:
            continue
        filings.loc[filings["accession"] == acc, "amends_accession"] = original
        targets = [original, *restated_by.get(original, [])]
        for table, kind in _kinds(acc, transactions, holdings):
            frame = transactions if kind == "T" else holdings
            mask = frame["accession"].isin(targets) & (frame["table"] == table)
            frame.loc[mask, "superseded_by"] = acc
        restated_by.setdefault(original, []).append(acc)
    return filings, transactions, holdings
