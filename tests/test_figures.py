"""Chart axes a reader can read (issue 7 item 8), checked on the figures themselves; the browser test checks them
as drawn."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from charts import figures


def _flow(periods, values) -> pd.DataFrame:
    return pd.DataFrame({
        "period": pd.to_datetime(periods), "direction": ["Buy" if v > 0 else "Sell" for v in values],
        "plan": "Discretionary", "value": values, "shares": [v / 10 for v in values], "trades": 1,
    })  # fmt: skip


def test_one_trade_gets_distinct_value_ticks_and_a_month_wide_axis():
    """Guards against "−$1.18641M" printed four times and "23:59:59.9996" ticks around a single month's bar."""
    fig = figures.flow_figure(_flow(["2024-03-01"], [-1_186_410.0]))
    y = fig.layout.yaxis
    assert len(set(y.ticktext)) == len(y.ticktext) >= 4
    assert y.ticktext[0] == "\u2212$1.25M" and y.ticktext[-1] == "$0"
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert hi - lo >= pd.Timedelta(days=90) and fig.layout.xaxis.dtick == "M1"
    assert fig.layout.xaxis.tickformat == "%b\n%Y"  # month names, the year under January
    bar = fig.data[0]
    assert bar.type == "bar" and bar.width > 20 * 86_400_000  # a visible bar, not a hairline


def test_all_zero_axis_reads_zero_dollars_not_500m():
    """Guards against "$500m" (reads as millions) on an axis whose values are all zero."""
    fig = figures.flow_figure(_flow(["2024-03-01"], [0.0]))
    assert list(fig.layout.yaxis.ticktext) == ["$0"]
    assert not any("m" in t for t in figures.value_axis([0.4, 0.9], money=True)["ticktext"])


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0, "$0"),
        (1_250_000, "$1.25M"),
        (1_000_000, "$1M"),
        (-500_000, "\u2212$500K"),
        (2.5e9, "$2.5B"),
        (7, "$7"),
    ],
)
def test_axis_labels(value, label):
    """Guards against float noise or trailing zeros in tick labels ("$1.00M", "$29.7641")."""
    assert figures.axis_label(value, money=True) == label


def test_lines_break_over_months_without_trades():
    """Guards against the net line running straight from January to July across months with no trades."""
    fig = figures.flow_figure(_flow(["2024-01-01", "2024-02-01", "2024-07-01"], [2e5, -3e5, -1e5]))
    net = next(t for t in fig.data if t.name == "Net")
    assert len(net.x) == 7 and sum(1 for v in net.y if v is None or math.isnan(v)) == 4
    assert net.connectgaps is False


def test_many_years_tick_by_year_and_one_day_by_week():
    """Guards against 150 month labels over twelve years, and sub-second ticks around one trade's day."""
    years = figures.period_axis(pd.Series(pd.date_range("2012-01-01", "2023-12-01", freq="MS")), "M")
    assert years["tickformat"] == "%Y" and years["dtick"] in ("M12", "M24")
    day = figures.date_axis(pd.Series(pd.to_datetime(["2024-03-15"])))
    lo, hi = day["range"]
    assert hi - lo >= pd.Timedelta(days=35) and day["dtick"] == 7 * 86_400_000


def test_plan_share_axis_is_a_percentage_and_the_dollar_axis_is_not():
    """Guards against the plan-share axis reading "$29.7641%" under the title "US$ sold"."""
    activity = pd.DataFrame({
        "period": pd.to_datetime(["2024-03-01"]), "plan_value": [297_641.0], "plan_shares": [1.0],
        "other_value": [702_359.0], "other_shares": [1.0], "plan_share": [0.297641],
    })  # fmt: skip
    fig = figures.plan_activity_figure(activity)
    assert list(fig.layout.yaxis2.ticktext) == ["0%", "25%", "50%", "75%", "100%"]
    assert all(t.startswith("$") for t in fig.layout.yaxis.ticktext)
    assert fig.layout.yaxis.title.text == "US$ sold" and fig.layout.yaxis2.title.text == "Plan share (%)"


def test_long_titles_wrap_for_phones():
    """Guards against a chart title running off a 390 px screen (plotly never wraps titles)."""
    assert (
        figures.wrap_title("Sales by JELINEK W CRAIG: 10b5-1 plan vs other per month (US$)").count("<br>")
        == 1
    )
    assert figures.wrap_title("Net insider flow per month (US$)") == "Net insider flow per month (US$)"


def test_filer_names_cannot_inject_markup_into_charts():
    """Guards against issue 6's last bullet in charts: plotly renders links and tags in titles and legend names,
    and both carry filers' names."""
    points = pd.DataFrame({
        "series": ["<a href='http://x'>Evil</a> — Direct"], "owner_cik": [1], "owner_name": ["Evil"], "ticker": ["X"],
        "security_title": ["Common"], "ownership": ["Direct"], "date": pd.to_datetime(["2024-01-02"]),
        "shares_owned": [10.0], "kind": ["anchor"], "code": [None], "code_name": [None], "shares": [None],
        "price": [None], "is_10b5_1": [None], "footnotes": [None], "accession": ["a"],
    })  # fmt: skip
    fig = figures.holdings_figure(points, "Holdings of <b>Evil</b>")
    assert "<a " not in fig.data[0].name and "&lt;a" in fig.data[0].name and "href=&#x27;" in fig.data[0].name
    assert fig.layout.title.text == "Holdings of &lt;b&gt;Evil&lt;/b&gt;"


def test_holdings_legend_names_are_wrapped_to_fit_a_phone():
    """Guards against a long holder name running a legend entry off a 390 px screen (a horizontal legend never
    wraps an entry): TEAM's "Cannon-Brookes Michael — Indirect (By Trust) — Class A Ordinary Shares" was cut."""
    name = "Cannon-Brookes Michael — Indirect (By Cannon-Brookes Private Trust) — Class A Ordinary Shares"
    points = pd.DataFrame({
        "series": [name, "Big — Direct"], "owner_cik": [1, 2], "owner_name": ["A", "B"], "ticker": ["TEAM"] * 2,
        "security_title": ["Class A"] * 2, "ownership": ["Indirect", "Direct"],
        "date": pd.to_datetime(["2024-01-02"] * 2), "shares_owned": [10.0, 20.0], "kind": ["anchor"] * 2,
        "code": [None] * 2, "code_name": [None] * 2, "shares": [None] * 2, "price": [None] * 2,
        "is_10b5_1": [None] * 2, "footnotes": [None] * 2, "accession": ["a", "b"],
    })  # fmt: skip
    legend = {t.legendgroup: t.name for t in figures.holdings_figure(points).data if t.mode == "lines"}
    lines = legend[name].split("<br>")
    assert len(lines) >= 3 and all(len(line) <= figures.LEGEND_WIDTH for line in lines)
    assert " ".join(lines) == name and legend["Big — Direct"] == "Big — Direct"


def test_cluster_timeline_has_few_two_line_date_labels():
    """Guards against the cluster timeline's seven one-line dates ("16 Mar 2023") that turn sideways and crowd a
    phone-width chart (at most four labels, day and month over the year), long names taking half of its width
    (shortened on the axis only: the markers still belong to the whole name), and purchases on the window's first
    day drawn half outside the plot on a phone (seen on AENT's cluster at 15 M rows)."""
    trades = pd.DataFrame({
        "transaction_date": pd.to_datetime(["2023-03-14", "2023-03-20", "2023-04-10"]),
        "owner_name": ["A", "MARTIN-FLICKINGER GERRI", "A"], "value": [1_000.0, 50_000.0, 2_000.0], "shares": [10.0, 500.0, 20.0],
        "price": [100.0, 100.0, 100.0], "role": ["Director", "Director", "Director"],
    })  # fmt: skip
    window = (pd.Timestamp("2023-03-14"), pd.Timestamp("2023-04-13"))
    fig = figures.cluster_figure(trades, "X cluster", window)
    x = fig.layout.xaxis
    assert x.tickformat == "%d %b\n%Y" and x.nticks == 4 and x.dtick is None
    # purchases on the window's first day keep their whole marker: 12 % of the 30-day span on each side
    assert pd.Timestamp(x.range[0]) == window[0] - pd.Timedelta(days=3.6)
    assert pd.Timestamp(x.range[1]) == window[1] + pd.Timedelta(days=3.6)
    assert [list(t.y) for t in fig.data] == [["A", "A"], ["MARTIN-FLICKINGER GERRI"]]
    y = fig.layout.yaxis
    assert list(y.tickvals) == ["A", "MARTIN-FLICKINGER GERRI"] and list(y.ticktext) == [
        "A",
        "MARTIN-FLICKINGER\u2026",
    ]


def test_holdings_markers_carry_their_own_rows_hover():
    """Guards against the holdings chart's per-point arrays (built once for all insiders, then cut per insider and
    marker symbol) drifting apart: every marker must show its own trade's code, shares, price, plan status and
    note, in its own insider's trace, and the largest holding's line comes first."""
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"])
    points = pd.DataFrame({
        "series": ["Small — Direct", "Big — Direct", "Small — Direct", "Big — Direct", "Big — Direct"],
        "owner_cik": [1, 2, 1, 2, 2], "owner_name": ["Small", "Big", "Small", "Big", "Big"], "ticker": "X",
        "security_title": "Common", "ownership": "Direct", "date": days,
        "shares_owned": [100.0, 5_000.0, 50.0, 4_000.0, 4_500.0], "kind": ["trade"] * 4 + ["anchor"],
        "code": ["S", "S", "P", "M", None], "code_name": ["Sale", "Sale", "Purchase", "Exercise", None],
        "shares": [-10.0, -1_000.0, 5.0, 200.0, None], "price": [11.0, 22.0, 33.0, 44.0, None],
        "is_10b5_1": [True, False, None, None, None], "footnotes": ["small note", "big <b>note</b>", None, "m", None],
        "accession": ["a", "b", "c", "d", "e"],
    })  # fmt: skip
    fig = figures.holdings_figure(points)
    assert fig.data[0].name == "Big — Direct" and fig.data[0].mode == "lines"
    markers = [(t.legendgroup, t.marker.symbol, list(t.text), [list(c) for c in t.customdata], list(t.hovertext))
               for t in fig.data if t.mode == "markers" and t.text is not None]  # fmt: skip
    assert markers == [
        ("Big — Direct", "triangle-down", ["S Sale (discretionary)"], [[-1000.0, 22.0]], ["big &lt;b&gt;note&lt;/b&gt;"]),
        ("Big — Direct", "square", ["M Exercise (plan status unknown)"], [[200.0, 44.0]], ["m"]),
        ("Small — Direct", "triangle-down", ["S Sale (10b5-1 plan)"], [[-10.0, 11.0]], ["small note"]),
        ("Small — Direct", "triangle-up", ["P Purchase (plan status unknown)"], [[5.0, 33.0]], [""]),
    ]  # fmt: skip
    anchors = [t for t in fig.data if t.mode == "markers" and t.text is None]
    assert [(t.legendgroup, list(t.y)) for t in anchors] == [("Big — Direct", [4_500.0])]


def test_holdings_lines_stay_distinguishable_past_the_palette():
    """Guards against the holdings chart's 11th and 12th lines taking the 1st and 2nd lines' colours with nothing
    to tell them apart in the legend (seen on TEAM's 12 holdings at 15 M rows): every shown line has its own
    colour and dash pair."""
    n = 12
    points = pd.DataFrame({
        "series": [f"Owner {i} — Direct" for i in range(n)], "owner_cik": range(n), "owner_name": [f"Owner {i}" for i in range(n)],
        "ticker": "X", "security_title": "Common", "ownership": "Direct", "date": pd.Timestamp("2024-01-02"),
        "shares_owned": [float(1_000 * (n - i)) for i in range(n)], "kind": "anchor", "code": None, "code_name": None,
        "shares": None, "price": None, "is_10b5_1": None, "footnotes": None, "accession": [f"a{i}" for i in range(n)],
    })  # fmt: skip
    lines = [t for t in figures.holdings_figure(points).data if t.mode == "lines"]
    assert len(lines) == n
    assert len({(t.line.color, t.line.dash) for t in lines}) == n


def test_market_flow_axis_has_a_tick_beyond_the_largest_bar_on_each_side():
    """Guards against the market flow chart's purchases having no scale (seen at 15 M rows: ticks only at $0,
    -$20B and -$40B, the +$13B purchase bars reaching the top edge): the y axis spans its outer ticks, which lie
    beyond the tallest stack up and down, and every tick is labelled as money."""
    flow = pd.DataFrame({
        "period": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-01-01", "2023-02-01"]),
        "direction": ["Buy", "Buy", "Sell", "Sell"], "plan": [None, None, "Discretionary", "10b5-1 plan"],
        "value": [13e9, 2e9, -45e9, -30e9], "trades": [10, 5, 100, 80],
    })  # fmt: skip
    y = figures.market_flow_figure(flow).layout.yaxis
    ticks = list(y.tickvals)
    assert list(y.range) == [ticks[0], ticks[-1]]
    assert ticks[0] <= -45e9 and ticks[-1] >= 13e9 and sum(t > 0 for t in ticks) >= 1
    assert "$0" in y.ticktext and any(t.startswith("$") and t != "$0" for t in y.ticktext)


@pytest.mark.parametrize(
    ("months", "freq", "wide", "narrow"),
    [
        (6, "M", "M1", "M1"),
        (12, "M", "M1", "M2"),
        (24, "M", "M3", "M6"),
        (24, "Q", "M3", "M3"),
        (36, "Q", "M3", "M6"),
        (120, "M", "M12", "M24"),
    ],
)
def test_a_chart_with_a_second_axis_gets_half_the_period_labels(months, freq, wide, narrow):
    """Guards against the month labels of the 10b5-1 chart (its plan-share axis narrows the plot) turning sideways
    and running into the years on a phone (seen at 390 px on the plans and insider pages): half as many labels as
    a one-axis chart over the same periods, and short ranges keep one label per period."""
    periods = pd.Series(pd.date_range("2021-07-01", periods=months, freq="MS"))
    if freq == "Q":
        periods = periods[periods.dt.month.isin([1, 4, 7, 10])]
    assert figures.period_axis(periods, freq)["dtick"] == wide
    assert figures.period_axis(periods, freq, narrow=True)["dtick"] == narrow
    activity = pd.DataFrame({"period": periods, "plan_value": 1.0, "plan_shares": 1.0, "other_value": 1.0,
                             "other_shares": 1.0, "plan_share": 0.5})  # fmt: skip
    assert figures.plan_activity_figure(activity, freq=freq).layout.xaxis.dtick == narrow
