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
import math
import re
from collections.abc import Iterable

import numpy as np

from loaders.codes import code_name
from loaders.notes import (  # noqa: F401 - adoption_date, price_range, tenb51_mention, TENB51_RE re-exported
    _MONTHS,
    TENB51_RE,
    Adoption,
    Mention,
    adoption,
    adoption_date,
    price_range,
    price_ranges,
    respectively,
    tenb51,
    tenb51_mention,
)

IMPLAUSIBLE_VALUE = 5e9  # shares x price above $5B in one row is a typo or a unit mix-up (ADS vs ordinary)
IMPLAUSIBLE_PRICE = 1e6  # no US-listed share trades above $1M
LATE_AFTER_BUSINESS_DAYS = 2
PLAN_CODES = frozenset("SPMXO")  # trades a 10b5-1 plan can cover: sales, purchases, exercises
RANGE_TOLERANCE = 0.01  # $: a weighted-average price rounded to cents may sit a cent outside its range
ARCHIVES = "https://www.sec.gov/Archives/edgar/data"
_ACCESSION_RE = re.compile(r"\d{10}-\d{2}-\d{6}")
# issue 6: values outside these ranges become null with a flag: the store's datetime64[ns] ends in April 2262, and
# no share count, price or holding is negative or reaches a quadrillion.
MIN_YEAR, MAX_YEAR = 1900, 2261
MAX_AMOUNT = 1e15

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
    """'1,000' -> 1000.0, '$19.25' -> 19.25, '923 F1' -> 923.0, '923(1)' -> 923.0; anything else (and inf, nan)
    -> None."""
    x = _number(raw)
    return x if x is not None and math.isfinite(x) else None


def amount(raw: object) -> tuple[float | None, bool]:
    """(shares/price/holding, out_of_range): negative, infinite or absurd (> MAX_AMOUNT) values give (None, True)."""
    x = float(raw) if isinstance(raw, float | int) and not isinstance(raw, bool) else _number(raw)
    if x is None:
        return None, False
    if not math.isfinite(x) or x < 0 or x > MAX_AMOUNT:
        return None, True
    return x, False


def _number(raw: object) -> float | None:
    if raw is None:
        return None
    raw = str(raw)
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
    """ISO dates (with or without a timezone suffix), MM/DD/YYYY and DD-MON-YYYY; None when unusable or outside the
    years MIN_YEAR..MAX_YEAR (date_out_of_range says which)."""
    day = _any_date(raw)
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


def date_out_of_range(raw: object) -> bool:
    """True when raw is a real calendar date outside MIN_YEAR..MAX_YEAR (9999-12-31, 2300-01-01, 0022-05-01)."""
    day = raw if isinstance(raw, dt.date) else _any_date(str(raw)) if raw else None
    return day is not None and not MIN_YEAR <= day.year <= MAX_YEAR


def _any_date(raw: str | None) -> dt.date | None:
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
        return value if value is None or MIN_YEAR <= value.year <= MAX_YEAR else None
    return to_date(str(value))


def _as_number(value: object) -> float | None:
    if value is None or isinstance(value, float | int):
        return None if value is None or not math.isfinite(value) else float(value)
    return to_number(str(value))


def _as_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return to_bool(str(value))


def _letter(value: object) -> str | None:
    """First letter, upper-cased ('d' -> 'D'); None for empty."""
    return (str(value or "")).upper()[:1] or None


# ---------------------------------------------------------------------------------------------- calendar
@functools.lru_cache(maxsize=65536)
def business_days(start: dt.date, end: dt.date) -> int:
    """US business days (federal holidays excluded) from start to end; 2 = filed on time for a Form 4."""
    return int(np.busday_count(start, end, busdaycal=_BUSDAYS))


def add_business_days(day: dt.date, n: int) -> dt.date:
    """The US business day n business days after day (federal holidays excluded)."""
    out = np.busday_offset(np.datetime64(day, "D"), n, roll="forward", busdaycal=_BUSDAYS)
    return out.astype("datetime64[D]").item()


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
    """Filing-level facts shared by the rows, and which rows point at each footnote."""

    def __init__(
        self, filing: dict, transactions: list[dict], holdings: list[dict], footnotes: dict[str, str]
    ):
        self.footnotes = footnotes
        form = filing.get("form") or "4"
        period = _as_date(filing.get("period_of_report"))
        fdate = _as_date(filing.get("filing_date"))
        source = filing.get("filing_date_source")
        if fdate is None:
            sig = _as_date(filing.get("signature_date"))
            fdate, source = (sig, "signature") if sig else (period, "period")
        self.checkbox = _as_bool(filing.get("aff10b5one"))
        self.remarks = filing.get("remarks")
        flags = [f for f in (filing.get("flags") or "").split(",") if f]  # issue 6: out-of-range values
        for flag, col in (
            ("period_out_of_range", "period_of_report"),
            ("signature_date_out_of_range", "signature_date"),
            ("original_date_out_of_range", "date_of_original_submission"),
        ):
            if date_out_of_range(filing.get(col)):
                flags.append(flag)
        filing.update(
            form=form,
            is_amendment=form.endswith("/A"),
            period_of_report=period,
            filing_date=fdate,
            filing_date_source=source,
            signature_date=_as_date(filing.get("signature_date")),
            date_of_original_submission=_as_date(filing.get("date_of_original_submission")),
            flags=",".join(flags) or None,
            aff10b5one=self.checkbox,
            n_transactions=len(transactions),
            n_holdings=len(holdings),
            filing_url=filing_url(filing.get("issuer_cik"), filing.get("accession")),
        )
        self.form, self.period, self.fdate = form, period, fdate
        self.rows_by_note: dict[
            str, list[str]
        ] = {}  # footnote id -> transaction row_ids pointing at it, in order
        for r in transactions:
            for fid in _ids(r):
                self.rows_by_note.setdefault(fid, []).append(r["row_id"])
        row_refs = set(self.rows_by_note).union(*(_ids(h) for h in holdings))
        self._plan_context(row_refs)

    # -- 10b5-1 context shared by the rows
    def _plan_context(self, row_refs: set[str]) -> None:
        """The filing-level plan statement (a 10b5-1 footnote no row points at, else the remarks) and adoption."""
        self.filing_plan: tuple[Mention, str, str] | None = None  # (what it says, source, where in words)
        for fid, text in self.footnotes.items():
            if fid not in row_refs and (m := tenb51(text)) is not None:
                self.filing_plan = (m, "filing_footnote", f"footnote {fid}")
                break
        if self.filing_plan is None and self.remarks and (m := tenb51(self.remarks)) is not None:
            self.filing_plan = (m, "remarks", "the remarks")
        self.filing_adoption = _first_adoption([*self.footnotes.values(), self.remarks or ""])

    def _plan(
        self, code: str | None, notes: list[tuple[str, str]]
    ) -> tuple[bool | None, str | None, bool, str]:
        """(is_10b5_1, source, conflict, note) of one transaction row; see the module docstring for the rule."""
        box, notes_said = self.checkbox, []
        row = next(((fid, m) for fid, t in notes if (m := tenb51(t)) is not None), None)
        if row is not None:
            fid, m = row
            notes_said.append(_spelling(m, f"footnote {fid}"))
            if box is not None and box != m.said:
                notes_said.append(
                    f"checkbox {_box(box)}, but footnote {fid} says {_under(m.said)}: the footnote wins"
                )
                return m.said, "row_footnote", True, _join(notes_said)
            return m.said, "row_footnote" if box is None else "checkbox", False, _join(notes_said)
        stated = self.filing_plan
        if code not in PLAN_CODES:
            what = ""
            if box:
                what = "checkbox checked"
            elif box is None and stated is not None and stated[0].said:
                what = f"{stated[2]} {_verb(stated[2], 'mention')} a plan"
            if what:
                name = code_name(code) or "no code"
                notes_said.append(
                    f"{what}, but code {code or '?'} ({name}) is not a trade a plan covers: not applied"
                )
            return (False, "checkbox", False, "") if box is False else (None, None, False, _join(notes_said))
        if stated is not None:
            notes_said.append(_spelling(stated[0], stated[2]))
        if box is True:
            if stated is not None and not stated[0].said:
                notes_said.append(
                    f"checkbox checked, but {stated[2]} {_verb(stated[2], 'say')} not under a plan: the checkbox wins"
                )
                return True, "checkbox", True, _join(notes_said)
            return True, "checkbox", False, _join(notes_said)
        if stated is not None and stated[0].said:
            if box is False:
                notes_said.append(
                    f"checkbox unchecked, but {stated[2]} {_verb(stated[2], 'say')} {_under(True)}: the statement wins"
                )
            return True, stated[1], box is False, _join(notes_said)
        if box is False:
            return False, "checkbox", False, _join(notes_said)
        if stated is not None:
            return False, stated[1], False, _join(notes_said)
        return None, None, False, _join(notes_said)

    def _adoption(self, notes: list[tuple[str, str]], tdate: dt.date | None) -> tuple[Adoption | None, str]:
        """The plan adoption of a plan row (its own footnotes first, then the filing's), checked for sense."""
        found = _first_adoption([t for _, t in notes]) or self.filing_adoption
        if found is None or found.date is None:
            return found, ""
        latest = max(d for d in (self.fdate, tdate) if d) if (self.fdate or tdate) else None
        if latest is not None and found.date > latest:
            return None, f"adoption date {found.date:%Y-%m-%d} is after the trade and the filing: ignored"
        said = []
        if found.modified:
            said.append(f"plan modified on {found.date:%Y-%m-%d}: counted as adopted then")
        if found.month_only:
            said.append(f"adoption month only ({found.date:%B %Y}): the 1st is used")
        return found, _join(said)

    def _range(
        self, row_id: str, price: float | None, notes: list[tuple[str, str]]
    ) -> tuple[float, float] | None:
        """The row's own price range: a footnote's only range, its n-th when it lists ranges "respectively" for
        n rows, else the one holding the price; the first footnote whose range holds the price wins."""
        fallback = None
        for fid, text in notes:
            ranges = price_ranges(text)
            if not ranges:
                continue
            rows = self.rows_by_note.get(fid, [])
            if len(ranges) == 1:
                rng = ranges[0]
            elif respectively(text) and len(ranges) == len(rows):
                rng = ranges[rows.index(row_id)]
            else:
                rng = next((r for r in ranges if price is not None and _inside(price, r)), ranges[0])
            if price is None or _inside(price, rng):
                return rng
            fallback = fallback or rng
        return fallback

    # -- rows
    def _common(self, row: dict) -> list[tuple[str, str]]:
        """Fill what holdings and transactions share; return the row's footnotes as (id, text)."""
        notes = [(i, t) for i in _ids(row) if (t := self.footnotes.get(i))]
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
            footnotes="\n".join(f"{i}: {t}" for i, t in notes) or None,
        )
        return notes

    @staticmethod
    def _far_dates(row: dict) -> list[str]:
        """date_out_of_range when a derivative's exercise or expiration date is outside the storable years."""
        far = any(date_out_of_range(row.get(c)) for c in ("exercise_date", "expiration_date"))
        return ["date_out_of_range"] if far and row["table"] == "derivative" else []

    def holding(self, row: dict) -> None:
        flags = self._far_dates(row)
        self._common(row)
        raw = row.get("shares_owned_raw")
        shares, out_of_range = amount(raw)
        if out_of_range:
            flags.append("value_out_of_range")
        elif raw is not None and shares is None:
            flags.append("value_missing")
        row.update(
            shares_owned=shares,
            value_owned=_as_number(row.get("value_owned")),
            flags=",".join(flags) or None,
        )

    def transaction(self, row: dict) -> None:
        flags = self._far_dates(row)
        notes = self._common(row)
        date_raw = row.get("transaction_date_raw")
        tdate = to_date(date_raw)
        if date_out_of_range(date_raw):  # before 1900 is also before 1990 (the older flag says it plainly)
            far = _any_date(date_raw)
            flags.append(
                "date_before_1990" if far is not None and far.year < MIN_YEAR else "date_out_of_range"
            )
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
        (shares, bad_shares), (price, bad_price), (owned, bad_owned) = map(
            amount, (shares_raw, price_raw, owned_raw)
        )
        if bad_shares or bad_price or bad_owned:
            flags.append("value_out_of_range")
        if (shares_raw is not None and shares is None and not bad_shares) or (
            price_raw is not None and price is None and not bad_price
        ):
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
        plan, source, conflict, note = self._plan(code, notes)
        if conflict:
            flags.append("tenb51_conflict")
        adopted, adoption_note = self._adoption(notes, tdate) if plan else (None, "")
        rng = self._range(row["row_id"], price, notes)
        if rng is not None and price is not None and not _inside(price, rng):
            flags.append("price_outside_range")
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
            plan_adoption_date=adopted.date if adopted else None,
            price_low=rng[0] if rng else None,
            price_high=rng[1] if rng else None,
            late_business_days=late_days,
            is_late=is_late,
            flags=",".join(flags) or None,
            tenb51_note=_join([note, adoption_note]) or None,
            plan_adopted_before=adopted.before if adopted else None,
        )


def _first_adoption(texts: list[str]) -> Adoption | None:
    """The first adoption date the texts give; else the first upper bound; else None."""
    found = [a for t in texts if t and (a := adoption(t)) is not None]
    return next((a for a in found if a.date), None) or next(iter(found), None)


def _inside(price: float, rng: tuple[float, float]) -> bool:
    """Price within its range, give or take a cent (weighted averages are rounded to cents)."""
    return rng[0] - RANGE_TOLERANCE <= price <= rng[1] + RANGE_TOLERANCE


def _box(checked: bool) -> str:
    return "checked" if checked else "unchecked"


def _under(said: bool) -> str:
    return "the trade was under a Rule 10b5-1 plan" if said else "the trade was not under a Rule 10b5-1 plan"


def _verb(label: str, verb: str) -> str:
    """'say' for "the remarks", 'says' for "footnote F2"."""
    return verb if label == "the remarks" else verb + "s"


def _spelling(m: Mention, where: str) -> str:
    return f"{where} spells the rule '{m.spelling}', read as Rule 10b5-1" if m.spelling else ""


def _join(parts: list[str]) -> str:
    return "; ".join(p for p in parts if p)


def _ids(row: dict) -> Iterable[str]:
    ids = row.get("footnote_ids")
    return [i for i in ids.split(",") if i] if ids else []


def _flag_holdings_chain(rows: list[dict]) -> None:
    """Flag rows whose owned-after does not follow from the previous row of the same holding +/- its shares.

    Only direct holdings are checked (indirect rows often share a generic nature, "See footnote", across several
    entities). Filers usually list rows in execution order but not always, so the chain is checked both in the
    listed order and in transaction-date order, and the order that reconciles better is used.

    Derivative rows report each grant's own balance, and grants share titles ("Restricted Stock Units"), so a
    derivative row is chained only to rows of the same grant terms (title, exercise price and expiration date,
    both known), and a row that is a whole grant by itself (acquired, owned after = its shares; or disposed,
    owned after = 0) is never a break."""
    direct = [r for r in rows if r["direct_indirect"] == "D"]
    if direct and direct[0]["table"] == "derivative":
        direct = [r for r in direct if r["conversion_price"] is not None and r["expiration_date"] is not None]
    listed = _chain_breaks(direct)
    if listed:
        by_date = _chain_breaks(sorted(direct, key=lambda r: r["transaction_date"] or dt.date.min))
        listed = by_date if len(by_date) < len(listed) else listed
    for row in listed:
        row["flags"] = ",".join(filter(None, [row["flags"], "holdings_mismatch"]))


def _chain_breaks(rows: list[dict]) -> list[dict]:
    last: dict[tuple, float] = {}
    breaks = []
    for row in rows:
        key = ((row.get("security_title") or "").lower(), row["conversion_price"], row["expiration_date"])
        owned, signed = row["owned_after"], row["signed_shares"]
        prev = last.get(key)
        known = prev is not None and owned is not None and signed is not None
        whole = row["table"] == "derivative" and owned is not None and signed is not None
        whole = whole and (owned == signed or (signed < 0 and owned == 0))
        if known and not whole and abs(prev + signed - owned) > max(1.0, 0.001 * abs(owned)):
            breaks.append(row)
        if owned is not None:
            last[key] = owned
    return breaks
