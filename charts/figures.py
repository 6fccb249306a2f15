"""Plotly figure builders. Every chart takes a frame from analytics and returns a go.Figure; colours, number
formats and the empty state are defined once here so every chart looks the same."""

from __future__ import annotations

import html
import math
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

BUY = "#1b7837"
SELL = "#c51b7d"
SELL_PLAN = "#e9a3c9"
SELL_UNKNOWN = "#bdbdbd"
NET = "#e08214"  # orange: visible on the light and the dark theme
PLAN_SHARE = "#7570b3"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#e377c2",
    "#7f7f7f",
    "#d62728",
]
PLAN_STYLE = {  # sells by plan status: colour and hatch
    "10b5-1 plan": (SELL_PLAN, "/"),
    "Discretionary": (SELL, ""),
    "Plan status unknown": (SELL_UNKNOWN, "."),
}
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13)
GRID = "rgba(128,128,128,0.25)"  # readable on the light and the dark theme
LEGEND_WIDTH = 36  # characters per legend line: with its line sample, one entry fits a 390 px phone


def wrap_title(title: str, width: int = 44) -> str:
    """A long title on two lines (plotly never wraps, and a phone is 390 px wide). Titles and legend names hold
    filers' names, so figures escape them (plotly renders a subset of HTML, links included)."""
    if len(title) <= width:
        return title
    cut = title.rfind(" ", 0, width)
    cut = cut if cut > 0 else width
    return title[:cut] + "<br>" + title[cut:].lstrip()


def legend_name(name: str, width: int = LEGEND_WIDTH) -> str:
    """A legend entry escaped and wrapped at spaces into lines of at most `width` characters where it can be: a
    horizontal legend never wraps an entry, so one long name ("Cannon-Brookes Michael — Indirect (By Trust) —
    Class A") ran off a phone's screen."""
    lines = textwrap.wrap(html.escape(name), width, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(lines) or html.escape(name)


def _layout(fig: go.Figure, title: str, height: int = 430) -> go.Figure:
    """Title, font, margins and a legend under the plot that never covers the axes (no x-axis titles: the
    ticks say months or dates). The theme's colours come from Streamlit (or plotly_white in exports)."""
    fig.update_layout(
        title=dict(text=wrap_title(html.escape(title, quote=False)), x=0.01, xanchor="left"),
        font=FONT,
        height=height,
        margin=dict(l=10, r=10, t=80 if len(title) > 44 else 60, b=10),
        legend=dict(
            orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0, title_text=""
        ),
        hovermode="closest",
    )
    fig.update_xaxes(automargin=True, gridcolor=GRID)
    fig.update_yaxes(automargin=True, gridcolor=GRID, zerolinecolor="#999")
    return fig


# ---------------------------------------------------------------------- axes a reader can read
_NICE = (1, 2, 2.5, 5, 10)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(n * power for n in _NICE if n * power >= raw)


def axis_label(value: float, money: bool) -> str:
    """'$1.25M', '−$500K', '$0', '25K shares' style tick labels, precise enough that neighbours differ."""
    if value == 0:
        return "$0" if money else "0"
    v = abs(value)
    size, suffix = next(
        ((s, x) for s, x in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")) if v >= s), (1, "")
    )
    decimals = 0  # as few as this value needs: $1M, $1.25M
    while decimals < 3 and abs(round(v / size, decimals) - v / size) > 1e-9:
        decimals += 1
    number = f"{v / size:,.{decimals}f}{suffix}"
    return ("−" if value < 0 else "") + ("$" if money else "") + number


def value_axis(values, money: bool, include_zero: bool = True) -> dict:
    """Explicit range and ticks for a value axis: distinct labels for one point or a flat series, '$0' for an
    all-zero one (never '$500m'), no float noise."""
    vals = [float(v) for v in values if v is not None and v == v and math.isfinite(float(v))]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 0.0)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        if hi == 0:
            return dict(range=[-1, 1], tickmode="array", tickvals=[0], ticktext=["$0" if money else "0"])
        lo, hi = lo - abs(lo) * 0.5, hi + abs(hi) * 0.5
    step = _nice_step(hi - lo)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    ticks = [i * step for i in range(first, last + 1)]
    pad = (hi - lo) * 0.04
    return dict(range=[min(lo - pad, ticks[0]), max(hi + pad, ticks[-1])], tickmode="array", tickvals=ticks,
                ticktext=[axis_label(t, money) for t in ticks])  # fmt: skip


def period_axis(periods: pd.Series, freq: str, narrow: bool = False) -> dict:
    """Month (or quarter) ticks for per-period bars: 'Mar 2024' under each month for up to 15 months, then every
    quarter, then years; the range always spans at least a few periods (one bar is not 0.4 ms wide). narrow: a
    chart with a second y axis, whose plot is narrower: half as many labels (on a phone, two years of quarterly
    labels turned sideways and ran into the years)."""
    dates = pd.to_datetime(pd.Series(periods)).dropna()
    step = 3 if freq == "Q" else 1
    lo, hi = dates.min(), dates.max()
    months = (hi.year - lo.year) * 12 + hi.month - lo.month + step
    k = 2 if narrow else 1
    if months <= 15 * step:
        dtick, fmt = f"M{step * (k if months > 8 * step else 1)}", "%b\n%Y"
    elif months <= 48:
        dtick, fmt = f"M{(3 if step == 1 else 6) * k}", "%b\n%Y"
    else:
        dtick, fmt = f"M{12 * max(1, math.ceil(months / 12 / (10 // k)))}", "%Y"
    before = max(step, (6 - months) // 2 if months < 6 else 0)
    start = lo - pd.DateOffset(months=before)
    end = hi + pd.DateOffset(months=step + max(0, before - step))
    mode = "period" if months <= 15 * step else "instant"  # month names under their bars; years at Jan 1
    return dict(range=[start, end], dtick=dtick, tickformat=fmt, ticklabelmode=mode, tick0=lo)


def date_axis(dates: pd.Series) -> dict:
    """A date axis that never zooms to sub-second ticks: at least 5 weeks wide around a single day."""
    days = pd.to_datetime(pd.Series(dates)).dropna()
    lo, hi = days.min(), days.max()
    span = hi - lo
    if span < pd.Timedelta(days=35):
        pad = (pd.Timedelta(days=35) - span) / 2
        return dict(range=[lo - pad, hi + pad], tickformat="%b %-d\n%Y", dtick=7 * 86_400_000, tick0=lo)
    pad = span * 0.03
    return dict(range=[lo - pad, hi + pad])


def _line_style(freq: str) -> dict:
    """Points in the middle of their month (or quarter), where the bars are."""
    return dict(xperiod="M3" if freq == "Q" else "M1", xperiodalignment="middle")


def _bar_style(freq: str) -> dict:
    """Bars centred in their period and 80% as wide as it, also when there is only one (plotly would draw a single
    bar on a date axis a few milliseconds wide)."""
    days = 91 if freq == "Q" else 30.4
    return _line_style(freq) | dict(width=0.8 * days * 86_400_000)


def _gaps(frame: pd.DataFrame, periods: pd.Series, freq: str) -> pd.DataFrame:
    """`frame` (indexed by period) with a row of NaN for every period without data, so lines break there."""
    full = pd.date_range(periods.min(), periods.max(), freq="QS" if freq == "Q" else "MS")
    return frame.reindex(full)


def empty_figure(title: str, message: str = "No transactions match these filters") -> go.Figure:
    """A titled figure that says why it is empty instead of showing a bare axis."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=16, color="#888"), x=0.5, y=0.5,
                       xref="paper", yref="paper")  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(
        title=dict(text=title, x=0.01), font=FONT, height=300, margin=dict(l=10, r=10, t=60, b=10)
    )
    return fig


def _money_hover(unit: str) -> str:
    return "%{y:$,.0f}" if unit == "$" else "%{y:,.0f} shares"


def flow_figure(
    flow: pd.DataFrame, unit: str = "$", freq: str = "M", title: str = "Net insider flow"
) -> go.Figure:
    """Bars of buys (up) and sells (down) per period, sells split by 10b5-1 plan status, with the net as a line
    that breaks over periods without trades."""
    col = "value" if unit == "$" else "shares"
    per = "month" if freq == "M" else "quarter"
    full_title = f"{title} per {per} ({'US$' if unit == '$' else 'shares'})"
    if flow is None or flow.empty:
        return empty_figure(full_title)
    bars = _bar_style(freq)
    label = "%{x|%b %Y}" if freq == "M" else "%{x|Q%q %Y}"
    fig = go.Figure()
    buys = flow[flow["direction"] == "Buy"].groupby("period", as_index=False)[[col, "trades"]].sum()
    if not buys.empty:
        fig.add_bar(x=buys["period"], y=buys[col], name="Buys", marker_color=BUY, customdata=buys["trades"],
                    hovertemplate=f"{label}<br>Buys: {_money_hover(unit)}<br>%{{customdata}} trades<extra></extra>",
                    **bars)  # fmt: skip
    for plan, (color, hatch) in PLAN_STYLE.items():
        sells = flow[(flow["direction"] == "Sell") & (flow["plan"] == plan)]
        if sells.empty:
            continue
        fig.add_bar(x=sells["period"], y=sells[col], name=f"Sells: {plan}", marker_color=color,
                    marker_pattern_shape=hatch, customdata=sells["trades"],
                    hovertemplate=f"{label}<br>Sells ({plan}): {_money_hover(unit)}<br>%{{customdata}} trades"
                    "<extra></extra>", **bars)  # fmt: skip
    net = _gaps(flow.groupby("period")[col].sum().to_frame(), flow["period"], freq)
    fig.add_scatter(x=net.index, y=net[col], name="Net", mode="lines+markers", line=dict(color=NET, width=2),
                    connectgaps=False, hovertemplate=f"{label}<br>Net: {_money_hover(unit)}<extra></extra>",
                    **_line_style(freq))  # fmt: skip
    per_period = flow.groupby(["period", flow[col] > 0])[col].sum()
    fig.update_layout(barmode="relative", bargap=0.15)
    fig.update_xaxes(**period_axis(flow["period"], freq))
    fig.update_yaxes(title_text="US$ (buys up, sells down)" if unit == "$" else "Shares (buys up, sells down)",
                     **value_axis(list(per_period.values) + list(net[col].dropna()), money=unit == "$"))  # fmt: skip
    return _layout(fig, full_title)


def holdings_figure(
    points: pd.DataFrame, title: str = "Holdings over time", max_series: int = 12
) -> go.Figure:
    """Step lines of shares owned per insider x ownership, a marker per trade (hover: code, shares, price,
    footnotes) and open markers where a holdings row anchors the line."""
    if points is None or points.empty:
        return empty_figure(title, "No holdings reported for this selection")
    fig = go.Figure()
    order = points.groupby("series")["shares_owned"].max().sort_values(ascending=False).index[:max_series]
    last_day = points["date"].max()
    shown = points[points["series"].isin(order)]
    # every per-point array is built once over the shown points, then cut per series (issue 9: doing it per series
    # made this chart one of the slowest parts of a large issuer's page); numbers as one float array and words as
    # one string per point, because plotly deep-copies object arrays element by element
    trades = shown[shown["kind"] == "trade"]
    plan = (
        trades["is_10b5_1"].map({True: "10b5-1 plan", False: "discretionary"}).fillna("plan status unknown")
    )
    numbers = trades[["shares", "price"]].to_numpy(dtype=float, na_value=np.nan)
    text = (trades["code"].fillna("?") + " " + trades["code_name"].fillna("") + " (" + plan + ")").to_numpy(
        dtype=object
    )
    notes = trades["footnotes"].fillna("").str.slice(0, 160).map(html.escape).to_numpy(dtype=object)
    symbols = trades["code"].map(_symbol).to_numpy(dtype=object)
    trade_rows = trades.groupby("series", sort=False).indices
    anchors = shown[shown["kind"] == "anchor"]
    anchor_rows = anchors.groupby("series", sort=False).indices
    line_rows = shown.groupby("series", sort=False).indices
    for i, name in enumerate(order):
        s = shown.iloc[line_rows[name]]
        color = PALETTE[i % len(PALETTE)]
        # past the palette's 10 colours: the colour again, dashed
        dash = "solid" if i < len(PALETTE) else "dash"
        line_x = pd.concat(
            [s["date"], pd.Series([last_day])], ignore_index=True
        )  # carry the last holding forward
        line_y = pd.concat([s["shares_owned"], s["shares_owned"].iloc[-1:]], ignore_index=True)
        fig.add_scatter(x=line_x, y=line_y, name=legend_name(name), mode="lines", line_shape="hv",
                        line=dict(color=color, width=2, dash=dash), legendgroup=name, hoverinfo="skip")  # fmt: skip
        rows = trade_rows.get(name, np.array([], dtype=int))
        # one trace per marker symbol (a list of one symbol per point made plotly validate each of tens of thousands
        # of markers); same points, same hover
        for symbol in pd.unique(symbols[rows]):
            part = rows[symbols[rows] == symbol]
            fig.add_scatter(
                x=trades["date"].iloc[part], y=trades["shares_owned"].iloc[part], mode="markers",
                name=html.escape(name), legendgroup=name, showlegend=False,
                marker=dict(color=color, size=8, symbol=symbol, line=dict(color="white", width=1)),
                customdata=numbers[part], text=text[part], hovertext=notes[part],
                hovertemplate="<b>%{x|%Y-%m-%d}</b> %{text}<br>Shares: %{customdata[0]:+,.0f} at "
                "$%{customdata[1]:,.2f}<br>Owned after: %{y:,.0f}<br>"
                "<span style='font-size:11px'>%{hovertext}</span><extra>" + html.escape(name) + "</extra>",
            )  # fmt: skip
        if name in anchor_rows:
            a = anchors.iloc[anchor_rows[name]]
            fig.add_scatter(x=a["date"], y=a["shares_owned"], mode="markers", name=html.escape(name),
                            legendgroup=name, showlegend=False,
                            marker=dict(color="white", size=9, symbol="circle", line=dict(color=color, width=2)),
                            hovertemplate="<b>%{x|%Y-%m-%d}</b> holding reported<br>Owned: %{y:,.0f}<extra>"
                            + html.escape(name) + "</extra>")  # fmt: skip
    fig.update_xaxes(**date_axis(shown["date"]))
    fig.update_yaxes(title_text="Shares owned", **value_axis(shown["shares_owned"], money=False))
    if len(order) < points["series"].nunique():
        title += f" (largest {len(order)} of {points['series'].nunique()} holdings)"
    return _layout(fig, title, height=480)


def _symbol(code) -> str:
    return {
        "P": "triangle-up",
        "S": "triangle-down",
        "A": "diamond",
        "M": "square",
        "F": "x",
        "G": "star",
    }.get(code if isinstance(code, str) else "", "circle")


def trades_timeline_figure(tx: pd.DataFrame, title: str = "Trades") -> go.Figure:
    """One marker per trade: date x signed value, buys and sells coloured, plan trades drawn hollow."""
    rows = tx[tx["transaction_date"].notna() & tx["signed_value"].notna()] if tx is not None else tx
    full_title = title + " (US$ per trade; buys up, sells down)"
    if rows is None or rows.empty:
        return empty_figure(full_title)
    fig = go.Figure()
    for label, mask, color in (
        ("Buys", rows["acquired_disposed"] == "A", BUY),
        ("Sells", rows["acquired_disposed"] == "D", SELL),
    ):
        part = rows[mask]
        if part.empty:
            continue
        plan = part["is_10b5_1"].fillna(False).astype(bool)
        for sub, hollow in ((part[~plan], False), (part[plan], True)):
            if sub.empty:
                continue
            fig.add_scatter(
                x=sub["transaction_date"], y=sub["signed_value"], mode="markers",
                name=f"{label} ({'10b5-1 plan' if hollow else 'not under a plan'})",
                marker=dict(color="white" if hollow else color, size=9, line=dict(color=color, width=2),
                            symbol="triangle-up" if label == "Buys" else "triangle-down"),
                customdata=pd.DataFrame({"t": sub["ticker"].fillna("").map(html.escape), "c": sub["code"],
                                         "s": sub["shares"], "p": sub["price"]}).values,
                hovertemplate="<b>%{x|%Y-%m-%d}</b> %{customdata[0]} code %{customdata[1]}<br>%{customdata[2]:,.0f} "
                "shares at $%{customdata[3]:,.2f}<br>Value: %{y:$,.0f}<extra></extra>",
            )  # fmt: skip
    fig.update_xaxes(**date_axis(rows["transaction_date"]))
    fig.update_yaxes(title_text="US$ (signed)", **value_axis(rows["signed_value"], money=True))
    return _layout(fig, full_title)


def plan_activity_figure(activity: pd.DataFrame, unit: str = "$", freq: str = "M",
                         title: str = "Sales under 10b5-1 plans") -> go.Figure:  # fmt: skip
    """Stacked bars of plan vs other sales per period, with the plan share (% of sale $) on a second axis; the
    share's line breaks over periods without sales."""
    per = "month" if freq == "M" else "quarter"
    full_title = f"{title} per {per} ({'US$' if unit == '$' else 'shares'})"
    if activity is None or activity.empty:
        return empty_figure(full_title, "No sales match these filters")
    plan_col, other_col = ("plan_value", "other_value") if unit == "$" else ("plan_shares", "other_shares")
    fmt = _money_hover(unit)
    label = "%{x|%b %Y}" if freq == "M" else "%{x|Q%q %Y}"
    bars = _bar_style(freq)
    fig = go.Figure()
    fig.add_bar(x=activity["period"], y=activity[plan_col], name="Under a 10b5-1 plan", marker_color=SELL_PLAN,
                marker_pattern_shape="/", hovertemplate=f"{label}<br>Plan sales: {fmt}<extra></extra>", **bars)  # fmt: skip
    fig.add_bar(x=activity["period"], y=activity[other_col], name="Other sales", marker_color=SELL,
                hovertemplate=f"{label}<br>Other sales: {fmt}<extra></extra>", **bars)  # fmt: skip
    share = _gaps(activity.set_index("period")[["plan_share"]], activity["period"], freq)
    fig.add_scatter(x=share.index, y=share["plan_share"] * 100, name="Plan share of sale $", yaxis="y2",
                    mode="lines+markers", line=dict(color=PLAN_SHARE, dash="dot"), connectgaps=False,
                    hovertemplate=f"{label}<br>Plan share: %{{y:.0f}}%<extra></extra>", **_line_style(freq))  # fmt: skip
    fig.update_layout(
        barmode="stack",
        yaxis=dict(title_text="US$ sold" if unit == "$" else "Shares sold",
                   **value_axis(activity[plan_col] + activity[other_col], money=unit == "$")),
        yaxis2=dict(title_text="Plan share (%)", overlaying="y", side="right", range=[-4, 104], showgrid=False,
                    tickmode="array", tickvals=[0, 25, 50, 75, 100], ticktext=["0%", "25%", "50%", "75%", "100%"],
                    zeroline=False, automargin=True),
    )  # fmt: skip
    fig.update_xaxes(**period_axis(activity["period"], freq, narrow=True))  # the share's axis takes room
    return _layout(fig, full_title)


# ---------------------------------------------------------------------------------------------- market pages
PERIOD_WORDS = {"W": "week", "M": "month", "Q": "quarter"}


def _market_layout(fig: go.Figure, title: str, y_title: str, money: bool, height: int = 430) -> go.Figure:
    """The common layout (_layout) plus a y-axis title; money axes get their ticks from money_axis."""
    fig = _layout(fig, title, height=height)
    fig.update_yaxes(title_text=y_title or None)
    return fig


_PERIOD_DAYS = {"W": 7, "M": 30.44, "Q": 91.3}


def _market_step(span: float, n: int = 6) -> float:
    raw = max(span, 1e-9) / n
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag)


def money_axis(fig: go.Figure, values, axis: str = "yaxis", n: int = 6) -> go.Figure:
    """Money ticks written like the rest of the app ($0, $250K, -$1.5M), never SI's "500m" or repeated labels; the
    axis spans the outer ticks, so the largest bars on each side have a labelled tick beyond them (with plotly's own
    range, a +$13B bar next to -$45B ones had no tick above $0: the next one, +$20B, fell outside)."""
    from analytics.filters import fmt_money

    vals = [float(v) for v in values if v is not None and v == v]
    lo, hi = min([0.0, *vals]), max([0.0, *vals])
    if lo == hi:
        hi = lo + 1.0
    step = _market_step(hi - lo, n)
    first = math.floor(lo / step) * step
    ticks = [first + i * step for i in range(int(math.ceil((hi - first) / step)) + 1)]
    labels = [fmt_money(t) if abs(t) >= 1 or t == 0 else f"${t:,.2f}" for t in ticks]
    fig.update_layout(
        {axis: dict(tickmode="array", tickvals=ticks, ticktext=labels, range=[ticks[0], ticks[-1]])}
    )
    return fig


def market_period_axis(fig: go.Figure, periods: pd.Series, freq: str, axis: str = "xaxis") -> go.Figure:
    """A date axis for bars per week/month/quarter: padded by half a period (a single bar gets a sensible axis),
    ticks on whole periods, labelled with month names, never clock times."""
    p = pd.to_datetime(pd.Series(periods)).dropna()
    if p.empty:
        return fig
    half = pd.Timedelta(days=_PERIOD_DAYS[freq] / 2)
    lo, hi = p.min() - half, p.max() + half
    months = (hi - lo).days / 30.44
    if freq == "W" and months <= 4:
        weeks = max(1, math.ceil((hi - lo).days / 7 / 8))
        spec = dict(dtick=weeks * 7 * 86_400_000, tick0=p.min(), tickformat="%d %b %Y")
    elif months <= 14:
        spec = dict(dtick="M1", tickformat="%b %Y")
    elif months <= 40:
        spec = dict(dtick="M3", tickformat="%b %Y")
    elif months <= 80:
        spec = dict(dtick="M6", tickformat="%b %Y")
    else:
        spec = dict(dtick="M12", tickformat="%Y")
    fig.update_layout({axis: dict(range=[lo, hi], type="date", **spec)})
    return fig


def market_flow_figure(flow: pd.DataFrame, freq: str = "M", title: str = "Net insider $ flow, whole market"):
    """Bars per week/month/quarter: open-market buys up, sales down split by 10b5-1 status, the net as a line."""
    per = PERIOD_WORDS[freq]
    full_title = f"{title} per {per} (US$)"
    if flow is None or flow.empty:
        return empty_figure(full_title, "No open-market trades match these filters")
    fmt = {"W": "week of %{x|%d %b %Y}", "M": "%{x|%b %Y}", "Q": "quarter from %{x|%b %Y}"}[freq]
    fig = go.Figure()
    buys = flow[flow["direction"] == "Buy"].groupby("period", as_index=False)[["value", "trades"]].sum()
    if not buys.empty:
        fig.add_bar(x=buys["period"], y=buys["value"], name="Purchases (P)", marker_color=BUY,
                    customdata=buys["trades"],
                    hovertemplate=fmt + "<br>Purchases: %{y:$,.0f}<br>%{customdata:,} trades<extra></extra>")  # fmt: skip
    for plan, (color, hatch) in PLAN_STYLE.items():
        sells = flow[(flow["direction"] == "Sell") & (flow["plan"] == plan)]
        if sells.empty:
            continue
        fig.add_bar(x=sells["period"], y=sells["value"], name=f"Sales (S): {plan}", marker_color=color,
                    marker_pattern_shape=hatch, customdata=sells["trades"],
                    hovertemplate=fmt + f"<br>Sales ({plan}): %{{y:$,.0f}}<br>%{{customdata:,}} trades<extra></extra>")  # fmt: skip
    net = flow.groupby("period", as_index=False)["value"].sum()
    fig.add_scatter(x=net["period"], y=net["value"], name="Net", mode="lines+markers", line=dict(color=NET, width=2),
                    hovertemplate=fmt + "<br>Net: %{y:$,.0f}<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="relative", bargap=0.15)
    fig = _market_layout(fig, full_title, "US$ (purchases up, sales down)", money=True)
    per_period = flow.assign(up=flow["value"].clip(lower=0), down=flow["value"].clip(upper=0))
    sums = per_period.groupby("period")[["up", "down"]].sum()
    money_axis(fig, [*sums["up"], *sums["down"]])
    market_period_axis(fig, flow["period"], freq)
    # the title names the period; the legend sits in its own strip at the bottom of the figure, so it never
    # covers the tick labels even when it wraps on a phone
    fig.update_layout(height=480, margin=dict(b=120),
                      legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.01, x=0))  # fmt: skip
    return fig


def buy_sell_ratio_figure(ratio: pd.DataFrame, freq: str = "M",
                          title: str = "Insider buy/sell ratio, whole market") -> go.Figure:  # fmt: skip
    """Filings with a purchase per filing with a sale, per period (a line), with a dotted 1 = as many as."""
    per = PERIOD_WORDS[freq]
    full_title = f"{title} per {per}"
    rows = ratio[ratio["ratio"].notna()] if ratio is not None and not ratio.empty else ratio
    if rows is None or rows.empty:
        return empty_figure(full_title, "No open-market sales in range (the ratio needs at least one)")
    fmt = {"W": "week of %{x|%d %b %Y}", "M": "%{x|%b %Y}", "Q": "quarter from %{x|%b %Y}"}[freq]
    fig = go.Figure()
    fig.add_scatter(x=rows["period"], y=rows["ratio"], mode="lines+markers", name="Buy/sell ratio",
                    line=dict(color=NET, width=2),
                    customdata=rows[["buy_filings", "sell_filings"]].values,
                    hovertemplate=fmt + "<br>Ratio: %{y:.2f}<br>%{customdata[0]:,} filings with purchases, "
                    "%{customdata[1]:,} with sales<extra></extra>")  # fmt: skip
    fig.add_hline(y=1, line=dict(color="#999", dash="dot"))
    fig = _market_layout(fig, full_title, "Purchase filings per sale filing", money=False, height=360)
    top = max(1.2, float(rows["ratio"].max()) * 1.1)
    fig.update_yaxes(range=[0, top], tickformat=".2~f")
    market_period_axis(fig, rows["period"], freq)
    fig.update_layout(showlegend=False, margin=dict(b=60))
    return fig


def top_issuers_figure(top: pd.DataFrame, title: str = "Top issuers by net insider buying") -> go.Figure:
    """Horizontal bars: net open-market buying (purchases - sales, $) per issuer, largest on top."""
    if top is None or top.empty:
        return empty_figure(title, "No issuer with net insider buying in range")
    rows = top.sort_values("net").tail(20)
    named = rows["issuer_name"].fillna(rows["issuer_cik"].astype(str)).map(lambda n: _short(n, 24))
    labels = rows["ticker"].fillna("").where(rows["ticker"].fillna("").str.len() > 0, named)
    fig = go.Figure()
    fig.add_bar(y=labels, x=rows["net"], orientation="h", marker_color=BUY, name="Net buying",
                customdata=rows[["issuer_name", "bought", "sold", "buyers"]].values,
                hovertemplate="<b>%{y}</b> %{customdata[0]}<br>Net: %{x:$,.0f}<br>Bought %{customdata[1]:$,.0f}, "
                "sold %{customdata[2]:$,.0f}<br>%{customdata[3]:,} buyers<extra></extra>")  # fmt: skip
    fig = _market_layout(fig, title, "", money=False, height=max(320, 28 * len(rows) + 120))
    money_axis(fig, rows["net"], axis="xaxis", n=4)
    fig.update_xaxes(title_text="Net purchases minus sales (US$)")
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(showlegend=False)
    return fig


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def cluster_figure(trades: pd.DataFrame, title: str, window: tuple | None = None) -> go.Figure:
    """One cluster's purchases on a timeline: a row per insider, a marker per purchase (area ~ $, hover: shares,
    price, role), the cluster's window shaded."""
    if trades is None or trades.empty:
        return empty_figure(title, "No purchases in this window")
    fig = go.Figure()
    biggest = float(trades["value"].fillna(0).max()) or 1.0
    names = sorted(trades["owner_name"].fillna("?").astype(str).unique())
    for i, name in enumerate(names):
        rows = trades[trades["owner_name"].fillna("?").astype(str) == name]
        sizes = 12 + 34 * (rows["value"].fillna(0) / biggest) ** 0.5
        fig.add_scatter(x=rows["transaction_date"], y=[name] * len(rows), mode="markers", name=name,
                        marker=dict(size=sizes, color=PALETTE[i % len(PALETTE)], opacity=0.85,
                                    line=dict(color="white", width=1)),
                        customdata=rows[["value", "shares", "price", "role"]].fillna("").values,
                        hovertemplate="<b>%{x|%Y-%m-%d}</b> %{y}<br>%{customdata[0]:$,.0f}: %{customdata[1]:,.0f} "
                        "shares at $%{customdata[2]:,.2f}<br>%{customdata[3]}<extra></extra>")  # fmt: skip
    if window:
        fig.add_vrect(x0=window[0], x1=window[1], fillcolor=BUY, opacity=0.07, line_width=0)
    fig = _market_layout(
        fig, title + " (marker area ~ $ bought)", "", money=False, height=max(300, 60 * len(names) + 160)
    )
    lo = pd.Timestamp(window[0] if window else trades["transaction_date"].min())
    hi = pd.Timestamp(window[1] if window else trades["transaction_date"].max())
    # room for the largest marker (46 px) on a phone's ~200 px plot: purchases on the window's first day were cut
    # in half at the left edge
    pad = max(pd.Timedelta(days=2), (hi - lo) * 0.12)
    lo, hi = lo - pad, hi + pad
    # two-line labels ("16 Mar" over "2023"), at most 4, spaced by plotly: seven one-line dates turned sideways on a
    # phone, where the names take half the width (long names are shortened on the axis; hover shows them whole)
    fig.update_xaxes(title_text="Trade date", range=[lo, hi], tickformat="%d %b\n%Y", nticks=4)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=names[::-1], automargin=True,
                     tickformat=None, tickvals=names, ticktext=[_short(n, 18) for n in names])  # fmt: skip
    fig.update_layout(showlegend=False)
    return fig
