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

import duckdb
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


def _t(name: str) -> str:
    return f"t.{name}"


def _trades_cte() -> str:
    from analytics.market_filters import title_sql

    return f"""
    _base AS (
        SELECT t.*,
            CASE t.acquired_disposed WHEN 'A' THEN t.owned_after - t.shares
                                     WHEN 'D' THEN t.owned_after + t.shares END AS owned_before,
            {title_sql(_t, "ceo")} AS is_ceo,
            {title_sql(_t, "cfo")} AS is_cfo,
            CASE WHEN t.is_10b5_1 THEN 'plan' WHEN NOT t.is_10b5_1 THEN 'discretionary' ELSE 'unknown' END AS plan,
            date_diff('day', t.transaction_date, t.filing_date) AS days_to_file
        FROM transactions t
        WHERE t.superseded_by IS NULL AND t."table" = 'nonDerivative'
    ),
    trades AS (
        SELECT b.*, CASE WHEN b.owned_before > 0 THEN b.shares / b.owned_before END AS delta_own FROM _base b
    )"""


# Every trade row, Table I, live, with the derived columns the pages show and filter on (a CTE named `trades`).
TRADES = _trades_cte()

# The columns of the index's row tables (every live Table I row; the open-market table keeps codes P and S): what the
# market pages filter, sort and show.
OPEN_MARKET_COLUMNS = (
    "row_id", "accession", "seq", "table", "form", "filing_date", "transaction_date", "issuer_cik", "issuer_name",
    "ticker", "owner_cik", "owner_name", "owner_ciks", "n_owners", "role", "officer_title", "is_director",
    "is_officer", "is_ten_percent_owner", "is_other", "is_ceo", "is_cfo", "code", "acquired_disposed", "shares",
    "price", "value", "owned_before", "owned_after", "delta_own", "direct_indirect", "nature", "security_title",
    "is_10b5_1", "tenb51_source", "plan", "is_late", "late_business_days", "days_to_file", "price_low",
    "price_high", "flags",
)  # fmt: skip
BASE_SQL = f"""WITH {TRADES}
SELECT {", ".join(f't."{c}"' for c in OPEN_MARKET_COLUMNS)}, CAST(NULL AS VARCHAR) AS superseded_by
FROM trades t"""
OPEN_CODES = "code IN ('P', 'S')"

# One row per trade day (insider, issuer, code P/S, date): its $ total, the previous day of the same insider,
# issuer and code and the largest $ before it, and when the issuer's history in the store starts. {base} = the
# open-market rows.
DAYS_SQL = """
WITH _hist AS (
    SELECT owner_cik, issuer_cik, code, transaction_date AS d, sum(coalesce(value, 0)) AS v
    FROM {base}
    WHERE transaction_date IS NOT NULL AND owner_cik IS NOT NULL AND issuer_cik IS NOT NULL
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
    SELECT DISTINCT owner_cik, year(transaction_date) AS y, month(transaction_date) AS m FROM {base}
    WHERE transaction_date IS NOT NULL AND owner_cik IS NOT NULL
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

# Every row with its signal basis and whether market totals count it (only open-market rows can be left out).
ROWS_SQL = """
SELECT b.* EXCLUDE (superseded_by),
       coalesce(sy.cmp_class, 'unclassified') AS cmp_class,
       sd.d AS day, sd.v AS day_value, sd.prev_d AS prev_day, sd.prev_max AS prev_max, sd.first_filed,
       coalesce(ex.dup, false) AS joint_duplicate, coalesce(ex.sus, false) AS suspect
FROM {base} b
LEFT JOIN {days} sd ON sd.owner_cik = b.owner_cik AND sd.issuer_cik = b.issuer_cik AND sd.code = b.code
                   AND sd.d = b.transaction_date
LEFT JOIN {years} sy ON sy.owner_cik = b.owner_cik AND sy.y = year(b.transaction_date)
LEFT JOIN (SELECT row_id, bool_or(why = 'joint_duplicate') AS dup, bool_or(why = 'suspect') AS sus
           FROM {excluded} GROUP BY row_id) ex ON ex.row_id = b.row_id
WHERE {codes}
ORDER BY b.transaction_date, b.row_id
"""
# The rows table is written as one file per group of codes (the most frequent codes alone, then the rest), each by
# trade date: a screen on some codes reads only their files, and no sort holds the whole market at once (a
# 7-million-row wide sort spilling to disk crashed DuckDB once in a 10-million-row build).
CODE_GROUPS: tuple[tuple[str, ...], ...] = (("P",), ("S",), ("A",), ("M",), ("F",))


def _codes_sql(i: int) -> str:
    if i < len(CODE_GROUPS):
        return "b.code IN (" + ", ".join(f"'{c}'" for c in CODE_GROUPS[i]) + ")"
    listed = ", ".join(f"'{c}'" for group in CODE_GROUPS for c in group)
    return f"(b.code IS NULL OR b.code NOT IN ({listed}))"


# The open-market table: the rows table's P and S rows, by trade date.
OPEN_MARKET_SQL = "SELECT * FROM {rows} WHERE " + OPEN_CODES + " ORDER BY transaction_date, row_id"

ISSUERS_SQL = "SELECT DISTINCT issuer_cik, upper(ticker) AS ticker FROM filings WHERE issuer_cik IS NOT NULL"

SIGNAL_COLUMNS = ("cmp_class", "first_buy", "largest")


INDEX_RULES = 2  # the index build's rules; raised when a rule changes (2: price_conflict), so existing stores rebuild it


def snapshot_tag(store) -> str:
    """A name for the store's current contents under the current rules: the manifest version where the store has
    one, else a digest of its part files (a write adds parts, so the tag changes)."""
    version = getattr(store, "version", None)
    if callable(version):
        return f"r{INDEX_RULES}v{version()}"
    folder = Path(store.table_dir) / "filings"
    names = sorted(p.name for p in folder.glob("part-*.parquet")) if folder.is_dir() else []
    return f"r{INDEX_RULES}p" + hashlib.sha1("|".join(names).encode()).hexdigest()[:16]


def _literal(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


def _scan(path: Path | list[Path]) -> str:
    if isinstance(path, list):
        return f"read_parquet([{', '.join(_literal(p) for p in path)}])"
    return f"read_parquet({_literal(path)})"


@dataclass(frozen=True)
class Index:
    """The index files of one snapshot, as SQL table expressions: `rows` (every live Table I row, all codes, with
    its derived columns, signal basis and counted flags: one file per group of codes, each by trade date, so a
    screen on some codes reads only their files), `trades` (the open-market table: its P and S rows, sorted by trade date), `days`
    and `years` (the signal basis), `issuers` (issuer CIK and every ticker it filed under) and `excluded` (row_id,
    why = 'joint_duplicate' | 'suspect')."""

    trades: str
    days: str
    years: str
    issuers: str
    excluded: str
    rows: str


def _excluded(store, base: str, folder: Path) -> pd.DataFrame:
    """Open-market rows that must not count twice or at all in market totals: joint-filing duplicates
    (analytics.flow's rule, in SQL) and suspect values (analytics.quality's rule). Only rows that can be suspect
    reach pandas: flagged ones, prices far outside their own range, and trades of issuer securities whose prices
    spread by the outlier factor (the only groups where a price outlier can exist)."""
    from analytics.flow import joint_duplicates_sql
    from analytics.quality import CONFLICT_FACTOR, FAR_FACTOR, OUTLIER_FACTOR, suspect_values

    dup_sql = joint_duplicates_sql().strip()
    assert dup_sql.startswith("WITH ")
    limits = _limits(folder)
    # only rows whose trade (issuer, date, code, shares, price, owned after) appears more than once can repeat
    # another owner's report: the rule's window then runs over those few
    key = "issuer_cik, transaction_date, code, shares, price, owned_after"
    repeated = (f"SELECT * FROM {base} WHERE ({key}) IN (SELECT ({key}) FROM {base} GROUP BY ALL "
                "HAVING count(*) > 1)")  # fmt: skip
    dups = store.query_many([*limits, f"WITH transactions AS ({repeated}), {dup_sql[5:]}"])[-1]
    dups = dups[["row_id"]]
    title = "lower(trim(coalesce(security_title, '')))"
    rows = store.query_many([*limits,
        f"""WITH om AS (SELECT row_id, accession, issuer_cik, security_title, transaction_date, price, price_low,
                               price_high, flags, "table", code, {title} AS _title FROM {base}),
        spread AS (SELECT issuer_cik, _title FROM om WHERE price > 0 AND transaction_date IS NOT NULL
                   GROUP BY ALL HAVING max(price) >= {OUTLIER_FACTOR} * min(price)),
        conflict AS (SELECT accession, _title, transaction_date FROM om
                     WHERE price > 0 AND transaction_date IS NOT NULL AND code IN ('P', 'S')
                     GROUP BY ALL HAVING count(DISTINCT code) = 2 AND max(price) >= {CONFLICT_FACTOR} * min(price))
        SELECT * EXCLUDE (_title) FROM om
        WHERE regexp_matches(coalesce(flags, ''), 'implausible_value|price_outlier')
           OR (price > {FAR_FACTOR} * price_high OR price * {FAR_FACTOR} < price_low)
           OR (issuer_cik, _title) IN (SELECT (issuer_cik, _title) FROM spread)
           OR (accession, _title, transaction_date) IN (SELECT (accession, _title, transaction_date) FROM conflict)
        """])[-1]  # fmt: skip
    suspect = (
        rows.loc[suspect_values(rows).to_numpy(dtype=bool), ["row_id"]] if len(rows) else rows[["row_id"]]
    )
    out = pd.concat([dups.assign(why="joint_duplicate"), suspect.assign(why="suspect")], ignore_index=True)
    return out.astype({"row_id": "string", "why": "string"})


BUILD_MEMORY = "1GB"  # DuckDB's memory for an index build; beyond it, sorts and joins spill to disk


def _limits(folder: Path) -> list[str]:
    spill = folder / ".spill"
    spill.mkdir(exist_ok=True)
    return [f"SET memory_limit = '{BUILD_MEMORY}'", f"SET temp_directory = {_literal(spill)}"]


def _write(store, path: Path, sql: str | None = None, frame: pd.DataFrame | None = None) -> None:
    """Write one index file under a temporary name and rename it into place (readers never see half of one)."""
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        if frame is not None:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd")
        else:
            copy = (
                f"COPY ({sql}) TO {_literal(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
            )
            store.query_many([*_limits(path.parent), copy])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_index(store) -> Index:
    """The market index of the store's current snapshot, built now if missing (once per snapshot: one scan of the
    store for its live Table I rows, then queries over that file). Older snapshots' files are removed after
    ten minutes (a running query may still read them)."""
    folder = Path(store.root) / "cache" / "signals"
    tag = snapshot_tag(store)
    path = {n: folder / f"{n}-{tag}.parquet" for n in ("trades", "days", "years", "issuers", "excluded")}
    rows = [folder / f"rows{i}-{tag}.parquet" for i in range(len(CODE_GROUPS) + 1)]
    if not all(p.is_file() for p in [*path.values(), *rows]):
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / f"base-{tag}.parquet"
        path["trades"].unlink(missing_ok=True)  # the open-market table is written last, from a complete set
        if not all(p.is_file() for p in [path["days"], path["years"], path["excluded"], *rows]):
            if not base.is_file():
                _write(store, base, BASE_SQL)
            src = _scan(base)
            om = f"(SELECT * FROM {src} WHERE {OPEN_CODES})"  # the signal basis: open-market trades only
            if not path["days"].is_file():
                _write(store, path["days"], DAYS_SQL.format(base=om))
            if not path["years"].is_file():
                _write(store, path["years"], YEARS_SQL.format(base=om))
            if not path["excluded"].is_file():
                _write(store, path["excluded"], frame=_excluded(store, om, folder))
            parts = {n: _scan(path[n]) for n in ("days", "years", "excluded")}
            for i, part in enumerate(rows):
                if not part.is_file():
                    _write(store, part, ROWS_SQL.format(base=src, codes=_codes_sql(i), **parts))
        if not path["issuers"].is_file():
            _write(store, path["issuers"], ISSUERS_SQL)
        _write(store, path["trades"], OPEN_MARKET_SQL.format(rows=_scan(rows[:2])))  # the P and S files
        base.unlink(missing_ok=True)
    keep = {*path.values(), *rows}
    for old in folder.glob("*.parquet"):
        if old not in keep and time.time() - old.stat().st_mtime > 600:  # a running query may use it
            old.unlink(missing_ok=True)
    return Index(**{n: _scan(p) for n, p in path.items()}, rows=_scan(rows))


def query_index(store, sqls: list[str], params: list | None = None) -> list[pd.DataFrame]:
    """Run queries that read only the index files (`Index` expressions) on a bare DuckDB connection: setting up
    the store's views costs ~30 ms a connection on a 10-million-row store, more than most index queries. SQL that
    names a store view (a caller's filter on `transactions`) falls back to `store.query_many`."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads TO 2")
        con.execute("SET enable_progress_bar = false")
        return [con.execute(sql, params or []).df() for sql in sqls]
    except duckdb.CatalogException:
        pass
    finally:
        con.close()
    return store.query_many(sqls, params)


def signal_joins(index: Index, alias: str = "t") -> str:
    """`LEFT JOIN`s attaching the signal basis to rows aliased `alias` that are not in the open-market table (other
    codes): as `_sd` (trade day) and `_sy` (insider-year)."""
    return (
        f"LEFT JOIN {index.days} _sd ON _sd.owner_cik = {alias}.owner_cik AND _sd.issuer_cik = {alias}.issuer_cik"
        f" AND _sd.code = {alias}.code AND _sd.d = {alias}.transaction_date"
        f" LEFT JOIN {index.years} _sy ON _sy.owner_cik = {alias}.owner_cik AND _sy.y = year({alias}.transaction_date)"
    )


def _signals(n_years: int, code: str, day: str, prev_day: str, first_filed: str, value: str, prev_max: str,
             cmp: str) -> str:  # fmt: skip
    n = years(n_years)
    return f"""{cmp} AS cmp_class,
        CASE WHEN {code} IS DISTINCT FROM 'P' OR {day} IS NULL THEN NULL
             WHEN {prev_day} IS NOT NULL THEN {prev_day} < {day} - INTERVAL {n} YEAR
             WHEN {first_filed} <= {day} - INTERVAL {n} YEAR THEN TRUE
             ELSE NULL END AS first_buy,
        CASE WHEN coalesce({code}, '') NOT IN ('P', 'S') OR {prev_max} IS NULL THEN NULL
             ELSE {value} > {prev_max} END AS largest"""


def signal_select(n_years: int = FIRST_BUY_YEARS, alias: str = "t") -> str:
    """The signal columns of rows joined by `signal_joins` (N inlined as a validated integer)."""
    return _signals(n_years, f"{alias}.code", "_sd.d", "_sd.prev_d", "_sd.first_filed", "_sd.v", "_sd.prev_max",
                    "coalesce(_sy.cmp_class, 'unclassified')")  # fmt: skip


def open_market_signals(n_years: int = FIRST_BUY_YEARS, alias: str = "t") -> str:
    """The signal columns of rows of the open-market table (their basis is on the row)."""
    a = alias
    return _signals(n_years, f"{a}.code", f"{a}.day", f"{a}.prev_day", f"{a}.first_filed", f"{a}.day_value",
                    f"{a}.prev_max", f"{a}.cmp_class")  # fmt: skip


def counted(include_suspect: bool = False, alias: str = "t") -> str:
    """SQL over the open-market table: the row counts in market totals (a joint-filing duplicate never; a suspect
    value only when asked)."""
    return f"NOT {alias}.joint_duplicate" + ("" if include_suspect else f" AND NOT {alias}.suspect")
