"""Streamlit-edge helpers shared by app.py and pages/: URL state, cached data access, background pulls and
export widgets. No numbers are computed here: they come from analytics/."""
