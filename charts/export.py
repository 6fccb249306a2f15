"""Exports of charts and tables: PNG/SVG/PDF (plotly + kaleido, which drives a Chromium it finds by itself),
self-contained interactive HTML, CSV, Excel and Parquet, with file names that say what they contain.

Kaleido's sync server (one headless browser) is started once per process, on the first static export.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import threading
import warnings

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

STATIC_FORMATS = ("png", "svg", "pdf")
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_server_lock = threading.Lock()
_server_started = False


class ExportUnavailable(RuntimeError):
    """Static export needs a Chromium-family browser, and none is installed."""


def browser_path() -> str | None:
    """The browser kaleido would use: BROWSER_PATH if set, else the first Chromium-family program on PATH."""
    override = os.environ.get("BROWSER_PATH")
    if override is not None:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    return next((p for name in _BROWSERS if (p := shutil.which(name))), None)


def static_export_available() -> bool:
    return browser_path() is not None


def _ensure_server() -> None:
    global _server_started
    with _server_lock:
        if _server_started:
            return
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
        _server_started = True


def printable(fig: go.Figure) -> go.Figure:
    """A copy of the figure in plotly's white theme (on the page it wears Streamlit's light or dark theme, whose
    template holds placeholder colours only the browser resolves)."""
    return go.Figure(fig).update_layout(template="plotly_white")


def to_image(
    fig: go.Figure, fmt: str, width: int = 1200, height: int | None = None, scale: float = 2.0
) -> bytes:
    """PNG, SVG or PDF bytes of a figure; ExportUnavailable (a plain message) when no browser is installed."""
    if fmt not in STATIC_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}")
    if not static_export_available():
        raise ExportUnavailable(
            "PNG, SVG and PDF export need Chromium (on Debian: apt-get install chromium). "
            "HTML and CSV downloads work without it."
        )
    _ensure_server()
    height = height or int(fig.layout.height or 480)
    with warnings.catch_warnings():  # plotly passes browser options that kaleido's running server ignores
        warnings.filterwarnings("ignore", message="The kopts argument is ignored")
        return pio.to_image(
            printable(fig), format=fmt, width=width, height=height, scale=scale if fmt == "png" else 1
        )


def to_html(fig: go.Figure) -> bytes:
    """A self-contained interactive HTML page (plotly.js inlined: no CDN, works offline)."""
    return pio.to_html(
        printable(fig), include_plotlyjs=True, full_html=True, config={"displaylogo": False}
    ).encode()


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV of the frame; sums carry float noise (1307004.1849999998), so numbers are rounded to 6 decimals."""
    return _rounded(frame).to_csv(index=False).encode()


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    return frame.assign(**{c: frame[c].round(6) for c in floats}) if floats else frame


def to_excel(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    out = io.BytesIO()
    clean = _rounded(frame).copy()
    for col in clean.columns:  # Excel has no time zones and no pandas NA
        if isinstance(clean[col].dtype, pd.DatetimeTZDtype):
            clean[col] = clean[col].dt.tz_localize(None)
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        clean.to_excel(writer, sheet_name=sheet[:31], index=False)
    return out.getvalue()


def to_parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def export_name(what: str, tickers=(), start: dt.date | None = None, end: dt.date | None = None, ext: str = "csv",
                insider: str | None = None, filters: dict | None = None) -> str:  # fmt: skip
    """'NLY_net-flow_2023-01-01_2024-10-31.png': who, what and when, safe for any file system. Views that differ
    in any other filter (codes, roles, plan ...) get a short tag of those filters, so two views never share a name:
    'NLY_net-flow_2023-01-01_2024-10-31_codes-S_3f9a1c.png'."""
    who = "-".join(tickers) if tickers else (insider or "all-issuers")
    parts = [who, what]
    if start or end:
        parts.append(f"{start or 'start'}_{end or 'end'}")
    other = {k: v for k, v in (filters or {}).items() if k not in ("ticker", "start", "end", "insider")}
    if "insider" in (filters or {}) and tickers:
        other["insider"] = (filters or {})["insider"]
    if other:
        label = "_".join(f"{k}-{v}" for k, v in sorted(other.items()))[:40]
        parts.append(f"{label}_{hashlib.sha1(repr(sorted(other.items())).encode()).hexdigest()[:6]}")
    stem = "_".join(str(p) for p in parts)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-")
    return f"{stem}.{ext}"
