"""Rule 10b5-1 numbers: plan-sale activity, plan share of sales, adoption -> first sale, checkbox disagreements.

Cooling-off (Rule 10b5-1(c)(1)(ii)(B) as amended; applies only to plans adopted on or after 27 February 2023, the
amendments' effective date; a plan adopted earlier had no cooling-off under the rule then in effect):
- directors and officers: the later of 90 days after adoption or 2 business days after the issuer discloses its
  results for the fiscal quarter of adoption (the 10-Q / 10-K whose period ends on or after the adoption date),
  capped at 120 days. Without that report's date (not loaded, or not filed yet) the 90-day floor is used and the
  rule text says so (a sale flagged then is certainly too soon; one not flagged may still be);
- every other person: 30 days; the issuer itself: none.
A first plan sale ON the day the period ends is allowed; one day earlier is too soon.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.flow import period_start
from loaders.derive import add_business_days
from loaders.notes import AMENDED_RULE_EFFECTIVE

COOLING_OFF_OFFICER_DAYS = 90
COOLING_OFF_OFFICER_MAX_DAYS = 120
COOLING_OFF_OTHER_DAYS = 30
PERIODIC_REPORT_LAG_BUSINESS_DAYS = 2


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
            "plan_value": sales["value"].where(on_plan, 0.0),
            "plan_shares": sales["shares"].where(on_plan, 0.0),
            "other_value": sales["value"].where(~on_plan, 0.0),
            "other_shares": sales["shares"].where(~on_plan, 0.0),
        }
    )
    out = frame.groupby("period", as_index=False).sum()  # the sum skips a missing value or share count
    out["plan_share"] = out["plan_value"] / (out["plan_value"] + out["other_value"])  # 0 / 0: NaN, no sales $
    return out[cols]


def cooling_off_end(
    adoption: dt.date, person: str, reports: pd.DataFrame | None = None
) -> tuple[dt.date, str]:
    """(first day a plan trade is allowed, the rule that applied in words) for a plan adopted on `adoption`.

    person: "officer_director", "other" or "issuer". reports: the issuer's periodic reports (columns form,
    report_date, filing_date; see loaders.periodic), or None when not loaded."""
    if adoption < AMENDED_RULE_EFFECTIVE:
        return adoption, "adopted before 27 Feb 2023: no cooling-off under the rule then in effect"
    if person == "issuer":
        return adoption, "the issuer: no cooling-off"
    if person != "officer_director":
        end = adoption + dt.timedelta(days=COOLING_OFF_OTHER_DAYS)
        return end, f"not a director or officer: {COOLING_OFF_OTHER_DAYS} days"
    floor = adoption + dt.timedelta(days=COOLING_OFF_OFFICER_DAYS)
    cap = adoption + dt.timedelta(days=COOLING_OFF_OFFICER_MAX_DAYS)
    report = _quarter_report(adoption, reports)
    if report is None:
        why = "not loaded" if reports is None or reports.empty else "not filed yet or not loaded"
        return floor, (
            f"director/officer: 90 days (the 10-Q/10-K for the quarter of adoption is {why}; the period may run "
            "to 120 days)"
        )
    form, filed = report
    after_report = add_business_days(filed, PERIODIC_REPORT_LAG_BUSINESS_DAYS)
    end = min(max(floor, after_report), cap)
    which = (
        "90 days" if end == floor else "120-day cap" if end == cap else f"2 business days after the {form}"
    )
    return end, (
        f"director/officer: later of 90 days or 2 business days after the {form} filed {filed:%Y-%m-%d}, "
        f"at most 120 days ({which})"
    )


def _quarter_report(adoption: dt.date, reports: pd.DataFrame | None) -> tuple[str, dt.date] | None:
    """(form, filing date) of the first 10-Q/10-K whose period ends on or after the adoption date."""
    if reports is None or reports.empty:
        return None
    ts = pd.Timestamp(adoption)
    later = reports[(reports["report_date"] >= ts) & reports["filing_date"].notna()]
    if later.empty:
        return None
    first = later.sort_values(["report_date", "filing_date"]).iloc[0]
    return str(first["form"]), first["filing_date"].date()


def _person(row: pd.Series) -> str:
    if (
        pd.notna(row["owner_cik"])
        and pd.notna(row["issuer_cik"])
        and int(row["owner_cik"]) == int(row["issuer_cik"])
    ):
        return "issuer"
    return "officer_director" if bool(row["officer"]) or bool(row["director"]) else "other"


def plan_adoptions(tx: pd.DataFrame, reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per insider x issuer x plan adoption date found in footnotes, with the cooling-off check, newest
    adoption first (a market-wide view listed 2010's plans above the range's own).

    reports: the issuers' periodic reports (loaders.periodic.load_periodic: issuer_cik, form, report_date,
    filing_date), None when not loaded. Columns: owner_cik, owner_name, ticker, role, adoption_date,
    first_plan_sale, days_to_first_sale, cooling_off_days, cooling_off_end, cooling_off_rule, too_soon,
    plan_sales, plan_sale_value.
    """
    cols = [
        "owner_cik", "owner_name", "ticker", "role", "adoption_date", "first_plan_sale", "days_to_first_sale",
        "cooling_off_days", "cooling_off_end", "cooling_off_rule", "too_soon", "plan_sales", "plan_sale_value",
    ]  # fmt: skip
    rows = tx[tx["plan_adoption_date"].notna() & tx["is_10b5_1"].fillna(False).astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    sales = rows[rows["code"] == "S"]
    keys = ["owner_cik", "ticker", "plan_adoption_date"]
    base = (
        rows.groupby(keys, dropna=False)
        .agg(
            owner_name=("owner_name", "last"),
            role=("role", "last"),
            issuer_cik=("issuer_cik", "last"),
            officer=("is_officer", lambda s: bool(s.fillna(False).any())),
            director=("is_director", lambda s: bool(s.fillna(False).any())),
        )
        .reset_index()
    )
    firsts = (
        sales.groupby(keys, dropna=False)
        .agg(
            first_plan_sale=("transaction_date", "min"),
            plan_sales=("row_id", "count"),
            plan_sale_value=("value", "sum"),
        )
        .reset_index()
    )
    out = base.merge(firsts, on=keys, how="left").rename(columns={"plan_adoption_date": "adoption_date"})
    out["days_to_first_sale"] = (out["first_plan_sale"] - out["adoption_date"]).dt.days.astype("Int64")
    by_issuer: dict[int | None, pd.DataFrame] = (
        {} if reports is None else {int(k): g for k, g in reports.groupby("issuer_cik")}
    )
    ends, rules = [], []
    for _, r in out.iterrows():
        issuer = None if pd.isna(r["issuer_cik"]) else int(r["issuer_cik"])
        known = None if reports is None else by_issuer.get(issuer, reports.head(0))  # none of this issuer's
        end, rule = cooling_off_end(r["adoption_date"].date(), _person(r), known)
        ends.append(pd.Timestamp(end))
        rules.append(rule)
    out["cooling_off_end"] = pd.Series(ends, index=out.index, dtype="datetime64[ns]")
    out["cooling_off_rule"] = pd.Series(rules, index=out.index, dtype="string")
    out["cooling_off_days"] = (out["cooling_off_end"] - out["adoption_date"]).dt.days.astype("Int64")
    out["too_soon"] = (out["first_plan_sale"] < out["cooling_off_end"]).where(
        out["first_plan_sale"].notna(), False
    )
    out["too_soon"] = out["too_soon"].astype("boolean")
    out["plan_sales"] = out["plan_sales"].fillna(0).astype(int)
    out["plan_sale_value"] = out["plan_sale_value"].fillna(0.0)
    return out.sort_values(["adoption_date", "owner_name"], ascending=[False, True])[cols].reset_index(
        drop=True
    )


def checkbox_disagreements(tx: pd.DataFrame, filings: pd.DataFrame) -> pd.DataFrame:
    """Transactions whose 10b5-1 checkbox contradicts their footnotes or remarks (flag tenb51_conflict), with
    the checkbox as filed, what the row counts as, and which statement won.

    Columns: accession, filing_date, ticker, owner_name, code, shares, checkbox, counted_as, decision, footnotes,
    filing_url.
    """
    cols = [
        "accession", "filing_date", "ticker", "owner_name", "code", "shares", "checkbox", "counted_as",
        "decision", "footnotes", "filing_url",
    ]  # fmt: skip
    rows = tx[tx["flags"].fillna("").str.contains("tenb51_conflict")]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    by_acc = filings.drop_duplicates("accession").set_index("accession")
    box = rows["accession"].map(by_acc["aff10b5one"])
    out = rows.assign(
        checkbox=box.map({True: "checked", False: "unchecked"}),
        counted_as=rows["is_10b5_1"].map({True: "10b5-1 plan", False: "not a plan"}),
        decision=rows["tenb51_note"],
        filing_url=rows["accession"].map(by_acc["filing_url"]),
        footnotes=rows["footnotes"].fillna("").str.slice(0, 400),
    )
    return out[cols].sort_values(["filing_date", "accession"]).reset_index(drop=True)


def market_scope(f) -> tuple[str, list]:
    """(SQL over `transactions t`, params): the rows the plans page reads when no issuer is chosen: sales in the
    range, and, from a year before it, plan adoptions, plan sales and checkbox conflicts (for adoption -> first sale),
    under every other filter. The page then applies its filters to these rows as usual."""
    import datetime as dt

    where, params = f.sql_where("t", skip=("codes", "start", "plan", "min_value"))
    since = f.start - dt.timedelta(days=365)
    return (
        f"({where}) AND t.transaction_date >= ? AND (t.code = 'S' OR t.plan_adoption_date IS NOT NULL "
        "OR coalesce(t.flags, '') LIKE '%tenb51_conflict%')",
        [*params, since],
    )
