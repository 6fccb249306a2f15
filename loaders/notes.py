"""What footnote and remarks text says: Rule 10b5-1 plans, plan adoption dates, weighted-average price ranges.

PURE text functions, used by loaders.derive (one derivation for the XML and data-set paths). Each rule below comes
from real filings; tests in tests/test_notes.py are named after them.

Rule 10b5-1 mentions (`tenb51`): "10b5-1" with any dash, and the misspellings filers use: "10b-5-1", "10b51",
"10b-51", "10b5-l", "10b5 plan", "10b5-trading plan". "Rule 10b-5" alone is the anti-fraud rule, never a plan.
A mention preceded in its sentence by "not", "no longer" or "outside (of)" says the trade was NOT under a plan.

Adoption dates (`adoption`): the date after "adopted", "entered into", "established", "executed", "dated",
"effective", "put in place", "adoption date ... is", or before "..., X adopted" ("On November 1, 2022, Mr. Regan
adopted a 10b5-1 Plan"). Dates that cannot be adoption dates are skipped: trust dates ("Trust, DTD 3/12/1996"),
years before 2000 (the rule dates from 2000), expiry and termination dates. "Adopted in March 2023" gives the 1st of
the month (flagged as month-only). A plan "modified on <date>" counts from the modification (the amended rule
treats a change of amount, price or timing as a new plan). "Adopted prior to February 27, 2023", "the prior version of Rule 10b5-1" and
"in effect prior to February 27, 2023" give no date but an upper bound (`before`): such a plan predates the amended
rule and has no cooling-off period.

Price ranges (`price_ranges`): every "$low to $high" of a footnote in text order ("from $X to $Y", "$X - $Y",
"between $X and $Y", "$X per share to $Y per share", "the highest price ... was $Y and the lowest ... was $X"),
either order (a high-to-low range is swapped, never dropped); a number is a price only with a "$" or decimals, so
"between 2023 and 2026" is not a range. `respectively` says the ranges map to the footnote's rows in order.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

AMENDED_RULE_EFFECTIVE = dt.date(2023, 2, 27)  # Rule 10b5-1 amendments (cooling-off periods) took effect
FIRST_PLAN_YEAR = 2000  # Rule 10b5-1 was adopted in August 2000

_D = "\\-\u2010\u2011\u2012\u2013\u2014"  # hyphen and dash characters filers use
_CORE = (
    rf"10\s*[{_D}]?\s*b\s*[{_D}]?\s*5(?:\s*[{_D}]\s*(?:1|[lI](?![A-Za-z]))|1)(?!\d)"  # 10b5-1 10b-5-1 10b51 10b5-l
    rf"|10\s*b\s*5(?:\s+|[{_D}])(?:trading\s+|sales?\s+|selling\s+)?plans?\b"  # 10b5 plan, 10b5-trading plan
)
TENB51_RE = re.compile(_CORE, re.I)
_NEGATED_RE = re.compile(rf"\b(?:not|no\s+longer|outside(?:\s+of)?)\b[^.;]{{0,80}}?(?:{_CORE})", re.I)
_CANONICAL_RE = re.compile(rf"10\s*b\s*[{_D}]?\s*5\s*[{_D}]\s*1(?!\d)", re.I)

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MON = r"\b(?:" + "|".join(_MONTHS) + r")\b"
_DATE_RE = re.compile(
    rf"(?P<mon>{_MON})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<year>\d{{4}})"
    rf"|(?P<day2>\d{{1,2}})\s+(?P<mon2>{_MON})\.?,?\s+(?P<year2>\d{{4}})"
    r"|(?P<m3>\d{1,2})[/-](?P<d3>\d{1,2})[/-](?P<y3>\d{4}|\d{2}(?!\d))"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})"
    rf"|(?P<mon5>{_MON})\.?,?\s+(?P<year5>\d{{4}})",
    re.I,
)
_ADOPT_KEY_RE = re.compile(
    r"\b(?:adopt(?:ed|ion)|entered\s+into|established|executed|dated|effective|put\s+in\s+place|implemented)\b",
    re.I,
)
_ADOPTED_AFTER_DATE_RE = re.compile(r"^[^.;]{0,60}?\b(?:adopted|entered\s+into|established)\b", re.I)
_NOT_ADOPTION_GAP_RE = re.compile(r"expir|terminat|\bsold\b|\bsales?\s+(?:of|on)\b|transactions?\b", re.I)
_TRUST_DATE_RE = re.compile(r"(?:\bDTD|\bU/?[AT]/?D|\btrust,?\s+dated)\.?\s*$", re.I)
_MODIFIED_RE = re.compile(r"\b(?:modified|amended)\b[^.;]{0,40}?$", re.I)
_BEFORE_RE = re.compile(r"(?:prior\s+to|before)\s*$", re.I)
_OLD_RULE_RE = re.compile(
    r"prior\s+version\s+of\s+(?:the\s+)?rule|rule\s+then\s+in\s+effect|as\s+in\s+effect\s+(?:on|at)\s+the\s+"
    r"(?:date|time)\s+of\s+(?:its\s+)?adoption",
    re.I,
)
_HONORIFIC_RE = re.compile(r"\b(Mr|Ms|Mrs|Dr|Jr|Sr|Inc|Corp|Co|Ltd|No|St)\.")

_PRICE = r"(\$\s*\d[\d,]*(?:\.\d+)?|\$?\s*\d[\d,]*\.\d+|\$\s*\.\d+)"
_PER = r"(?:\s*(?:per|a)\s+share)?"
_RANGE_RE = re.compile(
    rf"(?:from|between)\s+(?:a\s+low\s+of\s+)?{_PRICE}{_PER}\s*(?:to|through|and|-|\u2013|\u2014)\s*"
    rf"(?:a\s+high\s+of\s+)?{_PRICE}{_PER}"
    rf"|{_PRICE}{_PER}\s*(?:-|\u2013|\u2014|to|through)\s*{_PRICE}",
    re.I,
)
_HIGH_LOW_RE = re.compile(
    rf"\b(high|low)(?:est)?\s+(?:sale\s+|sales\s+|purchase\s+)?price\b[^$.;]{{0,60}}?{_PRICE}"
    rf"[^$;]{{0,40}}?\b(high|low)(?:est)?\s+(?:sale\s+|sales\s+|purchase\s+)?price\b[^$.;]{{0,60}}?{_PRICE}"
    rf"|\b(high|low)\s+of\s+{_PRICE}\s*(?:and|to)\s*(?:a\s+)?(high|low)\s+of\s+{_PRICE}",
    re.I,
)
_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.I)


# ---------------------------------------------------------------------------------------------- 10b5-1
@dataclass(frozen=True)
class Mention:
    """What a text says about Rule 10b5-1: said (True plan / False not a plan), the spelling when misspelled."""

    said: bool
    spelling: str | None = None


@functools.lru_cache(maxsize=65536)
def tenb51(text: str) -> Mention | None:
    """The text's statement about a Rule 10b5-1 plan, or None when it says nothing about one."""
    m = TENB51_RE.search(text)
    if m is None:
        return None
    spelling = None if _CANONICAL_RE.fullmatch(m.group(0).strip()) else " ".join(m.group(0).split())
    return Mention(not _NEGATED_RE.search(text), spelling)


def tenb51_mention(text: str) -> bool | None:
    """True when text says a trade was under a Rule 10b5-1 plan, False when it says it was not, None if silent."""
    m = tenb51(text)
    return None if m is None else m.said


# ---------------------------------------------------------------------------------------------- adoption dates
@dataclass(frozen=True)
class Adoption:
    """A plan's adoption date (or only an upper bound), as a footnote states it."""

    date: dt.date | None = None
    before: dt.date | None = None  # adopted before this date ("prior to February 27, 2023")
    month_only: bool = False  # "adopted in March 2023": date is the 1st of the month
    modified: bool = False  # date is when the plan was modified (a modification counts as a new adoption)


def _date_of(m: re.Match) -> tuple[dt.date, bool] | None:
    """(date, month_only) of a _DATE_RE match; None when it is not a real date."""
    g = m.groupdict()
    try:
        if g["mon"] or g["mon2"]:  # the pattern admits month names only
            month = _MONTHS[(g["mon"] or g["mon2"]).lower()]
            return dt.date(int(g["year"] or g["year2"]), month, int(g["day"] or g["day2"])), False
        if g["y3"]:
            year = int(g["y3"])
            return dt.date(year + 2000 if year < 100 else year, int(g["m3"]), int(g["d3"])), False
        if g["y4"]:
            return dt.date(int(g["y4"]), int(g["m4"]), int(g["d4"])), False
        return dt.date(int(g["year5"]), _MONTHS[g["mon5"].lower()], 1), True
    except ValueError:  # "February 30, 2023"
        return None


def _candidates(text: str) -> list[tuple[int, int, dt.date, bool]]:
    """Every plausible date of text: (start, end, date, month_only); trust dates and pre-2000 years left out."""
    out = []
    for m in _DATE_RE.finditer(text):
        found = _date_of(m)
        if found is None or not FIRST_PLAN_YEAR <= found[0].year <= 2100:
            continue
        d, month_only = found
        if _TRUST_DATE_RE.search(text[max(0, m.start() - 16) : m.start()]):
            continue
        out.append((m.start(), m.end(), d, month_only))
    return out


@functools.lru_cache(maxsize=65536)
def adoption(text: str) -> Adoption | None:
    """The plan adoption date (or bound) a text mentioning Rule 10b5-1 gives, else None."""
    if not TENB51_RE.search(text):
        return None
    text = _HONORIFIC_RE.sub(r"\1", text)
    dates = _candidates(text)
    modified = [
        (d, mo) for start, _end, d, mo in dates if _MODIFIED_RE.search(text[max(0, start - 60) : start])
    ]
    if (
        modified
    ):  # "a 10b5-1 Plan dated September 2022 and modified on March 21, 2023": the latest modification
        d, month_only = max(modified)
        return Adoption(date=d, month_only=month_only, modified=True)
    for key in _ADOPT_KEY_RE.finditer(text):
        for start, _end, d, month_only in dates:
            gap = text[key.end() : start]
            if start < key.end() or len(gap) > 100 or re.search(r"[.;]", gap):
                continue
            if _BEFORE_RE.search(gap):
                return Adoption(before=d)
            if _NOT_ADOPTION_GAP_RE.search(gap):
                break
            return Adoption(date=d, month_only=month_only)
    for start, end, d, month_only in dates:  # "On November 1, 2022, Mr. Regan adopted a 10b5-1 Plan"
        if _ADOPTED_AFTER_DATE_RE.match(text[end:]):
            return Adoption(date=d, month_only=month_only)
        if _BEFORE_RE.search(text[max(0, start - 12) : start]):  # "a plan that was in effect prior to <date>"
            return Adoption(before=d)
    if _OLD_RULE_RE.search(text):
        return Adoption(before=AMENDED_RULE_EFFECTIVE)
    return None


def adoption_date(text: str) -> dt.date | None:
    """The 10b5-1 plan adoption date a footnote gives ("plan adopted on May 16, 2024"), else None."""
    a = adoption(text)
    return a.date if a else None


# ---------------------------------------------------------------------------------------------- price ranges
def _price(raw: str) -> float:
    return float(raw.replace("$", "").replace(",", "").strip())


@functools.lru_cache(maxsize=65536)
def price_ranges(text: str) -> tuple[tuple[float, float], ...]:
    """Every (low, high) price range of a footnote, in text order; high-to-low ranges are swapped."""
    if "$" not in text and "." not in text:
        return ()
    out: list[tuple[float, float]] = []
    for m in _RANGE_RE.finditer(text):
        a, b = (g for g in m.groups() if g is not None)
        lo, hi = sorted((_price(a), _price(b)))
        if lo > 0:
            out.append((lo, hi))
    if not out:
        hl = _HIGH_LOW_RE.search(text)
        if hl:
            prices = [_price(g) for g in hl.groups() if g and g[0] not in "hHlL"]
            if min(prices) > 0:  # the pattern holds exactly two prices
                out.append((min(prices), max(prices)))
    return tuple(out)


def price_range(text: str) -> tuple[float, float] | None:
    """The first (low, high) range of a weighted-average price footnote, else None."""
    ranges = price_ranges(text)
    return ranges[0] if ranges else None


def respectively(text: str) -> bool:
    """True when a footnote's ranges are listed per row, in order ("... $2.25 to $2.93, respectively")."""
    return bool(_RESPECTIVELY_RE.search(text))
