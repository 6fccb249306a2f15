"""Market-wide numbers computed in DuckDB over the whole store (never loaded into pandas): they cost the same
whether the store holds one issuer or the whole market."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from loaders.store import Store


def weekly_net_flow(
    store: Store, start: dt.date, end: dt.date, codes: tuple[str, ...] = ("P", "S")
) -> pd.DataFrame:
    """Net $ flow per week over every issuer: week, bought, sold, net (bought - sold), trades, issuers.

    Live rows only (amendments resolved); open-market codes by default; rows flagged implausible_value (unit
    mix-ups, typos) are left out so that one bad row does not dwarf the market."""
    codes = tuple(c for c in codes if isinstance(c, str) and c.isalpha() and len(c) == 1) or ("P", "S")
    marks = ", ".join("?" for _ in codes)
    return store.query(
        "SELECT date_trunc('week', transaction_date) AS week,"
        " coalesce(sum(value) FILTER (WHERE acquired_disposed = 'A'), 0) AS bought,"
        " coalesce(sum(value) FILTER (WHERE acquired_disposed = 'D'), 0) AS sold,"
        " coalesce(sum(signed_value), 0) AS net, count(*) AS trades, count(DISTINCT issuer_cik) AS issuers"
        " FROM transactions WHERE superseded_by IS NULL AND transaction_date BETWEEN ? AND ?"
        f" AND code IN ({marks}) AND coalesce(flags, '') NOT LIKE '%implausible_value%'"
        " GROUP BY 1 ORDER BY 1",
        [pd.Timestamp(start), pd.Timestamp(end), *codes],
    )
