"""Screener: every trade of the market under any filter, sorted by any column, a page at a time, with the
sentence that says what is shown and a rule on hover for each signal."""

from __future__ import annotations

import streamlit as st

from analytics import market
from ui import boot, data
from ui import market as mk
from ui.text import plain
from ui.widgets import guarded, table

boot.ensure_app()
base, _ = mk.arrive("screener")
mk.screener_sidebar()
f, notes = mk.settle("screener", base, mk.SCREEN_WIDGETS)
st.title("Screener")
mk.show_notes(notes)
if not data.store().has_data():
    st.info(
        "Nothing is stored yet. Load the market with `python -m loaders sync` (or pull a ticker on the Issuer page)."
    )
    st.stop()

name = st.session_state.get("m_insider") if f.insider is not None else None
st.markdown(f"**{plain(f.describe(insider_name=name))}**")
mk.sort_controls()
with guarded("Screen"):
    page = mk.screen(f)
    st.caption(f"{page.total:,} trades match (Table I rows: shares; live rows, amendments applied). "
               f"Page {min(f.page, page.pages):,} of {page.pages:,}, 50 rows a page, sorted on the server.")  # fmt: skip
    rows = market.screen_table(page)
    table(rows, "screen", f, "screen", height=640, column_config=mk.trade_columns(f.years))
    mk.pager(page.pages)
