"""Insider-trading dashboard: page config, navigation and the shared sidebar filters (kept in the URL).

Run with `bin/app` (or `streamlit run app.py`). Pages in pages/ hold layout only.
"""

from __future__ import annotations

import streamlit as st

from ui import boot, state
from ui.data import settings
from ui.text import plain

st.set_page_config(
    page_title="Insider flows",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="auto",  # collapsed on a phone, where it would cover the page
)

PAGES = [
    st.Page("pages/issuer.py", title="Issuer", icon=":material/domain:", default=True),
    st.Page("pages/insider.py", title="Insider", icon=":material/person:", url_path="insider"),
    st.Page("pages/plans.py", title="10b5-1 plans", icon=":material/event_note:", url_path="plans"),
    st.Page("pages/explorer.py", title="Filings explorer", icon=":material/table_view:", url_path="explorer"),
]

nav = st.navigation(PAGES, position="hidden")  # links drawn below (see ui/boot.py)
links = st.sidebar.container()
st.sidebar.markdown("### Filters")
filters = state.sidebar()
for page in PAGES:  # each link keeps the filters: the next page shows the same selection
    links.page_link(page, query_params=filters.to_query())
for notice in state.notices():
    st.warning(plain(notice), icon=":material/link:")
if not settings().identity:
    st.sidebar.caption("⚠️ No EDGAR identity set: showing cached data only. Set EDGAR_IDENTITY to pull.")
st.sidebar.caption("Data: SEC EDGAR Forms 3, 4, 5. Not investment advice.")
with boot.app_run():
    nav.run()
