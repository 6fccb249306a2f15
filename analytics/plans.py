"""Rule 10b5-1 numbers: plan-sale activity, plan share of sales, adoption -> first sale, checkbox disagreements.

Cooling-off: for directors and officers the rule is the later of 90 days or 2 business days after the 10-Q/10-K
for the quarter of adoption, capped at 120 days; we do not load 10-Q dates, so we use the 90-day floor (a sale
flagged here is certainly too soon; one not flagged may still be). Other persons: 30 days.
"""

from __future__ import annotations

import pandas as pd

from analytics.flow import period_start

COOLING_OFF_OFFICER_DAYS = 90
COOLING_OFF_OTHER_DAYS = 30


def _sales(tx: pd.DataFrame) -> pd.DataFrame:
    return tx[(tx["code"] == "S") & tx["transaction_date"].notna()]


def plan_share(tx: pd.DataFrame) -> float | None:
    """Share (0-1) of open-market sale dollars made under a 10b5-1 plan; None when there are no sales."""
    sales = _sales(tx)
    total = sales["value"].sum()
    if not total:
        return None
    return float(sales.loc[sales["is_10b5_1"].fillna(False).astype(bool), "value"].sum() / total)


def plan_activity(tx: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """Per period: plan_value, plan_shares, other_value, other_shares (sales not under a plan or unknown),
    plan_share (0-1 of sale $)."""
    cols = ["period", "plan_value", "plan_shares", "other_value", "other_shares", "plan_share"]
    sales = _sales(tx)
    if sales.empty:
        return pd.DataFrame(columns=cols)
    on_plan = sales["is_10b5_1"].fillna(False).astype(bool)
    frame = pd.DataFrame(
        {
            "period": period_start(sales["transaction_date"], freq),
            "plan_value": sales["value"].where(on_plan, 0.0).fillna(0.0),
            "plan_shares": sales["shares"].where(on_plan, 0.0).fillna(0.0),
            "other_value": sales["value"].where(~on_plan, 0.0).fillna(0.0),
            "other_shares": sales["shares"].where(~on_plan, 0.0).fillna(0.0),
        }
    )
    out = frame.groupby("period", as_index=False).sum()
    total = out["plan_value"] + out["other_value"]
    out["plan_share"] = (out["plan_value"] / total).where(total > 0)
    return out[cols]


def plan_adoptions(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per insider x issuer x plan adoption date found in footnotes.

    Columns: owner_cik, owner_name, ticker, role, adoption_date, first_plan_sale, days_to_first_sale,
    cooling_off_days, too_soon, plan_sales, plan_sale_value.
    """
    cols = [
        "owner_cik", "owner_name", "ticker", "role", "adoption_date", "first_plan_sale", "days_to_first_sale",
        "cooling_off_days", "too_soon", "plan_sales", "plan_sale_value",
    ]  # fmt: skip
    rows = tx[tx["plan_adoption_date"].notna() & tx["is_10b5_1"].fillna(False).astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    sales = rows[rows["code"] == "S"]
    keys = ["owner_cik", "ticker", "plan_adoption_date"]
    base = rows.groupby(keys, as_index=False).agg(
        owner_name=("owner_name", "last"),
        role=("role", "last"),
        officer=("is_officer", "max"),
        director=("is_director", "max"),
    )
    firsts = sales.groupby(keys, as_index=False).agg(
        first_plan_sale=("transaction_date", "min"),
        plan_sales=("row_id", "count"),
        plan_sale_value=("value", "sum"),
    )
    out = base.merge(firsts, on=keys, how="left").rename(columns={"plan_adoption_date": "adoption_date"})
    out["days_to_first_sale"] = (out["first_plan_sale"] - out["adoption_date"]).dt.days.astype("Int64")
    insider = out["officer"].fillna(False).astype(bool) | out["director"].fillna(False).astype(bool)
    out["cooling_off_days"] = insider.map({True: COOLING_OFF_OFFICER_DAYS, False: COOLING_OFF_OTHER_DAYS})
    out["too_soon"] = (out["days_to_first_sale"] < out["cooling_off_days"]).astype("boolean")
    out["plan_sales"] = out["plan_sales"].fillna(0).astype(int)
    out["plan_sale_value"] = out["plan_sale_value"].fillna(0.0)
    return out.sort_values(["adoption_date", "owner_name"]).reset_index(drop=True)[cols]


def checkbox_disagreements(tx: pd.DataFrame, filings: pd.DataFrame) -> pd.DataFrame:
    """Transactions whose 10b5-1 checkbox contradicts the footnotes on the row (parser flag tenb51_conflict).

    Columns: accession, filing_date, ticker, owner_name, code, shares, checkbox, footnotes, filing_url.
    """
    cols = [
        "accession",
        "filing_date",
        "ticker",
        "owner_name",
        "code",
        "shares",
        "checkbox",
        "footnotes",
        "filing_url",
    ]
    rows = tx[tx["flags"].fillna("").str.contains("tenb51_conflict", regex=False)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    urls = filings.set_index("accession")["filing_url"]
    out = rows.assign(
        checkbox=rows["is_10b5_1"].map({True: "checked", False: "unchecked"}),
        filing_url=rows["accession"].map(urls),
        footnotes=rows["footnotes"].fillna("").str.slice(0, 400),
    )
    return out[cols].sort_values(["filing_date", "accession"]).reset_index(drop=True)
