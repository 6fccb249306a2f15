"""The market pages' controls and their URL, and cached market queries (the Streamlit edge of analytics.market).

Each market page (Latest, Screener, Cluster buys, Market flow) keeps every control in the query string through
one `MarketFilters` value: `arrive(page)` reads a URL that is new to this session (a fresh load, a pasted or
shared link, a page switch) into the widgets and collects the plain messages about bad values; the page renders
widgets keyed `m_<filter name>`; `settle(page, names)` turns those widgets back into filters (validated by the same
descriptors, so a minimum above its maximum typed in the boxes gets the same message as in a URL) and writes the
URL. The shared sidebar filters of the issuer pages are not shown on these pages (app.py).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import market
from analytics.filters import DATE_MAX, DATE_MIN, MAX_AMOUNT, PLAN_STATES, two_years_to
from analytics.market_filters import MARKET_ROLES, MAX_PERCENT, MAX_SHARES, SORTABLE, MarketFilters
from loaders.codes import SHORT_NAMES, TRANSACTION_CODES
from loaders.store import Store
from ui import data
from ui.text import plain

PATHS = ("latest", "screener", "clusters", "market")
PLAN_NAMES = {"yes": "Under a 10b5-1 plan", "no": "Not under a plan", "unknown": "Unknown"}
LATE_NAMES = {"all": "Any", "yes": "Late only", "no": "On time only"}
CMP_NAMES = {"routine": "Routine", "opportunistic": "Opportunistic", "unclassified": "Unclassified"}
SORT_NAMES = {
    "filing_date": "Filing date", "transaction_date": "Trade date", "ticker": "Ticker", "issuer_name": "Issuer",
    "owner_name": "Insider", "role": "Role", "code": "Code", "shares": "Shares", "price": "Price",
    "value": "Value ($)", "owned_before": "Owned before", "owned_after": "Owned after", "delta_own": "\u0394Own",
    "plan": "10b5-1 status", "is_late": "Late", "days_to_file": "Days to file", "cmp_class": "Trader type",
    "first_buy": "First buy", "largest": "Largest", "form": "Form",
}  # fmt: skip
PER_NAMES = {"W": "Week", "M": "Month", "Q": "Quarter"}


def _key(name: str) -> str:
    return f"m_{name}"


# --------------------------------------------------------------------------------------------- URL <-> widgets
def _to_widgets(f: MarketFilters) -> None:
    ss = st.session_state
    for spec in f.specs():
        value = getattr(f, spec.name)
        if spec.name == "insider":
            value = "" if value is None else str(value)
        elif spec.name == "tickers":
            value = ", ".join(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif spec.name in ("first_buy", "largest"):
            value = value == "yes"
        elif spec.name == "suspect":
            value = value == "in"
        ss[_key(spec.name)] = value


def arrive(page: str) -> tuple[MarketFilters, list[str]]:
    """The filters of the URL this page was opened with (read into the widgets once per new URL) and the
    messages about values that were ignored or clamped."""
    ss = st.session_state
    query = st.query_params.to_dict()
    if ss.get("_m_url") != (page, query):
        f, notes = MarketFilters.parse_query(query)
        _to_widgets(f)
        ss["_m_base"], ss["_m_notes"] = f, [str(n) for n in notes]
        ss["_m_url"] = (page, query)
    return ss["_m_base"], ss["_m_notes"]


def _from_widgets(base: MarketFilters, names: tuple[str, ...]) -> MarketFilters:
    ss = st.session_state
    values = {}
    for name in names:
        v = ss.get(_key(name))
        if name == "tickers":
            v, _ = MarketFilters.tickers.parse(v or "")
        elif name == "insider":
            v = ss.get("_m_insider_cik")
        elif name in ("first_buy", "largest"):
            v = "yes" if v else "all"
        elif name == "suspect":
            v = "in" if v else "out"
        elif name == "codes":
            v = tuple(v or ())
        elif isinstance(v, list):
            v = tuple(v)
        values[name] = v
    return base.replace(**{k: v for k, v in values.items() if v is not None or k in _NULLABLE})


_NULLABLE = {"insider", "start", "end", "filed_start", "filed_end", "max_value", "min_price", "max_price",
             "min_shares", "max_shares", "min_own", "max_own"}  # fmt: skip


def settle(page: str, base: MarketFilters, names: tuple[str, ...]) -> tuple[MarketFilters, list[str]]:
    """Filters from the widgets `names` (others keep the URL's values), validated; the URL is updated to them.
    Returns the filters and the messages (the URL's on arrival, or about values typed in the boxes)."""
    ss = st.session_state
    f, notes = MarketFilters.parse_query(_from_widgets(base, names).to_query())
    last = ss.get("_m_last")
    if last is not None and f.page == last.page != 1 and f.replace(page=1) != last.replace(page=1):
        f = f.replace(page=1)  # another control changed: back to the first page
        ss[_key("page")] = 1
    query = f.to_query()
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    if ss.get("_m_last") not in (None, f):  # a control changed: the URL's messages are old news
        ss["_m_notes"] = []
    ss["_m_last"] = f
    ss["_m_url"] = (page, query)
    shown = list(dict.fromkeys(ss.get("_m_notes", []) + [str(n) for n in notes]))
    return f, shown


def show_notes(notes: list[str]) -> None:
    for note in notes:
        st.warning(plain(note), icon=":material/link:")


# --------------------------------------------------------------------------------------------- widgets
def ticker_box(where=st.sidebar) -> None:
    where.text_input("Issuer ticker(s)", key=_key("tickers"), placeholder="e.g. AAPL, MSFT",
                     help="Only trades of these issuers (at most 20). Empty = the whole market.")  # fmt: skip
    _, note = MarketFilters.tickers.parse(st.session_state.get(_key("tickers")) or "")
    if note:
        where.caption(plain(note))


def insider_box(where=st.sidebar) -> None:
    from ui import state  # the shared resolver: a CIK, or the best name match in the store

    ss = st.session_state
    where.text_input("Insider (name or CIK)", key=_key("insider"), placeholder="e.g. Buffett or 315090")
    text = (ss.get(_key("insider")) or "").strip()
    if text.isdigit() and (len(text) > 10 or int(text) == 0):
        where.caption(
            plain(f"Ignored insider \u201c{text[:24]}\u201d: a CIK is a number of at most 10 digits.")
        )
        ss["_m_insider_cik"] = None
        return
    cik, name = state.insider_cik(text) if text else (None, None)
    ss["_m_insider_cik"] = cik
    if text:
        where.caption(plain(f"\u2192 {name or 'insider'} (CIK {cik})") if cik else "No insider of that name.")


def date_pair(label: str, start: str, end: str, where=st.sidebar) -> None:
    """Two date boxes, one under the other (side by side they are too narrow to read in the sidebar)."""
    for name, word in ((start, "from"), (end, "to")):
        where.date_input(f"{label} {word}", key=_key(name), min_value=DATE_MIN, max_value=DATE_MAX,
                         format="YYYY-MM-DD")  # fmt: skip


def number_pair(
    label: str, low: str, high: str, maximum: float, step: float, fmt: str, where=st.sidebar
) -> None:
    c1, c2 = where.columns(2)
    c1.number_input(f"{label} min", key=_key(low), min_value=0.0, max_value=maximum, step=step, format=fmt)
    c2.number_input("max", key=_key(high), min_value=0.0, max_value=maximum, step=step, format=fmt)


def codes_box(where=st.sidebar) -> None:
    where.multiselect("Transaction codes", options=list(TRANSACTION_CODES), key=_key("codes"),
                      format_func=lambda c: f"{c} \u00b7 {SHORT_NAMES[c]}",
                      help="Empty = every code. Default: open-market purchases (P) and sales (S).")  # fmt: skip


def roles_box(where=st.sidebar) -> None:
    where.multiselect("Role", options=list(MARKET_ROLES), key=_key("roles"),
                      format_func=lambda r: MARKET_ROLES[r].capitalize() if r not in ("ceo", "cfo") else r.upper(),
                      help="CEO and CFO are read from the officer title (Chief Executive/Financial Officer, CEO, "
                      "CFO, Principal Executive/Financial Officer).")  # fmt: skip


def plan_box(where=st.sidebar) -> None:
    where.multiselect("10b5-1 plan", options=list(PLAN_STATES), key=_key("plan"), format_func=PLAN_NAMES.get)


SCREEN_WIDGETS = (
    "tickers", "insider", "start", "end", "filed_start", "filed_end", "codes", "roles", "min_value", "max_value",
    "min_price", "max_price", "min_shares", "max_shares", "min_own", "max_own", "plan", "late", "cmp",
    "first_buy", "largest", "years", "sort", "order", "page",
)  # fmt: skip


def screener_sidebar() -> None:
    """Every screener filter in the sidebar (keys m_<name>)."""
    from analytics.signals import RULES

    sb = st.sidebar
    sb.markdown("### Screen")
    ticker_box()
    insider_box()
    date_pair("Trade date", "start", "end")
    date_pair("Filed", "filed_start", "filed_end")
    codes_box()
    roles_box()
    with sb.expander("Amounts", expanded=True):
        number_pair("Value ($)", "min_value", "max_value", MAX_AMOUNT, 10_000.0, "%.0f", where=st)
        number_pair("Price ($)", "min_price", "max_price", MAX_AMOUNT, 1.0, "%.2f", where=st)
        number_pair("Shares", "min_shares", "max_shares", MAX_SHARES, 1_000.0, "%.0f", where=st)
        number_pair("\u0394Own (%)", "min_own", "max_own", MAX_PERCENT, 5.0, "%.1f", where=st)
    with sb.expander("Plan, timeliness and signals", expanded=True):
        plan_box(where=st)
        st.selectbox("Late filing", options=list(LATE_NAMES), key=_key("late"), format_func=lambda v: LATE_NAMES.get(v, v),
                     help=RULES["late"])  # fmt: skip
        st.multiselect("Trader type", options=list(CMP_NAMES), key=_key("cmp"), format_func=lambda v: CMP_NAMES.get(v, v),
                       help=RULES["cmp_class"])  # fmt: skip
        st.checkbox("First buys only", key=_key("first_buy"), help=RULES["first_buy"])
        st.number_input("\u201cFirst buy\u201d looks back (years)", min_value=1, max_value=20, step=1,
                        key=_key("years"))  # fmt: skip
        st.checkbox("Each insider's largest trades only", key=_key("largest"), help=RULES["largest"])


def sort_controls(where=st) -> None:
    c1, c2 = where.columns([3, 2])
    c1.selectbox("Sort by", options=list(SORTABLE), key=_key("sort"), format_func=SORT_NAMES.get)
    c2.radio("Order", options=["desc", "asc"], key=_key("order"), horizontal=True,
             format_func={"desc": "Largest / newest first", "asc": "Smallest / oldest first"}.get)  # fmt: skip


def pager(total_pages: int, where=st, exact: bool = True) -> None:
    """Page number box. A page past the last one (from a URL) moves to the last page, and says so."""
    ss = st.session_state
    total_pages = max(1, total_pages)
    asked = ss.get(_key("page")) or 1
    if asked > total_pages:
        ss[_key("page")] = total_pages
        ss["_m_notes"] = [*ss.get("_m_notes", []), f"Page {asked:,} is past the last page; showing page "
                                                   f"{total_pages:,}."]  # fmt: skip
        if ss.get("_m_last") is not None:  # not a change of the user's: keep the message
            ss["_m_last"] = ss["_m_last"].replace(page=total_pages)
        st.rerun()
    col, _ = where.columns([1, 3])
    label = f"Page (of {total_pages:,})" if exact else "Page"
    col.number_input(label, min_value=1, max_value=max(1, total_pages), step=1, key=_key("page"))


def trade_columns(years: int = 2) -> dict:
    """Column formats and hover rules of the Latest and Screener tables."""
    from analytics.signals import RULES

    text = st.column_config.TextColumn
    number = st.column_config.NumberColumn
    return {
        "Filed": st.column_config.DateColumn(width=90), "Trade date": st.column_config.DateColumn(width=90),
        "Ticker": text(width=80, pinned=True), "Insider": text(width=150, pinned=True), "Title": text(width=140),
        "Code": text(width=48, help="; ".join(f"{c} {n}" for c, n in SHORT_NAMES.items())),
        "Value ($)": number(format="localized", width=100, help="Shares \u00d7 price, whole dollars."),
        "\u0394Own": text(width=64, help=RULES["delta_own"]),
        "Trader type": text(width=104, help=RULES["cmp_class"]),
        "First buy": text(width=72, help=RULES["first_buy"].replace("N years", f"{years} years")),
        "Largest": text(width=96, help=RULES["largest"]), "10b5-1": text(width=100, help=RULES["plan"]),
        "Late": text(width=48, help=RULES["late"]),
        "Shares": number(format="localized"), "Price ($)": number(format="dollar"),
        "Owned after": number(format="localized"), "Owned before": number(format="localized"),
        "Days to file": number(width=70, help=RULES["days_to_file"]),
        "Check": text(help="Rows the market totals count differently: a trade also reported in another owner's "
                      "filing (counted once), or a suspect value such as a typo price (left out unless asked)."),
        "Filing": st.column_config.LinkColumn("Filing", display_text="EDGAR \u2197", width=80),
    }  # fmt: skip


# --------------------------------------------------------------------------------------------- cached queries
def ready() -> None:
    """Build the market index of the store's current snapshot if it is missing (about 7 s per million rows,
    once after each load of new filings), saying so while it runs; then every query below is quick."""
    from analytics import signals

    store = data.store()
    if not store.has_data():
        return
    tag = signals.snapshot_tag(store)
    if st.session_state.get("_m_index") != tag:
        with st.spinner("Indexing the market for these pages (once after each load of new filings)\u2026"):
            signals.ensure_index(store)
        st.session_state["_m_index"] = tag


def _root() -> str:
    return str(data.store().root)


@st.cache_data(max_entries=16, show_spinner=False)
def _newest(root: str, ver: str, today: dt.date) -> dt.date | None:
    return market.newest_filing_date(Store(root), today)


def newest() -> dt.date | None:
    """The newest filing date in the store (not in the future)."""
    return _newest(_root(), data.version(), dt.date.today())


def default_range() -> tuple[dt.date, dt.date] | None:
    """Two years up to the newest filing in the store."""
    day = newest()
    return two_years_to(day) if day else None


@st.cache_data(max_entries=64, show_spinner="Reading the store\u2026")
def _latest(root: str, ver: str, preset: str, page: int, today: dt.date) -> market.Page:
    return market.latest_preset(Store(root), preset, page=page, today=today)


def latest(preset: str, page: int) -> market.Page:
    return _latest(_root(), data.version(), preset, page, dt.date.today())


def _key_of(f: MarketFilters) -> tuple[tuple[str, str], ...]:
    """A hashable, exact stand-in for the filters (their URL) for st.cache_data."""
    return tuple(sorted(f.to_query().items()))


def _filters(key: tuple[tuple[str, str], ...]) -> MarketFilters:
    return MarketFilters.from_query(dict(key))


@st.cache_data(max_entries=64, show_spinner="Screening\u2026")
def _screen(root: str, ver: str, key: tuple) -> market.Page:
    f = _filters(key)
    return market.screen(Store(root), f.base_where("t"), signal_where=f.signal_where("t"), sort=f.sort,
                         descending=f.order == "desc", page=f.page, page_size=50, first_buy_years=f.years,
                         open_market=open_market_only(f))  # fmt: skip


def open_market_only(f: MarketFilters) -> bool:
    """The screen keeps only open-market codes (P, S), so it can read the index's open-market table."""
    return bool(f.codes) and set(f.codes) <= {"P", "S"}


def screen(f: MarketFilters) -> market.Page:
    return _screen(_root(), data.version(), _key_of(f))


@st.cache_data(max_entries=32, show_spinner="Finding clusters\u2026")
def _clusters(root: str, ver: str, key: tuple) -> pd.DataFrame:
    f = _filters(key)
    where = f.replace(codes=("P",), start=None, end=None).base_where("t")
    return market.cluster_buys(Store(root), f.start, f.end, window_days=f.window, min_insiders=f.buyers,
                               min_value=f.cluster_min or 0.0, where=where)  # fmt: skip


def clusters(f: MarketFilters) -> pd.DataFrame:
    return _clusters(_root(), data.version(), _key_of(f))


@st.cache_data(max_entries=32, show_spinner=False)
def _cluster_trades(root: str, ver: str, issuer_cik: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    return market.cluster_trades(Store(root), issuer_cik, start, end)


def cluster_trades(issuer_cik: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    return _cluster_trades(_root(), data.version(), issuer_cik, start, end)


@st.cache_data(max_entries=32, show_spinner="Adding up the market\u2026")
def _charts(root: str, ver: str, key: tuple) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    f = _filters(key)
    store = Store(root)
    where = f.replace(codes=("P", "S")).base_where("t")
    keep = f.suspect == "in"
    return (market.market_flow(store, where, f.per, include_suspect=keep),
            market.buy_sell_ratio(store, where, f.per, include_suspect=keep),
            market.top_issuers(store, where, 20, include_suspect=keep))  # fmt: skip


def charts(f: MarketFilters) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(net flow, buy/sell ratio, top issuers) of the open-market trades under `f`."""
    return _charts(_root(), data.version(), _key_of(f))
