"""Per-insider numbers: the issuer roster, the insider page's summary, filings list, late filings, tables."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.holdings import holdings_series, latest_holdings
from analytics.plans import plan_share
from loaders.parser import filing_url


def _explode_owners(tx: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """One row per (transaction, reporting owner): a joint filing counts for each of its insiders here. `columns`:
    only those of tx (the roster reads a few of ~60)."""
    ciks = tx["owner_ciks"].fillna(tx["owner_cik"].astype("string")).str.split("|")
    return (
        (tx if columns is None else tx[columns])
        .assign(roster_cik=ciks)
        .explode("roster_cik")
        .assign(roster_cik=lambda d: pd.to_numeric(d["roster_cik"]))
    )


def roster(
    tx: pd.DataFrame,
    owners: pd.DataFrame,
    holdings: pd.DataFrame,
    scope_tx: pd.DataFrame,
    points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per insider of the selection.

    `tx` are the filtered trades (net flow, plan-sale share); `scope_tx` every transaction of the issuers and range
    (for last holdings and last filing). Columns: insider, roles, net_flow, bought, sold, plan_sale_share (NaN
    without sales), trades, last_holding, last_holding_date, last_filing, owner_cik. `points`: holdings_series of
    scope_tx, when the caller has it.
    """
    cols = [  # who, then the money, then holdings; the CIK last (it is in the link to the insider page too)
        "insider", "roles", "net_flow", "bought", "sold", "plan_sale_share", "trades", "last_holding",
        "last_holding_date", "last_filing", "owner_cik",
    ]  # fmt: skip
    people = _explode_owners(scope_tx, ["owner_name", "role", "filing_date"])
    if people.empty:
        return pd.DataFrame(columns=cols)
    own = owners[owners["accession"].isin(scope_tx["accession"])]
    names = own.groupby("owner_cik")["owner_name"].last()
    roles = own.dropna(subset=["role"]).groupby("owner_cik")["role"].last()
    mine = _explode_owners(tx, ["code", "value", "signed_value", "is_10b5_1", "transaction_date"])
    rows = []
    if (
        points is None
    ):  # the page passes the holdings chart's points (the same call) to save computing them twice
        points = holdings_series(scope_tx, holdings[holdings["accession"].isin(scope_tx["accession"])])
    direct = latest_holdings(points[points["ownership"] == "Direct"]) if not points.empty else points
    for cik, group in people.groupby("roster_cik"):
        trades = mine[mine["roster_cik"] == cik]
        bought = float(trades.loc[trades["code"] == "P", "value"].sum())
        sold = float(trades.loc[trades["code"] == "S", "value"].sum())
        held = direct[direct["owner_cik"] == cik] if not direct.empty else direct
        rows.append(
            {
                "owner_cik": int(cik),
                "insider": names.get(cik, group["owner_name"].iloc[-1]),
                "roles": roles.get(cik, group["role"].iloc[-1]),
                "last_holding": float(held["shares_owned"].sum()) if len(held) else float("nan"),
                "last_holding_date": held["date"].max() if len(held) else pd.NaT,
                "net_flow": float(trades["signed_value"].sum()),
                "bought": bought,
                "sold": sold,
                "plan_sale_share": float("nan") if (share := plan_share(trades)) is None else share,
                "trades": len(trades),
                "last_filing": group["filing_date"].max(),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["sold", "bought"], ascending=False).reset_index(drop=True)


@dataclass(frozen=True)
class InsiderSummary:
    name: str
    issuers: list[str]
    filings: int
    bought: float
    sold: float
    plan_sale_share: float | None
    late_filings: int


def insider_summary(tx: pd.DataFrame, filings: pd.DataFrame, owner_name: str) -> InsiderSummary:
    """Headline of the insider page over that insider's filtered transactions and all their filings."""
    late = tx[late_rows(tx)]["accession"].nunique()
    return InsiderSummary(
        name=owner_name,
        issuers=sorted(filings["ticker"].dropna().unique().tolist()),
        filings=int(filings["accession"].nunique()),
        bought=float(tx.loc[tx["code"] == "P", "value"].sum()),
        sold=float(tx.loc[tx["code"] == "S", "value"].sum()),
        plan_sale_share=plan_share(tx),
        late_filings=int(late),
    )


def filings_in_range(filings: pd.DataFrame, start, end) -> pd.DataFrame:
    """The filings filed from `start` to `end` (dates, both included; None leaves that side open): the insider
    page's filings count and list follow its date range, as its trades do (they showed every filing ever)."""
    day = filings["filing_date"]
    keep = pd.Series(True, index=filings.index)
    if start is not None:
        keep &= day >= pd.Timestamp(start)
    if end is not None:
        keep &= day <= pd.Timestamp(end)
    return filings[keep.fillna(False).astype(bool)]


def of_filings(rows: pd.DataFrame, filings: pd.DataFrame) -> pd.DataFrame:
    """The rows (holdings, transactions) that belong to these filings."""
    return rows[rows["accession"].isin(filings["accession"])]


def filings_list(filings: pd.DataFrame) -> pd.DataFrame:
    """Filings, newest first: filing_date, form, ticker, issuer_name, period_of_report, n_transactions,
    n_holdings, aff10b5one, filing_url."""
    cols = ["filing_date", "form", "ticker", "issuer_name", "period_of_report", "n_transactions", "n_holdings",
            "aff10b5one", "accession", "filing_url"]  # fmt: skip
    return filings.sort_values(["filing_date", "accession"], ascending=False)[cols].reset_index(drop=True)


GIFTS_ON_FORM_4_FROM = pd.Timestamp(
    "2023-02-27"
)  # SEC Release 33-11138: gifts due on Form 4 within 2 business days


def late_rows(tx: pd.DataFrame) -> pd.Series:
    """Rows reported late: is_late, except gifts (code G) made before 27 February 2023, which could then be
    reported on Form 5 (a Form 4 filed for them weeks later was early, not late)."""
    late = tx["is_late"].fillna(False).astype(bool)
    # a date comparison is never <NA> (NaT compares False); a missing code is <NA>, and such a row is no gift
    old_gift = (tx["code"] == "G").fillna(False) & (tx["transaction_date"] < GIFTS_ON_FORM_4_FROM)
    return late & ~old_gift


def late_filings(tx: pd.DataFrame, filings: pd.DataFrame) -> pd.DataFrame:
    """Form 4 rows filed more than 2 business days after the trade (late_rows): ticker, owner_name, code,
    transaction_date, filing_date, late_business_days, value, filing_url."""
    cols = ["ticker", "owner_name", "code", "transaction_date", "filing_date", "late_business_days", "value",
            "accession", "filing_url"]  # fmt: skip
    rows = tx[late_rows(tx)]
    urls = filings.set_index("accession")["filing_url"] if not filings.empty else pd.Series(dtype="string")
    out = rows.assign(filing_url=rows["accession"].map(urls))
    return out.sort_values("late_business_days", ascending=False)[cols].reset_index(drop=True)


TABLE_COLUMNS = {  # what a reader scans first comes first: who, what, how much, then the details
    "transaction_date": "Date",
    "ticker": "Ticker",
    "owner_name": "Insider",
    "code": "Code",
    "shares": "Shares",
    "price": "Price ($)",
    "value": "Value ($)",
    "owned_after": "Owned after",
    "plan": "10b5-1",
    "filing_date": "Filed",
    "filing_url": "Filing",
    "form": "Form",
    "footnotes": "Footnotes",  # before the details: they explain prices, plans and gifts
    "code_name": "Transaction",
    "role": "Role",
    "acquired_disposed": "A/D",
    "direct_indirect": "D/I",
    "price_range": "Price range",
    "security_title": "Security",
    "flags": "Flags",
    "quality": "Check",  # plain reasons for the flags, fallbacks used, the 10b5-1 decision (analytics.quality)
    "joint_owners": "Also reported by",  # every owner reporting the same trade (joint filings, analytics.flow)
}


def transactions_table(tx: pd.DataFrame, checked: pd.DataFrame | None = None) -> pd.DataFrame:
    """The transactions table as shown and exported: readable column names, newest first, a link per filing."""
    from analytics.filters import plan_state
    from analytics.quality import checked_for

    if tx.empty:
        return pd.DataFrame(columns=list(TABLE_COLUMNS.values()))
    rng = tx["price_low"].map(lambda v: f"{v:,.2f}") + "\u2013" + tx["price_high"].map(lambda v: f"{v:,.2f}")
    pairs = tx[["issuer_cik", "accession"]].drop_duplicates()  # one link per filing, not per row
    links = dict(
        zip(pairs["accession"], map(filing_url, pairs["issuer_cik"], pairs["accession"]), strict=True)
    )
    urls = tx["accession"].map(links)
    checked = checked_for(tx, checked)
    frame = tx.assign(
        plan=plan_state(tx).map({"yes": "Yes", "no": "No", "unknown": "Unknown"}),
        price_range=rng.where(tx["price_low"].notna()),
        filing_url=urls.astype("string"),
        value=tx["value"].round(2),  # cents: shares x price carries float noise (1307004.1849999998)
        flags=checked["flags"],
        quality=checked["quality"],
        joint_owners=checked["joint_owners"].str.replace("|", ", ", regex=False),
    )
    frame = frame.sort_values(["transaction_date", "accession", "seq"], ascending=[False, True, True])
    return frame[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS).reset_index(drop=True)
