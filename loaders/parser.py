"""Ownership XML (Forms 3, 4, 5 and amendments) -> records. PURE: bytes in, ParsedFiling out; no I/O.

Owns: XML hardening, field extraction for every schema version (X0202 ... X0609), number/date coercion with the
raw text kept, footnote resolution, the per-transaction 10b5-1 flag, plan adoption dates, weighted-average price
ranges, sanity flags and late-filing business days. Record keys are exactly the columns of loaders.schema.

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
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from loaders.codes import code_name
from loaders.errors import CorruptFiling

MAX_BYTES = 20 * 1024 * 1024
IMPLAUSIBLE_VALUE = 5e9  # shares x price above $5B in one row is a typo or a unit mix-up (ADS vs ordinary)
IMPLAUSIBLE_PRICE = 1e6  # no US-listed share trades above $1M
LATE_AFTER_BUSINESS_DAYS = 2
PLAN_CODES = frozenset("SPMXO")
_NO_DERIVATIVE = dict.fromkeys(
    ("conversion_price", "exercise_date", "expiration_date", "underlying_title", "underlying_shares")
)
ARCHIVES = "https://www.sec.gov/Archives/edgar/data"
# Values outside these ranges become null with a flag (issue 6): the store's datetime64[ns] ends in April 2262, a
# CIK has at most 10 digits, and no share count, price or holding is negative or reaches a quadrillion.
MIN_YEAR, MAX_YEAR = 1900, 2261
MAX_CIK = 9_999_999_999
MAX_AMOUNT = 1e15
_ACCESSION_RE = re.compile(r"\d{10}-\d{2}-\d{6}")

_XML = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
    remove_blank_text=True,
)

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


def _holiday_calendar() -> np.busdaycalendar:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays("1985-01-01", "2045-12-31").values.astype("datetime64[D]")
    return np.busdaycalendar(holidays=days)


_BUSDAYS = _holiday_calendar()


@dataclass
class ParsedFiling:
    accession: str
    filing: dict
    owners: list[dict] = field(default_factory=list)
    transactions: list[dict] = field(default_factory=list)
    holdings: list[dict] = field(default_factory=list)
    footnotes: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- small coercions
def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text or None


def to_number(raw: str | None) -> float | None:
    """'1,000' -> 1000.0, '$19.25' -> 19.25, '923 F1' -> 923.0, '923(1)' -> 923.0; anything else (and inf, nan)
    -> None."""
    x = _number(raw)
    return x if x is not None and math.isfinite(x) else None


def amount(raw: str | None) -> tuple[float | None, bool]:
    """(shares/price/holding, out_of_range): negative, infinite or absurd (> MAX_AMOUNT) values give (None, True)."""
    x = _number(raw)
    if x is None:
        return None, False
    if not math.isfinite(x) or x < 0 or x > MAX_AMOUNT:
        return None, True
    return x, False


def _number(raw: str | None) -> float | None:
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
    """ISO dates (with or without a timezone suffix) and MM/DD/YYYY; None when unusable or outside the years
    MIN_YEAR..MAX_YEAR (date_out_of_range says which)."""
    day = _any_date(raw)
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


def date_out_of_range(raw: str | None) -> bool:
    """True when raw is a real calendar date outside MIN_YEAR..MAX_YEAR (9999-12-31, 2300-01-01, 0022-05-01)."""
    day = _any_date(raw)
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
    return None


def _bool(raw: str | None) -> bool | None:
    if raw is None:
        return None
    raw = raw.strip().lower()
    if raw in ("1", "true", "y", "yes"):
        return True
    if raw in ("0", "false", "n", "no", ""):
        return False
    return None


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


# ---------------------------------------------------------------------------------------------- element access
def _vt(el, path: str) -> str | None:
    """Text of path/value (the usual <x><value>..</value><footnoteId/></x> shape), stripped; None if absent."""
    return _clean(el.findtext(path + "/value"))


def _t(el, path: str) -> str | None:
    return _clean(el.findtext(path))


def _leaves(row) -> tuple[dict[str, str], list[str]]:
    """One pass over a row: {leaf name: stripped text} (a <value> is named after its parent) and footnote ids.

    Leaf names are unique within a transaction or holding row in every schema version, so one dict replaces a
    dozen path look-ups (the parser's hot spot)."""
    out: dict[str, str] = {}
    ids: list[str] = []
    _walk(row, out, ids)
    return out, ids


def _walk(el, out: dict[str, str], ids: list[str]) -> None:
    parent = el.tag
    for node in el:
        tag = node.tag
        if tag == "value":
            text = node.text
            if text and (text := text.strip()):
                out[parent] = text
        elif tag == "footnoteId":
            fid = node.get("id")
            if fid and fid not in ids:
                ids.append(fid)
        elif len(node):
            _walk(node, out, ids)
        else:
            text = node.text
            if text and (text := text.strip()):
                out.setdefault(tag, text)


# ---------------------------------------------------------------------------------------------- the parse
def parse_ownership(
    xml: bytes,
    accession: str | None = None,
    filing_date: str | dt.date | None = None,
    filing_date_source: str = "edgar",
) -> ParsedFiling:
    """Parse one ownership XML document. Raises CorruptFiling for anything that is not one."""
    root = _root(xml, accession)
    return _Document(root, accession, filing_date, filing_date_source).parse()


def _root(xml: bytes, accession: str | None):
    if not xml or (xml[:64].isspace() and not xml.strip()):
        raise CorruptFiling(accession, "the body is empty")
    if len(xml) > MAX_BYTES:
        raise CorruptFiling(accession, f"the body is {len(xml):,} bytes, over the {MAX_BYTES:,}-byte limit")
    head = xml[:512].lstrip().lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<html" in head[:200]:
        raise CorruptFiling(accession, "an HTML page was served instead of the ownership XML")
    try:
        root = etree.fromstring(xml, _XML)
    except etree.XMLSyntaxError as e:
        raise CorruptFiling(accession, f"not well-formed XML ({e.msg})") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise CorruptFiling(accession, "the document declares a DTD (refused: entity expansion risk)")
    tag = root.tag if isinstance(root.tag, str) else ""
    if etree.QName(tag).localname != "ownershipDocument" if tag else True:
        raise CorruptFiling(accession, f"root element is <{tag or '?'}>, not <ownershipDocument>")
    if "}" in tag:  # namespaced variant: strip namespaces so paths match
        for el in root.iter():
            if isinstance(el.tag, str) and "}" in el.tag:
                el.tag = el.tag.split("}", 1)[1]
    return root


class _Document:
    def __init__(self, root, accession, filing_date, filing_date_source):
        self.root = root
        self.accession = accession
        self.filing_date = to_date(filing_date) if isinstance(filing_date, str) else filing_date
        self.filing_date_source = filing_date_source
        self._notes: dict[str, tuple] = {}
        self.footnotes = {
            fn.get("id"): " ".join((fn.xpath("string()") or "").split())
            for fn in root.iterfind("footnotes/footnote")
        }

    def parse(self) -> ParsedFiling:
        root = self.root
        top = {c.tag: _clean(c.text) for c in root if len(c) == 0}
        form = top.get("documentType") or "4"
        period = to_date(top.get("periodOfReport"))
        sig_raw = _t(root, "ownerSignature/signatureDate")
        sig_date = to_date(sig_raw)
        filing_flags = [
            name
            for name, raw in (
                ("period_out_of_range", top.get("periodOfReport")),
                ("signature_date_out_of_range", sig_raw),
                ("original_date_out_of_range", top.get("dateOfOriginalSubmission")),
            )
            if date_out_of_range(raw)
        ]
        fdate, fsource = self.filing_date, self.filing_date_source
        if fdate is None:
            fdate, fsource = (sig_date, "signature") if sig_date else (period, "period")
        self.form, self.period, self.fdate = form, period, fdate
        issuer_el = root.find("issuer")
        iv = _leaves(issuer_el)[0].get if issuer_el is not None else {}.get
        issuer_cik = _int(iv("issuerCik"))
        if iv("issuerCik") and issuer_cik is None:
            filing_flags.append("issuer_cik_invalid")
        self.issuer = {
            "issuer_cik": issuer_cik,
            "issuer_name": iv("issuerName"),
            "ticker": (iv("issuerTradingSymbol") or "").upper() or None,
        }
        owners = [self._owner(i, el) for i, el in enumerate(root.iterfind("reportingOwner"))]
        if [o for o in owners if o.pop("_cik_invalid")]:
            filing_flags.append("owner_cik_invalid")
        self.owner_cols = self._owner_columns(owners)
        self.checkbox = _bool(top["aff10b5One"] or "") if "aff10b5One" in top else None
        self.remarks = top.get("remarks")
        self._plan_context()
        txs, holds = [], []
        for table, tag in (("nonDerivative", "nonDerivativeTable"), ("derivative", "derivativeTable")):
            tbl = root.find(tag)
            if tbl is None:
                continue
            t_rows = [
                self._transaction(table, i, el) for i, el in enumerate(tbl.iterfind(table + "Transaction"))
            ]
            _flag_holdings_chain(t_rows)
            txs.extend(t_rows)
            holds.extend(self._holding(table, i, el) for i, el in enumerate(tbl.iterfind(table + "Holding")))
        acc = self.accession
        filing = {
            "accession": acc,
            "form": form,
            "is_amendment": form.endswith("/A"),
            "schema_version": top.get("schemaVersion"),
            "period_of_report": period,
            "filing_date": fdate,
            "filing_date_source": fsource,
            "date_of_original_submission": to_date(top.get("dateOfOriginalSubmission")),
            "amends_accession": None,
            **self.issuer,
            "n_owners": len(owners),
            "not_subject_to_section16": _bool(top.get("notSubjectToSection16")),
            "aff10b5one": self.checkbox,
            "remarks": self.remarks,
            "signature_name": _t(root, "ownerSignature/signatureName"),
            "signature_date": sig_date,
            "n_transactions": len(txs),
            "n_holdings": len(holds),
            "filing_url": filing_url(issuer_cik, acc),
            "xml_url": None,
            "flags": ",".join(filing_flags) or None,
        }
        footnotes = [{"accession": acc, "footnote_id": k, "text": v} for k, v in self.footnotes.items()]
        return ParsedFiling(acc or "", filing, owners, txs, holds, footnotes)

    # -- owners
    def _owner(self, position: int, el) -> dict:
        lv = _leaves(el)[0].get
        flags = {
            k: bool(_bool(lv(tag)))
            for k, tag in (
                ("is_director", "isDirector"),
                ("is_officer", "isOfficer"),
                ("is_ten_percent_owner", "isTenPercentOwner"),
                ("is_other", "isOther"),
            )
        }
        title, other = lv("officerTitle"), lv("otherText")
        return {
            "accession": self.accession,
            "position": position,
            "owner_cik": _int(lv("rptOwnerCik")),
            "_cik_invalid": bool(lv("rptOwnerCik")) and _int(lv("rptOwnerCik")) is None,
            "owner_name": " ".join((lv("rptOwnerName") or "").split()) or None,
            **flags,
            "officer_title": title,
            "other_text": other,
            "role": role_text(flags, title, other),
            "city": lv("rptOwnerCity"),
            "state": lv("rptOwnerState"),
        }

    def _owner_columns(self, owners: list[dict]) -> dict:
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

    # -- 10b5-1 context shared by the rows
    def _plan_context(self) -> None:
        row_refs = set()
        for tag in ("nonDerivativeTable", "derivativeTable"):
            tbl = self.root.find(tag)
            if tbl is not None:
                row_refs.update(fid for fn in tbl.iter("footnoteId") if (fid := fn.get("id")))
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
    def _common(self, table: str, kind: str, seq: int, el) -> tuple[dict, list[str], callable]:
        leaves, ids = _leaves(el)
        lv = leaves.get
        notes = [(i, self.footnotes.get(i)) for i in ids]
        row = {
            "row_id": f"{self.accession}:{table}:{kind}{seq}",
            "accession": self.accession,
            "table": table,
            "seq": seq,
            "form": self.form,
            "filing_date": self.fdate,
            "period_of_report": self.period,
            **self.issuer,
            **self.owner_cols,
            "security_title": lv("securityTitle"),
        }
        if table != "derivative":
            row.update(_NO_DERIVATIVE)
        else:
            if date_out_of_range(lv("exerciseDate")) or date_out_of_range(lv("expirationDate")):
                row["flags"] = "date_out_of_range"
            row.update(
                conversion_price=to_number(lv("conversionOrExercisePrice")),
                exercise_date=to_date(lv("exerciseDate")),
                expiration_date=to_date(lv("expirationDate")),
                underlying_title=lv("underlyingSecurityTitle"),
                underlying_shares=to_number(lv("underlyingSecurityShares")),
            )
        row.update(
            direct_indirect=(lv("directOrIndirectOwnership") or "").upper()[:1] or None,
            nature=lv("natureOfOwnership"),
            footnote_ids=",".join(ids) or None,
            footnotes="\n".join(f"{i}: {t}" for i, t in notes if t) or None,
            superseded_by=None,
        )
        row.setdefault("flags", None)
        return row, [t for _, t in notes if t], lv

    def _holding(self, table: str, seq: int, el) -> dict:
        row, _, lv = self._common(table, "H", seq, el)
        raw = lv("sharesOwnedFollowingTransaction")
        shares, out_of_range = amount(raw)
        flags = [row["flags"]] if row["flags"] else []
        if out_of_range:
            flags.append("value_out_of_range")
        elif raw is not None and shares is None:
            flags.append("value_missing")
        row.update(
            shares_owned=shares,
            shares_owned_raw=raw,
            value_owned=to_number(lv("valueOwnedFollowingTransaction")),
            flags=",".join(flags) or None,
        )
        return row

    def _transaction(self, table: str, seq: int, el) -> dict:
        row, notes, lv = self._common(table, "T", seq, el)
        flags: list[str] = [row["flags"]] if row["flags"] else []
        date_raw = lv("transactionDate")
        tdate = to_date(date_raw)
        if date_out_of_range(date_raw):  # before 1900 is also before 1990 (the older flag says it plainly)
            flags.append("date_before_1990" if _any_date(date_raw).year < MIN_YEAR else "date_out_of_range")
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
        deemed = to_date(lv("deemedExecutionDate"))
        code = (lv("transactionCode") or "").upper() or None
        ad = (lv("transactionAcquiredDisposedCode") or "").upper()[:1] or None
        shares_raw = lv("transactionShares")
        price_raw = lv("transactionPricePerShare")
        owned_raw = lv("sharesOwnedFollowingTransaction")
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
        timeliness = (lv("transactionTimeliness") or "").upper()[:1] or None
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
            transaction_date_raw=date_raw,
            deemed_execution_date=deemed,
            transaction_form_type=lv("transactionFormType"),
            code=code,
            code_name=code_name(code),
            equity_swap=_bool(lv("equitySwapInvolved")),
            timeliness=timeliness,
            acquired_disposed=ad,
            shares=shares,
            shares_raw=shares_raw,
            price=price,
            price_raw=price_raw,
            value=value,
            signed_shares=sign * shares if shares is not None else None,
            signed_value=sign * value if value is not None else None,
            owned_after=owned,
            owned_after_raw=owned_raw,
            value_owned_after=to_number(lv("valueOwnedFollowingTransaction")),
            is_10b5_1=plan,
            tenb51_source=source,
            plan_adoption_date=adoption,
            price_low=rng[0] if rng else None,
            price_high=rng[1] if rng else None,
            late_business_days=late_days,
            is_late=is_late,
        )
        row["flags"] = ",".join(flags) or None
        return row

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


def _int(raw: str | None) -> int | None:
    """A CIK from its text ("0001234567" -> 1234567); None when absent or not 1..MAX_CIK (a 25-digit CIK)."""
    if not raw:
        return None
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits or len(digits.lstrip("0")) > 10:
        return None
    value = int(digits)
    return value if 0 < value <= MAX_CIK else None


def filing_url(cik: int | None, accession: str | None) -> str | None:
    """The filing's index page on EDGAR (None for pseudo-accessions of files ingested without one)."""
    if not cik or not accession or not _ACCESSION_RE.fullmatch(accession):
        return None
    return f"{ARCHIVES}/{cik}/{accession.replace('-', '')}/{accession}-index.htm"
