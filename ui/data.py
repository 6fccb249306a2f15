"""Cached access to the store at the page edge (st.cache_data keyed by the store's current parts)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.filters import Tickers
from loaders import frames, listings
from loaders.config import Settings
from loaders.store import Store


def settings() -> Settings:
    return Settings.from_env()


def store() -> Store:
    return Store(settings().data_dir)


def version() -> str:
    """Changes whenever a pull, ingest or sync commits (the store's manifest version), so cached frames refresh."""
    return str(store().version())


@st.cache_data(max_entries=24, show_spinner="Loading filings…")
def _load(
    root: str, ver: str, tickers: tuple[str, ...], ciks: tuple[int, ...], owner_cik: int | None, since=None
) -> frames.Frames:
    return frames.load(
        Store(root),
        tickers=list(tickers) or None,
        issuer_ciks=list(ciks) or None,
        owner_cik=owner_cik,
        since=since,
        footnotes=False,  # no page shows the footnotes frame (rows carry their own footnote text)
    )


def load(
    tickers: tuple[str, ...] = (), owner_cik: int | None = None, issuer_ciks: tuple[int, ...] = (), since=None
) -> frames.Frames:
    """Frames of the tickers (and issuer CIKs) and/or one insider, cached until the store changes. `since`: only
    filings filed from that day (the page's date range), so a long history is not read whole."""
    return _load(str(store().root), version(), tuple(tickers), tuple(issuer_ciks), owner_cik, since)


@st.cache_data(max_entries=64, show_spinner=False)
def _issuer_range(root: str, ver: str, tickers: tuple[str, ...], ciks: tuple[int, ...]):
    from analytics.filters import two_years_to

    s = Store(root)
    chosen = sorted(set(frames.issuers_for_tickers(tickers, s)) | set(ciks))
    latest = frames.latest_plausible_filing_date(s, issuer_ciks=chosen) if chosen else None
    return two_years_to(latest) if latest else None


def issuer_range(tickers: tuple[str, ...], issuer_ciks: tuple[int, ...] = ()):
    """The default range of an issuer page: two years up to these issuers' latest plausible filing (SQL)."""
    return _issuer_range(str(store().root), version(), tuple(tickers), tuple(issuer_ciks))


@st.cache_data(max_entries=24, show_spinner="Selecting transactions…")
def _select(root: str, ver: str, where: str, params: tuple, limit: int) -> tuple[pd.DataFrame, int]:
    return frames.select_transactions(Store(root), where, list(params), limit)


def select(where: str, params: list, limit: int = 5000) -> tuple[pd.DataFrame, int]:
    """Newest `limit` transactions matching a Filters.sql_where("t") condition, and how many match (in DuckDB)."""
    return _select(str(store().root), version(), where, tuple(params), limit)


@st.cache_data(max_entries=12, show_spinner="Selecting transactions…")
def _load_where(root: str, ver: str, where: str, params: tuple) -> frames.Frames:
    return frames.load_where(Store(root), where, list(params))


def load_where(where: str, params: list) -> frames.Frames:
    """Only the transactions matching a SQL condition (and their filings, owners), from DuckDB."""
    return _load_where(str(store().root), version(), where, tuple(params))


@st.cache_data(max_entries=8, show_spinner=False)
def _issuers(root: str, ver: str) -> pd.DataFrame:
    return frames.loaded_issuers(Store(root))


def issuers() -> pd.DataFrame:
    return _issuers(str(store().root), version())


@st.cache_data(max_entries=64, show_spinner=False)
def _search(root: str, ver: str, query: str) -> pd.DataFrame:
    return frames.search_insiders(query, Store(root), limit=50)


def search_insiders(query: str) -> pd.DataFrame:
    return _search(str(store().root), version(), query)


@st.cache_data(max_entries=8, show_spinner=False)
def _symbols(root: str, ver: str) -> pd.DataFrame:
    s = Store(root)
    if not s.has_data():
        return pd.DataFrame({"issuer_cik": pd.Series(dtype="Int64"), "ticker": pd.Series(dtype="string")})
    return s.query("SELECT DISTINCT issuer_cik, ticker FROM filings WHERE issuer_cik IS NOT NULL")


def resolve(ticker: str) -> int | None:
    """The issuer CIK of a ticker: the issuer listing pulled for it, else a stored issuer that filed under it in any
    share class ("WLY, WLYB" answers WLY and WLYB), else a CIK typed as digits; None when unknown."""
    ticker = ticker.strip().upper()
    listing = listings.for_ticker(store().root, ticker)
    if listing is not None:
        return listing.cik
    symbols = _symbols(str(store().root), version())
    if not symbols.empty:
        hit = symbols[Tickers.classes(symbols["ticker"]).map(lambda parts: ticker in parts)]
        if not hit.empty:
            return int(hit["issuer_cik"].mode().iloc[0])
    if ticker.isdigit() and 0 < int(ticker) < 10**10:
        return int(ticker)
    return None


def listing(kind: str, cik: int | None) -> listings.Listing | None:
    return listings.read(store().root, kind, cik) if cik else None


@st.cache_data(max_entries=8, show_spinner=False)
def _stored(root: str, ver: str) -> frozenset[str]:
    return frozenset(Store(root).known_accessions())


def stored_accessions() -> frozenset[str]:
    return _stored(str(store().root), version())


def has_filings(cik: int) -> bool:
    found = issuers()
    return not found.empty and int(cik) in set(found["issuer_cik"].dropna().astype(int))
