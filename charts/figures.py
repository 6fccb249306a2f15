"""Plotly figure builders. Every chart takes a frame from analytics and returns a go.Figure; colours, number
formats and the empty state are defined once here so every chart looks the same."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

BUY = "#1b7837"
SELL = "#c51b7d"
SELL_PLAN = "#e9a3c9"
SELL_UNKNOWN = "#bdbdbd"
NET = "#252525"
PLAN_SHARE = "#4d4d4d"
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


def _layout(fig: go.Figure, title: str, y_title: str, money: bool, height: int = 430) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left"),
        font=FONT,
        template="plotly_white",
        height=height,
        margin=dict(l=70, r=30, t=60, b=40),
        legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
        hovermode="closest",
    )
    fig.update_yaxes(title_text=y_title, tickformat="$~s" if money else "~s", zeroline=True,
                     zerolinecolor="#999")  # fmt: skip
    return fig


def empty_figure(title: str, message: str = "No transactions match these filters") -> go.Figure:
    """A titled figure that says why it is empty instead of showing a bare axis."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=16, color="#666"), x=0.5, y=0.5,
                       xref="paper", yref="paper")  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=title, x=0.01), font=FONT, template="plotly_white", height=300)
    return fig


def flow_figure(
    flow: pd.DataFrame, unit: str = "$", freq: str = "M", title: str = "Net insider flow"
) -> go.Figure:
    """Bars of buys (up) and sells (down) per period, sells split by 10b5-1 plan status, with the net as a line."""
    col = "value" if unit == "$" else "shares"
    per = "month" if freq == "M" else "quarter"
    full_title = f"{title} per {per} ({'US$' if unit == '$' else 'shares'})"
    if flow is None or flow.empty:
        return empty_figure(full_title)
    fig = go.Figure()
    buys = flow[flow["direction"] == "Buy"].groupby("period", as_index=False)[[col, "trades"]].sum()
    if not buys.empty:
        fig.add_bar(x=buys["period"], y=buys[col], name="Buys (acquired)", marker_color=BUY,
                    customdata=buys["trades"],
                    hovertemplate="%{x|%b %Y}<br>Buys: %{y:$,.0f}<br>%{customdata} trades<extra></extra>"
                    if unit == "$" else "%{x|%b %Y}<br>Buys: %{y:,.0f} shares<br>%{customdata} trades<extra></extra>")  # fmt: skip
    for plan, (color, hatch) in PLAN_STYLE.items():
        sells = flow[(flow["direction"] == "Sell") & (flow["plan"] == plan)]
        if sells.empty:
            continue
        fmt = "%{y:$,.0f}" if unit == "$" else "%{y:,.0f} shares"
        fig.add_bar(x=sells["period"], y=sells[col], name=f"Sells: {plan}", marker_color=color,
                    marker_pattern_shape=hatch, customdata=sells["trades"],
                    hovertemplate=f"%{{x|%b %Y}}<br>Sells ({plan}): {fmt}<br>%{{customdata}} trades<extra></extra>")  # fmt: skip
    net = flow.groupby("period", as_index=False)[col].sum()
    fig.add_scatter(x=net["period"], y=net[col], name="Net", mode="lines+markers", line=dict(color=NET, width=2),
                    hovertemplate="%{x|%b %Y}<br>Net: " + ("%{y:$,.0f}" if unit == "$" else "%{y:,.0f} shares")
                    + "<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="relative", bargap=0.15)
    fig.update_xaxes(title_text=per.capitalize(), dtick="M3" if freq == "Q" else None)
    return _layout(fig, full_title, "US$ (buys up, sells down)" if unit == "$" else "Shares (buys up, sells down)",
                   unit == "$")  # fmt: skip


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
    for i, name in enumerate(order):
        s = points[points["series"] == name]
        color = PALETTE[i % len(PALETTE)]
        line_x = pd.concat(
            [s["date"], pd.Series([last_day])], ignore_index=True
        )  # carry the last holding forward
        line_y = pd.concat([s["shares_owned"], s["shares_owned"].iloc[-1:]], ignore_index=True)
        fig.add_scatter(x=line_x, y=line_y, name=name, mode="lines", line_shape="hv",
                        line=dict(color=color, width=2), legendgroup=name, hoverinfo="skip")  # fmt: skip
        trades = s[s["kind"] == "trade"]
        if not trades.empty:
            plan = (
                trades["is_10b5_1"]
                .map({True: "10b5-1 plan", False: "discretionary"})
                .fillna("plan status unknown")
            )
            custom = pd.DataFrame({
                "code": trades["code"].fillna("?") + " " + trades["code_name"].fillna(""),
                "shares": trades["shares"], "price": trades["price"], "plan": plan,
                "notes": trades["footnotes"].fillna("").str.slice(0, 160).str.replace("\n", "<br>"),
            })  # fmt: skip
            fig.add_scatter(
                x=trades["date"], y=trades["shares_owned"], mode="markers", name=name, legendgroup=name,
                showlegend=False, marker=dict(color=color, size=8, symbol=[_symbol(c) for c in trades["code"]],
                                              line=dict(color="white", width=1)),
                customdata=custom.values,
                hovertemplate="<b>%{x|%Y-%m-%d}</b> %{customdata[0]}<br>Shares: %{customdata[1]:+,.0f} at "
                "$%{customdata[2]:,.2f} (%{customdata[3]})<br>Owned after: %{y:,.0f}<br>"
                "<span style='font-size:11px'>%{customdata[4]}</span><extra>" + name + "</extra>",
            )  # fmt: skip
        anchors = s[s["kind"] == "anchor"]
        if not anchors.empty:
            fig.add_scatter(x=anchors["date"], y=anchors["shares_owned"], mode="markers", name=name,
                            legendgroup=name, showlegend=False,
                            marker=dict(color="white", size=9, symbol="circle", line=dict(color=color, width=2)),
                            hovertemplate="<b>%{x|%Y-%m-%d}</b> holding reported<br>Owned: %{y:,.0f}<extra>"
                            + name + "</extra>")  # fmt: skip
    fig.update_xaxes(title_text="Date")
    if len(order) < points["series"].nunique():
        title += f" (largest {len(order)} of {points['series'].nunique()} holdings)"
    return _layout(fig, title, "Shares owned", money=False, height=480)


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
    if rows is None or rows.empty:
        return empty_figure(title)
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
                customdata=pd.DataFrame({"t": sub["ticker"], "c": sub["code"], "s": sub["shares"], "p": sub["price"]}).values,
                hovertemplate="<b>%{x|%Y-%m-%d}</b> %{customdata[0]} code %{customdata[1]}<br>%{customdata[2]:,.0f} "
                "shares at $%{customdata[3]:,.2f}<br>Value: %{y:$,.0f}<extra></extra>",
            )  # fmt: skip
    fig.update_xaxes(title_text="Trade date")
    return _layout(fig, title + " (US$ per trade; buys up, sells down)", "US$ (signed)", money=True)


def plan_activity_figure(activity: pd.DataFrame, unit: str = "$", freq: str = "M",
                         title: str = "Sales under 10b5-1 plans") -> go.Figure:  # fmt: skip
    """Stacked bars of plan vs other sales per period, with the plan share (% of sale $) on a second axis."""
    per = "month" if freq == "M" else "quarter"
    full_title = f"{title} per {per} ({'US$' if unit == '$' else 'shares'})"
    if activity is None or activity.empty:
        return empty_figure(full_title, "No sales match these filters")
    plan_col, other_col = ("plan_value", "other_value") if unit == "$" else ("plan_shares", "other_shares")
    fmt = "%{y:$,.0f}" if unit == "$" else "%{y:,.0f} shares"
    fig = go.Figure()
    fig.add_bar(
        x=activity["period"],
        y=activity[plan_col],
        name="Under a 10b5-1 plan",
        marker_color=SELL_PLAN,
        marker_pattern_shape="/",
        hovertemplate="%{x|%b %Y}<br>Plan sales: " + fmt + "<extra></extra>",
    )
    fig.add_bar(
        x=activity["period"],
        y=activity[other_col],
        name="Other sales",
        marker_color=SELL,
        hovertemplate="%{x|%b %Y}<br>Other sales: " + fmt + "<extra></extra>",
    )
    fig.add_scatter(x=activity["period"], y=activity["plan_share"] * 100, name="Plan share of sale $", yaxis="y2",
                    mode="lines+markers", line=dict(color=PLAN_SHARE, dash="dot"),
                    hovertemplate="%{x|%b %Y}<br>Plan share: %{y:.0f}%<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="stack", yaxis2=dict(title="Plan share of sales (%)", overlaying="y", side="right",
                                                   range=[0, 105], showgrid=False, ticksuffix="%"))  # fmt: skip
    fig.update_xaxes(title_text=per.capitalize())
    fig = _layout(fig, full_title, "US$ sold" if unit == "$" else "Shares sold", unit == "$")
    fig.update_layout(margin=dict(r=80))
    return fig
