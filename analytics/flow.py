"""Issuer-level numbers: headline figures and the net buy/sell flow per month or quarter.

What counts in issuer totals (`counted`):
- **Joint filings count once.** Owners who share a holding (a fund and its general partner, two trustees of one
  trust) may each file their own Form 4 for the same trade (FGBI: 0001437749-23-009844 and -009846). Rows of
  different filings are one economic trade when they agree on issuer, table, security, date, code,
  acquired/disposed, shares, price and owned-after. The earliest filed (then lowest accession, then row order)
  counts; a later row is `duplicate_of` it when the pair is one owner's direct holding and another's indirect one
  (a fund and the director who reports it "By Fund"; spouses), or both are indirect through the same *named*
  holder (nature "By Smith & Hood Investments, LLC" on both), or both come from the same owner with the same
  nature (a re-filed report). Not merged: two owners' direct holdings (different shares even when the numbers
  match); indirect holdings whose nature does not name the holder ("By Trust", "See footnote": TEAM's founders
  sell identical amounts from their own trusts); grants and tax withholding (codes A, F: each person's own). The rule is a grouped query (`joint_duplicates_sql`), so the market pages apply the same
  rule in SQL; per-insider views do not apply it (each owner's own report is shown).
- **Suspect values are left out** unless asked (analytics.quality.suspect_values: typo prices and the like).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.filters import plan_state
from analytics.quality import checked_for, suspect_values

PLAN_LABELS = {"yes": "10b5-1 plan", "no": "Discretionary", "unknown": "Plan status unknown"}


GENERIC_NATURE = (  # natures that do not name the holder: two owners "By Trust" may hold different trusts
    r"(?:see\b.*|.*\bfootnotes?\b.*|.*\bremarks?\b.*|(?:the |a |his |her |family |revocable |living )?trusts?"
    r"|llc|lp|spouse|wife|husband|partnership|ira|fund|corporation|company|indirect|\d*)"
)
PERSONAL_CODES = ("A", "F")  # grants and tax withholding are each person's own, even when the numbers match
_JOINT_KEY = [
    "issuer_cik", "table", "_title", "transaction_date", "code", "acquired_disposed", "shares", "price", "owned_after",
]  # fmt: skip


def joint_duplicates(tx: pd.DataFrame) -> pd.DataFrame:
    """Per row of tx: duplicate_of (row_id of the row that counts for the same trade, <NA> when the row counts
    itself) and joint_owners (every owner reporting that trade, "|"-joined; <NA> for a trade reported once)."""
    out = pd.DataFrame(
        {"duplicate_of": pd.Series(pd.NA, index=tx.index, dtype="string"),
         "joint_owners": pd.Series(pd.NA, index=tx.index, dtype="string")}
    )  # fmt: skip
    usable = (
        tx["shares"].notna()
        & tx["owned_after"].notna()
        & tx["transaction_date"].notna()
        & ~tx["code"].isin(PERSONAL_CODES)
    )
    cols = ["row_id", "accession", "seq", "filing_date", "owner_cik", "owner_name", "owner_names", "direct_indirect",
            "nature", "security_title", *(c for c in _JOINT_KEY if c != "_title")]  # fmt: skip
    k = tx.loc[usable, cols]
    k = k.assign(_title=k["security_title"].fillna("").str.strip().str.lower())
    k = k[k.duplicated(_JOINT_KEY, keep=False)]  # only trades reported more than once can repeat
    if k.empty:
        return out
    k = k.sort_values(["filing_date", "accession", "seq"], kind="stable")
    g = k.groupby(_JOINT_KEY, dropna=False, sort=False)
    first_row, first_acc = g["row_id"].transform("first"), g["accession"].transform("first")
    k["_nature"] = _nature(k["nature"])
    first_di, first_owner = g["direct_indirect"].transform("first"), g["owner_cik"].transform("first")
    first_nature = k.groupby(_JOINT_KEY, dropna=False, sort=False)["_nature"].transform("first")
    di = k["direct_indirect"].fillna("")
    first_di = first_di.fillna("")
    same_nature = k["_nature"] == first_nature
    specific = ~k["_nature"].str.fullmatch(GENERIC_NATURE)
    shared = (
        ((di == "I") & (first_di == "D"))
        | ((di == "D") & (first_di == "I"))
        | ((di == "I") & (first_di == "I") & same_nature & specific)
        | ((k["owner_cik"] == first_owner).fillna(False) & same_nature)
    )
    dup = (k["accession"] != first_acc) & shared.astype(bool)
    out.loc[dup[dup].index, "duplicate_of"] = first_row[dup]
    groups = first_row.where(dup | first_row.isin(first_row[dup]))
    names = k["owner_names"].fillna(k["owner_name"]).fillna("")
    joined = names.groupby(groups).agg(
        lambda s: "|".join(dict.fromkeys(n for v in s for n in v.split("|") if n))
    )
    member = groups.notna()
    out.loc[member[member].index, "joint_owners"] = groups[member].map(joined)
    return out


def _nature(nature: pd.Series) -> pd.Series:
    """Nature of ownership compared loosely: lower case, punctuation as spaces, a leading "by" dropped."""
    n = nature.fillna("").str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return n.str.replace(r"^by ", "", regex=True)


def joint_duplicates_sql(where: str = "TRUE") -> str:
    """The joint-filing rule as one grouped query over the `transactions` view: returns (row_id, duplicate_of)
    for every row that repeats a trade already counted. `where` narrows the rows considered (same filter as the
    totals it feeds, on columns of `transactions`; pass parameters with the query)."""
    return f"""
WITH k AS (
    SELECT row_id, accession, seq, filing_date, owner_cik, coalesce(direct_indirect, '') AS di, issuer_cik, "table",
           regexp_replace(trim(regexp_replace(lower(coalesce(nature, '')), '[^a-z0-9]+', ' ', 'g')), '^by ', '')
               AS nat,
           lower(trim(coalesce(security_title, ''))) AS title, transaction_date, code, acquired_disposed,
           shares, price, owned_after
    FROM transactions
    WHERE superseded_by IS NULL AND shares IS NOT NULL AND owned_after IS NOT NULL
      AND transaction_date IS NOT NULL AND coalesce(code, '') NOT IN ('A', 'F') AND ({where})
), g AS (
    SELECT *,
        first_value(row_id) OVER w AS first_row,
        first_value(accession) OVER w AS first_acc,
        first_value(di) OVER w AS first_di,
        first_value(owner_cik) OVER w AS first_owner,
        first_value(nat) OVER w AS first_nat
    FROM k
    WINDOW p AS (PARTITION BY issuer_cik, "table", title, transaction_date, code, acquired_disposed, shares,
                 price, owned_after),
           w AS (p ORDER BY filing_date, accession, seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT row_id, first_row AS duplicate_of FROM g
WHERE accession <> first_acc
  AND ((di = 'I' AND first_di = 'D') OR (di = 'D' AND first_di = 'I')
       OR (di = 'I' AND first_di = 'I' AND nat = first_nat AND NOT regexp_full_match(nat, '{GENERIC_NATURE}'))
       OR (owner_cik = first_owner AND nat = first_nat)) IS TRUE
"""


def counted(
    tx: pd.DataFrame, include_suspect: bool = False, checked: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The rows that count in issuer totals: joint-filing duplicates dropped, suspect values dropped unless
    include_suspect (see the module docstring)."""
    if tx.empty:
        return tx
    dups, suspect = _left_out(tx, checked)
    keep = dups.isna()
    if not include_suspect:
        keep &= ~suspect
    return tx[keep]


def _left_out(tx: pd.DataFrame, checked: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """(duplicate_of, suspect) per row: from `checked` (with_quality of the same rows) when given, else computed."""
    if checked is None:
        return joint_duplicates(tx)["duplicate_of"], suspect_values(tx)
    q = checked_for(tx, checked)
    return q["duplicate_of"], q["suspect"]


@dataclass(frozen=True)
class Headline:
    insiders: int
    filings: int
    bought: float  # $ of open-market purchases (code P)
    sold: float  # $ of open-market sales (code S)
    net: float  # bought - sold
    plan_sale_share: float | None  # share of sale $ made under 10b5-1 plans (None: no sales)
    transactions: int  # economic trades counted (joint-filing duplicates once, suspect values left out)
    joint_duplicates: int  # rows not counted because another owner's filing reports the same trade
    suspect_rows: int  # rows left out as suspect values (0 when include_suspect)
    suspect_value: float  # their |value|


def headline(
    tx: pd.DataFrame, include_suspect: bool = False, checked: pd.DataFrame | None = None
) -> Headline:
    """Headline figures over already-filtered transactions: every insider and filing in view, and the $ of
    economic trades (`counted`: joint-filed trades once, suspect values left out unless include_suspect).
    `checked`: with_quality(tx), when the caller has it (saves checking the rows again)."""
    dups = suspect = pd.Series(False, index=tx.index, dtype=bool)
    if len(tx):
        duplicate_of, suspect_rows = _left_out(tx, checked)
        dups = duplicate_of.notna()
        if not include_suspect:
            suspect = suspect_rows & ~dups
    rows = tx[~dups & ~suspect] if len(tx) else tx
    bought = float(rows.loc[rows["code"] == "P", "value"].sum())
    sales = rows[rows["code"] == "S"]
    sold = float(sales["value"].sum())
    plan_sold = float(sales.loc[sales["is_10b5_1"].fillna(False).astype(bool), "value"].sum())
    owners = set()
    for ciks in tx["owner_ciks"].dropna():
        owners.update(ciks.split("|"))
    return Headline(
        insiders=len(owners),
        filings=int(tx["accession"].nunique()),
        bought=bought,
        sold=sold,
        net=bought - sold,
        plan_sale_share=(plan_sold / sold) if sold else None,
        transactions=len(rows),
        joint_duplicates=int(dups.sum()),
        suspect_rows=int(suspect.sum()),
        suspect_value=float(tx.loc[suspect, "value"].abs().sum()) if len(tx) else 0.0,
    )


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """First day of the month ('M') or quarter ('Q') of each date."""
    return dates.dt.to_period("Q" if freq == "Q" else "M").dt.start_time


def net_flow(
    tx: pd.DataFrame, freq: str = "M", include_suspect: bool = False, checked: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per period x direction x plan status: value ($), shares, trades. Sells carry negative value and shares.
    Economic trades only (`counted`: joint-filed trades once, suspect values left out unless include_suspect).

    Columns: period, direction ("Buy" = acquired, "Sell" = disposed), plan ("10b5-1 plan", "Discretionary",
    "Plan status unknown"), value, shares, trades.
    """
    cols = ["period", "direction", "plan", "value", "shares", "trades"]
    tx = counted(tx, include_suspect, checked)
    rows = tx[tx["transaction_date"].notna() & tx["acquired_disposed"].isin(["A", "D"])]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame(
        {
            "period": period_start(rows["transaction_date"], freq),
            "direction": rows["acquired_disposed"].map({"A": "Buy", "D": "Sell"}),
            "plan": plan_state(rows).map(PLAN_LABELS),
            "value": rows["signed_value"].fillna(0.0),
            "shares": rows["signed_shares"].fillna(0.0),
            "trades": 1,
        }
    )
    out = frame.groupby(["period", "direction", "plan"], as_index=False)[["value", "shares", "trades"]].sum()
    return out.sort_values(["period", "direction", "plan"]).reset_index(drop=True)[cols]


def net_by_period(flow: pd.DataFrame) -> pd.DataFrame:
    """Net (buys + signed sells) per period: period, value, shares."""
    if flow.empty:
        return pd.DataFrame(columns=["period", "value", "shares"])
    return flow.groupby("period", as_index=False)[["value", "shares"]].sum()
