"""The filter state of every view: one object, its URL query string, its plain-English sentence, its row mask.

`Filters.to_query()` / `Filters.from_query()` round-trip (defaults are omitted from the URL, junk in a pasted URL
falls back to defaults, never raises); `describe()` says what you are looking at; `apply_filters()` selects rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import pandas as pd

from loaders.codes import OPEN_MARKET, TRANSACTION_CODES

ROLES = {
    "director": "directors",
    "officer": "officers",
    "ten_percent": "10% owners",
    "other": "other insiders",
}
ROLE_COLUMNS = {
    "director": "is_director",
    "officer": "is_officer",
    "ten_percent": "is_ten_percent_owner",
    "other": "is_other",
}
PLAN_STATES = ("yes", "no", "unknown")
OWNERSHIP = ("all", "D", "I")
DERIVATIVE = ("all", "non", "derivative")
FREQS = ("M", "Q")
UNITS = ("$", "shares")


@dataclass(frozen=True)
class Filters:
    tickers: tuple[str, ...] = ()
    insider: int | None = None  # reporting owner CIK
    start: dt.date | None = None  # None = default range (two years up to the latest filing loaded)
    end: dt.date | None = None
    codes: tuple[str, ...] = OPEN_MARKET  # () = every code
    roles: tuple[str, ...] = ()  # () = every role
    title_contains: str = ""
    ownership: str = "all"
    derivative: str = "all"
    plan: tuple[str, ...] = ()  # subset of PLAN_STATES; () = all
    min_value: float = 0.0
    freq: str = "M"
    unit: str = "$"

    # ------------------------------------------------------------------ URL
    def to_query(self) -> dict[str, str]:
        """Compact query-string parameters; defaults are left out."""
        q: dict[str, str] = {}
        if self.tickers:
            q["ticker"] = ",".join(self.tickers)
        if self.insider is not None:
            q["insider"] = str(self.insider)
        if self.start:
            q["start"] = self.start.isoformat()
        if self.end:
            q["end"] = self.end.isoformat()
        if self.codes != OPEN_MARKET:
            q["codes"] = ",".join(self.codes) if self.codes else "all"
        if self.roles:
            q["role"] = ",".join(self.roles)
        if self.title_contains:
            q["title"] = self.title_contains
        if self.ownership != "all":
            q["own"] = self.ownership
        if self.derivative != "all":
            q["deriv"] = self.derivative
        if self.plan:
            q["plan"] = ",".join(self.plan)
        if self.min_value:
            q["min"] = f"{self.min_value:g}"
        if self.freq != "M":
            q["freq"] = self.freq
        if self.unit != "$":
            q["unit"] = self.unit
        return q

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> Filters:
        """Filters from query parameters; anything unreadable is ignored (defaults kept)."""

        def get(key: str) -> str:
            value = query.get(key, "")
            if isinstance(value, list | tuple):
                value = value[-1] if value else ""
            return str(value).strip()

        def csv(key: str) -> list[str]:
            return [p.strip() for p in get(key).split(",") if p.strip()]

        kw: dict = {}
        tickers = [t.upper() for t in csv("ticker") if t.replace(".", "").replace("-", "").isalnum()]
        if tickers:
            kw["tickers"] = tuple(dict.fromkeys(tickers))
        if get("insider").isdigit():
            kw["insider"] = int(get("insider"))
        for key in ("start", "end"):
            try:
                kw[key] = dt.date.fromisoformat(get(key)) if get(key) else None
            except ValueError:
                pass
        if get("codes").lower() == "all":
            kw["codes"] = ()
        elif codes := [c.upper() for c in csv("codes") if c.upper() in TRANSACTION_CODES]:
            kw["codes"] = tuple(dict.fromkeys(codes))
        if roles := [r for r in csv("role") if r in ROLES]:
            kw["roles"] = tuple(dict.fromkeys(roles))
        if get("title"):
            kw["title_contains"] = get("title")[:60]
        if get("own") in OWNERSHIP:
            kw["ownership"] = get("own")
        if get("deriv") in DERIVATIVE:
            kw["derivative"] = get("deriv")
        if plan := [p for p in csv("plan") if p in PLAN_STATES]:
            kw["plan"] = tuple(p for p in PLAN_STATES if p in plan)
        try:
            value = float(get("min")) if get("min") else 0.0
            if value >= 0 and value == value and value != float("inf"):
                kw["min_value"] = value
        except ValueError:
            pass
        if get("freq") in FREQS:
            kw["freq"] = get("freq")
        if get("unit") in UNITS:
            kw["unit"] = get("unit")
        if kw.get("start") and kw.get("end") and kw["start"] > kw["end"]:
            kw["start"], kw["end"] = kw["end"], kw["start"]
        return cls(**kw)

    def replace(self, **changes) -> Filters:
        return replace(self, **changes)

    def with_range(self, default: tuple[dt.date, dt.date] | None) -> Filters:
        """These filters with start/end filled from `default` where unset."""
        if default is None:
            return self
        return replace(self, start=self.start or default[0], end=self.end or default[1])

    # ------------------------------------------------------------------ sentence
    def describe(self, insider_name: str | None = None) -> str:
        """'Open-market purchases and sales by officers of NLY, 2023-01-01 to 2024-10-31, 10b5-1 only.'"""
        parts = [_codes_phrase(self.codes)]
        if self.insider is not None:
            parts.append(f" by {insider_name or f'insider CIK {self.insider}'}")
            if self.roles:
                parts.append(f" (rows as {_and([ROLES[r] for r in self.roles])} only)")
        elif self.roles:
            parts.append(" by " + _and([ROLES[r] for r in self.roles]))
        if self.title_contains:
            parts.append(f" with an officer title containing \u201c{self.title_contains}\u201d")
        parts.append(" of " + (_and(list(self.tickers)) if self.tickers else "all loaded issuers"))
        if self.start and self.end:
            parts.append(f", {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}")
        elif self.start:
            parts.append(f", from {self.start:%Y-%m-%d}")
        elif self.end:
            parts.append(f", up to {self.end:%Y-%m-%d}")
        else:
            parts.append(", all dates")
        if self.ownership != "all":
            parts.append(", direct holdings only" if self.ownership == "D" else ", indirect holdings only")
        if self.derivative != "all":
            parts.append(
                ", non-derivative securities only"
                if self.derivative == "non"
                else ", derivative securities only"
            )
        if self.plan and set(self.plan) != set(PLAN_STATES):
            names = {
                "yes": "under a 10b5-1 plan",
                "no": "outside any 10b5-1 plan",
                "unknown": "with plan status unknown",
            }
            parts.append(", " + " or ".join(names[p] for p in self.plan) + " only")
        if self.min_value:
            parts.append(f", at least {fmt_money(self.min_value, exact=True)} each")
        return "".join(parts) + "."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _codes_phrase(codes: tuple[str, ...]) -> str:
    if not codes:
        return "All transactions"
    if set(codes) == {"P", "S"}:
        return "Open-market purchases and sales"
    if codes == ("S",):
        return "Open-market sales"
    if codes == ("P",):
        return "Open-market purchases"
    return "Transactions coded " + _and([f"{c} ({TRANSACTION_CODES[c].lower()})" for c in codes])


def fmt_money(value: float | None, exact: bool = False) -> str:
    """$1.2M, -$350K, $12.3B, $950; exact=True gives $100,000."""
    if value is None or value != value:
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if exact:
        return f"{sign}${v:,.0f}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= size:
            return f"{sign}${v / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{sign}${v:,.0f}"


def fmt_shares(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= size:
            return f"{sign}{v / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{sign}{v:,.0f}"


# ---------------------------------------------------------------------- rows
def two_years_to(end: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) covering the two years that end on `end`."""
    try:
        start = end.replace(year=end.year - 2) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 2, day=28) + dt.timedelta(days=1)
    return start, end


def default_range(frame: pd.DataFrame, column: str = "filing_date") -> tuple[dt.date, dt.date] | None:
    """The two years up to the latest filing loaded (None when nothing is loaded)."""
    if frame is None or frame.empty or frame[column].isna().all():
        return None
    return two_years_to(frame[column].max().date())


def apply_filters(tx: pd.DataFrame, f: Filters, *, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """Transactions matching f. `skip` names filter fields to ignore (e.g. ("codes", "plan") for holdings)."""
    mask = pd.Series(True, index=tx.index)
    on = {field.name for field in fields(Filters)} - set(skip)
    if "tickers" in on and f.tickers:
        mask &= tx["ticker"].str.upper().isin(f.tickers)
    if "insider" in on and f.insider is not None:
        mask &= tx["owner_ciks"].fillna("").str.split("|").apply(lambda ciks: str(f.insider) in ciks)
    if "start" in on and f.start:
        mask &= tx["transaction_date"] >= pd.Timestamp(f.start)
    if "end" in on and f.end:
        mask &= tx["transaction_date"] <= pd.Timestamp(f.end)
    if "codes" in on and f.codes:
        mask &= tx["code"].isin(f.codes)
    if "roles" in on and f.roles:
        any_role = pd.Series(False, index=tx.index)
        for role in f.roles:
            any_role |= tx[ROLE_COLUMNS[role]].fillna(False).astype(bool)
        mask &= any_role
    if "title_contains" in on and f.title_contains:
        mask &= tx["officer_title"].fillna("").str.contains(f.title_contains, case=False, regex=False)
    if "ownership" in on and f.ownership != "all":
        mask &= tx["direct_indirect"] == f.ownership
    if "derivative" in on and f.derivative != "all":
        mask &= (tx["table"] == "derivative") == (f.derivative == "derivative")
    if "plan" in on and f.plan and set(f.plan) != set(PLAN_STATES):
        state = plan_state(tx)
        mask &= state.isin(f.plan)
    if "min_value" in on and f.min_value:
        mask &= tx["value"].fillna(0) >= f.min_value
    return tx[mask.fillna(False).astype(bool)]


def plan_state(tx: pd.DataFrame) -> pd.Series:
    """'yes' / 'no' / 'unknown' from the tri-state is_10b5_1."""
    flag = tx["is_10b5_1"]
    return pd.Series(
        ["unknown" if pd.isna(v) else ("yes" if v else "no") for v in flag], index=tx.index, dtype="string"
    )
