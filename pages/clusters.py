"""Cluster buys: issuers where several distinct insiders bought in the open market within a window."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import market
from analytics.filters import MAX_AMOUNT
from analytics.signals import RULES
from charts import figures
from ui import boot, data
from ui import market as mk
from ui.text import plain
from ui.widgets import SHARES, chart, guarded, table

boot.ensure_app()
base, _ = mk.arrive("clusters")
mk.ready()
sb = st.sidebar
sb.markdown("### Cluster rule")
rng = mk.default_range()
ss = st.session_state
if ss.get("m_start") is None and ss.get("m_end") is None and rng:
    ss["m_start"], ss["m_end"] = rng
mk.date_pair("Trade date", "start", "end")
sb.number_input("Window (days after the first buy)", min_value=1, max_value=366, step=1, key="m_window")
sb.number_input("At least this many insiders", min_value=2, max_value=1000, step=1, key="m_buyers")
sb.number_input("Cluster total at least ($)", min_value=0.0, max_value=MAX_AMOUNT, step=10_000.0, format="%.0f",
                key="m_cluster_min")  # fmt: skip
mk.ticker_box()
mk.roles_box()
f, notes = mk.settle("clusters", base, ("start", "end", "window", "buyers", "cluster_min", "tickers", "roles",
                                        "cluster"))  # fmt: skip
st.title("Cluster buys")
mk.show_notes(notes)
if not data.store().has_data():
    st.info(
        "Nothing is stored yet. Load the market with `python -m loaders sync` (or pull a ticker on the Issuer page)."
    )
    st.stop()

st.markdown(plain(
    f"Issuers where at least {f.buyers} distinct insiders bought in the open market (code P only: no awards, "
    f"exercises or tax withholding) within {f.window} days of the cluster's first buy, trades "
    f"{f.start or 'from the start'} to {f.end or 'the newest'}"
    + (f", at least ${f.cluster_min:,.0f} in total" if f.cluster_min else "")
    + (f", issuers {', '.join(f.tickers)}" if f.tickers else "") + "."
))  # fmt: skip
st.caption("A cluster opens at the first purchase not yet in a cluster and takes every purchase up to the window's "
           "end; a joint filing counts as one insider (its first reporting owner), and a purchase reported in several "
           "owners' filings (a fund and its general partner) counts once. \u0394Own = shares bought / "
           "shares the buyers held before their first purchase in the cluster.")  # fmt: skip

with guarded("Clusters"):
    found = mk.clusters(f)
    st.subheader(f"{len(found):,} clusters")
    table(market.clusters_table(found), "clusters", f, "clusters", height=520, column_config={
        "First buy": st.column_config.DateColumn(width="small"), "Last buy": st.column_config.DateColumn(width="small"),
        "Shares": SHARES, "Total ($)": st.column_config.NumberColumn(format="localized"),
        "\u0394Own": st.column_config.TextColumn(help=RULES["delta_own"] + " For a cluster: shares bought / shares the "
                                                 "buyers held before their first purchase in it."),
        "Names": st.column_config.TextColumn(width="large"), "CIK": st.column_config.NumberColumn(format="%d"),
    })  # fmt: skip
    if not found.empty:
        keys = [f"{int(c)}:{pd.Timestamp(s).date().isoformat()}" for c, s in zip(found["issuer_cik"], found["start"],
                                                                                 strict=True)]  # fmt: skip
        labels = {k: f"{t} \u00b7 {pd.Timestamp(s):%Y-%m-%d} \u00b7 {n} insiders \u00b7 ${v:,.0f}" for k, t, s, n, v in
                  zip(keys, found["ticker"], found["start"], found["insiders"], found["value"], strict=True)}  # fmt: skip
        if ss.get("m_cluster") not in labels:
            if ss.get("m_cluster"):
                st.warning(
                    plain(f"Cluster {ss['m_cluster']} is not among these clusters; showing the newest.")
                )
            ss["m_cluster"] = keys[0]
        st.selectbox(
            "Show the trades of", options=keys, key="m_cluster", format_func=lambda k: labels.get(k, k)
        )
        chosen = found.iloc[keys.index(ss["m_cluster"])]
        start = pd.Timestamp(chosen["start"]).date()
        end = pd.Timestamp(chosen["window_end"]).date()
        trades = mk.cluster_trades(int(chosen["issuer_cik"]), start, min(end, f.end or end))
        title = f"{chosen['ticker']} cluster: purchases {start:%Y-%m-%d} to {pd.Timestamp(chosen['end']):%Y-%m-%d}"
        fig = figures.cluster_figure(trades, title, window=(start, end))
        cf = f.replace(tickers=(str(chosen["ticker"]),) if chosen["ticker"] else (), start=start, end=end)
        chart(fig, trades, "cluster", cf, "cluster")
        cols = mk.trade_columns()
        table(market.cluster_trades_table(trades), "cluster-trades", cf, "cluster-trades",
              column_config={k: v for k, v in cols.items() if k in market.CLUSTER_TRADES_TABLE.values()})  # fmt: skip
