"""The filter state of every view: one object, its URL query string, its plain-English sentence, its rows.

Each filter is one descriptor object declared once in `Filters` (datasette's filters are the model). A descriptor
owns everything about its filter:

    key          the URL query-string key ("ticker", "start", "min" ...)
    parse(raw)   text from a URL or a box -> (value, message or None): bad values are dropped or clamped and
                 the message says so in plain words
    encode(v)    value -> URL text (None: the default, left out of the URL)
    mask(tx, v)  the pandas row mask over a transactions frame (None: no restriction)
    where(v, a)  the same rows as SQL over the `transactions` view aliased `a`: (clause, params) or None
    phrase(f)    its piece of the sentence that says what is shown

so a new filter is one class attribute here (plus its widget). `Filters.parse_query()` gives the filters and the
messages of a pasted URL; `Filters.from_query()` just the filters (never raises); `to_query()` the compact URL;
`describe()` the sentence; `apply_filters()` the rows; `sql_where()` the same rows in SQL (a test checks that they
agree on the fixture store).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

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

MAX_TICKERS = 20  # per view: each unloaded ticker is a pull, and a chart of more is unreadable
DATE_MIN = dt.date(1990, 1, 1)  # before EDGAR's electronic ownership filings
DATE_MAX = dt.date(2100, 1, 1)
MAX_AMOUNT = 1e12  # $1 trillion: more than any single insider trade
TICKER_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,11}$")
_TICKER_SPLIT = r"[^A-Z0-9.\-]+"  # how a filing's trading symbol ("WLY, WLYB", "AMC/APE") splits into classes

Col = Callable[[str], str]  # column name -> qualified SQL column ("t.code")
Parsed = tuple[Any, str | None]


@dataclass(frozen=True)
class Notice:
    """A plain message about a value that was ignored or clamped; `key` is the URL key it concerns."""

    key: str
    text: str

    def __str__(self) -> str:
        return self.text


def _quote(raw: str, limit: int = 24) -> str:
    raw = "".join(ch for ch in raw if ch.isprintable())
    return f"\u201c{raw[:limit]}\u2026\u201d" if len(raw) > limit else f"\u201c{raw}\u201d"


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(_quote(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def _csv(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\s]+", raw) if p.strip()]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


# ---------------------------------------------------------------------- the descriptor
class Filter:
    """One filter of `Filters` (a data descriptor: `f.codes` reads the value, `Filters.codes` is this object)."""

    name: str = ""

    def __init__(self, key: str, default: Any, label: str):
        self.key, self.default, self.label = key, default, label

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else obj._values[self.name]

    def __set__(self, obj, value) -> None:
        raise AttributeError("Filters are immutable: use .replace()")

    # --- overridden per kind of filter
    def normalize(self, value: Any) -> Any:
        """A value given in code (lists become tuples)."""
        return value

    def parse(self, raw: str) -> Parsed:
        """(value, message): the value of non-empty text from a URL or a box; junk gives the default."""
        raise NotImplementedError

    def encode(self, value: Any) -> str | None:
        return None if value == self.default else str(value)

    def mask(self, tx: pd.DataFrame, value: Any) -> pd.Series | None:
        return None

    def where(self, value: Any, col: Col) -> tuple[str, list] | None:
        return None

    def phrase(self, f: Filters, insider_name: str | None = None) -> str:
        return ""


class Tickers(Filter):
    """Issuer tickers. A row matches when its issuer filed under any of them, in any share class: a filing whose
    trading symbol reads "WLY, WLYB" matches WLY and WLYB."""

    def normalize(self, value):
        return tuple(dict.fromkeys(str(t).strip().upper() for t in value if str(t).strip()))

    def parse(self, raw: str) -> Parsed:
        items = [t.upper() for t in _csv(raw)]
        good = list(dict.fromkeys(t for t in items if self.valid(t)))
        bad = [t for t in items if not self.valid(t)]
        notes = []
        if bad:
            notes.append(f"Ignored {_some(bad)}: not a ticker symbol.")
        if len(good) > MAX_TICKERS:
            notes.append(f"{len(good):,} tickers were given; showing the first {MAX_TICKERS} (a view holds at most "
                         f"{MAX_TICKERS}).")  # fmt: skip
            good = good[:MAX_TICKERS]
        return tuple(good), " ".join(notes) or None

    @staticmethod
    def valid(ticker: str) -> bool:
        """A ticker symbol, or an issuer CIK typed as digits (not all zeros, at most 10 digits)."""
        if ticker.isdigit():
            return len(ticker) <= 10 and int(ticker) > 0
        return bool(TICKER_RE.match(ticker))

    def encode(self, value):
        return ",".join(value) if value else None

    @staticmethod
    def classes(symbols: pd.Series) -> pd.Series:
        """Each filing's trading symbol split into its share-class tickers."""
        return symbols.fillna("").str.upper().str.split(_TICKER_SPLIT, regex=True)

    def mask(self, tx, value):
        if not value:
            return None
        wanted = set(value)
        symbols = pd.Series(tx["ticker"].dropna().unique(), dtype="string")  # split each distinct symbol once
        hits = symbols[self.classes(symbols).map(lambda parts: not wanted.isdisjoint(parts))]
        issuers = tx.loc[tx["ticker"].isin(hits), "issuer_cik"].dropna().unique()
        return tx["issuer_cik"].isin(issuers)

    def where(self, value, col):
        if not value:
            return None
        sql = (f"{col('issuer_cik')} IN (SELECT issuer_cik FROM transactions WHERE list_has_any("
               f"regexp_split_to_array(upper(coalesce(ticker, '')), '{_TICKER_SPLIT}'), [{_marks(value)}]))")  # fmt: skip
        return sql, list(value)

    def phrase(self, f, insider_name=None):
        return " of " + (_and(list(f.tickers)) if f.tickers else "all loaded issuers")


class Insider(Filter):
    """A reporting owner's CIK; a joint filing matches each of its owners."""

    def normalize(self, value):
        return None if value is None else int(value)

    def parse(self, raw: str) -> Parsed:
        if raw.isdigit() and len(raw) <= 10 and int(raw) > 0:
            return int(raw), None
        return None, f"Ignored insider {_quote(raw)}: a CIK is a number of at most 10 digits."

    def mask(self, tx, value):
        if value is None:
            return None
        return tx["owner_ciks"].fillna("").str.split("|").map(lambda ciks: str(value) in ciks)

    def where(self, value, col):
        if value is None:
            return None
        return f"list_contains(string_split(coalesce({col('owner_ciks')}, ''), '|'), ?)", [str(value)]

    def phrase(self, f, insider_name=None):
        if f.insider is None:
            return ""
        return f" by {insider_name or f'insider CIK {f.insider}'}"


class DateBound(Filter):
    """Start or end of the trade-date range (inclusive), clamped to the dates the date box can show."""

    def __init__(self, key: str, label: str, op: str):
        super().__init__(key, None, label)
        self.op = op

    def normalize(self, value):
        if isinstance(value, dt.datetime):
            return value.date()
        return value

    def parse(self, raw: str) -> Parsed:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            return None, f"Ignored {self.label} {_quote(raw)}: not a date (use YYYY-MM-DD)."
        if day < DATE_MIN:
            return DATE_MIN, f"{self.label.capitalize()} {day} is before {DATE_MIN}; using {DATE_MIN}."
        if day > DATE_MAX:
            return DATE_MAX, f"{self.label.capitalize()} {day} is after {DATE_MAX}; using {DATE_MAX}."
        return day, None

    def encode(self, value):
        return value.isoformat() if value else None

    def mask(self, tx, value):
        if not value:
            return None
        dates = tx["transaction_date"]
        return dates >= pd.Timestamp(value) if self.op == ">=" else dates <= pd.Timestamp(value)

    def where(self, value, col):
        if not value:
            return None
        return f"{col('transaction_date')} {self.op} ?", [pd.Timestamp(value).to_pydatetime()]

    def phrase(self, f, insider_name=None):
        if self.op == "<=":  # the start bound speaks for both
            return ""
        if f.start and f.end:
            return f", {f.start:%Y-%m-%d} to {f.end:%Y-%m-%d}"
        if f.start:
            return f", from {f.start:%Y-%m-%d}"
        if f.end:
            return f", up to {f.end:%Y-%m-%d}"
        return ", all dates"


class Codes(Filter):
    """SEC transaction codes; () = every code."""

    def normalize(self, value):
        return tuple(dict.fromkeys(str(c).upper() for c in value))

    def parse(self, raw: str) -> Parsed:
        if raw.lower() == "all":
            return (), None
        items = [c.upper() for c in _csv(raw)]
        good = tuple(dict.fromkeys(c for c in items if c in TRANSACTION_CODES))
        bad = [c for c in items if c not in TRANSACTION_CODES]
        note = f"Ignored unknown transaction code {_some(bad)}." if bad else None
        return (good or self.default), note

    def encode(self, value):
        if value == self.default:
            return None
        return ",".join(value) if value else "all"

    def mask(self, tx, value):
        return tx["code"].isin(value) if value else None

    def where(self, value, col):
        return (f"{col('code')} IN ({_marks(value)})", list(value)) if value else None

    def phrase(self, f, insider_name=None):
        codes = f.codes
        if not codes:
            return "All transactions"
        if set(codes) == {"P", "S"}:
            return "Open-market purchases and sales"
        if codes == ("S",):
            return "Open-market sales"
        if codes == ("P",):
            return "Open-market purchases"
        return "Transactions coded " + _and([f"{c} ({TRANSACTION_CODES[c].lower()})" for c in codes])


class Choices(Filter):
    """A subset of fixed options (stored in the options' order); () or every option = no restriction."""

    def __init__(self, key: str, label: str, options: tuple[str, ...]):
        super().__init__(key, (), label)
        self.options = options

    def normalize(self, value):
        return tuple(o for o in self.options if o in set(value))

    def parse(self, raw: str) -> Parsed:
        items = _csv(raw)
        bad = [i for i in items if i not in self.options]
        note = (
            f"Ignored unknown {self.label} {_some(bad)} (one of: {', '.join(self.options)})." if bad else None
        )
        return self.normalize(items), note

    def encode(self, value):
        return ",".join(value) if value else None

    def active(self, value) -> bool:
        return bool(value) and set(value) != set(self.options)


class Roles(Choices):
    def mask(self, tx, value):
        if not self.active(value):
            return None
        return pd.concat([tx[ROLE_COLUMNS[r]].fillna(False).astype(bool) for r in value], axis=1).any(axis=1)

    def where(self, value, col):
        if not self.active(value):
            return None
        return "(" + " OR ".join(f"coalesce({col(ROLE_COLUMNS[r])}, false)" for r in value) + ")", []

    def phrase(self, f, insider_name=None):
        if not f.roles:
            return ""
        names = _and([ROLES[r] for r in f.roles])
        return f" (rows as {names} only)" if f.insider is not None else f" by {names}"


class Plan(Choices):
    NAMES: ClassVar[dict[str, str]] = {
        "yes": "under a 10b5-1 plan",
        "no": "outside any 10b5-1 plan",
        "unknown": "with plan status unknown",
    }

    def mask(self, tx, value):
        return plan_state(tx).isin(value) if self.active(value) else None

    def where(self, value, col):
        if not self.active(value):
            return None
        flag = col("is_10b5_1")
        state = f"(CASE WHEN {flag} IS NULL THEN 'unknown' WHEN {flag} THEN 'yes' ELSE 'no' END)"
        return f"{state} IN ({_marks(value)})", list(value)

    def phrase(self, f, insider_name=None):
        if not self.active(f.plan):
            return ""
        return ", " + " or ".join(self.NAMES[p] for p in f.plan) + " only"


class TitleContains(Filter):
    """Officer title containing a text (any case)."""

    MAX = 60

    def normalize(self, value):
        return str(value or "").strip()

    def parse(self, raw: str) -> Parsed:
        clean = "".join(ch for ch in raw if ch.isprintable()).strip()
        if len(clean) > self.MAX:
            note = f"The officer title filter is limited to {self.MAX} characters; shortened."
            return clean[: self.MAX], note
        return clean, None

    def encode(self, value):
        return value or None

    def mask(self, tx, value):
        if not value:
            return None
        return tx["officer_title"].fillna("").str.lower().str.contains(value.lower(), regex=False)

    def where(self, value, col):
        if not value:
            return None
        return f"strpos(lower(coalesce({col('officer_title')}, '')), ?) > 0", [value.lower()]

    def phrase(self, f, insider_name=None):
        v = f.title_contains
        return f" with an officer title containing \u201c{v}\u201d" if v else ""


class OneOf(Filter):
    """One of fixed options; the first is the default (no restriction for filters, a view option otherwise)."""

    def __init__(self, key: str, label: str, options: tuple[str, ...], names: dict[str, str] | None = None):
        super().__init__(key, options[0], label)
        self.options, self.names = options, names or {}

    def parse(self, raw: str) -> Parsed:
        if raw in self.options:
            return raw, None
        return self.default, f"Ignored {self.label} {_quote(raw)} (one of: {', '.join(self.options)})."

    def phrase(self, f, insider_name=None):
        value = getattr(f, self.name)
        return self.names.get(value, "") if value != self.default else ""


class Ownership(OneOf):
    def mask(self, tx, value):
        return None if value == "all" else tx["direct_indirect"] == value

    def where(self, value, col):
        return None if value == "all" else (f"{col('direct_indirect')} = ?", [value])


class Derivative(OneOf):
    def mask(self, tx, value):
        return None if value == "all" else (tx["table"] == "derivative") == (value == "derivative")

    def where(self, value, col):
        if value == "all":
            return None
        return f"{col('table')} {'=' if value == 'derivative' else '<>'} 'derivative'", []


class MinAmount(Filter):
    """A dollar floor on a numeric column (missing values count as 0)."""

    def __init__(self, key: str, label: str, column: str):
        super().__init__(key, 0.0, label)
        self.column = column

    def normalize(self, value):
        return float(value or 0.0)

    def parse(self, raw: str) -> Parsed:
        try:
            value = float(raw)
        except ValueError:
            return 0.0, f"Ignored {self.label} {_quote(raw)}: not a number."
        if math.isnan(value) or value < 0:
            return 0.0, f"Ignored {self.label} {_quote(raw)}: it must be zero or more."
        if value > MAX_AMOUNT:
            return MAX_AMOUNT, f"{self.label.capitalize()} {_quote(raw)} is more than {fmt_money(MAX_AMOUNT)}; " \
                               f"using {fmt_money(MAX_AMOUNT)}."  # fmt: skip
        return value, None

    def encode(self, value):
        if not value:
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    def mask(self, tx, value):
        return tx[self.column].fillna(0) >= value if value else None

    def where(self, value, col):
        return (f"coalesce({col(self.column)}, 0) >= ?", [float(value)]) if value else None

    def phrase(self, f, insider_name=None):
        value = getattr(f, self.name)
        return f", at least {fmt_money(value, exact=True)} each" if value else ""


# ---------------------------------------------------------------------- the filters of every view
class Filters:
    """Every filter of a view; immutable, hashable, compared by value. Declaration order = sentence order."""

    _values: dict[str, Any]  # set once in __init__ (object.__setattr__): the value of every filter by name

    codes = Codes("codes", OPEN_MARKET, "transaction code")
    insider = Insider("insider", None, "insider")
    roles = Roles("role", "role", tuple(ROLES))
    title_contains = TitleContains("title", "", "officer title")
    tickers = Tickers("ticker", (), "ticker")
    start = DateBound("start", "start date", ">=")
    end = DateBound("end", "end date", "<=")
    ownership = Ownership("own", "ownership", OWNERSHIP,
                          {"D": ", direct holdings only", "I": ", indirect holdings only"})  # fmt: skip
    derivative = Derivative("deriv", "security type", DERIVATIVE,
                            {"non": ", non-derivative securities only", "derivative": ", derivative securities only"})  # fmt: skip
    plan = Plan("plan", "10b5-1 plan status", PLAN_STATES)
    min_value = MinAmount("min", "minimum value", "value")
    freq = OneOf("freq", "period", FREQS)  # view options: no rows, no sentence
    unit = OneOf("unit", "unit", UNITS)

    __slots__ = ("_values",)

    def __init__(self, **values: Any):
        specs = self.specs()
        unknown = set(values) - {s.name for s in specs}
        if unknown:
            raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
        object.__setattr__(
            self, "_values", {s.name: s.normalize(values.get(s.name, s.default)) for s in specs}
        )

    @classmethod
    def specs(cls) -> list[Filter]:
        """Every filter descriptor, in declaration order (subclasses add theirs after)."""
        seen: dict[str, Filter] = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                if isinstance(attr, Filter):
                    seen[name] = attr
        return list(seen.values())

    def __setattr__(self, name, value):
        raise AttributeError("Filters are immutable: use .replace()")

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._values == self._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        changed = ", ".join(f"{s.name}={self._values[s.name]!r}" for s in self.specs()
                            if self._values[s.name] != s.default)  # fmt: skip
        return f"{type(self).__name__}({changed})"

    def __reduce__(self):
        return (_rebuild, (type(self), dict(self._values)))

    def replace(self, **changes: Any) -> Self:
        return type(self)(**{**self._values, **changes})

    def with_range(self, default: tuple[dt.date, dt.date] | None) -> Self:
        """These filters with start/end filled from `default` where unset."""
        if default is None:
            return self
        return self.replace(start=self.start or default[0], end=self.end or default[1])

    # ------------------------------------------------------------------ URL
    def to_query(self) -> dict[str, str]:
        """Compact query-string parameters; defaults are left out."""
        q: dict[str, str] = {}
        for spec in self.specs():
            text = spec.encode(self._values[spec.name])
            if text is not None:
                q[spec.key] = text
        return q

    @classmethod
    def parse_query(cls, query: Mapping[str, str | list[str]]) -> tuple[Self, list[Notice]]:
        """Filters from query parameters, and a plain message for every value that was ignored or clamped."""
        values: dict[str, Any] = {}
        notices: list[Notice] = []
        for spec in cls.specs():
            raw = query.get(spec.key, "")
            if isinstance(raw, list | tuple):
                raw = raw[-1] if raw else ""  # the last value wins, as in most web apps
            raw = str(raw).strip()
            if not raw:
                continue
            value, note = spec.parse(raw)
            values[spec.name] = value
            if note:
                notices.append(Notice(spec.key, note))
        start, end = values.get("start"), values.get("end")
        if start and end and start > end:
            values["start"], values["end"] = end, start
            notices.append(
                Notice("start", f"The start date {start} was after the end date {end}; swapped them.")
            )
        return cls(**values), notices

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> Self:
        """Filters from query parameters; anything unreadable is ignored (defaults kept). Never raises."""
        return cls.parse_query(query)[0]

    # ------------------------------------------------------------------ sentence and rows
    def describe(self, insider_name: str | None = None) -> str:
        """'Open-market purchases and sales by officers of NLY, 2023-01-01 to 2024-10-31, 10b5-1 only.'"""
        return "".join(spec.phrase(self, insider_name) for spec in self.specs()) + "."

    def sql_where(self, alias: str = "t", *, skip: tuple[str, ...] = ()) -> tuple[str, list]:
        """(SQL condition, parameters) over the `transactions` view aliased `alias`: the rows apply_filters keeps."""

        def col(name: str) -> str:
            return f'{alias}."{name}"' if alias else f'"{name}"'

        clauses, params = [], []
        for spec in self.specs():
            if spec.name in skip:
                continue
            got = spec.where(self._values[spec.name], col)
            if got:
                clauses.append(got[0])
                params += got[1]
        return (" AND ".join(clauses) or "TRUE"), params


def _rebuild(cls, values):
    return cls(**values)


def apply_filters(tx: pd.DataFrame, f: Filters, *, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """Transactions matching f. `skip` names filters to ignore (e.g. ("codes", "plan") for holdings)."""
    mask = pd.Series(True, index=tx.index)
    for spec in f.specs():
        if spec.name in skip:
            continue
        got = spec.mask(tx, getattr(f, spec.name))
        if got is not None:
            mask &= got.fillna(False).astype(bool)
    return tx[mask]


def plan_state(tx: pd.DataFrame) -> pd.Series:
    """'yes' / 'no' / 'unknown' from the tri-state is_10b5_1."""
    flag = tx["is_10b5_1"]
    return pd.Series(
        ["unknown" if pd.isna(v) else ("yes" if v else "no") for v in flag], index=tx.index, dtype="string"
    )


# ---------------------------------------------------------------------- numbers and ranges
def fmt_money(value: float | None, exact: bool = False) -> str:
    """$1.2M, -$350K, $12.3B, $950; exact=True gives $100,000."""
    if value is None or value != value:
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if exact:
        return f"{sign}${v:,.0f}"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
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


def two_years_to(end: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) covering the two years that end on `end`."""
    try:
        start = end.replace(year=end.year - 2) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 2, day=28) + dt.timedelta(days=1)
    return start, end


def default_range(
    frame: pd.DataFrame, column: str = "filing_date", today: dt.date | None = None
) -> tuple[dt.date, dt.date] | None:
    """The two years up to the latest PLAUSIBLE filing loaded: a date after today (a typo, a clock error) never moves
    the range; only future dates -> the two years up to today; None when nothing is loaded."""
    if frame is None or frame.empty or frame[column].isna().all():
        return None
    today = today or dt.date.today()
    dates = pd.to_datetime(frame[column]).dropna()
    plausible = dates[dates <= pd.Timestamp(today)]
    return two_years_to(plausible.max().date() if not plausible.empty else today)
