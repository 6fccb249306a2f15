"""Insider-trading dashboard: page config, navigation and the shared sidebar filters (kept in the URL).

Run with `bin/app` (or `streamlit run app.py`). Pages in pages/ hold layout only.
"""

from __future__ import annotations

import streamlit as st

from ui import boot, market, state
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

MARKET_PAGES = [
    st.Page("pages/latest.py", title="Latest filings", icon=":material/bolt:", url_path="latest"),
    st.Page("pages/screener.py", title="Screener", icon=":material/filter_alt:", url_path="screener"),
    st.Page("pages/clusters.py", title="Cluster buys", icon=":material/groups:", url_path="clusters"),
    st.Page("pages/market.py", title="Market flow", icon=":material/bar_chart:", url_path="market"),
]

# Links are drawn by app.py (pages/ is a top-level folder: see ui/boot.py); the issuer pages' links keep the filters.
nav = st.navigation({"Issuers and insiders": PAGES, "Whole market": MARKET_PAGES}, position="hidden")
links = st.sidebar.container()


def draw_links(query: dict[str, str] | None) -> None:
    for section, pages, params in (
        ("Issuers and insiders", PAGES, query),
        ("Whole market", MARKET_PAGES, None),
    ):
        links.caption(section)
        for page in pages:
            links.page_link(page, query_params=params)


if nav.url_path in market.PATHS:  # market pages keep their own controls, in the sidebar and the URL
    draw_links(None)
    st.sidebar.caption("Data: SEC EDGAR Forms 3, 4, 5. Not investment advice.")
    with boot.app_run():
        nav.run()
    st.stop()
st.sidebar.markdown("### Filters")
filters = state.sidebar()
draw_links(filters.to_query())
for notice in state.notices():
    st.warning(plain(notice), icon=":material/link:")
if not settings().identity:
    st.sidebar.caption("⚠️ No EDGAR identity set: showing cached data only. Set EDGAR_IDENTITY to pull.")
st.sidebar.caption("Data: SEC EDGAR Forms 3, 4, 5. Not investment advice.")
with boot.app_run():
    nav.run()
