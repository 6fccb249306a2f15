"""Make every page run through app.py.

Streamlit treats a folder named pages/ beside the main script as a legacy multipage app until the first
st.navigation call in the process. If the very first request after a start is a deep link (/insider?...), the
page would run alone, without app.py's navigation and sidebar filters. Each page calls ensure_app() first: in that
case it switches Streamlit to st.navigation mode and runs app.py in place (not a rerun, which would drop a button
click of this run), and app.py routes to the same page with the same query string. (pages/ is kept because the project layout asks for it.)
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"


def ensure_app() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")  # app.py routes back here, with its sidebar
        st.stop()
