"""Exports: real PNG/SVG/PDF through kaleido + chromium, self-contained HTML, CSV equal to the frame, names."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from lxml import etree

from charts import export, figures


@pytest.fixture(scope="module")
def fig():
    flow = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01"]), "direction": ["Buy", "Sell"],
                         "plan": ["Discretionary", "10b5-1 plan"], "value": [1000.0, -2500.0],
                         "shares": [10.0, -25.0], "trades": [1, 2]})  # fmt: skip
    return figures.flow_figure(flow)


def test_static_images_are_real(fig):
    """Guards against empty or mislabelled downloads (a PNG that is not a PNG)."""
    if not export.static_export_available():
        pytest.skip("no Chromium-family browser installed for static export")
    png = export.to_image(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    svg = export.to_image(fig, "svg")
    assert etree.fromstring(svg).tag.endswith("svg")
    assert export.to_image(fig, "pdf")[:5] == b"%PDF-"


def test_no_browser_gives_plain_message(fig, monkeypatch):
    """Guards against a traceback when Chromium is missing: the page shows this message instead."""
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    assert not export.static_export_available()
    with pytest.raises(export.ExportUnavailable, match="apt-get install chromium"):
        export.to_image(fig, "png")


def test_html_is_self_contained(fig):
    """Guards against HTML exports that break offline (plotly.js from a CDN)."""
    from lxml import html as lxml_html

    page = lxml_html.fromstring(export.to_html(fig))
    scripts = page.xpath("//script")
    assert scripts and not [s.get("src") for s in scripts if s.get("src")]  # nothing loaded from elsewhere
    assert max(len(s.text or "") for s in scripts) > 1_000_000  # plotly.js itself is inlined


def test_csv_excel_parquet_equal_the_frame():
    """Guards against an export that differs from what is on screen."""
    frame = pd.DataFrame(
        {"Date": pd.to_datetime(["2024-01-02"]), "Insider": ["Roe Jane"], "Value ($)": [1234.5]}
    )
    assert export.to_csv(frame).decode() == "Date,Insider,Value ($)\n2024-01-02,Roe Jane,1234.5\n"
    back = pd.read_excel(io.BytesIO(export.to_excel(frame)))
    assert back.to_dict("records") == frame.to_dict("records")
    assert pd.read_parquet(io.BytesIO(export.to_parquet(frame))).equals(frame)


def test_export_names_say_what_they_hold():
    """Guards against downloads all called 'chart.png'."""
    name = export.export_name("net-flow", ("NLY",), dt.date(2023, 1, 1), dt.date(2024, 10, 31), "png")
    assert name == "NLY_net-flow_2023-01-01_2024-10-31.png"
    assert export.export_name("holdings", (), None, None, "csv", insider="Finkelstein David L") == (
        "Finkelstein-David-L_holdings.csv"
    )


def test_views_that_differ_export_under_different_names():
    """Guards against issue 7 item 11: two views (the issuer's and the explorer's transactions, or the same chart
    with other codes) downloaded under one file name, the second overwriting the first."""
    day = dt.date(2024, 1, 1)
    base = export.export_name("net-flow", ("NLY",), day, day, "png", filters={"ticker": "NLY"})
    other = export.export_name("net-flow", ("NLY",), day, day, "png", filters={"ticker": "NLY", "codes": "S"})
    again = export.export_name("net-flow", ("NLY",), day, day, "png", filters={"ticker": "NLY", "codes": "P"})
    assert base == "NLY_net-flow_2024-01-01_2024-01-01.png"
    assert len({base, other, again}) == 3 and other.startswith("NLY_net-flow_2024-01-01_2024-01-01_codes-S_")


def test_csv_has_no_float_noise():
    """Guards against issue 7 item 9: 1307004.1849999998 in a CSV where the value is 1307004.185."""
    frame = pd.DataFrame({"value": [0.1 + 0.2, 1307004.1849999998], "n": [1, 2]})
    assert export.to_csv(frame).decode() == "value,n\n0.3,1\n1307004.185,2\n"
