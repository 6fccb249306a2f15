"""Make every page run through app.py.

Streamlit treats a folder named pages/ beside the main script as a legacy multipage app until the first
st.navigation call in the process. If the very first request after a start is a deep link (/insider?...), the
page would run alone, without app.py's navigation and sidebar filters. Each page calls ensure_app() first: in that
case it switches Streamlit to st.navigation mode and reruns, so app.py runs and routes to the same page with the
same query string. (pages/ is kept because the project layout asks for it.)
"""

from __future__ import annotations

import streamlit as st


def ensure_app() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
