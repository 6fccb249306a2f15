"""Holdings over time: step series per insider x security x direct/indirect, from 'owned after' of each
transaction, with holdings rows (Forms 3/5 and holdings lines) as anchors."""

from __future__ import annotations

import pandas as pd

COLUMNS = [
    "series",
    "owner_cik",
    "owner_name",
    "ticker",
    "security_title",
    "ownership",
    "date",
    "shares_owned",
    "kind",
    "code",
    "code_name",
    "shares",
    "price",
    "is_10b5_1",
    "footnotes",
    "accession",
]


def _ownership(direct: pd.Series, nature: pd.Series) -> pd.Series:
    label = direct.map({"D": "Direct", "I": "Indirect"}).fillna("Unknown")
    indirect = (direct == "I") & nature.notna()
    return label.where(~indirect, "Indirect (" + nature.fillna("") + ")")


def _with_check(t: pd.DataFrame) -> pd.Series:
    """The row's footnotes, led by its data-quality note (fallbacks, flags, 10b5-1 decision) for the hover."""
    from analytics.quality import quality_notes

    check = quality_notes(t) if len(t) else pd.Series("", index=t.index, dtype="string")
    lead = ("Check: " + check + "\n").where(check != "", "")
    return (lead + t["footnotes"].fillna("")).astype("string")


def holdings_series(tx: pd.DataFrame, holdings: pd.DataFrame, derivative: bool = False) -> pd.DataFrame:
    """One point per transaction ('trade') or holdings row ('anchor'), sorted by series and date.

    `series` names the line: "Owner — Direct", plus the security when it is not plain common stock. Derivative
    securities are left out unless derivative=True. Columns: COLUMNS.
    """
    table = "derivative" if derivative else "nonDerivative"
    t = tx[(tx["table"] == table) & tx["owned_after"].notna()]
    h = holdings[(holdings["table"] == table) & holdings["shares_owned"].notna()]
    trades = pd.DataFrame(
        {
            "owner_cik": t["owner_cik"],
            "owner_name": t["owner_name"],
            "ticker": t["ticker"],
            "security_title": t["security_title"],
            "ownership": _ownership(t["direct_indirect"], t["nature"]),
            "date": t["transaction_date"],
            "shares_owned": t["owned_after"],
            "kind": "trade",
            "code": t["code"],
            "code_name": t["code_name"],
            "shares": t["signed_shares"],
            "price": t["price"],
            "is_10b5_1": t["is_10b5_1"],
            "footnotes": _with_check(t).str.slice(0, 300),
            "accession": t["accession"],
            "_order": t["seq"].astype("float"),
        }
    )
    anchors = pd.DataFrame(
        {
            "owner_cik": h["owner_cik"],
            "owner_name": h["owner_name"],
            "ticker": h["ticker"],
            "security_title": h["security_title"],
            "ownership": _ownership(h["direct_indirect"], h["nature"]),
            "date": h["period_of_report"].fillna(h["filing_date"]),
            "shares_owned": h["shares_owned"],
            "kind": "anchor",
            "code": pd.Series(pd.NA, index=h.index, dtype="string"),
            "code_name": pd.Series(pd.NA, index=h.index, dtype="string"),
            "shares": float("nan"),
            "price": float("nan"),
            "is_10b5_1": pd.Series(pd.NA, index=h.index, dtype="boolean"),
            "footnotes": h["footnotes"].fillna("").str.slice(0, 300),
            "accession": h["accession"],
            "_order": float("inf"),  # after every trade of the same filing
        }
    )
    frames = [f for f in (trades, anchors) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    points = pd.concat(frames, ignore_index=True)
    plain = points["security_title"].fillna("").str.lower().str.contains(r"^common|ordinary", regex=True)
    series = points["owner_name"].fillna("?") + " \u2014 " + points["ownership"]
    points["series"] = series.where(plain, series + " \u2014 " + points["security_title"].fillna("?"))
    many_issuers = points["ticker"].nunique() > 1
    if many_issuers:
        points["series"] = points["ticker"].fillna("?") + ": " + points["series"]
    points = points.sort_values(["series", "date", "accession", "_order"], kind="stable")
    return points[COLUMNS].reset_index(drop=True)


def latest_holdings(series: pd.DataFrame) -> pd.DataFrame:
    """Last known shares per series: series, owner_cik, owner_name, ticker, ownership, date, shares_owned."""
    if series.empty:
        return pd.DataFrame(
            columns=["series", "owner_cik", "owner_name", "ticker", "ownership", "date", "shares_owned"]
        )
    last = series.groupby("series").tail(1)
    return last[
        ["series", "owner_cik", "owner_name", "ticker", "ownership", "date", "shares_owned"]
    ].reset_index(drop=True)
