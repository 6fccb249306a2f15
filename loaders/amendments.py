"""Amendments (3/A, 4/A, 5/A): which original rows an amendment supersedes. One grouped SQL join, no I/O.

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

`SUPERSEDE_SQL` computes the whole map in one pass over a view `filings_base` (columns of loaders.schema.FILINGS,
with `first_owner_cik` and `row_kinds` filled): rows (accession, kind, tbl, other) where kind 'A' says amendment
`accession` amends `other`, and kind 'T'/'H' says the transaction/holding rows of table `tbl` of filing `accession`
are superseded by amendment `other`. The store computes it once per snapshot (loaders.store); `resolve()` applies
the same SQL to frames in memory. Cost: one hash join of the amendments against the filings of the same issuer
and owner, so it grows with the number of filings, not with filings x amendments.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SUPERSEDE_SQL = """
WITH f AS (
    SELECT accession, issuer_cik, first_owner_cik AS owner, filing_date, period_of_report,
           coalesce(is_amendment, false) AS is_amendment, date_of_original_submission AS dos, row_kinds
    FROM filings_base
),
a AS (SELECT * FROM f WHERE is_amendment),
exact AS (
    SELECT a.accession, c.accession AS original,
           row_number() OVER (PARTITION BY a.accession ORDER BY c.is_amendment, c.accession) AS rn
    FROM a JOIN f c ON c.issuer_cik = a.issuer_cik AND c.owner = a.owner AND c.accession <> a.accession
                   AND c.filing_date = a.dos
),
fallback AS (
    SELECT a.accession, c.accession AS original,
           row_number() OVER (PARTITION BY a.accession ORDER BY c.filing_date DESC, c.accession DESC) AS rn
    FROM a JOIN f c ON c.issuer_cik = a.issuer_cik AND c.owner = a.owner AND c.accession <> a.accession
                   AND NOT c.is_amendment AND c.period_of_report = a.period_of_report
                   AND c.filing_date <= a.filing_date
),
orig AS (
    SELECT a.accession, a.filing_date, coalesce(e.original, b.original) AS original
    FROM a LEFT JOIN exact e ON e.accession = a.accession AND e.rn = 1
           LEFT JOIN fallback b ON b.accession = a.accession AND b.rn = 1
    WHERE coalesce(e.original, b.original) IS NOT NULL
),
members AS (
    SELECT original, accession AS member,
           row_number() OVER (PARTITION BY original ORDER BY filing_date NULLS LAST, accession) AS idx,
           coalesce(strftime(filing_date, '%Y-%m-%d'), '9999-12-31') || accession AS ord
    FROM orig
    UNION ALL
    SELECT DISTINCT original, original AS member, 0 AS idx, '' AS ord FROM orig
),
kinds AS (
    SELECT m.original, m.member, m.idx, m.ord, unnest(string_split(f.row_kinds, ',')) AS rk
    FROM members m JOIN f ON f.accession = m.member
    WHERE f.row_kinds IS NOT NULL AND f.row_kinds <> ''
),
superseded AS (
    SELECT t.member AS accession, split_part(t.rk, ':', 2) AS kind, split_part(t.rk, ':', 1) AS tbl,
           arg_max(s.member, s.ord) AS other
    FROM kinds t JOIN kinds s ON s.original = t.original AND s.rk = t.rk AND s.idx > t.idx
    GROUP BY ALL
)
SELECT accession, 'A' AS kind, CAST(NULL AS VARCHAR) AS tbl, original AS other FROM orig
UNION ALL
SELECT accession, kind, tbl, other FROM superseded
"""


def supersede_map(filings: pd.DataFrame) -> pd.DataFrame:
    """SUPERSEDE_SQL over a filings frame (with first_owner_cik and row_kinds filled)."""
    con = duckdb.connect(":memory:")
    try:
        con.register("filings_base", filings)
        return con.execute(SUPERSEDE_SQL).df()
    finally:
        con.close()


def resolve(
    filings: pd.DataFrame, owners: pd.DataFrame, transactions: pd.DataFrame, holdings: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Copies of (filings, transactions, holdings) with amends_accession and superseded_by filled in."""
    filings, transactions, holdings = filings.copy(), transactions.copy(), holdings.copy()
    if not filings["is_amendment"].fillna(False).astype(bool).any():
        return filings, transactions, holdings
    first = owners[owners["position"] == 0].drop_duplicates("accession").set_index("accession")["owner_cik"]
    kinds: dict[str, set[str]] = {}
    for frame, kind in ((transactions, "T"), (holdings, "H")):
        for acc, tbl in frame[["accession", "table"]].dropna().drop_duplicates().itertuples(index=False):
            kinds.setdefault(acc, set()).add(f"{tbl}:{kind}")
    base = filings.assign(
        first_owner_cik=filings["accession"].map(first).astype("Int64"),
        row_kinds=filings["accession"]
        .map(lambda a: ",".join(sorted(kinds.get(a, ()))) or None)
        .astype("string"),
    )
    amap = supersede_map(base)
    lineage = amap[amap["kind"] == "A"].set_index("accession")["other"]
    filings["amends_accession"] = filings["accession"].map(lineage).astype("string")
    for frame, kind in ((transactions, "T"), (holdings, "H")):
        rows = amap[amap["kind"] == kind]
        key = dict(rows.set_index(["accession", "tbl"])["other"].items())
        found = [key.get(k) for k in frame[["accession", "table"]].itertuples(index=False, name=None)]
        frame["superseded_by"] = pd.Series(found, index=frame.index, dtype="string")
    return filings, transactions, holdings
