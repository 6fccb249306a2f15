"""Make every page run through app.py, with public Streamlit APIs only.

The project keeps its pages in a top-level folder named `pages/` (the user fixed the layout). Streamlit treats such a
folder beside the main script as a legacy (v1) multipage app until the first `st.navigation` call in the process, so
the very first request after a server start is routed by folder scan: `/insider?...` would run pages/insider.py
alone, without app.py's sidebar filters, and the scan's own page list would show. Two public settings handle it:

- `.streamlit/config.toml` sets `client.showSidebarNavigation = false`, so the scan's page list is never drawn;
  app.py draws its own links (`st.page_link`) and calls `st.navigation(..., position="hidden")`.
- app.py runs the chosen page inside `app_run()`. A page run outside it (the scan's first deep link) calls
  `ensure_app()`, which runs app.py in place (runpy: not a rerun, which would lose a button click of this run) and
  stops; app.py's `st.navigation` ends the legacy mode for the process and routes to the same page (same URL path,
  same query string).
"""

from __future__ import annotations

import contextlib
import runpy
import threading
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"
_run = threading.local()  # one script run at a time per script-runner thread


@contextlib.contextmanager
def app_run():
    """Mark the page run by app.py's navigation (pages then need nothing more)."""
    _run.inside = True
    try:
        yield
    finally:
        _run.inside = False


def ensure_app() -> None:
    """First line of every page: outside app.py, run app.py (which routes back to this page) and stop."""
    if getattr(_run, "inside", False):
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()
