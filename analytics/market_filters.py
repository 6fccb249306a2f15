"""The market pages' filters and view options, as descriptors added to `Filters` (analytics/filters.py).

`MarketFilters` keeps every shared filter (tickers = issuer, insider, trade dates, codes, title, ownership, plan,
minimum value ...) and adds: filing dates, maximum value, price and shares ranges, ΔOwn %, roles including CEO and
CFO, late filing, the signal filters (trader type, first buy, largest), and the screener's view options (sort,
direction, page, N of "first buy in N years"). Each is one object with its URL key, parse/validate (with a plain
message), pandas mask, SQL clause and sentence piece, like the shared ones.

The SQL clauses work on the `transactions` view itself (CEO/CFO and ΔOwn are written out as expressions), so
`sql_where()` agrees with `apply_filters()` (tests/test_market_filters.py). The signal filters need the signal
columns (analytics/signals.py) and therefore go to `signal_where()`; `base_where()` is everything else.
`parse_query()` also swaps a minimum that is above its maximum, with a message.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics import signals
from analytics.filters import (
    MAX_AMOUNT,
    DateBound,
    Filter,
    Filters,
    Notice,
    OneOf,
    Parsed,
    Roles,
    _and,
    _quote,
    fmt_money,
)

CEO_PATTERN = r"(?i)(chief\s+executive|\bc\.?e\.?o\b|principal\s+executive)"
CFO_PATTERN = r"(?i)(chief\s+financial|\bc\.?f\.?o\b|principal\s+financial)"
_CEO_RE = re.compile(CEO_PATTERN[4:], re.IGNORECASE)
_CFO_RE = re.compile(CFO_PATTERN[4:], re.IGNORECASE)

MARKET_ROLES = {
    "director": "directors",
    "officer": "officers",
    "ceo": "CEOs",
    "cfo": "CFOs",
    "ten_percent": "10% owners",
    "other": "other insiders",
}
MAX_SHARES = 1e12
MAX_PERCENT = 1e6  # ΔOwn in percent: 10,000x the holding is already far beyond any real trade
SORTABLE = (
    "filing_date", "transaction_date", "ticker", "issuer_name", "owner_name", "role", "code", "shares", "price",
    "value", "owned_before", "owned_after", "delta_own", "plan", "is_late", "days_to_file", "cmp_class",
    "first_buy", "largest", "form",
)  # fmt: skip
MAX_PAGE = 1_000_000
PRESET_NAMES = ("latest", "purchases", "sales", "officer-purchases", "ceo-cfo-purchases", "biggest-week")


_CEO_HINTS = ("exec", "ceo", "c.e.o")
_CFO_HINTS = ("financ", "cfo", "c.f.o")


def title_sql(col, role: str) -> str:
    """SQL: the officer title names a CEO (role "ceo") or CFO ("cfo"). A cheap substring test runs first, so the
    regular expression only sees the few titles that could match (a 10-million-row scan stays fast)."""
    pattern, hints = (CEO_PATTERN, _CEO_HINTS) if role == "ceo" else (CFO_PATTERN, _CFO_HINTS)
    title = col("officer_title")
    cheap = " OR ".join(f"strpos(lower({title}), '{h}') > 0" for h in hints)
    return f"(CASE WHEN {title} IS NOT NULL AND ({cheap}) THEN regexp_matches({title}, '{pattern}') ELSE false END)"


def owned_before(tx: pd.DataFrame) -> pd.Series:
    """Shares owned before each row: owned after - acquired (+ disposed); NaN when unknown."""
    ad = tx["acquired_disposed"]
    sign = ad.map({"A": -1.0, "D": 1.0}).astype("float64")
    return tx["owned_after"].astype("float64") + sign * tx["shares"].astype("float64")


def delta_own(tx: pd.DataFrame) -> pd.Series:
    """Shares traded / shares owned before (NaN for a new position or an unknown holding)."""
    before = owned_before(tx)
    return (tx["shares"].astype("float64") / before.where(before > 0)).astype("float64")


def _owned_before_sql(col) -> str:
    return (f"CASE {col('acquired_disposed')} WHEN 'A' THEN {col('owned_after')} - {col('shares')} "
            f"WHEN 'D' THEN {col('owned_after')} + {col('shares')} END")  # fmt: skip


def _delta_own_sql(col) -> str:
    before = _owned_before_sql(col)
    return f"(CASE WHEN ({before}) > 0 THEN {col('shares')} / ({before}) END)"


class Bound(Filter):
    """A lower or upper bound on a number (rows without the number never match a bound)."""

    def __init__(self, key: str, label: str, column: str, op: str, maximum: float, unit: str = "$",
                 scale: float = 1.0, pair: str | None = None, words: str = "{}"):  # fmt: skip
        super().__init__(key, None, label)
        self.column, self.op, self.maximum, self.unit, self.scale = column, op, maximum, unit, scale
        self.pair, self.words = pair, words  # the other bound of the range; how the sentence says it

    def normalize(self, value):
        return None if value is None else float(value)

    def parse(self, raw: str) -> Parsed:
        try:
            value = float(raw.replace(",", "").replace("$", "").replace("%", ""))
        except ValueError:
            return None, f"Ignored {self.label} {_quote(raw)}: not a number."
        if math.isnan(value) or value < 0:
            return None, f"Ignored {self.label} {_quote(raw)}: it must be zero or more."
        if value > self.maximum:
            return self.maximum, (f"{self.label.capitalize()} {_quote(raw)} is more than "
                                  f"{self.show(self.maximum)}; using {self.show(self.maximum)}.")  # fmt: skip
        return value, None

    def encode(self, value):
        if value is None:
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    def show(self, value: float) -> str:
        if self.unit == "$":
            return fmt_money(value, exact=value >= 1) if value >= 1 else f"${value:,.2f}"
        if self.unit == "%":
            return f"{value:,.4g}%"
        return f"{value:,.0f}"

    def series(self, tx: pd.DataFrame) -> pd.Series:
        return tx[self.column].astype("float64")

    def sql(self, col) -> str:
        return col(self.column)

    def mask(self, tx, value):
        if value is None:
            return None
        s = self.series(tx)
        v = value / self.scale
        return (s >= v) if self.op == ">=" else (s <= v)

    def where(self, value, col):
        if value is None:
            return None
        return f"{self.sql(col)} {self.op} ?", [float(value) / self.scale]

    def phrase(self, f, insider_name=None):
        """The lower bound speaks for both ("priced $5 to $50"); an upper bound alone says "at most"."""
        mine = getattr(f, self.name)
        other = getattr(f, self.pair) if self.pair else None
        if self.op == "<=":
            if mine is None or other is not None:
                return ""
            return ", " + self.words.format(f"at most {self.show(mine)}")
        if mine is None:
            return ""
        if other is not None:
            return ", " + self.words.format(f"{self.show(mine)} to {self.show(other)}")
        return ", " + self.words.format(f"at least {self.show(mine)}")


class DeltaOwnBound(Bound):
    """ΔOwn % bound (shares traded / shares owned before, in percent)."""

    def series(self, tx):
        return delta_own(tx)

    def sql(self, col):
        return _delta_own_sql(col)


class FiledBound(DateBound):
    """Start or end of the filing-date range (inclusive)."""

    def mask(self, tx, value):
        if not value:
            return None
        dates = tx["filing_date"]
        return dates >= pd.Timestamp(value) if self.op == ">=" else dates <= pd.Timestamp(value)

    def where(self, value, col):
        if not value:
            return None
        return f"{col('filing_date')} {self.op} ?", [pd.Timestamp(value).to_pydatetime()]

    def phrase(self, f, insider_name=None):
        if self.op == "<=":
            return ""
        a, b = f.filed_start, f.filed_end
        if a and b:
            return f", filed {a:%Y-%m-%d} to {b:%Y-%m-%d}"
        if a:
            return f", filed from {a:%Y-%m-%d}"
        if b:
            return f", filed up to {b:%Y-%m-%d}"
        return ""


class MarketRoles(Roles):
    """Roles including CEO and CFO (read from the officer title: "Chief Executive Officer", "CEO", "Principal
    Executive Officer"; "Chief Financial Officer", "CFO", "Principal Financial Officer")."""

    def mask(self, tx, value):
        if not self.active(value):
            return None
        parts = []
        for r in value:
            if r in ("ceo", "cfo"):
                regex = _CEO_RE if r == "ceo" else _CFO_RE
                parts.append(tx["officer_title"].fillna("").map(lambda t, rx=regex: bool(rx.search(t))))
            else:
                parts.append(tx[_ROLE_COLUMNS[r]].fillna(False).astype(bool))
        return pd.concat(parts, axis=1).any(axis=1)

    def where(self, value, col):
        if not self.active(value):
            return None
        parts = []
        for r in value:
            if r in ("ceo", "cfo"):
                parts.append(title_sql(col, r))
            else:
                parts.append(f"coalesce({col(_ROLE_COLUMNS[r])}, false)")
        return "(" + " OR ".join(parts) + ")", []

    def phrase(self, f, insider_name=None):
        if not f.roles:
            return ""
        names = _and([MARKET_ROLES[r] for r in f.roles])
        return f" (rows as {names} only)" if f.insider is not None else f" by {names}"


_ROLE_COLUMNS = {
    "director": "is_director",
    "officer": "is_officer",
    "ten_percent": "is_ten_percent_owner",
    "other": "is_other",
}


class Late(OneOf):
    def mask(self, tx, value):
        if value == "all":
            return None
        return tx["is_late"].fillna(False).astype(bool) == (value == "yes")

    def where(self, value, col):
        if value == "all":
            return None
        return f"coalesce({col('is_late')}, false) = ?", [value == "yes"]


class SignalFilter(Filter):
    """A filter on a signal column (needs rows that carry it, as analytics.market.screen returns)."""

    signal = True


class CmpFilter(SignalFilter):
    """Trader type (routine / opportunistic / unclassified); () = any."""

    def __init__(self, key: str, label: str):
        super().__init__(key, (), label)
        self.options = signals.CMP_CLASSES

    def normalize(self, value):
        return tuple(o for o in self.options if o in set(value))

    def parse(self, raw: str) -> Parsed:
        items = [p.strip() for p in re.split(r"[,;\s]+", raw) if p.strip()]
        bad = [i for i in items if i not in self.options]
        note = f"Ignored unknown {self.label} {_quote(', '.join(bad))} (one of: {', '.join(self.options)})." \
            if bad else None  # fmt: skip
        return self.normalize(items), note

    def encode(self, value):
        return ",".join(value) if value else None

    def _active(self, value):
        return bool(value) and set(value) != set(self.options)

    def mask(self, tx, value):
        return tx["cmp_class"].isin(value) if self._active(value) else None

    def where(self, value, col):
        return (f"{col('cmp_class')} IN ({', '.join('?' for _ in value)})", list(value)) \
            if self._active(value) else None  # fmt: skip

    def phrase(self, f, insider_name=None):
        return f", {' or '.join(f.cmp)} traders only" if self._active(f.cmp) else ""


class YesFilter(SignalFilter):
    """'yes' keeps rows whose signal column is true; anything else is no restriction."""

    def __init__(self, key: str, label: str, column: str, words: str):
        super().__init__(key, "all", label)
        self.column, self.words = column, words

    def parse(self, raw: str) -> Parsed:
        if raw in ("all", "yes"):
            return raw, None
        return "all", f"Ignored {self.label} {_quote(raw)} (yes or all)."

    def mask(self, tx, value):
        return tx[self.column].fillna(False).astype(bool) if value == "yes" else None

    def where(self, value, col):
        return (f"coalesce({col(self.column)}, false)", []) if value == "yes" else None

    def phrase(self, f, insider_name=None):
        return f", {self.words} only" if getattr(f, self.name) == "yes" else ""


class IntOption(Filter):
    """A whole-number view option clamped to [low, high] with a message (no rows, no sentence)."""

    def __init__(self, key: str, default: int, label: str, low: int, high: int):
        super().__init__(key, default, label)
        self.low, self.high = low, high

    def normalize(self, value):
        return int(value)

    def parse(self, raw: str) -> Parsed:
        try:
            number = float(raw)
        except ValueError:
            return self.default, f"Ignored {self.label} {_quote(raw)}: not a whole number."
        if math.isnan(number):
            return self.default, f"Ignored {self.label} {_quote(raw)}: not a whole number."
        if number < self.low or number > self.high:
            value = self.low if number < self.low else self.high
            return value, f"{self.label.capitalize()} {_quote(raw)} is outside {self.low:,}\u2013{self.high:,}; " \
                          f"using {value:,}."  # fmt: skip
        return int(number), None

    def encode(self, value):
        return None if value == self.default else str(int(value))


class AmountOption(Bound):
    """A dollar amount that is a view option (e.g. a cluster's total), not a row filter."""

    def mask(self, tx, value):
        return None

    def where(self, value, col):
        return None

    def phrase(self, f, insider_name=None):
        return ""


class ClusterKey(Filter):
    """The cluster whose trades are drawn: "<issuer CIK>:<first buy date>" (anything else: none chosen)."""

    def parse(self, raw: str) -> Parsed:
        cik, _, day = raw.partition(":")
        try:
            if cik.isdigit() and len(cik) <= 10:
                return f"{int(cik)}:{dt.date.fromisoformat(day).isoformat()}", None
        except ValueError:
            pass
        return (
            "",
            f"Ignored cluster {_quote(raw)}: expected an issuer CIK and a date, like 1234567:2023-03-01.",
        )

    def encode(self, value):
        return value or None

    def normalize(self, value):
        return str(value or "")


class MarketFilters(Filters):
    """Every control of the market pages (see the module docstring); declaration order = sentence order."""

    roles = MarketRoles("role", "role", tuple(MARKET_ROLES))
    filed_start = FiledBound("filed_start", "filing start date", ">=")
    filed_end = FiledBound("filed_end", "filing end date", "<=")
    max_value = Bound("max", "maximum value", "value", "<=", MAX_AMOUNT, words="{} each")
    min_price = Bound("pmin", "minimum price", "price", ">=", MAX_AMOUNT, pair="max_price", words="priced {}")
    max_price = Bound("pmax", "maximum price", "price", "<=", MAX_AMOUNT, pair="min_price", words="priced {}")
    min_shares = Bound("smin", "minimum shares", "shares", ">=", MAX_SHARES, unit="shares", pair="max_shares",
                       words="{} shares")  # fmt: skip
    max_shares = Bound("smax", "maximum shares", "shares", "<=", MAX_SHARES, unit="shares", pair="min_shares",
                       words="{} shares")  # fmt: skip
    min_own = DeltaOwnBound("dmin", "minimum \u0394Own", "delta_own", ">=", MAX_PERCENT, unit="%", scale=100.0,
                            pair="max_own", words="\u0394Own {}")  # fmt: skip
    max_own = DeltaOwnBound("dmax", "maximum \u0394Own", "delta_own", "<=", MAX_PERCENT, unit="%", scale=100.0,
                            pair="min_own", words="\u0394Own {}")  # fmt: skip
    late = Late("late", "late filing", ("all", "yes", "no"),
                {"yes": ", filed late only", "no": ", filed on time only"})  # fmt: skip
    cmp = CmpFilter("cmp", "trader type")
    first_buy = YesFilter("first", "first-buy filter", "first_buy", "first buys")
    largest = YesFilter("largest", "largest-trade filter", "largest", "each insider's largest trades")
    years = IntOption(
        "years", signals.FIRST_BUY_YEARS, "years for \u201cfirst buy\u201d", 1, signals.MAX_YEARS
    )
    sort = OneOf("sort", "sort column", SORTABLE)
    order = OneOf("order", "sort order", ("desc", "asc"))
    page = IntOption("page", 1, "page", 1, MAX_PAGE)
    preset = OneOf("preset", "preset", PRESET_NAMES)
    per = OneOf("per", "period", ("M", "W", "Q"))
    window = IntOption("window", 30, "cluster window (days)", 1, 366)
    buyers = IntOption("buyers", 2, "minimum insiders per cluster", 2, 1000)
    cluster_min = AmountOption("cmin", "minimum cluster total", "value", ">=", MAX_AMOUNT)
    cluster = ClusterKey("cluster", "", "cluster")
    suspect = OneOf("suspect", "suspect values", ("out", "in"))

    PAIRS = (("min_value", "max_value"), ("min_price", "max_price"), ("min_shares", "max_shares"),
             ("min_own", "max_own"), ("filed_start", "filed_end"))  # fmt: skip
    VIEW = ("freq", "unit", "derivative", "years", "sort", "order", "page", "preset", "per", "window", "buyers",
            "cluster_min", "cluster", "suspect")  # fmt: skip

    @classmethod
    def parse_query(cls, query: Mapping[str, str | list[str]]) -> tuple[MarketFilters, list[Notice]]:
        f, notices = super().parse_query(query)
        changes: dict[str, Any] = {}
        for low, high in cls.PAIRS:
            a, b = getattr(f, low), getattr(f, high)
            if a and b is not None and a > b:
                changes[low], changes[high] = b, a
                spec = next(s for s in cls.specs() if s.name == low)
                notices.append(Notice(spec.key, f"The {spec.label} was above the {_pair_label(cls, high)}; "
                                                "swapped them."))  # fmt: skip
        return (f.replace(**changes) if changes else f), notices

    def signal_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs() if getattr(s, "signal", False))

    def base_where(self, alias: str = "t") -> tuple[str, list]:
        """Rows of the shared and market filters, over the `transactions` view (or analytics.market.TRADES)."""
        return self.sql_where(alias, skip=self.signal_names() + self.VIEW)

    def signal_where(self, alias: str = "t") -> tuple[str, list]:
        """The signal filters, over rows that carry the signal columns."""
        skip = tuple(s.name for s in self.specs() if s.name not in self.signal_names())
        return self.sql_where(alias, skip=skip)


def _pair_label(cls, name: str) -> str:
    return next(s.label for s in cls.specs() if s.name == name)
