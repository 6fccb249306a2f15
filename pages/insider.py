"""Insider page: one reporting owner across every issuer: holdings, trades, plan vs discretionary, filings."""

from __future__ import annotations

import streamlit as st

from analytics import flow, holdings, insiders, plans
from analytics.filters import apply_filters, default_range, fmt_money
from charts import figures
from ui import boot, data, pulls, state
from ui.text import plain
from ui.widgets import LINK, chart, date, guarded, money, table

boot.ensure_app()
f = state.current()
st.title("Insider")
st.text_input("Search insiders by name or CIK", key="insider_search", placeholder="e.g. David Finkelstein",
              on_change=state.open_single_match)  # fmt: skip
query = st.session_state.get("insider_search", "").strip()
if query:
    found = data.search_insiders(query)
    if found.empty:
        st.warning(f"No insider matching “{plain(query)}” in the loaded filings. Load their issuer first (type its "
                   "ticker in the sidebar).")  # fmt: skip
    else:
        labels = {int(r.owner_cik): f"{r.owner_name} · CIK {r.owner_cik} · {r.issuers} · {r.n_filings} filings"
                  for r in found.itertuples()}  # fmt: skip
        current = list(labels).index(f.insider) if f.insider in labels else None
        st.selectbox(f"Matches ({len(labels):,})", options=list(labels), format_func=lambda c: labels.get(c, str(c)), index=current,
                     key="insider_pick", placeholder="Pick an insider to open their profile",
                     on_change=state.open_pick)  # fmt: skip

if f.insider is None:
    st.info("Search for an insider above, or set “Insider” in the sidebar.")
    st.stop()

frames = data.load(owner_cik=f.insider)
if frames.filings.empty:
    job = pulls.registry().get("insider", str(f.insider))
    if job is None:
        st.info(f"No filings of insider CIK {f.insider} are loaded yet.")
        if st.button(f"Pull every filing of insider CIK {f.insider} from EDGAR", type="primary"):
            try:
                pulls.registry().start("insider", str(f.insider))
            except pulls.QueueFull as e:
                st.error(plain(e))
                st.stop()
            st.rerun()
        st.stop()
    if not pulls.follow([job]):
        st.stop()
    frames = data.load(owner_cik=f.insider)
name = state.insider_name() or str(frames.owners.loc[frames.owners["owner_cik"] == f.insider,
                                                    "owner_name"].iloc[-1])  # fmt: skip
fr = f.with_range(state.shown_range() or default_range(frames.filings)).replace(tickers=())
tx = apply_filters(frames.transactions, fr)
scope = apply_filters(frames.transactions, fr, skip=("codes", "plan", "min_value"))
st.header(plain(name))
st.caption(
    plain(fr.describe(insider_name=name) + " Filters by ticker are ignored here: every issuer is shown.")
)

filed = insiders.filings_in_range(frames.filings, fr.start, fr.end)  # the range's filings, as its trades

with guarded("Summary"):
    s = insiders.insider_summary(tx, filed, name)
    c = st.columns(5)
    c[0].metric("Issuers", ", ".join(s.issuers) if len(s.issuers) <= 3 else f"{len(s.issuers)}")
    c[1].metric("Filings", f"{s.filings:,}")
    c[2].metric("Bought (P)", fmt_money(s.bought))
    c[3].metric("Sold (S)", fmt_money(s.sold))
    c[4].metric("Sales under 10b5-1", "–" if s.plan_sale_share is None else f"{s.plan_sale_share:.0%}")

with guarded("Holdings over time"):
    points = holdings.holdings_series(scope, insiders.of_filings(frames.holdings, filed))
    points = points[points["owner_cik"] == f.insider] if not points.empty else points
    chart(
        figures.holdings_figure(points, f"Holdings of {name} over time"),
        points,
        "holdings",
        fr,
        "ins-hold",
        name,
    )

with guarded("Trades"):
    chart(figures.trades_timeline_figure(tx, f"Trades of {name}"), insiders.transactions_table(tx), "trades", fr,
          "ins-trades", name)  # fmt: skip

with guarded("Plan vs discretionary"):
    activity = plans.plan_activity(tx, fr.freq)
    chart(figures.plan_activity_figure(activity, fr.unit, fr.freq, f"Sales by {name}: 10b5-1 plan vs other"),
          activity, "plan-vs-discretionary", fr, "ins-plan", name)  # fmt: skip
    net = flow.net_flow(tx, fr.freq)
    if not net.empty:
        st.caption("Net flow by plan status (all selected codes):")
        pivot = net.pivot_table(
            index="plan", columns="direction", values="value", aggfunc="sum", fill_value=0
        )
        st.dataframe(pivot, width="stretch", column_config={c: money(c) for c in pivot.columns})

with guarded("Late filings"):
    late = insiders.late_filings(scope, frames.filings)
    st.subheader(f"Late Form 4 filings ({late['accession'].nunique() if len(late) else 0})")
    if late.empty:
        st.caption("Every Form 4 in range was filed within 2 business days.")
    else:
        table(late, "late-filings", fr, "late", name, column_config={
            "filing_url": LINK, "value": money("Value"), "transaction_date": date("Traded"), "filing_date": date("Filed"),
            "late_business_days": "Business days late", "owner_name": "Insider", "ticker": "Ticker", "code": "Code",
        })  # fmt: skip

with guarded("Filings"):
    st.subheader(f"Filings in range ({len(filed):,})")
    table(insiders.filings_list(filed), "filings", fr, "ins-filings", name, column_config={
        "filing_url": LINK, "filing_date": date("Filed"), "form": "Form", "ticker": "Ticker", "issuer_name": "Issuer",
        "period_of_report": date("Period"), "n_transactions": "Transactions", "n_holdings": "Holdings",
        "aff10b5one": "10b5-1 box", "accession": "Accession",
    })  # fmt: skip
