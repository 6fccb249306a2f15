"""Market flow: net insider $ flow per week/month/quarter over the whole market or a filtered set, the buy/sell
ratio over time, and the issuers with the most net insider buying."""

from __future__ import annotations

import streamlit as st

from analytics import market
from charts import figures
from ui import boot, data
from ui import market as mk
from ui.text import plain
from ui.widgets import chart, guarded, table

boot.ensure_app()
base, _ = mk.arrive("market")
sb = st.sidebar
sb.markdown("### Market")
ss = st.session_state
rng = mk.default_range()
if ss.get("m_start") is None and ss.get("m_end") is None and rng:
    ss["m_start"], ss["m_end"] = rng
mk.date_pair("Trade date", "start", "end")
sb.radio("Per", options=list(mk.PER_NAMES), key="m_per", format_func=mk.PER_NAMES.get, horizontal=True)
mk.ticker_box()
mk.roles_box()
mk.plan_box()
sb.checkbox("Include suspect values", key="m_suspect",
            help="Typo prices (far outside their own footnoted range, implausibly large, or far from the issuer's "
            "other trades that week) are left out of the totals unless this is ticked.")  # fmt: skip
f, notes = mk.settle("market", base, ("start", "end", "per", "tickers", "roles", "plan", "suspect"))
st.title("Market flow")
mk.show_notes(notes)
if not data.store().has_data():
    st.info(
        "Nothing is stored yet. Load the market with `python -m loaders sync` (or pull a ticker on the Issuer page)."
    )
    st.stop()
fm = f.replace(codes=("P", "S"))
st.caption(plain(fm.describe()) + " Sales under 10b5-1 plans are drawn apart (hatched). A trade reported in "
           "several owners' filings counts once; suspect values are "
           + ("included." if f.suspect == "in" else "left out (tick \u201cInclude suspect values\u201d)."))  # fmt: skip

with guarded("Market charts"):
    flow, ratio, top = mk.charts(f)
    chart(figures.market_flow_figure(flow, f.per), flow, "market-flow", fm, "mflow")
    chart(figures.buy_sell_ratio_figure(ratio, f.per), ratio, "buy-sell-ratio", fm, "ratio")
    chart(figures.top_issuers_figure(top), top, "top-net-buying", fm, "top")
    money = st.column_config.NumberColumn(format="localized")
    table(market.top_issuers_table(top), "top-net-buying", fm, "top-table", column_config={
        "Net ($)": money, "Bought ($)": money, "Sold ($)": money, "CIK": st.column_config.NumberColumn(format="%d"),
    })  # fmt: skip
