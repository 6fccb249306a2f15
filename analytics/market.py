"""Market-wide views, computed in SQL through `Store.query` (never the whole store in pandas): latest filings
with a trade summary, the screener, cluster buys, and market flow charts.

Scope (see analytics/signals.py): Table I rows (shares), live rows only; an insider is a filing's first reporting
owner. Every function takes a Store and plain parameters and returns a small DataFrame (or a Page of one).

Where the rows come from: open-market trades (codes P and S, what every market page but a screener on other codes
reads) come from the market index's open-market table (signals.ensure_index: one narrow Parquet file per store
snapshot, sorted by trade date, with the signal basis and the counted flags on each row), so a page reads a few
columns of one file instead of the whole store. A screener on other codes reads the store (signals.TRADES) and
labels its page from the index. Filters arrive as `where = (sql, params)` over alias `t` of those columns (the
`transactions` view's plus owned_before, delta_own, is_ceo, is_cfo, plan, days_to_file; MarketFilters.base_where()
gives them) with a relation `_issuers` defined by every query here; signal filters as `signal_where` over the same
alias with the signal columns too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import signals
from analytics.market_filters import MarketFilters
from loaders.frames import symbols
from loaders.parser import filing_url
from loaders.store import Store

Where = tuple[str, list]
NO_FILTER: Where = ("TRUE", [])

PLAN_LABELS = {"plan": "10b5-1 plan", "discretionary": "Discretionary", "unknown": "Plan status unknown"}
FREQS = {"W": "week", "M": "month", "Q": "quarter"}
TRADES = signals.TRADES


def _with(index: signals.Index, *ctes: str) -> str:
    """`WITH _issuers AS (...), om AS (the open-market table), <ctes>`."""
    return ", ".join([f"WITH _issuers AS (SELECT * FROM {index.issuers})", f"om AS (SELECT * FROM {index.trades})",
                      *ctes])  # fmt: skip


# The screener's columns, in display order; any of them can be the sort key.
SCREEN_COLUMNS = (
    "filing_date", "transaction_date", "ticker", "issuer_name", "owner_name", "role", "code", "acquired_disposed",
    "shares", "price", "value", "owned_before", "owned_after", "delta_own", "direct_indirect", "plan",
    "is_late", "days_to_file", "cmp_class", "first_buy", "largest", "form", "accession", "issuer_cik",
    "owner_cik", "officer_title", "is_director", "is_officer", "is_ceo", "is_cfo", "is_ten_percent_owner",
    "is_other", "n_owners", "tenb51_source", "late_business_days", "row_id",
)  # fmt: skip
SIGNAL_SORTS = set(signals.SIGNAL_COLUMNS)


@dataclass(frozen=True)
class Page:
    """One page of a longer result: `rows` shown, 1-based `page`. `total` rows match when it is known (the
    screener counts them, up to COUNT_CAP: beyond it `capped` says "more"); a feed (Latest) only knows whether
    `more` rows follow."""

    rows: pd.DataFrame
    total: int | None
    page: int
    page_size: int
    more: bool = False
    capped: bool = False  # more than `total` rows match (counting stops at COUNT_CAP)

    @property
    def pages(self) -> int:
        if self.total is None:
            return self.page + (1 if self.more else 0)
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1


# ---------------------------------------------------------------------------------------------- where helpers
def and_(*wheres: Where | None) -> Where:
    """Conjunction of (sql, params) pieces; None and empty pieces are skipped."""
    parts, params = [], []
    for w in wheres:
        if w and w[0] and w[0].strip().upper() != "TRUE":
            parts.append(f"({w[0]})")
            params += list(w[1])
    return (" AND ".join(parts) or "TRUE", params)


def date_where(column: str, start: dt.date | None, end: dt.date | None, alias: str = "t") -> Where:
    """`column` between start and end (inclusive); either bound may be None."""
    parts, params = [], []
    if start:
        parts.append(f"{alias}.{column} >= ?")
        params.append(pd.Timestamp(start))
    if end:
        parts.append(f"{alias}.{column} <= ?")
        params.append(pd.Timestamp(end))
    return (" AND ".join(parts) or "TRUE", params)


def codes_where(codes: tuple[str, ...] | list[str]) -> Where:
    if not codes:
        return NO_FILTER
    return (f"t.code IN ({', '.join('?' for _ in codes)})", list(codes))


def _order(sort: str, descending: bool, columns: tuple[str, ...] = SCREEN_COLUMNS, alias: str = "") -> str:
    if sort not in columns:
        raise ValueError(f"cannot sort by {sort!r}")
    a = f"{alias}." if alias else ""
    tie = f"{a}row_id" if "row_id" in columns else f"{a}accession"
    return f"{a}{sort} {'DESC' if descending else 'ASC'} NULLS LAST, {tie} {'DESC' if descending else 'ASC'}"


def _with_urls(frame: pd.DataFrame) -> pd.DataFrame:
    urls = [filing_url(c, a) for c, a in zip(frame["issuer_cik"], frame["accession"], strict=True)]
    return frame.assign(filing_url=pd.Series(urls, index=frame.index, dtype="string"))


def _query(store: Store, sql: str, params: list | None = None) -> pd.DataFrame:
    """One query over the index files (signals.query_index)."""
    return signals.query_index(store, [sql], params)[0]


def newest_filing_date(store: Store, today: dt.date | None = None) -> dt.date | None:
    """The newest filing date of an open-market trade in the store that is not in the future (a mistyped date must
    not move it): where the market pages' "this week" and default ranges end. Read from the index (a few columns
    of one file), not from every filing."""
    if not store.has_data():
        return None
    today = today or dt.date.today()
    index = signals.ensure_index(store)
    got = _query(
        store,
        f"SELECT max(filing_date) AS d FROM {index.trades} WHERE filing_date <= ?",
        [pd.Timestamp(today)],
    )
    d = got["d"].iloc[0]
    return None if pd.isna(d) else pd.Timestamp(d).date()


# ---------------------------------------------------------------------------------------------- the screener
ROW_SELECT = ", ".join(c for c in SCREEN_COLUMNS if c not in SIGNAL_SORTS)


COUNT_CAP = 100_000  # the screener counts matches up to this many ("100,000+"): a count stops scanning there
MAX_PAGES = 1_000_000


def screen(
    store: Store,
    where: Where = NO_FILTER,
    *,
    signal_where: Where = NO_FILTER,
    sort: str = "filing_date",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
    first_buy_years: int = signals.FIRST_BUY_YEARS,
    open_market: bool = False,
    from_store: bool = False,
) -> Page:
    """One page of trade rows matching `where` (and `signal_where`, which may use the signal columns), sorted by
    any SCREEN_COLUMNS column, with every signal column filled and an EDGAR link per row.

    The rows come from the market index: open_market=True says `where` keeps only codes P and S, so the
    open-market table (by trade date) is read; otherwise the rows table (every live Table I row, by code and trade
    date: a screen on some codes reads their row groups only). from_store=True reads the store instead (the page
    chosen on a few narrow columns, its rows read by id, issuer and filing date, labelled by joins to the signal
    basis): the reference the index is tested against. All give the same rows (tested)."""
    page_size = max(1, min(500, int(page_size)))
    page = max(1, int(page))
    if not store.has_data():
        return Page(_empty_screen(), 0, 1, page_size)
    order = _order(sort, descending)
    index = signals.ensure_index(store)
    wsql, wparams = where
    ssql, sparams = signal_where
    limit = f"LIMIT {page_size} OFFSET {(page - 1) * page_size}"
    count_of = f"SELECT count(*) AS n FROM (SELECT 1 FROM sel LIMIT {COUNT_CAP + 1})"
    if not from_store:
        src = "om" if open_market else f"(SELECT * FROM {index.rows})"
        head = _with(index, f"sel AS (SELECT * FROM (SELECT t.*, {signals.open_market_signals(first_buy_years)} "
                            f"FROM {src} t WHERE {wsql}) t WHERE {ssql})")  # fmt: skip
        cols = ", ".join(f"t.{c}" for c in SCREEN_COLUMNS)
        rows, count = signals.query_index(store,
            [f"{head} SELECT {cols}, CASE WHEN t.joint_duplicate AND t.suspect THEN 'joint_duplicate,suspect' "
             f"WHEN t.joint_duplicate THEN 'joint_duplicate' WHEN t.suspect THEN 'suspect' END AS excluded "
             f"FROM sel t ORDER BY {order} {limit}", f"{head} {count_of}"], wparams + sparams,
        )  # fmt: skip
        total = int(count["n"].iloc[0])
        return Page(_with_urls(rows), min(total, COUNT_CAP), page, page_size, capped=total > COUNT_CAP)
    keys = ["row_id", "issuer_cik", "filing_date", "owner_cik", "code", "transaction_date"]
    narrow = ", ".join(dict.fromkeys([*keys, *([sort] if sort not in SIGNAL_SORTS else [])]))
    head = _with(index, TRADES.strip(), f"cand AS (SELECT {narrow} FROM trades t WHERE {wsql})")
    if sort in SIGNAL_SORTS or ssql.strip().upper() != "TRUE":
        head += (f", sel AS (SELECT * FROM (SELECT t.*, {signals.signal_select(first_buy_years)} FROM cand t "
                 f"{signals.signal_joins(index)}) t WHERE {ssql})")  # fmt: skip
    else:
        head += ", sel AS (SELECT * FROM cand)"
    ids, count = store.query_many(
        [f"{head} SELECT row_id, issuer_cik, filing_date FROM sel t ORDER BY {order} {limit}", f"{head} {count_of}"],
        wparams + sparams,
    )  # fmt: skip
    total = int(count["n"].iloc[0])
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    if ids.empty:
        return Page(_empty_screen(), total, page, page_size, capped=capped)
    rows = _rows_by_id(store, ids, first_buy_years, index)
    rows = ids[["row_id"]].merge(rows, on="row_id", how="left")  # the order chosen above
    return Page(_with_urls(rows[[*SCREEN_COLUMNS, "excluded"]]), total, page, page_size, capped=capped)


def _rows_by_id(store: Store, ids: pd.DataFrame, years: int, index: signals.Index) -> pd.DataFrame:
    """Every screener column of the rows `ids` (row_id, issuer_cik, filing_date), signals included."""
    row_ids = [str(r) for r in ids["row_id"]]
    issuers = sorted({int(c) for c in ids["issuer_cik"].dropna()})
    days = sorted({pd.Timestamp(d) for d in ids["filing_date"].dropna()})
    prune = []
    params: list = []
    if issuers and ids["issuer_cik"].notna().all():
        prune.append(f"t.issuer_cik IN ({', '.join('?' for _ in issuers)})")
        params += issuers
    if days and ids["filing_date"].notna().all():
        prune.append(f"t.filing_date IN ({', '.join('?' for _ in days)})")
        params += days
    prune.append(f"t.row_id IN ({', '.join('?' for _ in row_ids)})")
    params += row_ids
    cols = ", ".join(f"t.{c}" for c in ROW_SELECT.split(", "))
    return store.query(
        f"""WITH {TRADES}, pg AS (SELECT {cols} FROM trades t WHERE {" AND ".join(prune)}),
        ex AS (SELECT row_id, string_agg(why, ',' ORDER BY why) AS why FROM {index.excluded}
               WHERE row_id IN (SELECT row_id FROM pg) GROUP BY row_id)
        SELECT t.*, {signals.signal_select(years)}, ex.why AS excluded FROM pg t {signals.signal_joins(index)}
        LEFT JOIN ex ON ex.row_id = t.row_id""",
        params,
    )


def _empty_screen() -> pd.DataFrame:
    return pd.DataFrame(columns=[*SCREEN_COLUMNS, "excluded", "filing_url"])


# ---------------------------------------------------------------------------------------------- latest filings
LATEST_COLUMNS = (
    "filing_date", "trade_date", "ticker", "issuer_name", "owner_name", "role", "code", "shares", "price",
    "value", "delta_own", "owned_after", "plan", "days_to_file", "is_late", "cmp_class", "first_buy", "largest",
    "n_rows", "n_owners", "form", "accession", "issuer_cik", "owner_cik", "owned_before", "is_ceo", "is_cfo",
    "is_officer", "is_director",
)  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A ready-made screen of the Latest page: its filters, a $ floor per filing (and code), an optional window
    of the last `days` days of filings up to the newest one, and a sort column."""

    title: str
    description: str
    filters: MarketFilters
    min_value: float = 0.0
    days: int | None = None
    sort: str = "filing_date"


PRESETS: dict[str, Preset] = {
    "latest": Preset(
        "Latest trades",
        "Open-market purchases and sales (codes P and S), newest filings first.",
        MarketFilters(),
    ),
    "purchases": Preset(
        "Latest purchases",
        "Open-market purchases (code P), newest filings first.",
        MarketFilters(codes=("P",)),
    ),
    "sales": Preset(
        "Latest sales", "Open-market sales (code S), newest filings first.", MarketFilters(codes=("S",))
    ),
    "officer-purchases": Preset(
        "Officer purchases",
        "Open-market purchases (P) by officers, newest filings first.",
        MarketFilters(codes=("P",), roles=("officer",)),
    ),
    "ceo-cfo-purchases": Preset(
        "CEO/CFO purchases \u2265 $25k",
        "Open-market purchases (P) of at least $25,000 per filing by a CEO or CFO (read from the officer title), "
        "newest filings first.",
        MarketFilters(codes=("P",), roles=("ceo", "cfo")),
        min_value=25_000.0,
    ),
    "biggest-week": Preset(
        "Biggest trades this week",
        "Open-market purchases and sales filed in the 7 days up to the newest filing in the store, largest $ first.",
        MarketFilters(),
        days=7,
        sort="value",
    ),
}


# Latest first looks at the newest (need x WINDOW_ROWS) matching rows, and widens 8x while the page is short.
WINDOW_ROWS = 8


def latest(
    store: Store,
    where: Where = NO_FILTER,
    *,
    min_value: float = 0.0,
    sort: str = "filing_date",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
    first_buy_years: int = signals.FIRST_BUY_YEARS,
) -> Page:
    """Newest filings first, one row per filing and transaction code with its trade summary; a feed: the page
    says whether older rows follow (`more`), not how many (counting them means grouping the whole market).

    shares and value are sums over the filing's rows with that code; price = value / shares of the priced rows;
    owned_before is the first such row's, owned_after the last row's; delta_own = shares / owned_before (blank
    for a new position); days_to_file from the earliest trade date; is_late if any row is late; plan is 'plan' or
    'discretionary' when every row agrees, 'mixed' when some are under a plan, else 'unknown'; signals are true
    when any row's trade day carries them (cmp_class of the earliest trade).

    Speed: sorted by filing date, it groups only the rows filed since a cutoff (the filing date of the k-th newest
    matching row), widening the cutoff until the page is full or everything is covered."""
    page_size = max(1, min(500, int(page_size)))
    page = max(1, int(page))
    if not store.has_data():
        return Page(pd.DataFrame(columns=[*LATEST_COLUMNS, "filing_url"]), None, 1, page_size)
    order = _order(sort, descending, (*LATEST_COLUMNS, "accession"), alias="t")
    need = page * page_size + 1  # one more than the page: tells whether older rows follow
    wsql, wparams = where
    params = [*wparams, float(min_value or 0.0)]
    k = need * WINDOW_ROWS
    index = signals.ensure_index(store)
    while True:
        cutoff = None
        if sort == "filing_date" and descending:
            got = _query(store,
                f"{_with(index)} SELECT min(filing_date) AS d, count(*) AS n FROM (SELECT t.filing_date FROM om t "
                f"WHERE t.code IS NOT NULL AND ({wsql}) ORDER BY t.filing_date DESC LIMIT {k})", wparams
            )  # fmt: skip
            if int(got["n"].iloc[0]) >= k:  # else every matching row is already within reach
                cutoff = pd.Timestamp(got["d"].iloc[0])
        rows = _latest_groups(store, index, wsql, params, cutoff, order, page, page_size, first_buy_years)
        if cutoff is None or len(rows) >= page_size + 1 or k > 50_000_000:
            break
        k *= 8
    more = len(rows) > page_size
    return Page(_with_urls(rows.iloc[:page_size][list(LATEST_COLUMNS)]), None, page, page_size, more=more)


def _latest_groups(store, index, wsql, params, cutoff, order, page, page_size, years) -> pd.DataFrame:
    """The groups of one Latest page (plus one more row when older ones follow)."""
    since = f" AND t.filing_date >= TIMESTAMP '{cutoff:%Y-%m-%d}'" if cutoff is not None else ""
    sql = f"""{_with(index)},
        cand AS (SELECT t.*, {signals.open_market_signals(years)} FROM om t
                 WHERE t.code IS NOT NULL AND ({wsql}){since}),
        grp AS (
            SELECT accession, code,
                any_value(filing_date) AS filing_date, min(transaction_date) AS trade_date,
                any_value(ticker) AS ticker, any_value(issuer_cik) AS issuer_cik,
                any_value(issuer_name) AS issuer_name, any_value(owner_cik) AS owner_cik,
                any_value(owner_name) AS owner_name, any_value(role) AS role, any_value(n_owners) AS n_owners,
                any_value(form) AS form, bool_or(is_ceo) AS is_ceo, bool_or(is_cfo) AS is_cfo,
                bool_or(is_officer) AS is_officer, bool_or(is_director) AS is_director,
                count(*) AS n_rows, sum(shares) AS shares, sum(value) AS value,
                sum(value) / nullif(sum(CASE WHEN value IS NOT NULL THEN shares END), 0) AS price,
                arg_min(owned_before, seq) AS owned_before, arg_max(owned_after, seq) AS owned_after,
                CASE WHEN bool_and(plan = 'plan') THEN 'plan'
                     WHEN bool_and(plan = 'discretionary') THEN 'discretionary'
                     WHEN bool_or(plan = 'plan') THEN 'mixed' ELSE 'unknown' END AS plan,
                coalesce(bool_or(is_late), FALSE) AS is_late, max(days_to_file) AS days_to_file,
                arg_min(cmp_class, transaction_date) AS cmp_class, bool_or(first_buy) AS first_buy,
                bool_or(largest) AS largest
            FROM cand GROUP BY accession, code
            HAVING coalesce(sum(value), 0) >= ?
        )
        SELECT * FROM (SELECT g.*, CASE WHEN g.owned_before > 0 THEN g.shares / g.owned_before END AS delta_own
                       FROM grp g) t
        ORDER BY {order} LIMIT {page_size + 1} OFFSET {(page - 1) * page_size}"""
    return _query(store, sql, params)


def preset_where(preset: Preset, newest: dt.date | None) -> Where:
    """The rows a preset looks at: its filters and, for 'this week', the filing dates of the last days."""
    f = preset.filters
    if preset.days and newest:
        f = f.replace(filed_start=newest - dt.timedelta(days=preset.days - 1), filed_end=newest)
    return f.base_where("t")


def latest_preset(store: Store, name: str, *, page: int = 1, page_size: int = 50,
                  today: dt.date | None = None) -> Page:  # fmt: skip
    """The Latest page for one of PRESETS (KeyError for an unknown name)."""
    preset = PRESETS[name]
    newest = newest_filing_date(store, today)
    return latest(
        store,
        preset_where(preset, newest),
        min_value=preset.min_value,
        sort=preset.sort,
        page=page,
        page_size=page_size,
    )


# ---------------------------------------------------------------------------------------------- market charts
def _period(freq: str) -> str:
    if freq not in FREQS:
        raise ValueError(f"unknown period {freq!r}")
    return f"date_trunc('{FREQS[freq]}', t.transaction_date)"


def market_flow(store: Store, where: Where = NO_FILTER, freq: str = "M", include_suspect: bool = False):
    """Open-market $ flow per period over the market (or the rows of `where`): one row per period x direction x
    plan status. Columns: period, direction ("Buy" for P, "Sell" for S), plan ("10b5-1 plan", "Discretionary",
    "Plan status unknown"), value (sells negative), shares (sells negative), trades (rows).

    Counted rows only, as in issuer totals: a trade reported in several owners' filings once, suspect values
    (typo prices) left out unless include_suspect."""
    cols = ["period", "direction", "plan", "value", "shares", "trades"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    wsql, params = where
    out = _query(
        store,
        f"""{_with(signals.ensure_index(store))}
        SELECT CAST({_period(freq)} AS DATE) AS period, CASE t.code WHEN 'P' THEN 'Buy' ELSE 'Sell' END AS direction,
               t.plan AS plan,
               sum(CASE t.code WHEN 'P' THEN 1 ELSE -1 END * coalesce(t.value, 0)) AS value,
               sum(CASE t.code WHEN 'P' THEN 1 ELSE -1 END * coalesce(t.shares, 0)) AS shares,
               count(*) AS trades
        FROM om t WHERE t.transaction_date IS NOT NULL AND ({wsql}) AND {signals.counted(include_suspect)}
        GROUP BY ALL ORDER BY period, direction, plan""",
        params,
    )
    out["plan"] = out["plan"].map(PLAN_LABELS)
    out["period"] = pd.to_datetime(out["period"])
    out["trades"] = out["trades"].astype("int64")
    return out[cols]


def buy_sell_ratio(store: Store, where: Where = NO_FILTER, freq: str = "M", include_suspect: bool = False):
    """Per period: buy_filings (filings with an open-market purchase), sell_filings (with a sale), ratio =
    buy_filings / sell_filings (blank with no sales), bought and sold in $ (counted rows, as market_flow)."""
    cols = ["period", "buy_filings", "sell_filings", "ratio", "bought", "sold"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    wsql, params = where
    out = _query(
        store,
        f"""{_with(signals.ensure_index(store))}
        SELECT CAST({_period(freq)} AS DATE) AS period,
               count(DISTINCT t.accession) FILTER (WHERE t.code = 'P') AS buy_filings,
               count(DISTINCT t.accession) FILTER (WHERE t.code = 'S') AS sell_filings,
               coalesce(sum(t.value) FILTER (WHERE t.code = 'P'), 0) AS bought,
               coalesce(sum(t.value) FILTER (WHERE t.code = 'S'), 0) AS sold
        FROM om t WHERE t.transaction_date IS NOT NULL AND ({wsql}) AND {signals.counted(include_suspect)}
        GROUP BY ALL ORDER BY period""",
        params,
    )
    out["period"] = pd.to_datetime(out["period"])
    sells = out["sell_filings"].astype("float64")
    out["ratio"] = (out["buy_filings"] / sells.where(sells > 0)).astype("float64")
    return out[cols]


def top_issuers(store: Store, where: Where = NO_FILTER, n: int = 20, include_suspect: bool = False):
    """Issuers with the largest net open-market buying (bought - sold, $) among the counted rows of `where`
    (as market_flow), net > 0 only, largest first. Columns: issuer_cik, ticker, issuer_name, bought, sold, net,
    buyers, sellers."""
    cols = ["issuer_cik", "ticker", "issuer_name", "bought", "sold", "net", "buyers", "sellers"]
    if not store.has_data():
        return pd.DataFrame(columns=cols)
    wsql, params = where
    n = max(1, min(500, int(n)))
    top = _query(
        store,
        f"""{_with(signals.ensure_index(store))}
        SELECT t.issuer_cik, arg_max(t.ticker, t.filing_date) AS ticker,
               arg_max(t.issuer_name, t.filing_date) AS issuer_name,
               coalesce(sum(t.value) FILTER (WHERE t.code = 'P'), 0) AS bought,
               coalesce(sum(t.value) FILTER (WHERE t.code = 'S'), 0) AS sold,
               bought - sold AS net,
               count(DISTINCT t.owner_cik) FILTER (WHERE t.code = 'P') AS buyers,
               count(DISTINCT t.owner_cik) FILTER (WHERE t.code = 'S') AS sellers
        FROM om t WHERE ({wsql}) AND {signals.counted(include_suspect)}
        GROUP BY t.issuer_cik HAVING net > 0 ORDER BY net DESC, t.issuer_cik LIMIT {n}""",
        params,
    )[cols]
    # "NONE", "N/A"... as filed name no symbol: left blank, so the chart and table name the issuer instead
    listed = top["ticker"].map(lambda t: bool(symbols(t)), na_action="ignore").fillna(False).astype(bool)
    return top.assign(ticker=top["ticker"].where(listed))


# ---------------------------------------------------------------------------------------------- cluster buys
CLUSTER_COLUMNS = (
    "ticker", "issuer_name", "start", "end", "insiders", "names", "trades", "shares", "value", "delta_own",
    "window_end", "issuer_cik", "owner_ciks",
)  # fmt: skip


def cluster_buys(
    store: Store,
    start: dt.date | None,
    end: dt.date | None,
    *,
    window_days: int = 30,
    min_insiders: int = 2,
    min_value: float = 0.0,
    where: Where = NO_FILTER,
) -> pd.DataFrame:
    """Issuers where at least `min_insiders` distinct insiders bought in the open market (code P only: no awards,
    exercises or withholding) within `window_days` days, trade dates in [start, end].

    Clusters are built per issuer from its purchase days in date order: a cluster opens at the first purchase not
    yet in a cluster and takes every purchase up to `window_days` days after it; the next one opens at the first
    purchase after that. Kept when it has >= min_insiders distinct insiders and >= min_value total $. A purchase
    reported in several owners' filings (a fund and its general partner) counts once, for the owner who filed it
    first (analytics.flow's joint-filing rule).
    One row per cluster (CLUSTER_COLUMNS), newest first: start/end = first/last purchase, window_end = start +
    window, names "; "-joined, delta_own = shares bought / shares the buyers held before their first purchase
    in the cluster (buyers whose holding before is known and positive)."""
    window_days = max(1, min(3660, int(window_days)))
    min_insiders = max(1, min(1000, int(min_insiders)))
    if not store.has_data():
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    rng = date_where("transaction_date", start, end)
    wsql, params = and_(rng, where)
    days = _query(
        store,
        f"""{_with(signals.ensure_index(store))},
        buys AS (SELECT * FROM om t WHERE t.code = 'P' AND t.transaction_date IS NOT NULL AND ({wsql})
                 AND {signals.counted(include_suspect=True)}),
        many AS (SELECT issuer_cik FROM buys GROUP BY issuer_cik HAVING count(DISTINCT owner_cik) >= {min_insiders})
        SELECT issuer_cik, owner_cik, transaction_date AS d, arg_max(owner_name, filing_date) AS owner_name,
               arg_max(ticker, filing_date) AS ticker, arg_max(issuer_name, filing_date) AS issuer_name,
               count(*) AS trades, sum(coalesce(shares, 0)) AS shares, sum(coalesce(value, 0)) AS value,
               min_by(owned_before, accession || lpad(CAST(seq AS VARCHAR), 6, '0')) AS owned_before
        FROM buys WHERE issuer_cik IN (SELECT issuer_cik FROM many) AND owner_cik IS NOT NULL
        GROUP BY issuer_cik, owner_cik, transaction_date
        ORDER BY issuer_cik, d, owner_cik""",
        params,
    )
    out = _clusters(days, window_days, min_insiders, float(min_value or 0.0))
    return out.sort_values(["start", "value"], ascending=[False, False]).reset_index(drop=True)


def _cluster_ids(issuers: np.ndarray, dates: np.ndarray, window_days: int) -> np.ndarray:
    """Greedy windows over purchase days sorted by issuer and date: a window opens at the first day not yet in
    one and takes every day up to `window_days` after it. One integer id per day."""
    ids = np.empty(len(dates), dtype=np.int64)
    days = dates.astype("datetime64[D]").astype(np.int64)
    current, opened, issuer = -1, 0, None
    for i in range(len(days)):
        if issuers[i] != issuer or days[i] > opened + window_days:
            current, opened, issuer = current + 1, days[i], issuers[i]
        ids[i] = current
    return ids


def _clusters(
    days: pd.DataFrame, window_days: int, min_insiders: int = 1, min_value: float = 0.0
) -> pd.DataFrame:
    """One row per window of the purchase days that has >= min_insiders insiders and >= min_value $
    (CLUSTER_COLUMNS), vectorised over every issuer at once; names and CIKs are joined for the kept ones only."""
    if days.empty:
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    days = days.sort_values(["issuer_cik", "d", "owner_cik"], kind="stable").reset_index(drop=True)
    days["cluster"] = _cluster_ids(days["issuer_cik"].to_numpy(), days["d"].to_numpy(), window_days)
    g = days.groupby("cluster", sort=False)
    insiders, value = g["owner_cik"].nunique(), g["value"].sum()
    kept = insiders.index[(insiders >= min_insiders) & (value >= float(min_value or 0.0))]
    days = days[days["cluster"].isin(kept)]
    if days.empty:
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    g = days.groupby("cluster", sort=False)
    first = days.drop_duplicates(["cluster", "owner_cik"])  # each buyer's first purchase day in the window
    known = first[first["owned_before"] > 0]
    before = known.groupby("cluster")["owned_before"].sum()
    bought = (
        days.merge(known[["cluster", "owner_cik"]], on=["cluster", "owner_cik"])
        .groupby("cluster")["shares"]
        .sum()
    )
    people = days.assign(
        owner_name=days["owner_name"].fillna("").astype(str), cik=days["owner_cik"].astype("int64")
    )
    named = people.sort_values("owner_name", kind="stable").drop_duplicates(["cluster", "cik"], keep="last")
    ciks = people.drop_duplicates(["cluster", "cik"]).sort_values(["cluster", "cik"])
    out = pd.DataFrame({
        "ticker": g["ticker"].last(),
        "issuer_name": g["issuer_name"].last(),
        "start": pd.to_datetime(g["d"].min()),
        "end": pd.to_datetime(g["d"].max()),
        "insiders": g["owner_cik"].nunique().astype("int64"),
        "names": _joined(named.sort_values(["cluster", "owner_name"]), "owner_name", "; "),
        "trades": g["trades"].sum().astype("int64"),
        "shares": g["shares"].sum().astype("float64"),
        "value": g["value"].sum().astype("float64"),
        "delta_own": (bought / before.where(before > 0)).astype("float64"),
        "issuer_cik": g["issuer_cik"].first().astype("int64"),
        "owner_ciks": _joined(ciks, "cik", "|"),
    })  # fmt: skip
    out["window_end"] = out["start"] + pd.Timedelta(days=window_days)
    return out[list(CLUSTER_COLUMNS)].reset_index(drop=True)


def _joined(frame: pd.DataFrame, column: str, sep: str) -> pd.Series:
    """`column` as text joined by `sep` per cluster, in the frame's order (one pass; a grouped Python join per
    cluster costs a second on thousands of clusters)."""
    out: dict[int, list[str]] = {}
    for key, value in zip(frame["cluster"].tolist(), frame[column].astype(str).tolist(), strict=True):
        out.setdefault(key, []).append(value)
    return pd.Series({k: sep.join(v) for k, v in out.items()}, dtype="object")


def cluster_trades(store: Store, issuer_cik: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The purchase rows (code P) of one issuer between two trade dates, each purchase once (as cluster_buys):
    one cluster's trades for its timeline.
    Columns: transaction_date, owner_name, owner_cik, role, shares, price, value, owned_after, delta_own,
    accession, filing_url."""
    cols = ["transaction_date", "owner_name", "owner_cik", "role", "shares", "price", "value", "owned_after",
            "delta_own", "accession", "issuer_cik"]  # fmt: skip
    if not store.has_data():
        return pd.DataFrame(columns=[*cols, "filing_url"])
    rows = _query(
        store,
        f"""{_with(signals.ensure_index(store))}
        SELECT {", ".join("t." + c for c in cols)} FROM om t
        WHERE t.code = 'P' AND t.issuer_cik = ? AND t.transaction_date BETWEEN ? AND ?
          AND {signals.counted(include_suspect=True)}
        ORDER BY t.transaction_date, t.accession, t.seq""",
        [int(issuer_cik), pd.Timestamp(start), pd.Timestamp(end)],
    )
    return _with_urls(rows)


# ---------------------------------------------------------------------------------------------- shown tables
PLAN_WORDS = {"plan": "10b5-1 plan", "discretionary": "Discretionary", "unknown": "Unknown", "mixed": "Mixed"}
CMP_WORDS = {"routine": "Routine", "opportunistic": "Opportunistic", "unclassified": "Unclassified"}
_ROLE_PART = re.compile(r"(Director|10% Owner|Officer \((.*?)\)|Officer|Other \((.*?)\)|Other)(?=; |$)")


def short_role(role: str | None) -> str:
    """'Director; Officer (President and CEO); 10% Owner' -> 'Dir, President and CEO, 10%'."""
    out = []
    for m in _ROLE_PART.finditer(role or ""):
        whole, title, other = m.group(1), m.group(2), m.group(3)
        out.append({"Director": "Dir", "10% Owner": "10%"}.get(whole, title or other or whole))
    return ", ".join(out)


def _flag(values: pd.Series) -> list:
    return [None if v is None or v is pd.NA or v != v else bool(v) for v in values.astype("object")]


def _yes(values: pd.Series, no: str = "") -> pd.Series:
    return pd.Series(["Yes" if v is True else (no if v is False else "") for v in _flag(values)],
                     index=values.index, dtype="string")  # fmt: skip


def _largest(rows: pd.DataFrame) -> pd.Series:
    words = rows["code"].map({"P": "Largest buy", "S": "Largest sale"}).fillna("")
    return pd.Series([w if f is True else "" for w, f in zip(words, _flag(rows["largest"]), strict=True)],
                     index=rows.index, dtype="string")  # fmt: skip


def _delta_words(rows: pd.DataFrame) -> pd.Series:
    """ΔOwn as shown: '12.5%', 'New' (nothing owned before), '' (holding not given)."""
    out = []
    for d, before in zip(rows["delta_own"], rows["owned_before"], strict=True):
        if d == d and d is not None and d is not pd.NA:
            out.append(f"{float(d):.1%}" if float(d) < 100 else f"{float(d):,.0%}")
        elif before == 0:
            out.append("New")
        else:
            out.append("")
    return pd.Series(out, index=rows.index, dtype="string")


_SHOWN_HEAD = {
    "ticker": "Ticker", "owner_name": "Insider", "title": "Title", "code": "Code", "value": "Value ($)",
    "delta_own": "\u0394Own", "cmp_class": "Trader type", "first_buy": "First buy", "largest": "Largest",
    "plan": "10b5-1", "is_late": "Late",
}  # fmt: skip
LATEST_TABLE = {
    "filing_date": "Filed", **_SHOWN_HEAD, "trade_date": "Trade date", "shares": "Shares", "price": "Price ($)",
    "owned_after": "Owned after", "days_to_file": "Days to file", "issuer_name": "Issuer", "filing_url": "Filing",
}  # fmt: skip
SCREEN_TABLE = {
    "filing_date": "Filed", **_SHOWN_HEAD, "transaction_date": "Trade date", "shares": "Shares",
    "price": "Price ($)", "owned_before": "Owned before", "owned_after": "Owned after", "days_to_file": "Days to file",
    "direct_indirect": "D/I", "form": "Form", "check": "Check", "issuer_name": "Issuer", "filing_url": "Filing",
}  # fmt: skip
CHECK_WORDS = {
    "joint_duplicate": "Same trade as another owner's filing (counted once in totals)",
    "suspect": "Suspect value (left out of totals)",
}


def _shown(rows: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=list(columns.values()))
    frame = rows.assign(
        title=rows["role"].map(short_role).astype("string"),
        value=rows["value"].round(0),
        delta_own=_delta_words(rows),
        plan=rows["plan"].map(PLAN_WORDS).astype("string"),
        is_late=_yes(rows["is_late"]),
        cmp_class=rows["cmp_class"].map(CMP_WORDS).astype("string"),
        first_buy=_yes(rows["first_buy"], no="No"),
        largest=_largest(rows),
        check=_check_words(rows["excluded"] if "excluded" in rows else pd.Series(pd.NA, index=rows.index)),
    )
    return frame[list(columns)].rename(columns=columns).reset_index(drop=True)


def _check_words(why: pd.Series) -> pd.Series:
    words = [
        "; ".join(CHECK_WORDS[w] for w in str(v).split(",") if w in CHECK_WORDS) if isinstance(v, str) else ""
        for v in why.astype("object")
    ]
    return pd.Series(words, index=why.index, dtype="string")


def latest_table(page: Page) -> pd.DataFrame:
    """The Latest table as shown and exported: readable names, whole dollars, signals as words, EDGAR links."""
    return _shown(page.rows, LATEST_TABLE)


def screen_table(page: Page) -> pd.DataFrame:
    """The screener table as shown and exported."""
    return _shown(page.rows, SCREEN_TABLE)


CLUSTER_TABLE = {
    "ticker": "Ticker", "start": "First buy", "end": "Last buy", "insiders": "Insiders", "value": "Total ($)",
    "delta_own": "\u0394Own", "trades": "Trades", "shares": "Shares", "names": "Names", "issuer_name": "Issuer",
    "issuer_cik": "CIK",
}  # fmt: skip


def clusters_table(clusters: pd.DataFrame) -> pd.DataFrame:
    """The cluster list as shown and exported (whole dollars, ΔOwn as a percentage, '' when unknown)."""
    if clusters.empty:
        return pd.DataFrame(columns=list(CLUSTER_TABLE.values()))
    frame = clusters.assign(
        value=clusters["value"].round(0),
        delta_own=[f"{d:.1%}" if d == d else "" for d in clusters["delta_own"]],
    )
    return frame[list(CLUSTER_TABLE)].rename(columns=CLUSTER_TABLE).reset_index(drop=True)


CLUSTER_TRADES_TABLE = {
    "transaction_date": "Trade date", "owner_name": "Insider", "title": "Title", "value": "Value ($)",
    "shares": "Shares", "price": "Price ($)", "delta_own": "\u0394Own", "owned_after": "Owned after",
    "accession": "Accession", "filing_url": "Filing",
}  # fmt: skip


def cluster_trades_table(trades: pd.DataFrame) -> pd.DataFrame:
    """One cluster's purchases as shown and exported."""
    if trades.empty:
        return pd.DataFrame(columns=list(CLUSTER_TRADES_TABLE.values()))
    before = trades["owned_after"] - trades["shares"]
    frame = trades.assign(title=trades["role"].map(short_role).astype("string"), value=trades["value"].round(0),
                          delta_own=_delta_words(trades.assign(owned_before=before)))  # fmt: skip
    return frame[list(CLUSTER_TRADES_TABLE)].rename(columns=CLUSTER_TRADES_TABLE).reset_index(drop=True)


TOP_TABLE = {
    "ticker": "Ticker", "issuer_name": "Issuer", "net": "Net ($)", "bought": "Bought ($)", "sold": "Sold ($)",
    "buyers": "Buyers", "sellers": "Sellers", "issuer_cik": "CIK",
}  # fmt: skip


def top_issuers_table(top: pd.DataFrame) -> pd.DataFrame:
    """Top issuers by net buying as shown and exported (whole dollars)."""
    if top.empty:
        return pd.DataFrame(columns=list(TOP_TABLE.values()))
    frame = top.assign(**{c: top[c].round(0) for c in ("net", "bought", "sold")})
    return frame[list(TOP_TABLE)].rename(columns=TOP_TABLE).reset_index(drop=True)
