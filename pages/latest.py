"""Latest filings market-wide: newest first, one row per filing and code, with presets like OpenInsider's."""

from __future__ import annotations

import streamlit as st

from analytics import market
from ui import boot, data
from ui import market as mk
from ui.widgets import guarded, table

boot.ensure_app()
base, _ = mk.arrive("latest")
st.title("Latest insider filings")
st.segmented_control("Screen", options=list(market.PRESETS), key="m_preset", selection_mode="single",
                     format_func=lambda p: market.PRESETS[p].title, label_visibility="collapsed")  # fmt: skip
f, notes = mk.settle("latest", base, ("preset", "page"))
mk.show_notes(notes)
if not data.store().has_data():
    st.info(
        "Nothing is stored yet. Load the market with `python -m loaders sync` (or pull a ticker on the Issuer page)."
    )
    st.stop()

preset = market.PRESETS[f.preset]
with guarded("Latest filings"):
    page = mk.latest(f.preset, f.page)
    newest = mk.newest()
    older = "older filings on the next page" if page.more else "no older filings"
    st.caption(f"{preset.description} One row per filing and transaction code (Table I: shares). Page {page.page:,}"
               f" ({len(page.rows):,} rows; {older}); newest filing in the store: {newest or '–'}.")  # fmt: skip
    rows = market.latest_table(page)
    table(rows, f"latest-{f.preset}", f, "latest", height=640, column_config=mk.trade_columns())
    mk.pager(page.pages if len(page.rows) or page.page == 1 else 1, exact=False)  # past the end: page 1
