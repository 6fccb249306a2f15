"""Signals on every trade, computed in SQL over the store's views (never by loading the store into pandas).

Each signal has one rule, written once in RULES (shown on hover in the pages and copied into the README):

- cmp_class   routine / opportunistic / unclassified (Cohen, Malloy and Pomorski 2012), per insider and year;
- first_buy   first purchase by this insider in this issuer for N years (True / False / <NA> = cannot tell);
- largest     the largest purchase (sale) day so far of this insider in this issuer (True / False / <NA>);
- plan        10b5-1 plan / discretionary / unknown, from the tri-state `is_10b5_1`;
- is_late     filed after the deadline (Form 4: two business days), from the stored `is_late`.

Scope: the market pages look at Table I rows (non-derivative securities: shares), live rows only
(`superseded_by IS NULL`). An "insider" is a filing's first reporting owner (`owner_cik`), so a joint filing is one
trade by one insider here. A "trade day" is all of one insider's rows with one code in one issuer on one date.

Speed: the history each signal needs is computed once per store snapshot into a small derived index
(`ensure_index`: one row per trade day with the previous purchase/sale day and amount, plus one row per insider and
year with the trader type), kept as Parquet under `<data>/cache/signals/` and rebuilt when the store changes. A
query then labels any rows with one hash join (`signal_joins`), whether they are the 50 rows of a page or every
candidate of a signal filter, so both paths give the same labels.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FIRST_BUY_YEARS = 2  # default N of "first buy in N years"
MAX_YEARS = 20

CMP_CLASSES = ("routine", "opportunistic", "unclassified")

RULES: dict[str, str] = {
    "cmp_class": (
        "Routine vs opportunistic (Cohen, Malloy & Pomorski 2012), decided per insider for the calendar year of the "
        "trade from the insider's open-market trades (P or S, any issuer) in the three previous calendar years: "
        "ROUTINE if the insider traded in the same calendar month in each of those three years; OPPORTUNISTIC if "
        "the insider traded in each of those three years but in no common month; UNCLASSIFIED otherwise (including "
        "when the store's history does not reach three years back)."
    ),
    "first_buy": (
        "First buy in N years: an open-market purchase (P) day of this insider in this issuer with no earlier "
        "purchase by the same insider in the same issuer within the N years before it. Blank when the store's "
        "history of the issuer starts less than N years before the trade and holds no earlier purchase."
    ),
    "largest": (
        "Largest buy / largest sale: this purchase (P) or sale (S) day's total dollar value is larger than every "
        "earlier purchase (sale) day of this insider in this issuer held in the store. Blank for the insider's "
        "first purchase (sale) in the issuer."
    ),
    "plan": (
        "Plan vs discretionary: 'plan' when the row is under a Rule 10b5-1 trading plan (the Form 4 checkbox, or a "
        "footnote or the remarks saying so), 'discretionary' when the filing says it is not, 'unknown' when the "
        "filing does not say (forms before April 2023 without a footnote)."
    ),
    "late": (
        "Late: filed after the deadline, i.e. more than two business days after the trade (or its deemed "
        "execution date) for a Form 4, or marked late (timeliness L) by the filer."
    ),
    "delta_own": (
        "\u0394Own: shares traded / shares owned before the trade, where owned before = owned after \u2212 shares "
        "acquired (+ shares disposed) on the same row. Blank when nothing was owned before (a new position) or the "
        "filing does not give the holding."
    ),
    "days_to_file": "Calendar days from the trade date to the filing date.",
}


def years(value: int) -> int:
    """N of 'first buy in N years', clamped to 1..MAX_YEARS (it is inlined into SQL, so it must be an int)."""
    return max(1, min(MAX_YEARS, int(value)))


# One row per trade day (insider, issuer, code P/S, date) of the whole store: its $ total, the previous day of the
# same insider, issuer and code and the largest $ before it, and when the issuer's history in the store starts.
DAYS_SQL = """
WITH _hist AS (
    SELECT owner_cik, issuer_cik, code, transaction_date AS d, sum(coalesce(value, 0)) AS v
    FROM transactions
    WHERE superseded_by IS NULL AND "table" = 'nonDerivative' AND code IN ('P', 'S')
      AND transaction_date IS NOT NULL AND owner_cik IS NOT NULL AND issuer_cik IS NOT NULL
    GROUP BY ALL
),
_starts AS (SELECT issuer_cik, min(filing_date) AS first_filed FROM filings GROUP BY issuer_cik)
SELECT h.owner_cik, h.issuer_cik, h.code, h.d, h.v,
       lag(h.d) OVER w AS prev_d,
       max(h.v) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max,
       st.first_filed
FROM _hist h LEFT JOIN _starts st ON st.issuer_cik = h.issuer_cik
WINDOW w AS (PARTITION BY h.owner_cik, h.issuer_cik, h.code ORDER BY h.d)
ORDER BY h.owner_cik, h.issuer_cik, h.code, h.d
"""

# One row per insider and calendar year that is classified (routine or opportunistic) from the three years before.
YEARS_SQL = """
WITH _ym AS (
    SELECT DISTINCT owner_cik, year(transaction_date) AS y, month(transaction_date) AS m FROM transactions
    WHERE superseded_by IS NULL AND "table" = 'nonDerivative' AND code IN ('P', 'S')
      AND transaction_date IS NOT NULL AND owner_cik IS NOT NULL
),
_yy AS (SELECT DISTINCT owner_cik, y FROM _ym),
_classified AS (
    SELECT a.owner_cik, a.y + 3 AS y FROM _yy a
    JOIN _yy b ON b.owner_cik = a.owner_cik AND b.y = a.y + 1
    JOIN _yy c ON c.owner_cik = a.owner_cik AND c.y = a.y + 2
),
_routine AS (
    SELECT DISTINCT a.owner_cik, a.y + 3 AS y FROM _ym a
    JOIN _ym b ON b.owner_cik = a.owner_cik AND b.y = a.y + 1 AND b.m = a.m
    JOIN _ym c ON c.owner_cik = a.owner_cik AND c.y = a.y + 2 AND c.m = a.m
)
SELECT k.owner_cik, k.y, CASE WHEN r.owner_cik IS NOT NULL THEN 'routine' ELSE 'opportunistic' END AS cmp_class
FROM _classified k LEFT JOIN _routine r ON r.owner_cik = k.owner_cik AND r.y = k.y
ORDER BY k.owner_cik, k.y
"""

SIGNAL_COLUMNS = ("cmp_class", "first_buy", "largest")


def snapshot_tag(store) -> str:
    """A name for the store's current contents: the manifest version where the store has one, else a digest of
    its part files (a write adds parts, so the tag changes)."""
    version = getattr(store, "version", None)
    if callable(version):
        return f"v{version()}"
    folder = Path(store.table_dir) / "filings"
    names = sorted(p.name for p in folder.glob("part-*.parquet")) if folder.is_dir() else []
    return "p" + hashlib.sha1("|".join(names).encode()).hexdigest()[:16]


def _literal(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


@dataclass(frozen=True)
class Index:
    """The index files of one snapshot, as SQL table expressions: trade days, trader types per insider-year, and
    rows left out of market totals (`excluded`: row_id, why = 'joint_duplicate' | 'suspect')."""

    days: str
    years: str
    excluded: str


_OPEN_MARKET = "\"table\" = 'nonDerivative' AND code IN ('P', 'S')"


def _excluded(store) -> pd.DataFrame:
    """Open-market rows that must not count twice or at all in market totals: joint-filing duplicates
    (analytics.flow's rule, in SQL) and suspect values (analytics.quality's rule). Only rows that can be suspect
    reach pandas: flagged ones, prices far outside their own range, and trades of issuer securities whose prices
    spread by the outlier factor (the only groups where a price outlier can exist)."""
    from analytics.flow import joint_duplicates_sql
    from analytics.quality import FAR_FACTOR, OUTLIER_FACTOR, suspect_values

    dups = store.query(f"SELECT row_id FROM ({joint_duplicates_sql(_OPEN_MARKET)})")
    title = "lower(trim(coalesce(security_title, '')))"
    rows = store.query(
        f"""WITH om AS (SELECT row_id, issuer_cik, security_title, transaction_date, price, price_low, price_high,
                               flags, "table", code, {title} AS _title
                        FROM transactions WHERE superseded_by IS NULL AND {_OPEN_MARKET}),
        spread AS (SELECT issuer_cik, _title FROM om WHERE price > 0 AND transaction_date IS NOT NULL
                   GROUP BY ALL HAVING max(price) >= {OUTLIER_FACTOR} * min(price))
        SELECT * EXCLUDE (_title) FROM om
        WHERE regexp_matches(coalesce(flags, ''), 'implausible_value|price_outlier')
           OR (price > {FAR_FACTOR} * price_high OR price * {FAR_FACTOR} < price_low)
           OR (issuer_cik, _title) IN (SELECT (issuer_cik, _title) FROM spread)"""
    )
    suspect = (
        rows.loc[suspect_values(rows).to_numpy(dtype=bool), ["row_id"]] if len(rows) else rows[["row_id"]]
    )
    out = pd.concat([dups.assign(why="joint_duplicate"), suspect.assign(why="suspect")], ignore_index=True)
    return out.astype({"row_id": "string", "why": "string"})


def ensure_index(store) -> Index:
    """The signal index of the store's current snapshot, built now if missing (a few seconds on a 10-million-row
    store; once per snapshot). Files are written under a temporary name and renamed, so a reader never sees half
    of one; older snapshots' files are removed."""
    folder = Path(store.root) / "cache" / "signals"
    tag = snapshot_tag(store)
    paths = {name: folder / f"{name}-{tag}.parquet" for name in ("days", "years", "excluded")}
    for name, path in paths.items():
        if path.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex}-{path.name}"
        try:
            if name == "excluded":
                pq.write_table(pa.Table.from_pandas(_excluded(store), preserve_index=False), tmp)
            else:
                sql = DAYS_SQL if name == "days" else YEARS_SQL
                store.query(f"COPY ({sql}) TO {_literal(tmp)} (FORMAT parquet, COMPRESSION zstd)")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    for old in folder.glob("*.parquet"):
        if old not in paths.values() and time.time() - old.stat().st_mtime > 60:
            old.unlink(missing_ok=True)
    return Index(**{name: f"read_parquet({_literal(path)})" for name, path in paths.items()})


def counted_where(index: Index, include_suspect: bool = False, alias: str = "t") -> str:
    """SQL: the row counts in market totals (not a joint-filing duplicate; not a suspect value unless asked)."""
    why = "('joint_duplicate')" if include_suspect else "('joint_duplicate', 'suspect')"
    return f"{alias}.row_id NOT IN (SELECT row_id FROM {index.excluded} WHERE why IN {why})"


def signal_joins(index: Index, alias: str = "t") -> str:
    """`LEFT JOIN`s attaching the index to rows aliased `alias` (as `_sd` and `_sy`)."""
    return (
        f"LEFT JOIN {index.days} _sd ON _sd.owner_cik = {alias}.owner_cik AND _sd.issuer_cik = {alias}.issuer_cik"
        f" AND _sd.code = {alias}.code AND _sd.d = {alias}.transaction_date"
        f" LEFT JOIN {index.years} _sy ON _sy.owner_cik = {alias}.owner_cik AND _sy.y = year({alias}.transaction_date)"
    )


def signal_select(n_years: int = FIRST_BUY_YEARS, alias: str = "t") -> str:
    """The signal columns of rows joined by `signal_joins` (N inlined as a validated integer)."""
    n = years(n_years)
    return f"""coalesce(_sy.cmp_class, 'unclassified') AS cmp_class,
        CASE WHEN {alias}.code IS DISTINCT FROM 'P' OR _sd.d IS NULL THEN NULL
             WHEN _sd.prev_d IS NOT NULL THEN _sd.prev_d < _sd.d - INTERVAL {n} YEAR
             WHEN _sd.first_filed <= _sd.d - INTERVAL {n} YEAR THEN TRUE
             ELSE NULL END AS first_buy,
        CASE WHEN coalesce({alias}.code, '') NOT IN ('P', 'S') OR _sd.prev_max IS NULL THEN NULL
             ELSE _sd.v > _sd.prev_max END AS largest"""
