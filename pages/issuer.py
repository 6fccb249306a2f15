"""Issuer page: headline figures, net buy/sell flow, holdings over time, insider roster, transactions."""

from __future__ import annotations

import streamlit as st

from analytics import flow, holdings, insiders, quality
from analytics.filters import apply_filters, default_range, fmt_money
from charts import figures
from ui import boot, data, pulls, state, welcome
from ui.text import plain
from ui.widgets import TRANSACTIONS, chart, date, guarded, money, table

boot.ensure_app()
f = state.current()
if not f.tickers:
    welcome.render()
    st.stop()

head = st.container()
ciks = pulls.prepare(f.tickers)
if not ciks:
    st.stop()
rng = state.shown_range() or data.issuer_range((), tuple(ciks))  # read only the range's filings (SQL decides)
frames = data.load(issuer_ciks=tuple(ciks), since=rng[0] if rng else None)
if frames.filings.empty:
    st.warning(plain(f"No filings are stored for {', '.join(f.tickers)}."))
    st.stop()
fr = f.with_range(rng or default_range(frames.filings))
tx = apply_filters(frames.transactions, fr, skip=("tickers",))  # rows of the chosen issuers, any share class
scope = apply_filters(frames.transactions, fr, skip=("tickers", "codes", "plan", "min_value"))
names = ", ".join(dict.fromkeys(frames.filings.sort_values("filing_date")["issuer_name"].dropna().iloc[::-1]))
head.title(plain(f"{' · '.join(pulls.shown_tickers(fr.tickers, ciks))} — {names}"))
head.caption(plain(fr.describe(insider_name=state.insider_name())))

include_suspect = bool(st.session_state.get("include_suspect", False))  # the toggle under the headline
checked = quality.with_quality(
    tx
)  # the cross-filing checks of the rows in view, once for every section below

with guarded("Headline figures"):
    h = flow.headline(tx, include_suspect, checked)
    c = st.columns(6)
    c[0].metric("Insiders trading", f"{h.insiders:,}")
    c[1].metric("Filings", f"{h.filings:,}")
    c[2].metric("Bought (P)", fmt_money(h.bought))
    c[3].metric("Sold (S)", fmt_money(h.sold))
    c[4].metric("Net", fmt_money(h.net))
    c[5].metric("Sales under 10b5-1", "–" if h.plan_sale_share is None else f"{h.plan_sale_share:.0%}")
    if h.joint_duplicates:
        st.caption(f"{h.joint_duplicates:,} rows repeat a trade another owner also reported (joint filings): "
                   "counted once in these totals and the flow chart.")  # fmt: skip
    if h.suspect_rows or include_suspect:
        st.toggle("Include suspect values in totals", key="include_suspect",
                  help="Rows whose price is far from its own footnoted range or from the issuer's other trades "
                       "that week (likely typos) are left out of totals by default. See Data quality below.")  # fmt: skip
        if h.suspect_rows:
            st.caption(
                f"{h.suspect_rows:,} row(s) worth {fmt_money(h.suspect_value)} left out as suspect values."
            )

with guarded("Net buy/sell flow"):
    net = flow.net_flow(tx, fr.freq, include_suspect, checked)
    chart(figures.flow_figure(net, fr.unit, fr.freq), net, "net-flow", fr, "flow")
    if tx.empty and len(scope):
        st.caption(
            f"No trades with the selected codes in range, but {len(scope):,} other transactions (grants, "
            "exercises, withholding…): pick more codes in the sidebar, or leave the list empty for all."
        )

with guarded("Holdings over time"):
    points = holdings.holdings_series(
        scope, frames.holdings[frames.holdings["accession"].isin(scope["accession"])]
    )
    chart(figures.holdings_figure(points), points, "holdings", fr, "holdings")

with guarded("Insider roster"):
    st.subheader("Insiders")
    roster = insiders.roster(tx, frames.owners, frames.holdings, scope, points)
    table(roster, "insiders", fr, "roster", column_config={
        "insider": st.column_config.TextColumn("Insider", width=170), "roles": st.column_config.TextColumn(
            "Roles", width="medium"), "net_flow": money("Net flow"), "bought": money("Bought"), "sold": money("Sold"),
        "plan_sale_share": st.column_config.NumberColumn("Plan share of sales", format="percent", width=90),
        "trades": st.column_config.NumberColumn("Trades", width=65),
        "last_holding": st.column_config.NumberColumn("Direct holding", format="localized", width=110),
        "last_holding_date": date("As of"), "last_filing": date("Last filing"),
        "owner_cik": st.column_config.NumberColumn("CIK", format="%d", width=85),
    })  # fmt: skip

with guarded("Transactions"):
    st.subheader(f"Transactions ({len(tx):,})")
    rows = insiders.transactions_table(tx, checked)
    table(rows, "transactions", fr, "tx", height=420, column_config=TRANSACTIONS)

with guarded("Data quality"):
    st.subheader("Data quality")
    summary = quality.quality_summary(tx, checked)
    if summary.empty:
        st.caption("No row in view is flagged.")
    else:
        st.caption("Flags on the transactions in view, with the reason; \"left out\" rows are not in the totals above "
                   "(unless included with the toggle). Hover a trade in the holdings chart for its own note.")  # fmt: skip
        table(summary, "data-quality", fr, "quality", column_config={
            "flag": "Flag", "reason": "Reason", "rows": "Rows", "filings": "Filings", "value": money("Value"),
            "totals": "In totals",
        })  # fmt: skip
