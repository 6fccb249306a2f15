"""Insider-trading dashboard: page config, navigation and the shared sidebar filters (kept in the URL).

Run with `bin/app` (or `streamlit run app.py`). Pages in pages/ hold layout only.
"""

from __future__ import annotations

import streamlit as st

from ui import market, state
from ui.data import settings
from ui.text import plain

st.set_page_config(
    page_title="Insider flows",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = [
    st.Page("pages/issuer.py", title="Issuer", icon=":material/domain:", default=True),
    st.Page("pages/insider.py", title="Insider", icon=":material/person:", url_path="insider"),
    st.Page("pages/plans.py", title="10b5-1 plans", icon=":material/event_note:", url_path="plans"),
    st.Page("pages/explorer.py", title="Filings explorer", icon=":material/table_view:", url_path="explorer"),
]

MARKET_PAGES = [
    st.Page("pages/latest.py", title="Latest filings", icon=":material/bolt:", url_path="latest"),
    st.Page("pages/screener.py", title="Screener", icon=":material/filter_alt:", url_path="screener"),
    st.Page("pages/clusters.py", title="Cluster buys", icon=":material/groups:", url_path="clusters"),
    st.Page("pages/market.py", title="Market flow", icon=":material/bar_chart:", url_path="market"),
]

nav = st.navigation({"Issuers and insiders": PAGES, "Whole market": MARKET_PAGES})
if nav.url_path in market.PATHS:  # market pages keep their own controls, in the sidebar and the URL
    st.sidebar.caption("Data: SEC EDGAR Forms 3, 4, 5. Not investment advice.")
    nav.run()
    st.stop()
st.sidebar.markdown("### Filters")
state.sidebar()
for notice in state.notices():
    st.warning(plain(notice), icon=":material/link:")
if not settings().identity:
    st.sidebar.caption("⚠️ No EDGAR identity set: showing cached data only. Set EDGAR_IDENTITY to pull.")
st.sidebar.caption("Data: SEC EDGAR Forms 3, 4, 5. Not investment advice.")
nav.run()
