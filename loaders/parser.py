"""Ownership XML (Forms 3, 4, 5 and amendments) -> records. PURE: bytes in, ParsedFiling out; no I/O.

Owns: XML hardening and field extraction for every schema version (X0202 ... X0609): the raw facts of the filing,
its owners, rows and footnotes. Every derived value (clean numbers and dates, values, 10b5-1, adoption dates,
price ranges, late days, sanity flags) is computed by `loaders.derive.derive_filing`, the same function the SEC
data-set loader calls. Record keys are exactly the columns of loaders.schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from loaders.derive import (  # noqa: F401 - re-exported: the parser's public helpers before loaders.derive
    TENB51_RE,
    adoption_date,
    amount,
    business_days,
    date_out_of_range,
    derive_filing,
    filing_url,
    owner_columns,
    price_range,
    role_text,
    tenb51_mention,
    to_bool,
    to_date,
    to_number,
)
from loaders.errors import CorruptFiling

MAX_BYTES = 20 * 1024 * 1024

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
    """Collects the raw facts of one ownership document, then hands them to derive_filing()."""

    def __init__(self, root, accession, filing_date, filing_date_source):
        self.root = root
        self.accession = accession
        self.filing_date = to_date(filing_date) if isinstance(filing_date, str) else filing_date
        self.filing_date_source = filing_date_source
        self.footnotes = {
            fn.get("id"): " ".join((fn.xpath("string()") or "").split())
            for fn in root.iterfind("footnotes/footnote")
        }

    def parse(self) -> ParsedFiling:
        root = self.root
        top = {c.tag: _clean(c.text) for c in root if len(c) == 0}
        issuer_el = root.find("issuer")
        iv: Callable[[str], str | None] = (_leaves(issuer_el)[0] if issuer_el is not None else {}).get
        issuer_cik = _int(iv("issuerCik"))
        flags = ["issuer_cik_invalid"] if iv("issuerCik") and issuer_cik is None else []  # issue 6
        self.issuer = {
            "issuer_cik": issuer_cik,
            "issuer_name": iv("issuerName"),
            "ticker": (iv("issuerTradingSymbol") or "").upper() or None,
        }
        owners = [self._owner(i, el) for i, el in enumerate(root.iterfind("reportingOwner"))]
        if [o for o in owners if o.pop("_cik_invalid")]:
            flags.append("owner_cik_invalid")
        self.owner_cols = owner_columns(owners)
        acc = self.accession
        filing = {
            "accession": acc,
            "form": top.get("documentType") or "4",
            "is_amendment": None,
            "schema_version": top.get("schemaVersion"),
            "period_of_report": top.get("periodOfReport"),  # dates as text: derive flags out-of-range ones
            "filing_date": self.filing_date,
            "filing_date_source": self.filing_date_source,
            "date_of_original_submission": top.get("dateOfOriginalSubmission"),
            "amends_accession": None,
            **self.issuer,
            "n_owners": len(owners),
            "not_subject_to_section16": to_bool(top.get("notSubjectToSection16")),
            "aff10b5one": (top["aff10b5One"] or "") if "aff10b5One" in top else None,
            "remarks": top.get("remarks"),
            "signature_name": _t(root, "ownerSignature/signatureName"),
            "signature_date": _t(root, "ownerSignature/signatureDate"),
            "n_transactions": None,
            "n_holdings": None,
            "filing_url": None,
            "xml_url": None,
            "flags": ",".join(flags) or None,
        }
        txs: list[dict] = []
        holds: list[dict] = []
        for table, tag in (("nonDerivative", "nonDerivativeTable"), ("derivative", "derivativeTable")):
            tbl = root.find(tag)
            if tbl is None:
                continue
            txs.extend(
                self._transaction(table, i, el) for i, el in enumerate(tbl.iterfind(table + "Transaction"))
            )
            holds.extend(self._holding(table, i, el) for i, el in enumerate(tbl.iterfind(table + "Holding")))
        derive_filing(filing, txs, holds, self.footnotes)
        footnotes = [{"accession": acc, "footnote_id": k, "text": v} for k, v in self.footnotes.items()]
        return ParsedFiling(acc or "", filing, owners, txs, holds, footnotes)

    # -- owners
    def _owner(self, position: int, el) -> dict:
        lv = _leaves(el)[0].get
        flags = {
            k: bool(to_bool(lv(tag)))
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

    # -- rows: raw facts only (derive_filing fills the rest)
    def _common(self, table: str, kind: str, seq: int, el) -> tuple[dict, Callable[[str], str | None]]:
        leaves, ids = _leaves(el)
        lv = leaves.get
        row = {
            "row_id": f"{self.accession}:{table}:{kind}{seq}",
            "accession": self.accession,
            "table": table,
            "seq": seq,
            "form": None,
            "filing_date": None,
            "period_of_report": None,
            **self.issuer,
            **self.owner_cols,
            "security_title": lv("securityTitle"),
        }
        if table == "derivative":
            row.update(
                conversion_price=lv("conversionOrExercisePrice"),
                exercise_date=lv("exerciseDate"),
                expiration_date=lv("expirationDate"),
                underlying_title=lv("underlyingSecurityTitle"),
                underlying_shares=lv("underlyingSecurityShares"),
            )
        row.update(
            direct_indirect=lv("directOrIndirectOwnership"),
            nature=lv("natureOfOwnership"),
            footnote_ids=",".join(ids) or None,
            superseded_by=None,
        )
        return row, lv

    def _holding(self, table: str, seq: int, el) -> dict:
        row, lv = self._common(table, "H", seq, el)
        row.update(
            shares_owned_raw=lv("sharesOwnedFollowingTransaction"),
            value_owned=lv("valueOwnedFollowingTransaction"),
        )
        return row

    def _transaction(self, table: str, seq: int, el) -> dict:
        row, lv = self._common(table, "T", seq, el)
        row.update(
            transaction_date_raw=lv("transactionDate"),
            deemed_execution_date=lv("deemedExecutionDate"),
            transaction_form_type=lv("transactionFormType"),
            code=lv("transactionCode"),
            equity_swap=lv("equitySwapInvolved"),
            timeliness=lv("transactionTimeliness"),
            acquired_disposed=lv("transactionAcquiredDisposedCode"),
            shares_raw=lv("transactionShares"),
            price_raw=lv("transactionPricePerShare"),
            owned_after_raw=lv("sharesOwnedFollowingTransaction"),
            value_owned_after=lv("valueOwnedFollowingTransaction"),
        )
        return row


MAX_CIK = 9_999_999_999


def _int(raw: str | None) -> int | None:
    """A CIK from its text ("0001234567" -> 1234567); None when absent or not 1..MAX_CIK (a 25-digit CIK)."""
    if not raw:
        return None
    digits = "".join(ch for ch in raw if ch.isdecimal())  # what int() reads ("²" is a digit int() refuses)
    if not digits or len(digits.lstrip("0")) > 10:
        return None
    value = int(digits)
    return value if 0 < value <= MAX_CIK else None
