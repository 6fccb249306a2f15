"""Filings explorer: every loaded transaction matching all filters, sortable, with the sentence that says so."""

from __future__ import annotations

import streamlit as st

from analytics import insiders
from analytics.filters import apply_filters, default_range
from ui import boot, data, pulls, state
from ui.text import plain
from ui.widgets import TRANSACTIONS, guarded, table

boot.ensure_app()
f = state.current()
st.title("Filings explorer")
ciks = pulls.prepare(f.tickers) if f.tickers else []
if f.tickers and not ciks:
    st.stop()
# every issuer: select in DuckDB (the store may hold the whole market)
if not f.tickers and f.insider is None:
    fr = f.with_range(state.shown_range() or state.default_range_for(()))
    if fr.start is None:
        st.info("Nothing is loaded yet: type a ticker in the sidebar.")
        st.stop()
    tx, total = data.select(*fr.sql_where("t"))
    shown = f" (the newest {len(tx):,} are listed)" if total > len(tx) else ""
    st.markdown(f"**{total:,} transaction{'' if total == 1 else 's'}**{shown}. {plain(fr.describe())}")
else:
    frames = data.load(issuer_ciks=tuple(ciks), owner_cik=f.insider)
    if frames.filings.empty:
        st.info("Nothing is loaded yet: type a ticker in the sidebar.")
        st.stop()
    fr = f.with_range(state.shown_range() or default_range(frames.filings))
    tx = apply_filters(frames.transactions, fr, skip=("tickers",))
    st.markdown(
        f"**{len(tx):,} transaction{'' if len(tx) == 1 else 's'}.** {plain(fr.describe(insider_name=state.insider_name()))}"
    )
with guarded("Transactions"):
    table(
        insiders.transactions_table(tx),
        "explorer-transactions",
        fr,
        "explorer",
        height=620,
        column_config=TRANSACTIONS,
    )
