"""Page building blocks: a chart with its downloads, a table with its downloads, a guarded section."""

from __future__ import annotations

import contextlib
import functools
import hashlib

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
    return dict(what=what, tickers=f.tickers, start=f.start, end=f.end, insider=insider)


def chart(
    fig: go.Figure, frame: pd.DataFrame, what: str, f: Filters, key: str, insider: str | None = None
) -> None:
    """The figure, then PNG/SVG/PDF (when a browser is installed), interactive HTML and the chart's data as CSV."""
    st.plotly_chart(fig, width="stretch", key=f"chart-{key}", config={"displaylogo": False})
    names = _stem(what, f, insider)
    cols = st.columns([1, 1, 1, 1, 1, 3])
    if export.static_export_available():
        for col, fmt, mime in zip(cols[:3], ("png", "svg", "pdf"), ("image/png", "image/svg+xml", "application/pdf"),
                                  strict=True):  # fmt: skip
            col.download_button(fmt.upper(), data=functools.partial(export.to_image, fig, fmt), mime=mime,
                                file_name=export.export_name(ext=fmt, **names), key=f"dl-{key}-{fmt}",
                                on_click="ignore", width="stretch")  # fmt: skip
    else:
        cols[5].caption(
            "PNG/SVG/PDF need Chromium on the server (apt-get install chromium); HTML and CSV work."
        )
    cols[3].download_button("HTML", data=lambda: export.to_html(fig), mime="text/html",
                            file_name=export.export_name(ext="html", **names), key=f"dl-{key}-html",
                            on_click="ignore", width="stretch")  # fmt: skip
    cols[4].download_button("CSV", data=lambda: export.to_csv(frame), mime="text/csv",
                            file_name=export.export_name(ext="csv", **names), key=f"dl-{key}-csv",
                            on_click="ignore", width="stretch")  # fmt: skip


def table(frame: pd.DataFrame, what: str, f: Filters, key: str, insider: str | None = None,
          column_config: dict | None = None, height: int | None = None) -> None:  # fmt: skip
    """A sortable table with CSV, Excel and Parquet downloads of exactly its rows."""
    st.dataframe(frame, width="stretch", hide_index=True, column_config=column_config,
                 height=height if height and len(frame) > 15 else "auto", key=f"table-{key}")  # fmt: skip
    names = _stem(what, f, insider)
    cols = st.columns([1, 1, 1, 5])
    cols[0].download_button("CSV", data=lambda: export.to_csv(frame), mime="text/csv",
                            file_name=export.export_name(ext="csv", **names), key=f"dl-{key}-csv", on_click="ignore",
                            width="stretch")  # fmt: skip
    cols[1].download_button("Excel", data=lambda: export.to_excel(frame, what),
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            file_name=export.export_name(ext="xlsx", **names), key=f"dl-{key}-xlsx",
                            on_click="ignore", width="stretch")  # fmt: skip
    cols[2].download_button("Parquet", data=lambda: export.to_parquet(frame), mime="application/octet-stream",
                            file_name=export.export_name(ext="parquet", **names), key=f"dl-{key}-parquet",
                            on_click="ignore", width="stretch")  # fmt: skip


def digest(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:10]


LINK = st.column_config.LinkColumn("Filing", display_text="EDGAR ↗", width="small")
MONEY = st.column_config.NumberColumn(format="dollar")


def money(label: str):
    return st.column_config.NumberColumn(label, format="dollar")


def percent(label: str):
    return st.column_config.NumberColumn(label, format="percent")


def date(label: str):
    return st.column_config.DateColumn(label)


SHARES = st.column_config.NumberColumn(format="localized")
PRICE = st.column_config.NumberColumn(format="dollar")
PERCENT = st.column_config.NumberColumn(format="percent")
