"""Public read API: what the analytics and pages consume. Every frame matches loaders.schema exactly.

    load(store, tickers=, issuer_ciks=, owner_cik=, include_superseded=) -> Frames
    loaded_issuers(store) / loaded_insiders(store) / search_insiders(query, store)

Selection is pushed down into DuckDB; amendments are resolved here (loaders.amendments), so superseded rows never
reach a chart unless asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from loaders import amendments
from loaders.config import Settings
from loaders.schema import conform, empty
from loaders.store import Store


@dataclass
class Frames:
    filings: pd.DataFrame
    owners: pd.DataFrame
    transactions: pd.DataFrame
    holdings: pd.DataFrame
    footnotes: pd.DataFrame

    @classmethod
    def empty(cls) -> Frames:
        return cls(*(empty(n) for n in ("filings", "owners", "transactions", "holdings", "footnotes")))

    def __len__(self) -> int:
        return len(self.filings)


def default_store() -> Store:
    return Store(Settings.from_env().data_dir)


def _selection(tickers, issuer_ciks, owner_cik) -> tuple[str, list]:
    clauses, params = [], []
    if tickers:
        marks = ", ".join("?" for _ in tickers)
        clauses.append(f"issuer_cik IN (SELECT issuer_cik FROM filings WHERE upper(ticker) IN ({marks}))")
        params += [t.upper().strip() for t in tickers]
    if issuer_ciks:
        marks = ", ".join("?" for _ in issuer_ciks)
        clauses.append(f"issuer_cik IN ({marks})")
        params += [int(c) for c in issuer_ciks]
    if owner_cik is not None:
        clauses.append("accession IN (SELECT accession FROM owners WHERE owner_cik = ?)")
        params.append(int(owner_cik))
    return (" OR ".join(clauses[:2]) if tickers and issuer_ciks else " AND ".join(clauses)) or "TRUE", params


def load(
    store: Store | None = None,
    *,
    tickers: list[str] | tuple[str, ...] | None = None,
    issuer_ciks: list[int] | tuple[int, ...] | None = None,
    owner_cik: int | None = None,
    include_superseded: bool = False,
) -> Frames:
    """Filings of the selected issuers (by ticker or CIK) and/or of one reporting owner, every frame conformed."""
    store = store or default_store()
    if not store.has_data():
        return Frames.empty()
    where, params = _selection(tickers, issuer_ciks, owner_cik)
    chosen = f"SELECT accession FROM filings WHERE {where}"
    names = ("filings", "owners", "transactions", "holdings", "footnotes")
    raw = store.query_many([f"SELECT * FROM {n} WHERE accession IN ({chosen})" for n in names], params)
    frames = {n: conform(df, n) for n, df in zip(names, raw, strict=True)}
    filings, txs, holds = amendments.resolve(
        frames["filings"], frames["owners"], frames["transactions"], frames["holdings"]
    )
    if not include_superseded:
        txs = txs[txs["superseded_by"].isna()]
        holds = holds[holds["superseded_by"].isna()]
    txs = txs.sort_values(["transaction_date", "filing_date", "accession", "table", "seq"], kind="stable")
    holds = holds.sort_values(["filing_date", "accession", "table", "seq"], kind="stable")
    return Frames(
        filings=filings.sort_values(["filing_date", "accession"]).reset_index(drop=True),
        owners=frames["owners"],
        transactions=txs.reset_index(drop=True),
        holdings=holds.reset_index(drop=True),
        footnotes=frames["footnotes"],
    )


def loaded_issuers(store: Store | None = None) -> pd.DataFrame:
    """One row per issuer in the store: issuer_cik, ticker, issuer_name, n_filings, first_filing, last_filing."""
    store = store or default_store()
    cols = ["issuer_cik", "ticker", "issuer_name", "n_filings", "first_filing", "last_filing"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    return store.query(
        "SELECT issuer_cik, arg_max(ticker, filing_date) AS ticker, arg_max(issuer_name, filing_date) AS issuer_name,"
        " count(*) AS n_filings, min(filing_date) AS first_filing, max(filing_date) AS last_filing"
        " FROM filings GROUP BY issuer_cik ORDER BY ticker, issuer_cik"
    )[cols]


def loaded_insiders(store: Store | None = None) -> pd.DataFrame:
    """One row per reporting owner: owner_cik, owner_name, n_filings, issuers (tickers), last_filing."""
    store = store or default_store()
    cols = ["owner_cik", "owner_name", "n_filings", "issuers", "last_filing"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    return store.query(
        "SELECT o.owner_cik, arg_max(o.owner_name, f.filing_date) AS owner_name,"
        " count(DISTINCT o.accession) AS n_filings,"
        " string_agg(DISTINCT f.ticker, ', ' ORDER BY f.ticker) AS issuers, max(f.filing_date) AS last_filing"
        " FROM owners o JOIN filings f USING (accession) WHERE o.owner_cik IS NOT NULL"
        " GROUP BY o.owner_cik ORDER BY n_filings DESC, owner_name"
    )[cols]


def search_insiders(query: str, store: Store | None = None, limit: int = 20) -> pd.DataFrame:
    """Insiders whose name holds every word of `query` in any order ("David Finkelstein"), or whose CIK it is."""
    insiders = loaded_insiders(store)
    q = (query or "").strip()
    if not q or insiders.empty:
        return insiders.iloc[0:0]
    if q.isdigit():
        return insiders[insiders["owner_cik"] == int(q)].head(limit)
    names = insiders["owner_name"].fillna("").str.lower().str.replace(r"[^\w\s]", " ", regex=True)
    mask = pd.Series(True, index=insiders.index)
    for word in q.lower().replace(",", " ").replace(".", " ").split():
        mask &= names.str.contains(rf"\b{re.escape(word)}", regex=True)
    return insiders[mask].head(limit)
