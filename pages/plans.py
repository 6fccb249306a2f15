"""10b5-1 plans page: plan-sale activity, share of sales under plans, adoption -> first sale, disagreements."""

from __future__ import annotations

import streamlit as st

from analytics import plans
from analytics.filters import apply_filters, default_range, fmt_money
from charts import figures
from loaders.periodic import load_periodic
from ui import boot, data, pulls, state
from ui.widgets import LINK, chart, date, guarded, money, table

boot.ensure_app()
f = state.current()
st.title("Rule 10b5-1 trading plans")
if f.tickers and not pulls.ensure_loaded(f.tickers, set(data.issuers()["ticker"].dropna())):
    st.stop()
if f.tickers:
    frames = data.load(f.tickers)
    fr = f.with_range(state.shown_range() or default_range(frames.filings)).replace(codes=("S",))
else:  # every issuer: only the rows this page reads, selected in DuckDB (the store may hold the whole market)
    fr = f.with_range(state.shown_range() or state.default_range_for(())).replace(codes=("S",))
    frames = data.load_where(*plans.market_scope(fr)) if fr.start else data.load(())
if frames.filings.empty:
    st.info("Nothing is loaded yet: type a ticker in the sidebar.")
    st.stop()
tx = apply_filters(frames.transactions, fr)
st.caption(fr.describe() + " Plan figures always use open-market sales (code S).")

with guarded("Plan share"):
    share = plans.plan_share(tx)
    c = st.columns(3)
    c[0].metric("Sales under 10b5-1 plans", "–" if share is None else f"{share:.0%}")
    on_plan = tx[tx["is_10b5_1"].fillna(False).astype(bool)]
    c[1].metric("Plan sales", fmt_money(on_plan["value"].sum()))
    c[2].metric("All sales", fmt_money(tx["value"].sum()))

with guarded("Plan-sale activity"):
    activity = plans.plan_activity(tx, fr.freq)
    chart(figures.plan_activity_figure(activity, fr.unit, fr.freq), activity, "plan-activity", fr, "plan-act")

with guarded("Plan adoptions"):
    scope = apply_filters(frames.transactions, fr, skip=("codes", "start", "plan", "min_value"))
    reports = load_periodic(data.store(), scope["issuer_cik"].dropna().unique())
    adoptions = plans.plan_adoptions(scope, reports)
    st.subheader("Plan adoptions and first sales")
    st.caption(
        "Adoption dates come from footnotes and remarks. Cooling-off under the amended rule (plans adopted on or "
        "after 27 Feb 2023): directors and officers, the later of 90 days or 2 business days after the 10-Q/10-K "
        "for the quarter of adoption, at most 120 days; others 30 days. Each row says which rule applied. "
        "⚠️ marks a first plan sale before the period ended."
    )
    shown = adoptions.assign(too_soon=adoptions["too_soon"].map({True: "⚠️ too soon", False: ""}))
    table(shown, "plan-adoptions", fr, "adoptions", column_config={
        "owner_cik": st.column_config.NumberColumn("CIK", format="%d"), "owner_name": "Insider", "ticker": "Ticker",
        "role": "Role", "adoption_date": date("Plan adopted"), "first_plan_sale": date("First plan sale"),
        "days_to_first_sale": "Days to first sale", "cooling_off_days": "Cooling-off (days)",
        "cooling_off_end": date("Trading allowed from"), "cooling_off_rule": "Rule applied", "too_soon": "Check",
        "plan_sales": "Plan sales", "plan_sale_value": money("Plan sale value"),
    })  # fmt: skip

with guarded("Checkbox disagreements"):
    st.subheader("Checkbox and footnotes disagree")
    conflicts = plans.checkbox_disagreements(apply_filters(frames.transactions, fr, skip=("codes", "plan")),
                                             frames.filings)  # fmt: skip
    if conflicts.empty:
        st.caption("No filing in range has a 10b5-1 checkbox that contradicts its footnotes.")
    else:
        table(conflicts, "checkbox-disagreements", fr, "conflicts", column_config={
            "filing_url": LINK, "filing_date": date("Filed"), "owner_name": "Insider", "checkbox": "Checkbox",
            "footnotes": "Footnotes", "accession": "Accession", "ticker": "Ticker", "code": "Code", "shares": "Shares",
            "counted_as": "Counted as", "decision": "Why",
        })  # fmt: skip
