"""Every derived value of an ownership filing, from its raw facts. PURE: dicts in, filled in place; no I/O.

One derivation for both paths: the XML parser (`loaders/parser.py`) and the SEC data-set loader build records of
raw facts and call `derive_filing()`, so both give the same clean dates, numbers, values, 10b5-1 status, price
ranges, late days and sanity flags.

Raw facts the caller provides (keys are columns of loaders.schema; text as filed, stripped, None when absent):
- filing: accession, form, period_of_report, filing_date (None: the signature date is used, else the period),
  filing_date_source, signature_date, aff10b5one (bool or "0/1/true/false"; None when the form has no checkbox;
  an empty data-set field should be passed as None), remarks, issuer_cik.
- every row: row_id, accession, table (nonDerivative | derivative), seq, security_title, direct_indirect, nature,
  footnote_ids ("F1,F3", in document order), the issuer and owner columns; derivative rows also
  conversion_price, exercise_date, expiration_date, underlying_title, underlying_shares.
- transaction rows: transaction_date_raw, deemed_execution_date, transaction_form_type, code, acquired_disposed,
  timeliness, equity_swap, shares_raw, price_raw, owned_after_raw, value_owned_after.
- holding rows: shares_owned_raw, value_owned.
Dates may be `datetime.date` or text (ISO, MM/DD/YYYY, or the data sets' DD-MON-YYYY); typed numbers and booleans
given as text are coerced. Rows must be in document order (a filing's non-derivative rows, then derivative rows).
footnotes: {footnote id: text}.

What is filled:
- filing: filing_date + filing_date_source (fallback), is_amendment, n_transactions, n_holdings, filing_url.
- rows: form, filing_date, period_of_report (copied from the filing), footnotes text, clean numbers and dates,
  value, signed values, code name, late business days, 10b5-1 tri-state + source + adoption date, price range,
  and the sanity `flags` (see loaders.schema.TRANSACTION_FLAGS).

10b5-1, per transaction (tri-state):
1. the form's `aff10b5One` checkbox when present (filings from April 2023) -> True/False, source "checkbox";
2. else a footnote attached to the row that mentions Rule 10b5-1 -> True (False when it says "not ... 10b5-1"),
   source "row_footnote";
3. else a 10b5-1 footnote that no row points at, or the remarks -> applies to the filing's trading rows
   (codes S, P, M, X, O), source "filing_footnote" / "remarks". A 10b5-1 footnote that some rows point at is
   row-scoped and says nothing about the other rows;
4. else unknown (<NA>). "Rule 10b-5" is a different rule and never matches.
A checkbox that contradicts the row's footnotes adds the flag "tenb51_conflict".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

import numpy as np

from loaders.codes import code_name

IMPLAUSIBLE_VALUE = 5e9  # shares x price above $5B in one row is a typo or a unit mix-up (ADS vs ordinary)
IMPLAUSIBLE_PRICE = 1e6  # no US-listed share trades above $1M
LATE_AFTER_BUSINESS_DAYS = 2
PLAN_CODES = frozenset("SPMXO")
ARCHIVES = "https://www.sec.gov/Archives/edgar/data"
_ACCESSION_RE = re.compile(r"\d{10}-\d{2}-\d{6}")

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014"
TENB51_RE = re.compile(rf"10\s*b\s*[{_DASH}]?\s*5\s*[{_DASH}]\s*1(?!\d)", re.I)
_NEGATED_RE = re.compile(
    rf"\b(?:not|no longer|outside(?: of)?)\b[^.;]{{0,80}}?10\s*b\s*[{_DASH}]?\s*5\s*[{_DASH}]\s*1(?!\d)", re.I
)
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
_DATE_PAT = (
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"
    r"|(?P<day2>\d{1,2})\s+(?P<mon2>[A-Za-z]{3,9})\.?,?\s+(?P<year2>\d{4})"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{2,4})"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})"
)
_ADOPTION_RE = re.compile(
    r"(?:adopt(?:ed|ion)|entered\s+into|established|dated|effective)\b[^.;]{0,60}?(?:" + _DATE_PAT + ")", re.I
)
_NUM = r"\$?\s*(\d[\d,]*(?:\.\d+)?|\.\d+)"
_RANGE_RES = (
    re.compile(
        rf"(?:rang\w*|varied)\s+from\s+(?:a\s+low\s+of\s+)?{_NUM}\s+(?:to|through|and)\s+(?:a\s+high\s+of\s+)?{_NUM}",
        re.I,
    ),
    re.compile(rf"between\s+{_NUM}\s+and\s+{_NUM}", re.I),
    re.compile(
        rf"low\s+(?:price\s+)?of\s+{_NUM}\s+(?:and|to)\s+(?:a\s+)?high\s+(?:price\s+)?of\s+{_NUM}", re.I
    ),
    re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)\s*(?:-|\u2013|to)\s*\$\s*(\d[\d,]*(?:\.\d+)?)", re.I),
)
_NUMBER_RE = re.compile(r"^[\s$]*([-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+))(.*)$", re.S)
_NUMBER_JUNK_RE = re.compile(r"^(?:\s*(?:\(\s*[A-Za-z]?\d+\s*\)|F\d+|\*+|[A-Za-z]?\d*\)))*\s*$")
_DMY_RE = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_NO_DERIVATIVE = (
    "conversion_price",
    "exercise_date",
    "expiration_date",
    "underlying_title",
    "underlying_shares",
)


def _holiday_calendar() -> np.busdaycalendar:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays("1985-01-01", "2045-12-31").values.astype("datetime64[D]")
    return np.busdaycalendar(holidays=days)


_BUSDAYS = _holiday_calendar()


# ---------------------------------------------------------------------------------------------- coercions
def to_number(raw: str | None) -> float | None:
    """'1,000' -> 1000.0, '$19.25' -> 19.25, '923 F1' -> 923.0, '923(1)' -> 923.0; anything else -> None."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    m = _NUMBER_RE.match(raw)
    if not m or not _NUMBER_JUNK_RE.match(m.group(2)):
        return None
    try:
        return float(m.group(1).replace(",", ""))
    except ValueError:
        return None


def to_date(raw: str | None) -> dt.date | None:
    """ISO dates (with or without a timezone suffix), MM/DD/YYYY and DD-MON-YYYY; None when unusable."""
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        pass
    m = re.match(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            return None
    m = _DMY_RE.match(raw)
    if m and (month := _MONTHS.get(m.group(2).lower())):
        try:
            return dt.date(int(m.group(3)), month, int(m.group(1)))
        except ValueError:
            return None
    return None


def to_bool(raw: str | None) -> bool | None:
    """'1'/'true'/'Y' -> True, '0'/'false'/'N'/'' -> False, anything else (or None) -> None."""
    if raw is None:
        return None
    raw = raw.strip().lower()
    if raw in ("1", "true", "y", "yes"):
        return True
    if raw in ("0", "false", "n", "no", ""):
        return False
    return None


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return to_date(str(value))


def _as_number(value: object) -> float | None:
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    return to_number(str(value))


def _as_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return to_bool(str(value))


def _letter(value: object) -> str | None:
    """First letter, upper-cased ('d' -> 'D'); None for empty."""
    return (str(value or "")).upper()[:1] or None


# ---------------------------------------------------------------------------------------------- footnote text
def _date_from_match(m: re.Match) -> dt.date | None:
    g = m.groupdict()
    try:
        if g.get("mon") or g.get("mon2"):
            month = _MONTHS.get((g.get("mon") or g.get("mon2")).lower().rstrip("."))
            if not month:
                return None
            return dt.date(int(g.get("year") or g.get("year2")), month, int(g.get("day") or g.get("day2")))
        if g.get("y3"):
            year = int(g["y3"])
            year = year + 2000 if year < 100 else year
            return dt.date(year, int(g["m3"]), int(g["d3"]))
        if g.get("y4"):
            return dt.date(int(g["y4"]), int(g["m4"]), int(g["d4"]))
    except (TypeError, ValueError):
        return None
    return None


def adoption_date(text: str) -> dt.date | None:
    """The 10b5-1 plan adoption date a footnote gives ("plan adopted on May 16, 2024"), else None."""
    if not TENB51_RE.search(text):
        return None
    for m in _ADOPTION_RE.finditer(text):
        d = _date_from_match(m)
        if d and 1990 <= d.year <= 2100:
            return d
    return None


def price_range(text: str) -> tuple[float, float] | None:
    """(low, high) of a weighted-average price footnote ("prices ranging from $19.12 to $19.54"), else None."""
    if "$" not in text and "rang" not in text and "between" not in text and "low" not in text:
        return None
    for rx in _RANGE_RES:
        m = rx.search(text)
        if m:
            lo, hi = (float(x.replace(",", "")) for x in m.groups())
            if 0 < lo <= hi:
                return lo, hi
    return None


def tenb51_mention(text: str) -> bool | None:
    """True when text says a trade was under a Rule 10b5-1 plan, False when it says it was not, None if silent."""
    if not TENB51_RE.search(text):
        return None
    return not _NEGATED_RE.search(text)


@functools.lru_cache(maxsize=65536)
def business_days(start: dt.date, end: dt.date) -> int:
    """US business days (federal holidays excluded) from start to end; 2 = filed on time for a Form 4."""
    return int(np.busday_count(start, end, busdaycal=_BUSDAYS))


# ---------------------------------------------------------------------------------------------- owners, links
def role_text(flags: dict, title: str | None, other: str | None) -> str | None:
    """'Director; Officer (CEO); 10% Owner; Other (member of group)' from the relationship flags."""
    parts = []
    if flags.get("is_director"):
        parts.append("Director")
    if flags.get("is_officer"):
        parts.append(f"Officer ({title})" if title else "Officer")
    if flags.get("is_ten_percent_owner"):
        parts.append("10% Owner")
    if flags.get("is_other"):
        parts.append(f"Other ({other})" if other else "Other")
    return "; ".join(parts) or None


def owner_columns(owners: list[dict]) -> dict:
    """The owner columns every row of a filing carries: the first owner's, plus every owner's CIK and name."""
    first = owners[0] if owners else {}
    return {
        "owner_cik": first.get("owner_cik"),
        "owner_name": first.get("owner_name"),
        "owner_ciks": "|".join(str(o["owner_cik"]) for o in owners if o["owner_cik"] is not None) or None,
        "owner_names": "|".join(o["owner_name"] for o in owners if o["owner_name"]) or None,
        "n_owners": len(owners),
        **{k: first.get(k) for k in ("is_director", "is_officer", "is_ten_percent_owner", "is_other")},
        "officer_title": first.get("officer_title"),
        "role": first.get("role"),
    }


def filing_url(cik: int | None, accession: str | None) -> str | None:
    """The filing's index page on EDGAR (None for pseudo-accessions of files ingested without one)."""
    if not cik or not accession or not _ACCESSION_RE.fullmatch(accession):
        return None
    return f"{ARCHIVES}/{cik}/{accession.replace('-', '')}/{accession}-index.htm"


# ---------------------------------------------------------------------------------------------- the derivation
def derive_filing(
    filing: dict, transactions: list[dict], holdings: list[dict], footnotes: dict[str, str]
) -> None:
    """Fill every derived column of one filing and its rows from their raw facts, in place (see the module doc)."""
    ctx = _Filing(filing, transactions, holdings, footnotes)
    for row in transactions:
        ctx.transaction(row)
    for table in ("nonDerivative", "derivative"):
        _flag_holdings_chain([r for r in transactions if r["table"] == table])
    for row in holdings:
        ctx.holding(row)


class _Filing:
    """Filing-level facts shared by the rows, and a per-filing cache of what each footnote says."""

    def __init__(
        self, filing: dict, transactions: list[dict], holdings: list[dict], footnotes: dict[str, str]
    ):
        self.footnotes = footnotes
        self._notes: dict[str, tuple] = {}
        form = filing.get("form") or "4"
        period = _as_date(filing.get("period_of_report"))
        fdate = _as_date(filing.get("filing_date"))
        source = filing.get("filing_date_source")
        if fdate is None:
            sig = _as_date(filing.get("signature_date"))
            fdate, source = (sig, "signature") if sig else (period, "period")
        self.checkbox = _as_bool(filing.get("aff10b5one"))
        self.remarks = filing.get("remarks")
        filing.update(
            form=form,
            is_amendment=form.endswith("/A"),
            period_of_report=period,
            filing_date=fdate,
            filing_date_source=source,
            signature_date=_as_date(filing.get("signature_date")),
            aff10b5one=self.checkbox,
            n_transactions=len(transactions),
            n_holdings=len(holdings),
            filing_url=filing_url(filing.get("issuer_cik"), filing.get("accession")),
        )
        self.form, self.period, self.fdate = form, period, fdate
        row_refs = {fid for r in (*transactions, *holdings) for fid in _ids(r)}
        self._plan_context(row_refs)

    # -- 10b5-1 context shared by the rows
    def _plan_context(self, row_refs: set[str]) -> None:
        self.plan_notes = {k: v for k, v in self.footnotes.items() if TENB51_RE.search(v)}
        unscoped = [v for k, v in self.plan_notes.items() if k not in row_refs]
        self.filing_plan: tuple[bool, str] | None = None
        for text in unscoped:
            said = tenb51_mention(text)
            if said is not None:
                self.filing_plan = (said, "filing_footnote")
                break
        if self.filing_plan is None and self.remarks:
            said = tenb51_mention(self.remarks)
            if said is not None:
                self.filing_plan = (said, "remarks")
        self.filing_adoption = None
        for text in [*self.plan_notes.values(), self.remarks or ""]:
            d = adoption_date(text)
            if d:
                self.filing_adoption = d
                break

    # -- rows
    def _common(self, row: dict) -> list[str]:
        """Fill what holdings and transactions share; return the texts of the row's footnotes."""
        notes = [(i, self.footnotes.get(i)) for i in _ids(row)]
        row.update(form=self.form, filing_date=self.fdate, period_of_report=self.period)
        if row["table"] != "derivative":
            row.update(dict.fromkeys(_NO_DERIVATIVE))
        else:
            row.update(
                conversion_price=_as_number(row.get("conversion_price")),
                exercise_date=_as_date(row.get("exercise_date")),
                expiration_date=_as_date(row.get("expiration_date")),
                underlying_shares=_as_number(row.get("underlying_shares")),
            )
        row.update(
            direct_indirect=_letter(row.get("direct_indirect")),
            footnotes="\n".join(f"{i}: {t}" for i, t in notes if t) or None,
        )
        return [t for _, t in notes if t]

    def holding(self, row: dict) -> None:
        self._common(row)
        raw = row.get("shares_owned_raw")
        shares = to_number(raw)
        row.update(
            shares_owned=shares,
            value_owned=_as_number(row.get("value_owned")),
            flags="value_missing" if raw is not None and shares is None else None,
        )

    def transaction(self, row: dict) -> None:
        notes = self._common(row)
        flags: list[str] = []
        date_raw = row.get("transaction_date_raw")
        tdate = to_date(date_raw)
        if tdate is not None and tdate.year < 1990:
            flags.append("date_before_1990")
        if tdate is not None and self.fdate is not None and tdate > self.fdate:
            flags.append("date_after_filing")
        horizon = self.fdate or self.period
        if (
            tdate is None
            or tdate.year < 1990
            or (horizon is not None and tdate > horizon + dt.timedelta(days=366))
        ) and self.period is not None:
            flags.append("date_fallback")
            tdate = self.period
        deemed = _as_date(row.get("deemed_execution_date"))
        code = (row.get("code") or "").upper() or None
        ad = _letter(row.get("acquired_disposed"))
        shares_raw, price_raw, owned_raw = (
            row.get("shares_raw"),
            row.get("price_raw"),
            row.get("owned_after_raw"),
        )
        shares, price, owned = to_number(shares_raw), to_number(price_raw), to_number(owned_raw)
        if (shares_raw is not None and shares is None) or (price_raw is not None and price is None):
            flags.append("value_missing")
        value = shares * price if shares is not None and price is not None else None
        if (value is not None and value > IMPLAUSIBLE_VALUE) or (
            price is not None and price > IMPLAUSIBLE_PRICE
        ):
            flags.append("implausible_value")
        sign = -1.0 if ad == "D" else 1.0
        timeliness = _letter(row.get("timeliness"))
        late_days = None
        start = deemed or tdate
        if start is not None and self.fdate is not None and self.form == "4":
            late_days = business_days(start, self.fdate)
        is_late = (
            True
            if timeliness == "L"
            else (late_days > LATE_AFTER_BUSINESS_DAYS if late_days is not None else None)
        )
        plan, source, conflict = self._plan_flag(code, notes)
        if conflict:
            flags.append("tenb51_conflict")
        rng = next((r for r in (self._note(t)[1] for t in notes) if r), None)
        adoption = None
        if plan:
            adoption = next((d for d in (self._note(t)[2] for t in notes) if d), None) or self.filing_adoption
        row.update(
            transaction_date=tdate,
            deemed_execution_date=deemed,
            code=code,
            code_name=code_name(code),
            equity_swap=_as_bool(row.get("equity_swap")),
            timeliness=timeliness,
            acquired_disposed=ad,
            shares=shares,
            price=price,
            value=value,
            signed_shares=sign * shares if shares is not None else None,
            signed_value=sign * value if value is not None else None,
            owned_after=owned,
            value_owned_after=_as_number(row.get("value_owned_after")),
            is_10b5_1=plan,
            tenb51_source=source,
            plan_adoption_date=adoption,
            price_low=rng[0] if rng else None,
            price_high=rng[1] if rng else None,
            late_business_days=late_days,
            is_late=is_late,
            flags=",".join(flags) or None,
        )

    def _note(self, text: str) -> tuple[bool | None, tuple[float, float] | None, dt.date | None]:
        """(10b5-1 mention, price range, adoption date) of one footnote text, computed once per filing."""
        info = self._notes.get(text)
        if info is None:
            info = self._notes[text] = (tenb51_mention(text), price_range(text), adoption_date(text))
        return info

    def _plan_flag(self, code: str | None, notes: list[str]) -> tuple[bool | None, str | None, bool]:
        row_said = None
        for text in notes:
            said = self._note(text)[0]
            if said is not None:
                row_said = said
                break
        if self.checkbox is not None:
            return self.checkbox, "checkbox", row_said is not None and row_said != self.checkbox
        if row_said is not None:
            return row_said, "row_footnote", False
        if self.filing_plan is not None and code in PLAN_CODES:
            return self.filing_plan[0], self.filing_plan[1], False
        return None, None, False


def _ids(row: dict) -> Iterable[str]:
    ids = row.get("footnote_ids")
    return [i for i in ids.split(",") if i] if ids else []


def _flag_holdings_chain(rows: list[dict]) -> None:
    """Flag rows whose owned-after does not follow from the previous row of the same holding +/- its shares.

    Only direct holdings are checked (indirect rows often share a generic nature, "See footnote", across several
    entities). Filers usually list rows in execution order but not always, so the chain is checked both in the
    listed order and in transaction-date order, and the order that reconciles better is used."""
    direct = [r for r in rows if r["direct_indirect"] == "D"]
    listed = _chain_breaks(direct)
    if listed:
        by_date = _chain_breaks(sorted(direct, key=lambda r: r["transaction_date"] or dt.date.min))
        listed = by_date if len(by_date) < len(listed) else listed
    for row in listed:
        row["flags"] = ",".join(filter(None, [row["flags"], "holdings_mismatch"]))


def _chain_breaks(rows: list[dict]) -> list[dict]:
    last: dict[str, float] = {}
    breaks = []
    for row in rows:
        key = (row["security_title"] or "").lower()
        owned, signed = row["owned_after"], row["signed_shares"]
        prev = last.get(key)
        known = prev is not None and owned is not None and signed is not None
        if known and abs(prev + signed - owned) > max(1.0, 0.001 * abs(owned)):
            breaks.append(row)
        if owned is not None:
            last[key] = owned
    return breaks
