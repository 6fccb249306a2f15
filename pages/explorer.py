"""Filings explorer: every loaded transaction matching all filters, sortable, with the sentence that says so."""

from __future__ import annotations

import streamlit as st

from analytics import insiders
from analytics.filters import apply_filters, default_range
from ui import boot, data, pulls, state
from ui.widgets import LINK, MONEY, PRICE, SHARES, guarded, table

boot.ensure_app()
f = state.current()
st.title("Filings explorer")
if f.tickers and not pulls.ensure_loaded(f.tickers, set(data.issuers()["ticker"].dropna())):
    st.stop()
if (
    not f.tickers and f.insider is None
):  # every issuer: select in DuckDB (the store may hold the whole market)
    fr = f.with_range(state.shown_range() or state.default_range_for(()))
    if fr.start is None:
        st.info("Nothing is loaded yet: type a ticker in the sidebar.")
        st.stop()
    tx, total = data.select(*fr.sql_where("t"))
    shown = f" (the newest {len(tx):,} are listed)" if total > len(tx) else ""
    st.markdown(f"**{total:,} transactions**{shown}. {fr.describe()}")
else:
    frames = data.load(f.tickers, owner_cik=f.insider)
    if frames.filings.empty:
        st.info("Nothing is loaded yet: type a ticker in the sidebar.")
        st.stop()
    fr = f.with_range(state.shown_range() or default_range(frames.filings))
    tx = apply_filters(frames.transactions, fr)
    st.markdown(
        f"**{len(tx):,} transactions.** {fr.describe(insider_name=st.session_state.get('insider_name'))}"
    )
with guarded("Transactions"):
    table(insiders.transactions_table(tx), "transactions", fr, "explorer", height=620, column_config={
        "Filing": LINK, "Date": st.column_config.DateColumn(), "Filed": st.column_config.DateColumn(),
        "Shares": SHARES, "Price ($)": PRICE, "Value ($)": MONEY, "Owned after": SHARES,
    })  # fmt: skip
