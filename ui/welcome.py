"""What a newcomer sees before choosing a ticker: how to pull, what identity to set, what is cached."""

from __future__ import annotations

import streamlit as st

from loaders import listings
from ui import data


def render() -> None:
    st.title("Insider trading, from the SEC's own filings")
    st.markdown(
        "Type a **ticker** in the sidebar (for example `NLY`) to see what that company's insiders bought and sold, "
        "their holdings over time and how much of the selling ran through Rule 10b5-1 plans. Tickers that are not "
        "loaded yet are pulled from EDGAR (Forms 3, 4, 5 and amendments) with a progress bar."
    )
    s = data.settings()
    if not s.identity:
        st.warning(
            "**No EDGAR identity is configured.** The SEC requires every request to say who is asking. "
            "Stop the app and start it with\n\n"
            '`EDGAR_IDENTITY="Jane Doe jane@example.com" bin/app`\n\n'
            "Until then you can browse what is already cached."
        )
    if data.issuers().empty:
        st.info(
            "Nothing is loaded yet. Besides typing a ticker, you can load data from the command line:\n\n"
            "`.venv/bin/python -m loaders pull NLY` or, offline, "
            "`.venv/bin/python -m loaders ingest ../shared/edgar/form4`"
        )
        return
    cached_issuers()


def cached_issuers() -> None:
    """The issuers already in the local store (what can be shown even when EDGAR is out of reach), with when each
    one's EDGAR listing was last fetched ("stored only" when it never was: filings from an insider's pull or a
    local ingest)."""
    issuers = data.issuers()
    if issuers.empty:
        return
    fetched = {x.cik: x for x in listings.all_listings(data.store().root, "issuer")}
    stored = data.stored_accessions()
    shown = issuers.assign(
        listing=[
            (
                f"{len(x.listed) - len(x.missing(stored)):,} of {len(x.listed):,} · {listings.age_text(x.age())}"
                if (x := fetched.get(int(c)))
                else "stored only"
            )  # fmt: skip
            for c in issuers["issuer_cik"]
        ]
    )
    st.subheader(f"Loaded issuers ({len(issuers):,})")
    st.caption("Type one of these tickers in the sidebar, or any other ticker to pull it.")
    st.dataframe(
        shown.sort_values("n_filings", ascending=False),
        hide_index=True,
        width="stretch",
        height=320,
        placeholder="",
        column_config={
            "issuer_cik": st.column_config.NumberColumn("CIK", format="%d"),
            "ticker": "Ticker",
            "issuer_name": "Issuer",
            "n_filings": st.column_config.NumberColumn("Filings", format="localized"),
            "first_filing": st.column_config.DateColumn("First filing"),
            "last_filing": st.column_config.DateColumn("Last filing"),
            "tickers": st.column_config.TextColumn(
                "Symbols filed", help="Every trading symbol its filings list (after a ticker change, both)"
            ),
            "listing": st.column_config.TextColumn(
                "EDGAR listing",
                help="Filings stored of those on the issuer's EDGAR listing, and when it was fetched",
            ),  # fmt: skip
        },
    )
