"""The shared sidebar filters and their URL: the query string is read once per session into the widgets, and
the widgets are written back to the query string on every run, so a reload, a page switch or a pasted URL all
give the same view."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analytics.filters import (
    DATE_MAX,
    DATE_MIN,
    DERIVATIVE,
    MAX_AMOUNT,
    OWNERSHIP,
    PLAN_STATES,
    ROLES,
    Filters,
    default_range,
)
from loaders.codes import OPEN_MARKET, SHORT_NAMES, TRANSACTION_CODES
from ui import data
from ui.text import plain

PLAN_NAMES = {"yes": "Under a 10b5-1 plan", "no": "Not under a plan", "unknown": "Unknown"}
OWN_NAMES = {"all": "Direct and indirect", "D": "Direct only", "I": "Indirect only"}
DERIV_NAMES = {
    "all": "All securities",
    "non": "Non-derivative (shares)",
    "derivative": "Derivative (options, RSUs…)",
}


FILTER_KEYS = frozenset(spec.key for spec in Filters.specs())


def _url_filters() -> dict[str, str]:
    """The filter keys of the current URL (other pages' own keys are left alone)."""
    return {k: v for k, v in st.query_params.to_dict().items() if k in FILTER_KEYS}


def _init_from_url() -> None:
    """Set the widgets from the URL on a session's first run, and whenever the URL changed without them: the
    browser's Back/Forward (Streamlit reruns with the older query string) or an edited address."""
    ss = st.session_state
    if ss.get("_filters_ready") and _url_filters() == ss.get("_written_query"):
        return
    f, notices = Filters.parse_query(st.query_params.to_dict())
    ss["url_notices"] = [str(n) for n in notices]
    ss["f_tickers"] = ", ".join(f.tickers)
    ss["f_insider"] = str(f.insider) if f.insider is not None else ""
    ss["f_range_touched"] = bool(f.start or f.end)
    if f.start or f.end:
        ss["f_range"] = (f.start or DATE_MIN, f.end or dt.date.today())
    ss["f_codes"] = list(f.codes)
    ss["f_roles"] = list(f.roles)
    ss["f_title"] = f.title_contains
    ss["f_own"] = f.ownership
    ss["f_deriv"] = f.derivative
    ss["f_plan"] = list(f.plan)
    ss["f_min"] = float(f.min_value)
    ss["f_freq"] = f.freq
    ss["f_unit"] = f.unit
    ss["_filters_ready"] = True
    ss.pop("_notice_filters", None)


def _touched() -> None:
    st.session_state["f_range_touched"] = True


def default_range_for(tickers: tuple[str, ...]) -> tuple[dt.date, dt.date] | None:
    """Two years up to the latest filing loaded for these tickers (or for everything)."""
    issuers = data.issuers()
    if issuers.empty:
        return None
    ciks = {data.resolve(t) for t in tickers}
    chosen = issuers[issuers["issuer_cik"].isin(ciks)] if tickers else issuers
    return default_range((chosen if not chosen.empty else issuers), column="last_filing")


def set_insider(cik: int | None) -> None:
    """Set the sidebar's insider box. Only from a widget callback (before the sidebar is drawn in a run)."""
    st.session_state["f_insider"] = "" if cik is None else str(cik)


def open_pick() -> None:
    """Callback of the insider page's match list: open the picked insider."""
    pick = st.session_state.get("insider_pick")
    if pick is not None:
        set_insider(int(pick))


def open_single_match() -> None:
    """Callback of the insider search box: a query with exactly one match opens that insider at once."""
    query = st.session_state.get("insider_search", "").strip()
    found = data.search_insiders(query) if query else None
    if found is not None and len(found) == 1:
        set_insider(int(found["owner_cik"].iloc[0]))


def insider_name() -> str | None:
    """The display name of the insider in the sidebar's box (None when not in the store)."""
    return st.session_state.get("insider_name")


def insider_cik(text: str) -> tuple[int | None, str | None]:
    """(CIK, display name) for the sidebar's insider box: a CIK, or the best name match in the store."""
    text = (text or "").strip()
    if not text:
        return None, None
    found = data.search_insiders(text)
    if text.isdigit():
        name = found["owner_name"].iloc[0] if not found.empty else None
        return int(text), name
    if found.empty:
        return None, None
    return int(found["owner_cik"].iloc[0]), str(found["owner_name"].iloc[0])


def sidebar() -> Filters:
    """Render the shared filters; return them and mirror them into the URL."""
    _init_from_url()
    ss = st.session_state
    sb = st.sidebar
    sb.text_input("Ticker(s)", key="f_tickers", placeholder="e.g. NLY or NLY, TEAM",
                  help="Tickers not yet loaded are pulled from EDGAR.")  # fmt: skip
    tickers, note = Filters.tickers.parse(ss["f_tickers"])
    if note:
        sb.caption(plain(note))
    sb.text_input("Insider (name or CIK)", key="f_insider", placeholder="e.g. Finkelstein")
    cik, name = insider_cik(ss["f_insider"])
    if ss["f_insider"].strip():
        sb.caption(f"→ {name} (CIK {cik})" if cik else "No insider of that name in the loaded filings.")
    default = default_range_for(tickers)
    if not ss.get("f_range_touched"):
        ss["f_range"] = default or ()
    sb.date_input("Date range", key="f_range", on_change=_touched, format="YYYY-MM-DD",
                  min_value=DATE_MIN, max_value=DATE_MAX)  # fmt: skip
    rng = ss.get("f_range") or ()
    rng = (rng,) if isinstance(rng, dt.date) else tuple(rng)
    start = rng[0] if len(rng) > 0 else None
    end = rng[1] if len(rng) > 1 else None
    sb.multiselect("Transaction codes", options=list(TRANSACTION_CODES), key="f_codes",
                   format_func=lambda c: f"{c} · {SHORT_NAMES[c]}",
                   help="Empty = every code. Default: open-market purchases (P) and sales (S). Codes: "
                   + "; ".join(f"{c} {n}" for c, n in TRANSACTION_CODES.items()))  # fmt: skip
    with sb.expander("More filters", expanded=bool(ss["f_roles"] or ss["f_title"] or ss["f_plan"] or ss["f_min"]
                                                   or ss["f_own"] != "all" or ss["f_deriv"] != "all")):  # fmt: skip
        st.multiselect(
            "Role", options=list(ROLES), key="f_roles", format_func=lambda r: ROLES[r].capitalize()
        )
        st.text_input("Officer title contains", key="f_title", placeholder="e.g. CFO", max_chars=60)
        st.selectbox(
            "Ownership", options=list(OWNERSHIP), key="f_own", format_func=lambda v: OWN_NAMES.get(v, v)
        )
        st.selectbox(
            "Security", options=list(DERIVATIVE), key="f_deriv", format_func=lambda v: DERIV_NAMES.get(v, v)
        )
        st.multiselect(
            "10b5-1 plan", options=list(PLAN_STATES), key="f_plan", format_func=lambda v: PLAN_NAMES.get(v, v)
        )
        st.number_input(
            "Minimum value ($)", min_value=0.0, max_value=MAX_AMOUNT, step=10000.0, key="f_min", format="%.0f"
        )
    c1, c2 = sb.columns(2)
    c1.radio(
        "Per",
        options=["M", "Q"],
        key="f_freq",
        format_func={"M": "Month", "Q": "Quarter"}.get,
        horizontal=True,
    )
    c2.radio("Unit", options=["$", "shares"], key="f_unit", format_func={"$": "US$", "shares": "Shares"}.get,
             horizontal=True)  # fmt: skip
    f = Filters(
        tickers=tickers,
        insider=cik,
        start=start if ss.get("f_range_touched") else None,
        end=end if ss.get("f_range_touched") else None,
        codes=tuple(ss["f_codes"]) if ss["f_codes"] != list(OPEN_MARKET) else OPEN_MARKET,
        roles=tuple(ss["f_roles"]),
        title_contains=ss["f_title"].strip(),
        ownership=ss["f_own"],
        derivative=ss["f_deriv"],
        plan=tuple(p for p in PLAN_STATES if p in ss["f_plan"]),
        min_value=float(ss["f_min"] or 0.0),
        freq=ss["f_freq"],
        unit=ss["f_unit"],
    )
    if f.to_query() != _url_filters():  # each change is a browser history entry: Back restores the filters
        others = {k: v for k, v in st.query_params.to_dict().items() if k not in FILTER_KEYS}
        st.query_params.from_dict(others | f.to_query())
    ss["_written_query"] = f.to_query()
    ss["filters"] = f
    if ss.setdefault("_notice_filters", f) != f:  # the user changed a filter: the URL's messages are old news
        ss["url_notices"] = []
    ss["shown_range"] = (start, end) if start and end else default
    ss["insider_name"] = name
    if any(ss[k] for k in ("f_tickers", "f_insider", "f_roles", "f_title", "f_plan")) or ss.get(
        "f_range_touched"
    ):
        sb.button("Reset filters", on_click=reset)
    return f


def reset() -> None:
    for key in [k for k in st.session_state if k.startswith("f_") or k == "_filters_ready"]:
        del st.session_state[key]
    st.query_params.clear()


def notices() -> list[str]:
    """Plain messages about values of the opening URL that were ignored or clamped (until the filters change)."""
    return st.session_state.get("url_notices", [])


def shown_range() -> tuple[dt.date, dt.date] | None:
    """The date range the sidebar shows (the user's, or the default two years up to the latest filing)."""
    return st.session_state.get("shown_range")


def current() -> Filters:
    return st.session_state.get("filters", Filters())
