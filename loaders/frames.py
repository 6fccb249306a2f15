"""Public read API: what the analytics and pages consume. Every frame matches loaders.schema exactly.

    load(store, tickers=, issuer_ciks=, owner_cik=, include_superseded=) -> Frames
    loaded_issuers(store) / loaded_insiders(store) / search_insiders(query, store)
    issuers_for_ticker(sym, store) -> issuer CIKs whose filings list `sym` among their trading symbols
    latest_plausible_filing_date(store, today=) -> the newest filing date that is not in the future

Selection is pushed down into DuckDB: one issuer's rows are read from the few row groups that hold it (parts are
sorted by issuer), never the whole store. Amendments are already resolved in the store's views (`superseded_by`,
`amends_accession`), so superseded rows never reach a chart unless asked for.

Trading symbols are kept as filed ("WLY, WLYB", "wly", "NONE"); a ticker matches an issuer when it is one of the
symbols its filings list (split on commas, semicolons and spaces; upper-cased; NONE and N/A ignored).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from loaders.config import Settings
from loaders.schema import conform, empty, from_arrow
from loaders.store import Store, quarter_of

NAMES = ("filings", "owners", "transactions", "holdings", "footnotes")
NO_SYMBOL = ("", "NONE", "N/A", "NA", "-")
# SQL for the list of symbols of a `ticker` value ("WLY, WLYB" -> [WLY, WLYB])
SYMBOLS_SQL = (
    "list_filter(string_split_regex(upper(coalesce({col}, '')), '[\\s,;]+'), "
    "x -> x NOT IN ('', 'NONE', 'N/A', 'NA', '-'))"
)
_DATED = ("filings", "transactions", "holdings")  # tables with a filing_date column (row groups pruned by it)
_ORDER = {
    "filings": "filing_date, accession",
    "owners": "accession, position",
    "transactions": 'transaction_date, filing_date, accession, "table", seq',
    "holdings": 'filing_date, accession, "table", seq',
    "footnotes": "accession, footnote_id",
}


@dataclass
class Frames:
    filings: pd.DataFrame
    owners: pd.DataFrame
    transactions: pd.DataFrame
    holdings: pd.DataFrame
    footnotes: pd.DataFrame

    @classmethod
    def empty(cls) -> Frames:
        return cls(*(empty(n) for n in NAMES))

    def __len__(self) -> int:
        return len(self.filings)


def default_store() -> Store:
    return Store(Settings.from_env().data_dir)


def symbols(ticker: str | None) -> list[str]:
    """The trading symbols a filed `ticker` value lists: 'WLY, WLYB' -> ['WLY', 'WLYB']; 'NONE' -> []."""
    return [s for s in re.split(r"[\s,;]+", (ticker or "").upper()) if s not in NO_SYMBOL]


def issuers_for_ticker(sym: str, store: Store | None = None) -> list[int]:
    """Issuer CIKs whose filings list `sym` among their trading symbols (share classes: WLY and WLYB both find
    an issuer that files as "WLY, WLYB"), most filings first."""
    return issuers_for_tickers([sym], store)


def issuers_for_tickers(syms, store: Store | None = None) -> list[int]:
    store = store or default_store()
    wanted = sorted({s for t in syms for s in symbols(t)})
    if not wanted or not store.has_data():
        return []
    df = store.query(
        "WITH pairs AS (SELECT issuer_cik, ticker, count(*) AS n FROM filings WHERE issuer_cik IS NOT NULL"
        " GROUP BY ALL)"
        f" SELECT issuer_cik, sum(n) AS n FROM pairs WHERE list_has_any({SYMBOLS_SQL.format(col='ticker')}, ?)"
        " GROUP BY issuer_cik ORDER BY n DESC, issuer_cik",
        [wanted],
    )
    return [int(c) for c in df["issuer_cik"]]


def _ints(values) -> str:
    return ", ".join(str(int(v)) for v in values)


def load(
    store: Store | None = None,
    *,
    tickers: list[str] | tuple[str, ...] | None = None,
    issuer_ciks: list[int] | tuple[int, ...] | None = None,
    owner_cik: int | None = None,
    include_superseded: bool = False,
    since: dt.date | None = None,
    footnotes: bool = True,
) -> Frames:
    """Filings of the selected issuers (by ticker or CIK) and/or of one reporting owner, every frame conformed.
    `since`: only filings filed on or after that day (a page showing two years of a 20-year issuer reads two years).
    `footnotes=False`: the footnotes frame is left empty (the pages read each row's footnote text from its
    `footnotes` column; the frame of every footnote is for exports and tests).

    With no selection at all, everything is loaded: fine for a few issuers, not for a market-wide store (use SQL
    aggregates through Store.query there)."""
    store = store or default_store()
    if not store.has_data():
        return Frames.empty()
    clauses, params = [], []
    ciks: set[int] = set()
    if tickers:
        ciks |= set(issuers_for_tickers(tickers, store))
    if issuer_ciks:
        ciks |= {int(c) for c in issuer_ciks}
    if tickers or issuer_ciks:
        if not ciks:
            return Frames.empty()
        clauses.append(f"issuer_cik IN ({_ints(sorted(ciks))})")
    if owner_cik is not None:
        own = store.query(
            "SELECT DISTINCT accession, issuer_cik FROM owners WHERE owner_cik = ?", [int(owner_cik)]
        )
        if own.empty:
            return Frames.empty()
        issuers = sorted({int(c) for c in own["issuer_cik"].dropna()})
        if issuers:
            clauses.append(f"issuer_cik IN ({_ints(issuers)})")
        clauses.append("accession IN (SELECT unnest(?::VARCHAR[]))")
        params.append(sorted(own["accession"]))
    recent = quarter_of(since) if since is not None else None  # only the partitions filed since then
    window = None  # tables without a filing date (owners, footnotes): only the window's filings
    if since is not None and not params:  # by issuer: one round trip, the window's accessions as a subquery
        window = (
            f"accession IN (SELECT accession FROM filings WHERE {' AND '.join(clauses) or 'TRUE'}"
            f" AND filing_date >= DATE '{since:%Y-%m-%d}')"
        )
    elif since is not None:  # the accessions filed since then, found in the (issuer-pruned) filings first
        chosen = store.query_many(
            [f"SELECT accession FROM filings WHERE {' AND '.join(clauses) or 'TRUE'} AND filing_date >= ?"],
            [*params, pd.Timestamp(since)],
            filed_since=recent,
        )[0]
        if chosen.empty:
            return Frames.empty()
        clauses.append("accession IN (SELECT unnest(?::VARCHAR[]))")
        params.append(sorted(chosen["accession"]))
    where = " AND ".join(clauses) or "TRUE"
    sqls = []
    names = [n for n in NAMES if footnotes or n != "footnotes"]
    for name in names:
        live = (
            " AND superseded_by IS NULL"
            if name in ("transactions", "holdings") and not include_superseded
            else ""
        )
        dated = f" AND filing_date >= DATE '{since:%Y-%m-%d}'" if since is not None and name in _DATED else ""
        if window is not None and name not in _DATED:
            dated = f" AND {window}"
        sqls.append(f"SELECT * FROM {name} WHERE {where}{live}{dated} ORDER BY {_ORDER[name]}")
    raw = store.query_arrow(sqls, params or None, filed_since=recent)
    loaded = {n: from_arrow(table, n) for n, table in zip(names, raw, strict=True)}
    return Frames(*(loaded[n] if n in loaded else empty(n) for n in NAMES))


def select_transactions(
    store: Store | None = None, where: str = "TRUE", params: list | None = None, limit: int = 5000
) -> tuple[pd.DataFrame, int]:
    """(newest `limit` live transactions matching a SQL condition over `transactions t`, total matching): the
    market-wide explorer selects in DuckDB instead of loading the store. `where` comes from Filters.sql_where("t")."""
    store = store or default_store()
    if not store.has_data():
        return empty("transactions"), 0
    rows, total = store.query_many(
        [
            f"SELECT t.* FROM transactions t WHERE t.superseded_by IS NULL AND ({where}) "
            f'ORDER BY t.transaction_date DESC NULLS LAST, t.accession DESC, t."table", t.seq LIMIT {int(limit)}',
            f"SELECT count(*) AS n FROM transactions t WHERE t.superseded_by IS NULL AND ({where})",
        ],
        params or None,
    )
    return conform(rows, "transactions"), int(total["n"].iloc[0])


def load_where(store: Store | None = None, where: str = "TRUE", params: list | None = None) -> Frames:
    """Live transactions matching a SQL condition over `transactions t`, with their filings and owners (holdings and
    footnotes left empty): a market-wide page takes only the rows it needs from DuckDB."""
    store = store or default_store()
    if not store.has_data():
        return Frames.empty()
    chosen = f"SELECT accession FROM transactions t WHERE t.superseded_by IS NULL AND ({where})"
    tx, filings, owners = store.query_many(
        [
            f"SELECT t.* FROM transactions t WHERE t.superseded_by IS NULL AND ({where}) ORDER BY {_ORDER['transactions']}",
            f"SELECT * FROM filings WHERE accession IN ({chosen}) ORDER BY {_ORDER['filings']}",
            f"SELECT * FROM owners WHERE accession IN ({chosen}) ORDER BY {_ORDER['owners']}",
        ],
        params or None,
    )
    return Frames(
        conform(filings, "filings"),
        conform(owners, "owners"),
        conform(tx, "transactions"),
        empty("holdings"),
        empty("footnotes"),
    )


def loaded_issuers(store: Store | None = None) -> pd.DataFrame:
    """One row per issuer in the store: issuer_cik, ticker (latest as filed), issuer_name, n_filings,
    first_filing, last_filing (the latest not in the future), tickers (every symbol its filings list, ", "-joined)."""
    store = store or default_store()
    cols = ["issuer_cik", "ticker", "issuer_name", "n_filings", "first_filing", "last_filing", "tickers"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    frame = store.query(
        "SELECT issuer_cik, upper(arg_max(ticker, filing_date)) AS ticker,"
        " arg_max(issuer_name, filing_date) AS issuer_name,"
        " count(*) AS n_filings, min(filing_date) AS first_filing,"
        " coalesce(max(filing_date) FILTER (WHERE filing_date <= current_date), min(filing_date)) AS last_filing,"
        " list(DISTINCT ticker) AS filed"
        " FROM filings WHERE issuer_cik IS NOT NULL GROUP BY issuer_cik ORDER BY ticker, issuer_cik"
    )
    frame["tickers"] = [
        ", ".join(sorted({s for t in (filed if filed is not None else []) for s in symbols(t)}))
        for filed in frame["filed"]
    ]
    return frame[cols]


def loaded_insiders(store: Store | None = None) -> pd.DataFrame:
    """One row per reporting owner: owner_cik, owner_name, n_filings, issuers (tickers), last_filing."""
    store = store or default_store()
    cols = ["owner_cik", "owner_name", "n_filings", "issuers", "last_filing"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    return store.query(
        "SELECT o.owner_cik, arg_max(o.owner_name, f.filing_date) AS owner_name,"
        " count(DISTINCT o.accession) AS n_filings,"
        " string_agg(DISTINCT upper(f.ticker), ', ' ORDER BY upper(f.ticker)) AS issuers,"
        " max(f.filing_date) AS last_filing"
        " FROM owners o JOIN filings f USING (accession) WHERE o.owner_cik IS NOT NULL"
        " GROUP BY o.owner_cik ORDER BY n_filings DESC, owner_name"
    )[cols]


def search_insiders(query: str, store: Store | None = None, limit: int = 20) -> pd.DataFrame:
    """Insiders whose name holds every word of `query` in any order ("David Finkelstein"), or whose CIK it is.

    The match runs in DuckDB over the owners table, so it costs the same on a market-wide store."""
    store = store or default_store()
    cols = ["owner_cik", "owner_name", "n_filings", "issuers", "last_filing"]
    q = (query or "").strip()
    if not q or not store.has_data():
        return pd.DataFrame(columns=cols)
    params: list[object]
    if q.isdigit():
        cond, params = "o.owner_cik = ?", [int(q)]
    else:
        # the query's words and the stored name both split at anything but letters and digits, so "Cannon-Brookes"
        # and "O'Brien" find "CANNON-BROOKES MICHAEL" and "O'BRIEN PAT" (the query kept its hyphen and found nothing),
        # and an accented name keeps its letters; a word must start a word of the name
        words = re.findall(r"[^\W_]+", q.lower())
        if not words:
            return pd.DataFrame(columns=cols)
        cond = " AND ".join(
            "regexp_matches(lower(regexp_replace(o.owner_name, '[^\\p{L}\\p{N}]+', ' ', 'g')), ?)"
            for _ in words
        )
        params = [rf"(^|\s){re.escape(w)}" for w in words]
    return store.query(
        "WITH hit AS (SELECT DISTINCT owner_cik FROM owners o WHERE " + cond + ")"
        " SELECT o.owner_cik, arg_max(o.owner_name, f.filing_date) AS owner_name,"
        " count(DISTINCT o.accession) AS n_filings,"
        " string_agg(DISTINCT upper(f.ticker), ', ' ORDER BY upper(f.ticker)) AS issuers,"
        " max(f.filing_date) AS last_filing"
        " FROM owners o JOIN filings f USING (accession) WHERE o.owner_cik IN (SELECT owner_cik FROM hit)"
        f" GROUP BY o.owner_cik ORDER BY n_filings DESC, owner_name, o.owner_cik LIMIT {int(limit)}",
        params,
    )[cols]


def latest_plausible_filing_date(
    store: Store | None = None, today: dt.date | None = None, issuer_ciks: list[int] | None = None
) -> dt.date | None:
    """The newest filing date in the store (of these issuers) that is not after `today` (a filing dated in the
    future, a typo or a clock error, must not move the default date range); None when there is none."""
    store = store or default_store()
    if not store.has_data():
        return None
    today = today or dt.date.today()
    only = f" AND issuer_cik IN ({_ints(issuer_ciks)})" if issuer_ciks else ""
    df = store.query(
        f"SELECT max(filing_date) AS d FROM filings WHERE filing_date <= ?{only}", [pd.Timestamp(today)]
    )
    value = df["d"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).date()
