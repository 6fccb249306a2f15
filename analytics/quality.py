"""Data quality per transaction row: flags with a plain reason, values left out of totals, a summary with counts.

Row flags come from two places:
- the parse (loaders.derive, one filing at a time): see loaders.schema.TRANSACTION_FLAGS;
- here, across filings of the rows given (an issuer page passes the issuer's rows in view):
  * `price_outlier`: an open-market trade (code P or S, Table I) priced at least OUTLIER_FACTOR times above or
    below the median price of the issuer's other open-market trades of the same security within
    OUTLIER_DAYS days either side (at least OUTLIER_MIN_OTHERS such trades);
  * `price_conflict`: a purchase and a sale (codes P and S, Table I) of the same security on the same day in one
    filing priced CONFLICT_FACTOR times apart or more (IGTA 0001213900-23-014092: bought at $1,352.66 and sold at
    $386.48 a share of a SPAC trading near $10). Nobody buys and sells a security the same day at prices that far
    apart: a price is a typo, and the filing does not say which, so every P or S row of the pair is marked;
  * `joint_duplicate`: the same trade as reported in another filing (see analytics.flow.joint_duplicates).

A value is **suspect** when the row is flagged implausible_value, price_outlier or price_conflict, or its price is more than
FAR_FACTOR times away from the range its own footnote gives (a unit typo such as $188,139 for $188.14, PANW
0001209191-23-018495). Suspect rows are left out of flow and headline totals unless the page's toggle includes them;
milder flags (a price a few cents outside its range, a holdings chain that does not add up) only mark the row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.schema import TRANSACTION_FLAGS

OUTLIER_FACTOR = 5.0
OUTLIER_DAYS = 3
OUTLIER_MIN_OTHERS = 3
FAR_FACTOR = 2.0
CONFLICT_FACTOR = 3.0

REASONS: dict[str, str] = {
    **TRANSACTION_FLAGS,
    "price_outlier": f"price is {OUTLIER_FACTOR:g}x away from the issuer's other trades within {OUTLIER_DAYS} days",
    "price_conflict": f"a purchase and a sale of this security on the same day in this filing are priced "
    f"{CONFLICT_FACTOR:g}x apart or more (a price is a typo)",
    "joint_duplicate": "the same trade is reported in another owner's filing (counted once)",
}
SUSPECT_FLAGS = ("implausible_value", "price_outlier", "price_conflict")


def _flag(tx: pd.DataFrame, name: str) -> pd.Series:
    return tx["flags"].fillna("").str.contains(rf"(?:^|,){name}(?:,|$)", regex=True)


def _priced_open_market(tx: pd.DataFrame) -> pd.Series:
    """The rows the price rules compare: open-market trades (P or S, Table I) with a price and a trade date."""
    m = (
        (tx["table"] == "nonDerivative")
        & tx["code"].isin(["P", "S"])
        & (tx["price"] > 0)
        & tx["transaction_date"].notna()
    )
    return m.fillna(False).astype(bool)


def _security(title: pd.Series) -> pd.Series:
    """The security a price belongs to: its title, case and surrounding blanks ignored."""
    return title.fillna("").str.lower().str.strip()


def price_outliers(tx: pd.DataFrame) -> pd.Series:
    """True for open-market trades priced far from the issuer's other open-market trades that week."""
    out = pd.Series(False, index=tx.index)
    rows = tx.loc[_priced_open_market(tx), ["issuer_cik", "security_title", "transaction_date", "price"]]
    title = _security(rows["security_title"])
    keys = [rows["issuer_cik"], title]  # a row without an issuer CIK is compared with the others without one
    lo_all = rows.groupby(keys, dropna=False)["price"].transform("min")
    hi_all = rows.groupby(keys, dropna=False)["price"].transform("max")
    # a price 5x from the median of some neighbours is 5x from the group's extremes: only such groups are scanned
    spread = rows.loc[hi_all >= OUTLIER_FACTOR * lo_all]
    if spread.empty:
        return out
    window = np.timedelta64(OUTLIER_DAYS, "D")
    skeys = [spread["issuer_cik"], title.loc[spread.index]]
    for _, g in spread.groupby(skeys, dropna=False):
        g = g.sort_values("transaction_date")
        days = g["transaction_date"].to_numpy(dtype="datetime64[D]")
        prices = g["price"].to_numpy(dtype=float)
        lo = np.searchsorted(days, days - window, side="left")
        hi = np.searchsorted(days, days + window, side="right")
        for i, idx in enumerate(g.index):
            others = np.concatenate([prices[lo[i] : i], prices[i + 1 : hi[i]]])
            if len(others) < OUTLIER_MIN_OTHERS:
                continue
            median = float(np.median(others))
            if prices[i] >= OUTLIER_FACTOR * median or prices[i] * OUTLIER_FACTOR <= median:
                out.at[idx] = True
    return out


def price_conflicts(tx: pd.DataFrame) -> pd.Series:
    """True for the P and S rows of a filing's same-day purchase and sale of one security priced CONFLICT_FACTOR
    times apart or more: a purchase priced that far from one of the sales, or a sale that far from a purchase."""
    rows = tx.loc[
        _priced_open_market(tx), ["accession", "security_title", "transaction_date", "code", "price"]
    ]
    # only filings with both a purchase and a sale can conflict (few of them): the groupings run over those alone
    both = set(rows.loc[rows["code"] == "P", "accession"]) & set(rows.loc[rows["code"] == "S", "accession"])
    rows = rows[rows["accession"].isin(both)]
    if rows.empty:
        return pd.Series(False, index=tx.index)
    keys = [rows["accession"], _security(rows["security_title"]), rows["transaction_date"]]
    price = rows["price"].astype(float)
    is_buy = rows["code"] == "P"
    sides = pd.DataFrame({"buy": price.where(is_buy), "sale": price.where(~is_buy)})
    group = sides.groupby(keys, dropna=False)
    low, high = group.transform("min"), group.transform("max")
    # each row against the other side's prices: a purchase against the day's sales, a sale against its purchases
    other_low = low["sale"].where(is_buy, low["buy"])
    other_high = high["sale"].where(is_buy, high["buy"])
    hit = (price >= CONFLICT_FACTOR * other_low) | (price * CONFLICT_FACTOR <= other_high)
    return hit.fillna(False).astype(bool).reindex(tx.index, fill_value=False)


def far_outside_range(tx: pd.DataFrame) -> pd.Series:
    """True when the price is more than FAR_FACTOR times away from its own footnoted range (a unit typo)."""
    low, high, price = tx["price_low"], tx["price_high"], tx["price"]
    far = (price > FAR_FACTOR * high) | (price * FAR_FACTOR < low)
    return (far & price.notna() & low.notna()).fillna(False).astype(bool)


def _suspect_by_flags(tx: pd.DataFrame) -> pd.Series:
    """True for rows flagged with a suspect flag or priced far outside their own footnoted range."""
    flags = tx["flags"].astype(object).fillna("")
    return flags.str.contains("|".join(SUSPECT_FLAGS), regex=True) | far_outside_range(tx)


def suspect_values(tx: pd.DataFrame) -> pd.Series:
    """True for rows whose value is too doubtful to add to totals (see the module docstring)."""
    return (_suspect_by_flags(tx) | price_outliers(tx) | price_conflicts(tx)).astype(bool)


def with_quality(tx: pd.DataFrame) -> pd.DataFrame:
    """tx with the cross-filing flags added to `flags`, plus `suspect` (bool), `quality` (plain reasons,
    fallbacks and the 10b5-1 decision, for hover text and the transactions table) and `joint_owners` (every owner
    reporting the same trade, "|"-joined; <NA> for a trade reported once)."""
    from analytics.flow import joint_duplicates

    if tx.empty:
        return tx.assign(
            suspect=pd.Series(dtype=bool),
            quality=pd.Series(dtype="string"),
            joint_owners=pd.Series(dtype="string"),
            duplicate_of=pd.Series(dtype="string"),
        )
    extra = pd.DataFrame(index=tx.index)
    extra["price_outlier"] = price_outliers(tx)
    extra["price_conflict"] = price_conflicts(tx)
    joint = joint_duplicates(tx)
    extra["joint_duplicate"] = joint["duplicate_of"].notna()
    flags = tx["flags"].fillna("")
    for name in extra.columns:
        add = extra[name] & ~_flag(tx, name)
        flags = flags.where(~add, (flags + "," + name).str.lstrip(","))
    out = tx.assign(flags=flags.replace("", pd.NA).astype("string"))
    out["suspect"] = _suspect_by_flags(out).astype(bool)  # = suspect_values(tx): price_outlier is flagged
    out["quality"] = quality_notes(out)
    out["joint_owners"] = joint["joint_owners"]
    out["duplicate_of"] = joint["duplicate_of"]
    return out


def checked_for(tx: pd.DataFrame, checked: pd.DataFrame | None) -> pd.DataFrame:
    """`checked` when it is with_quality() of exactly these rows (a page checks its rows once and hands the result
    to every function that needs it), else with_quality(tx)."""
    if checked is None:
        return with_quality(tx)
    if not checked.index.equals(tx.index) or "duplicate_of" not in checked.columns:
        raise ValueError("checked must be with_quality() of the same rows")
    return checked


def _text(value: object) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        else str(value)
    )


def quality_notes(tx: pd.DataFrame) -> pd.Series:
    """One plain sentence per row: what is doubtful about it and which fallback was used ('' when nothing)."""
    out = pd.Series("", index=tx.index, dtype="string")
    source = tx["tenb51_source"]
    plain_source = source.notna() & (source != "checkbox")
    out.loc[plain_source] = "10b5-1 from the " + source[plain_source].str.replace("_", " ")
    busy = tx["flags"].notna() | tx["tenb51_note"].notna()
    notes = []
    for row in tx[busy].itertuples():
        flags = [f for f in _text(row.flags).split(",") if f]
        parts = [REASONS.get(f, f) for f in flags if f != "tenb51_conflict"]
        if "date_fallback" in flags and _text(row.transaction_date_raw):
            parts.append(f"date as filed: {_text(row.transaction_date_raw)!r}")
        if "price_outside_range" in flags:
            parts.append(f"footnoted range ${row.price_low:,.2f}\u2013${row.price_high:,.2f}")
        source = _text(row.tenb51_source)
        if _text(row.tenb51_note):
            parts.append(f"10b5-1: {_text(row.tenb51_note)}")
        elif source and source != "checkbox":
            parts.append(f"10b5-1 from the {source.replace('_', ' ')}")
        notes.append("; ".join(dict.fromkeys(parts)))
    out.loc[busy] = pd.Series(notes, index=tx.index[busy], dtype="string")
    return out


def quality_summary(tx: pd.DataFrame, checked: pd.DataFrame | None = None) -> pd.DataFrame:
    """The "Data quality" table: one row per flag present in tx.

    Columns: flag, reason, rows, filings, value (sum of |value| of the flagged rows), totals ("left out" when
    every such row is left out of totals by default, "counted" when none is, else "N left out")."""
    cols = ["flag", "reason", "rows", "filings", "value", "totals"]
    if tx.empty:
        return pd.DataFrame(columns=cols)
    q = checked_for(tx, checked)
    out = []
    names = sorted({f for fl in q["flags"].dropna() for f in fl.split(",") if f})
    left_out = q["suspect"] | _flag(q, "joint_duplicate")
    for name in names:
        hit = _flag(q, name)
        n_out = int((hit & left_out).sum())
        out.append(
            {
                "flag": name,
                "reason": REASONS.get(name, name),
                "rows": int(hit.sum()),
                "filings": q.loc[hit, "accession"].nunique(),
                "value": float(q.loc[hit, "value"].abs().sum()),
                "totals": "left out"
                if n_out == hit.sum()
                else "counted"
                if n_out == 0
                else f"{n_out:,} left out",
            }
        )
    far = q[far_outside_range(q)]
    if len(far):
        out.append(
            {
                "flag": "price_far_outside_range",
                "reason": f"price more than {FAR_FACTOR:g}x away from its own footnoted range (likely a typo)",
                "rows": len(far),
                "filings": far["accession"].nunique(),
                "value": float(far["value"].abs().sum()),
                "totals": "left out",
            }
        )
    frame = pd.DataFrame(out, columns=cols)
    return frame.sort_values(["totals", "rows"], ascending=[False, False]).reset_index(drop=True)
