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

Use: `with_signals(cand, years)` returns CTEs that add the signal columns to a CTE named by `cand` (which must
carry owner_cik, issuer_cik, code, transaction_date); the history it reads is limited to the insiders of `cand`,
so a page of 50 rows costs a look-up of 50 insiders' histories, not a scan of the market.
"""

from __future__ import annotations

FIRST_BUY_YEARS = 2  # default N of "first buy in N years"
MAX_YEARS = 20

CMP_CLASSES = ("routine", "opportunistic", "unclassified")
PLAN_STATES = ("plan", "discretionary", "unknown")

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


def with_signals(cand: str, n_years: int = FIRST_BUY_YEARS, out: str = "_sig") -> str:
    """CTE definitions (to put after `WITH ... ,`) that define `out`: one row per trade day
    (owner_cik, issuer_cik, code, d) of CTE `cand` with cmp_class, first_buy, largest. Join rows to it with
    `join_signals()`. `cand` must carry owner_cik, issuer_cik, code, transaction_date. No parameters: N is
    inlined as a validated integer."""
    n = years(n_years)
    return f"""
    _keys AS (
        SELECT DISTINCT owner_cik, issuer_cik, code, transaction_date AS d FROM {cand}
        WHERE owner_cik IS NOT NULL AND transaction_date IS NOT NULL
    ),
    _hist AS (
        SELECT owner_cik, issuer_cik, code, transaction_date AS d, sum(coalesce(value, 0)) AS v
        FROM transactions
        WHERE superseded_by IS NULL AND "table" = 'nonDerivative' AND code IN ('P', 'S')
          AND transaction_date IS NOT NULL AND owner_cik IN (SELECT owner_cik FROM _keys)
        GROUP BY ALL
    ),
    _days AS (
        SELECT *, lag(d) OVER w AS prev_d,
               max(v) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
        FROM _hist WINDOW w AS (PARTITION BY owner_cik, issuer_cik, code ORDER BY d)
    ),
    _ym AS (SELECT DISTINCT owner_cik, year(d) AS y, month(d) AS m FROM _hist),
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
    ),
    _starts AS (
        SELECT issuer_cik, min(filing_date) AS first_filed FROM filings
        WHERE issuer_cik IN (SELECT issuer_cik FROM _keys) GROUP BY issuer_cik
    ),
    {out} AS (
        SELECT k.owner_cik, k.issuer_cik, k.code, k.d,
            CASE WHEN r.owner_cik IS NOT NULL THEN 'routine'
                 WHEN c.owner_cik IS NOT NULL THEN 'opportunistic'
                 ELSE 'unclassified' END AS cmp_class,
            CASE WHEN k.code IS DISTINCT FROM 'P' THEN NULL
                 WHEN dd.prev_d IS NOT NULL THEN dd.prev_d < k.d - INTERVAL {n} YEAR
                 WHEN st.first_filed <= k.d - INTERVAL {n} YEAR THEN TRUE
                 ELSE NULL END AS first_buy,
            CASE WHEN coalesce(k.code, '') NOT IN ('P', 'S') OR dd.prev_max IS NULL THEN NULL
                 ELSE dd.v > dd.prev_max END AS largest
        FROM _keys k
        LEFT JOIN _routine r ON r.owner_cik = k.owner_cik AND r.y = year(k.d)
        LEFT JOIN _classified c ON c.owner_cik = k.owner_cik AND c.y = year(k.d)
        LEFT JOIN _days dd ON dd.owner_cik = k.owner_cik AND dd.issuer_cik = k.issuer_cik AND dd.code = k.code
                          AND dd.d = k.d
        LEFT JOIN _starts st ON st.issuer_cik = k.issuer_cik
    )"""


SIGNAL_COLUMNS = ("cmp_class", "first_buy", "largest")


def join_signals(alias: str, out: str = "_sig") -> str:
    """`LEFT JOIN` clause attaching the trade-day signals `out` to rows aliased `alias`."""
    return (
        f"LEFT JOIN {out} ON {out}.owner_cik = {alias}.owner_cik AND {out}.issuer_cik = {alias}.issuer_cik"
        f" AND {out}.code = {alias}.code AND {out}.d = {alias}.transaction_date"
    )


def signal_select(out: str = "_sig") -> str:
    """The signal columns as selected after `join_signals` (rows without a trade day are unclassified)."""
    return f"coalesce({out}.cmp_class, 'unclassified') AS cmp_class, {out}.first_buy, {out}.largest"
