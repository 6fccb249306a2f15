"""Page building blocks: a chart with its downloads, a table with its downloads, a guarded section."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.filters import Filters
from charts import export

_CONTROL = ("RerunException", "StopException", "ScriptControlException")


@contextlib.contextmanager
def guarded(name: str):
    """Render a section; if it fails, name the failure in plain words and let the rest of the page render."""
    try:
        yield
    except Exception as e:  # noqa: BLE001
        if type(e).__name__ in _CONTROL or any(c.__name__ in _CONTROL for c in type(e).__mro__):
            raise
        st.error(f"{name} could not be shown: {e}")


def _stem(what: str, f: Filters, insider: str | None = None) -> dict:
    return dict(what=what, tickers=f.tickers, start=f.start, end=f.end, insider=insider, filters=f.to_query())


def chart(
    fig: go.Figure, frame: pd.DataFrame, what: str, f: Filters, key: str, insider: str | None = None
) -> None:
    """The figure, then ONE export menu: PNG/SVG/PDF (when a browser is installed), interactive HTML, and the
    chart's data as CSV."""
    st.plotly_chart(
        fig, width="stretch", key=f"chart-{key}", config={"displaylogo": False, "responsive": True}
    )
    names = _stem(what, f, insider)
    with st.popover("Export chart", icon=":material/download:", key=f"export-{key}"):
        if export.static_export_available():
            for fmt, mime in (("png", "image/png"), ("svg", "image/svg+xml"), ("pdf", "application/pdf")):
                st.download_button(fmt.upper(), data=functools.partial(export.to_image, fig, fmt), mime=mime,
                                   file_name=export.export_name(ext=fmt, **names), key=f"dl-{key}-{fmt}",
                                   on_click="ignore", width="stretch")  # fmt: skip
        else:
            st.caption(
                "PNG/SVG/PDF need Chromium on the server (apt-get install chromium); HTML and CSV work."
            )
        st.download_button("HTML (interactive)", data=lambda: export.to_html(fig), mime="text/html",
                           file_name=export.export_name(ext="html", **names), key=f"dl-{key}-html",
                           on_click="ignore", width="stretch")  # fmt: skip
        st.download_button("CSV (the chart's data)", data=lambda: export.to_csv(frame), mime="text/csv",
                           file_name=export.export_name(ext="csv", **names), key=f"dl-{key}-csv",
                           on_click="ignore", width="stretch")  # fmt: skip


def table(frame: pd.DataFrame, what: str, f: Filters, key: str, insider: str | None = None,
          column_config: dict | None = None, height: int | None = None) -> None:  # fmt: skip
    """A sortable table (missing values blank, not "None") with one export menu: CSV, Excel and Parquet of
    exactly its rows."""
    st.dataframe(readable(frame), width="stretch", hide_index=True, column_config=column_config, placeholder="",
                 height=height if height and len(frame) > 15 else "auto", key=f"table-{key}")  # fmt: skip
    names = _stem(what, f, insider)
    with st.popover("Export table", icon=":material/download:", key=f"export-{key}"):
        st.download_button("CSV", data=lambda: export.to_csv(frame), mime="text/csv",
                           file_name=export.export_name(ext="csv", **names), key=f"dl-{key}-csv", on_click="ignore",
                           width="stretch")  # fmt: skip
        st.download_button("Excel", data=lambda: export.to_excel(frame, what),
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           file_name=export.export_name(ext="xlsx", **names), key=f"dl-{key}-xlsx",
                           on_click="ignore", width="stretch")  # fmt: skip
        st.download_button("Parquet", data=lambda: export.to_parquet(frame), mime="application/octet-stream",
                           file_name=export.export_name(ext="parquet", **names), key=f"dl-{key}-parquet",
                           on_click="ignore", width="stretch")  # fmt: skip


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """For display: yes/no columns as Yes/No (missing values show as blank: placeholder="")."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.BooleanDtype) or out[col].dtype == bool:
            out[col] = out[col].map({True: "Yes", False: "No"}).astype("string")
    return out


def digest(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:10]


LINK = st.column_config.LinkColumn("Filing", display_text="EDGAR ↗", width=80)
MONEY = st.column_config.NumberColumn(format="dollar", step=1)


def money(label: str, width: Literal["small", "medium", "large"] | int | None = 115):
    """Whole dollars ($1,234,567): cents only for prices."""
    return st.column_config.NumberColumn(label, format="dollar", step=1, width=width)


def percent(label: str):
    return st.column_config.NumberColumn(label, format="percent")


def date(label: str):
    return st.column_config.DateColumn(label)


SHARES = st.column_config.NumberColumn(format="localized")
PRICE = st.column_config.NumberColumn(format="dollar")
PERCENT = st.column_config.NumberColumn(format="percent")


TRANSACTIONS = {  # the transactions table (analytics.insiders.transactions_table) on every page, in pixels
    "Date": st.column_config.DateColumn(width=95),
    "Ticker": st.column_config.TextColumn(width=65),
    "Insider": st.column_config.TextColumn(width=170),
    "Code": st.column_config.TextColumn(width=55, help="SEC transaction code; see Transaction"),
    "Shares": st.column_config.NumberColumn(format="localized", width=90),
    "Price ($)": st.column_config.NumberColumn(format="dollar", width=85),
    "Value ($)": st.column_config.NumberColumn(format="dollar", step=1, width=120),
    "Owned after": st.column_config.NumberColumn(format="localized", width=105),
    "10b5-1": st.column_config.TextColumn(width=70),
    "Filed": st.column_config.DateColumn(width=95),
    "Filing": LINK,
    "Transaction": st.column_config.TextColumn(width="medium"),
    "Role": st.column_config.TextColumn(width="medium"),
    "A/D": st.column_config.TextColumn(width=50),
    "D/I": st.column_config.TextColumn(width=50),
    "Form": st.column_config.TextColumn(width=60),
    "Check": st.column_config.TextColumn(width="medium"),
    "Also reported by": st.column_config.TextColumn(width="medium"),
    "Footnotes": st.column_config.TextColumn(width="large"),
}
