"""Issuer-level numbers: headline figures and the net buy/sell flow per month or quarter."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.filters import plan_state

PLAN_LABELS = {"yes": "10b5-1 plan", "no": "Discretionary", "unknown": "Plan status unknown"}


@dataclass(frozen=True)
class Headline:
    insiders: int
    filings: int
    bought: float  # $ of open-market purchases (code P)
    sold: float  # $ of open-market sales (code S)
    net: float  # bought - sold
    plan_sale_share: float | None  # share of sale $ made under 10b5-1 plans (None: no sales)
    transactions: int


def headline(tx: pd.DataFrame) -> Headline:
    """Headline figures over already-filtered transactions (each joint-filed row counted once)."""
    bought = float(tx.loc[tx["code"] == "P", "value"].sum())
    sales = tx[tx["code"] == "S"]
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
        transactions=len(tx),
    )


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """First day of the month ('M') or quarter ('Q') of each date."""
    return dates.dt.to_period("Q" if freq == "Q" else "M").dt.start_time


def net_flow(tx: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """Per period x direction x plan status: value ($), shares, trades. Sells carry negative value and shares.

    Columns: period, direction ("Buy" = acquired, "Sell" = disposed), plan ("10b5-1 plan", "Discretionary",
    "Plan status unknown"), value, shares, trades.
    """
    cols = ["period", "direction", "plan", "value", "shares", "trades"]
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
