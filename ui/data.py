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
    """Changes whenever a pull or ingest commits new parts, so cached frames refresh by themselves."""
    s = store()
    folder = s.table_dir / "filings"
    return "|".join(sorted(p.name for p in folder.glob("part-*.parquet"))) if folder.is_dir() else ""


@st.cache_data(max_entries=24, show_spinner="Loading filings…")
def _load(
    root: str, ver: str, tickers: tuple[str, ...], ciks: tuple[int, ...], owner_cik: int | None
) -> frames.Frames:
    return frames.load(
        Store(root), tickers=list(tickers) or None, issuer_ciks=list(ciks) or None, owner_cik=owner_cik
    )


def load(
    tickers: tuple[str, ...] = (), owner_cik: int | None = None, issuer_ciks: tuple[int, ...] = ()
) -> frames.Frames:
    """Frames of the tickers (and issuer CIKs) and/or one insider, cached until the store changes."""
    return _load(str(store().root), version(), tuple(tickers), tuple(issuer_ciks), owner_cik)


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
