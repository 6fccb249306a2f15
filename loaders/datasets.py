"""SEC Insider Transactions Data Sets ({YYYY}q{N}_form345.zip) -> store frames. PURE: zip bytes in, frames out.

A quarter's zip holds 8 tab-separated tables (SUBMISSION, REPORTINGOWNER, NONDERIV_TRANS, NONDERIV_HOLDING,
DERIV_TRANS, DERIV_HOLDING, FOOTNOTES, OWNER_SIGNATURE; field definitions in the SEC's FORM_345_readme.htm). Each
filing's rows are mapped to the raw facts of the XML path and passed to the same derivation
(`loaders.derive.derive_filing`), so both paths give the same clean dates, numbers, 10b5-1 status, price ranges,
late days and flags. Format facts handled here:

- dates DD-MON-YYYY (`31-JUL-2024`); numbers rounded to cents; booleans `0/1/true/false`; empty = missing;
- *_FN columns hold the footnote ids on that field, ", "-joined, in no reliable order: a row's `footnote_ids` is the
  set of every *_FN of the row (document order of the columns);
- SUBMISSION.AFF10B5ONE (the 10b5-1 checkbox) exists from 2023q2 on; absent column or empty value = no checkbox.
  EDGAR accepted forms with the checkbox from late February 2023, so in an older data set the 10b5-1 columns of
  filings from CHECKBOX_SINCE on are marked unverified (their checkbox, if any, is not in the data set);
- trading symbols as filed (`NONE`, lower case, "WLY, WLYB"): kept, upper-cased, like the XML path;
- RPTOWNER_RELATIONSHIP "Director,Officer,TenPercentOwner,Other" (older files glue them: matched as substrings);
- CIKs zero-padded; text with tabs/line breaks already flattened by the SEC;
- the SEC's POSITIONAL QUIRK: the SEC fills each field of a table by position within a filing, so where a row lacks
  an optional element the values of the rows below move up one row. It cannot be undone without the XML; wherever a
  field is present on some rows of a filing's table and missing on others, that field (and what is derived from it)
  is listed in the rows' `unverified` column. Rows are verified (XML wins, row for row) when the store holds the
  filing's XML: the sync parses the XML instead of these rows.

`read_quarter(zip_bytes)` validates the zip (a truncated or corrupt zip, or one lacking a table, raises
DataSetError and gives nothing) and returns `Quarter(frames, filings, problems)`.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from loaders.derive import derive_filing, owner_columns, role_text
from loaders.errors import LoaderError
from loaders.parser import _int as _xml_cik
from loaders.schema import conform, empty, from_arrow

QUARTER_RE = re.compile(r"^(\d{4})q([1-4])$")
ZIP_NAME_RE = re.compile(r"(\d{4})q([1-4])_form345\.zip", re.I)
# a quarter without one of these cannot be placed (no owners, no Table I trades): it is skipped, nothing stored
CORE = ("SUBMISSION", "REPORTINGOWNER", "NONDERIV_TRANS")
# the SEC has published partial quarters (fake EDGAR's 2024q3 is a real one): without these the quarter is used,
# the missing tables are named (Quarter.missing_tables) and what they would have given is marked unverified
SECONDARY = ("NONDERIV_HOLDING", "DERIV_TRANS", "DERIV_HOLDING", "FOOTNOTES")
REQUIRED = (*CORE, *SECONDARY)
OPTIONAL = ("OWNER_SIGNATURE",)
# without FOOTNOTES.tsv the rows still carry their footnote ids, but not what the footnotes say
_NO_FOOTNOTES = ("footnotes", "is_10b5_1", "tenb51_source", "plan_adoption_date", "price_low", "price_high")
# EDGAR took forms with the 10b5-1 checkbox (schema X0407) from late February 2023, but SUBMISSION carries
# AFF10B5ONE only from 2023q2: in an older data set a filing from this date on may have had a checkbox we cannot see
CHECKBOX_SINCE = dt.date(2023, 2, 27)
_PLAN_COLUMNS = ("is_10b5_1", "tenb51_source", "plan_adoption_date", "flags")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}

# data-set column -> raw-fact key of the XML path, per row table ("fn" = a footnote-id column of that field)
_TX_COMMON = {
    "SECURITY_TITLE": "security_title",
    "TRANS_DATE": "transaction_date_raw",
    "DEEMED_EXECUTION_DATE": "deemed_execution_date",
    "TRANS_FORM_TYPE": "transaction_form_type",
    "TRANS_CODE": "code",
    "EQUITY_SWAP_INVOLVED": "equity_swap",
    "TRANS_TIMELINESS": "timeliness",
    "TRANS_SHARES": "shares_raw",
    "TRANS_PRICEPERSHARE": "price_raw",
    "TRANS_ACQUIRED_DISP_CD": "acquired_disposed",
    "SHRS_OWND_FOLWNG_TRANS": "owned_after_raw",
    "VALU_OWND_FOLWNG_TRANS": "value_owned_after",
    "DIRECT_INDIRECT_OWNERSHIP": "direct_indirect",
    "NATURE_OF_OWNERSHIP": "nature",
}
_DERIV_COMMON = {
    "CONV_EXERCISE_PRICE": "conversion_price",
    "EXPIRATION_DATE": "expiration_date",
    "UNDLYNG_SEC_TITLE": "underlying_title",
    "UNDLYNG_SEC_SHARES": "underlying_shares",
}
_HOLD_COMMON = {
    "SECURITY_TITLE": "security_title",
    "SHRS_OWND_FOLWNG_TRANS": "shares_owned_raw",
    "VALU_OWND_FOLWNG_TRANS": "value_owned",
    "DIRECT_INDIRECT_OWNERSHIP": "direct_indirect",
    "NATURE_OF_OWNERSHIP": "nature",
}
ROW_TABLES = {
    # file: (schema table, kind T/H, table name, column map)
    "NONDERIV_TRANS": ("transactions", "T", "nonDerivative", _TX_COMMON),
    "DERIV_TRANS": (
        "transactions",
        "T",
        "derivative",
        {**_TX_COMMON, **_DERIV_COMMON, "EXCERCISE_DATE": "exercise_date"},
    ),
    "NONDERIV_HOLDING": ("holdings", "H", "nonDerivative", _HOLD_COMMON),
    "DERIV_HOLDING": (
        "holdings",
        "H",
        "derivative",
        {**_HOLD_COMMON, **_DERIV_COMMON, "EXERCISE_DATE": "exercise_date"},
    ),
}
# raw-fact key -> the schema columns that may be wrong when that field was moved by the positional quirk
_AFFECTS = {
    "transaction_date_raw": ("transaction_date", "late_business_days", "is_late", "flags"),
    "deemed_execution_date": ("deemed_execution_date", "late_business_days", "is_late"),
    "shares_raw": ("shares", "value", "signed_shares", "signed_value", "flags"),
    "price_raw": ("price", "value", "signed_value", "flags"),
    "owned_after_raw": ("owned_after", "flags"),
    "shares_owned_raw": ("shares_owned",),
    "code": ("code", "code_name"),
    "timeliness": ("timeliness", "is_late"),
    "acquired_disposed": ("acquired_disposed", "signed_shares", "signed_value", "flags"),
    "footnote_ids": (
        "footnote_ids",
        "footnotes",
        "is_10b5_1",
        "plan_adoption_date",
        "price_low",
        "price_high",
    ),
}


class DataSetError(LoaderError):
    """A data-set zip that cannot be used (corrupt, truncated, a table missing): nothing of it is stored."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"Data set {name} could not be read: {reason}. Nothing of it was stored.")


class IncompleteDataSet(DataSetError):
    """A data-set zip that lacks a table no filing can do without (CORE): the quarter is skipped, not retried."""

    def __init__(self, name: str, missing: list[str], also: list[str] | None = None) -> None:
        self.missing, self.also = missing, also or []  # CORE tables missing; SECONDARY ones missing too
        super().__init__(
            name, f"incomplete data set: no {', '.join(t + '.tsv' for t in missing + self.also)}"
        )


class ArrowFrames(Mapping[str, pd.DataFrame]):
    """Store frames kept as Arrow tables (`tables`, the store's own column types), each converted to a conformed
    pandas frame only when asked for: the store writes the tables as they are, without a pass through pandas."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        self.tables = tables
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = from_arrow(self.tables[name], name)
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


@dataclass
class Quarter:
    frames: Mapping[str, pd.DataFrame]  # a dict, or ArrowFrames (the columnar reader)
    filings: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # rows that could not be placed (no SUBMISSION row ...)
    missing_tables: list[str] = field(default_factory=list)  # SECONDARY tables the zip lacks (read as empty)


@functools.lru_cache(maxsize=65536)
def sec_date(text: str | None):
    """'31-JUL-2024' -> date(2024, 7, 31); None when empty or not such a date."""
    if not text:
        return None
    m = re.match(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})", text)
    if not m:
        return None
    try:
        return dt.date(int(m[3]), _MONTHS[m[2].upper()], int(m[1]))
    except (KeyError, ValueError):
        return None


def _cik(text: str) -> int | None:
    """A CIK read as the XML path reads it (parser._int): the text's digits; None when there are none, when they
    are 0 or more than 10 significant digits (not a CIK: one such row made the whole quarter fail to load)."""
    return _xml_cik(text)


def _text(value: str) -> str | None:
    return value.strip() or None if value else None


def check_zip(data: bytes, name: str = "data set") -> list[str]:
    """Validate a data-set zip without parsing it: DataSetError when it is corrupt or truncated,
    IncompleteDataSet when a CORE table is missing; else the SECONDARY tables it lacks (usable, partial)."""
    _zip, _members, missing = _open(data, name)
    return missing


def _open(
    data: bytes, name: str, verify: bool = True
) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo], list[str]]:
    """The zip, its members by table name and the SECONDARY tables it lacks. verify=False skips reading every member
    once for its CRC (testzip): a reader that reads the tables through member() is checked as it reads."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        bad = zf.testzip() if verify else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as e:
        raise DataSetError(name, f"the zip is corrupt or truncated ({e})") from None
    if bad is not None:
        raise DataSetError(name, f"member {bad} fails its CRC check (corrupt download)")
    members = {m.filename.rsplit("/", 1)[-1].upper().removesuffix(".TSV"): m for m in zf.infolist()}
    secondary = [t for t in SECONDARY if t not in members]
    if absent := [t for t in CORE if t not in members]:
        raise IncompleteDataSet(name, absent, secondary)
    return zf, members, secondary


def member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """One member's bytes; DataSetError when they fail their CRC or do not decompress (a corrupt download)."""
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        raise DataSetError(name, f"member {info.filename} is corrupt ({e})") from None


def read_tables(data: bytes, name: str = "data set") -> dict[str, tuple[list[str], list[list[str]]]]:
    """{TABLE: (header, rows)} of every .tsv in the zip (a missing SECONDARY table is read as empty and left out
    of the dict); DataSetError for a corrupt zip, IncompleteDataSet when a CORE table is missing."""
    zf, members, _missing = _open(data, name)
    out = {}
    for table in (*REQUIRED, *OPTIONAL):
        if table in members:
            out[table] = _tsv(zf.read(members[table]), f"{name}/{table}.tsv")
    return out


def _tsv(raw: bytes, name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one TSV, every value a string ('' = missing). The csv module reads the SEC's quoting
    (a field holding '"' is quoted, quotes doubled) and is faster here than building Python lists from Arrow."""
    if not raw.strip():
        return [], []
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
    header, body = rows[0], [r for r in rows[1:] if r]
    width = len(header)
    return header, [r if len(r) == width else (r + [""] * width)[:width] for r in body]


def _group(header: list[str], rows: list[list[str]]) -> dict[str, list[dict]]:
    """Rows as dicts, grouped by ACCESSION_NUMBER, in file order (ordered by the *_SK column when present)."""
    sk = next((i for i, h in enumerate(header) if h.endswith("_SK")), None)
    if sk is not None:
        rows = sorted(rows, key=lambda r: int(r[sk]) if r[sk].isdigit() else 0)
    out: dict[str, list[dict]] = {}
    for r in rows:
        d = dict(zip(header, r, strict=False))
        out.setdefault(d.get("ACCESSION_NUMBER", ""), []).append(d)
    return out


def read_quarter(data: bytes, name: str = "data set") -> Quarter:
    """Every filing of one quarter's zip as store frames (filings, owners, transactions, holdings, footnotes), read
    column by column (loaders.datasets_columnar), each table in the store's order; equal to read_quarter_rows (which
    keeps SUBMISSION's order) once both are in that order, many times faster."""
    from loaders.datasets_columnar import read_quarter as columnar

    return columnar(data, name)


def read_quarter_rows(data: bytes, name: str = "data set") -> Quarter:
    """read_quarter, filing by filing: a dict per row and derive_filing per filing (the reference the columnar
    reader is tested against)."""
    tables = read_tables(data, name)
    missing = [t for t in SECONDARY if t not in tables]
    sub_header, sub_rows = tables["SUBMISSION"]
    groups = {t: _group(*tables[t]) for t in tables if t != "SUBMISSION"}
    groups.update({t: {} for t in missing})
    has_checkbox = "AFF10B5ONE" in sub_header
    out: dict[str, list] = {t: [] for t in ("filings", "owners", "transactions", "holdings", "footnotes")}
    problems: list[str] = []
    seen: set[str] = set()
    for values in sub_rows:
        s = dict(zip(sub_header, values, strict=False))
        acc = s.get("ACCESSION_NUMBER", "").strip()
        if not acc or acc in seen:
            problems.append(f"SUBMISSION row without a usable accession number: {acc or '(empty)'}")
            continue
        seen.add(acc)
        _filing(acc, s, has_checkbox, groups, out, "FOOTNOTES" in missing)
    known = seen
    for table, by_acc in groups.items():
        stray = [a for a in by_acc if a not in known]
        if stray:
            problems.append(
                f"{table}: {len(stray)} accession(s) not in SUBMISSION (left out), e.g. {stray[0]}"
            )
    frames = {t: conform(rows, t) if rows else empty(t) for t, rows in out.items()}
    return Quarter(frames, len(out["filings"]), {t: len(v) for t, v in out.items()}, problems, missing)


def _filing(acc: str, s: dict, has_checkbox: bool, groups: dict, out: dict, no_notes: bool = False) -> None:
    sigs = groups.get("OWNER_SIGNATURE", {}).get(acc, [])
    owner_rows = groups["REPORTINGOWNER"].get(acc, [])
    notes = {
        (n.get("FOOTNOTE_ID") or "").strip(): " ".join((n.get("FOOTNOTE_TXT") or "").split())
        for n in groups["FOOTNOTES"].get(acc, [])
        if (n.get("FOOTNOTE_ID") or "").strip()
    }
    issuer_cik = _cik(s.get("ISSUERCIK", ""))
    checkbox = _text(s.get("AFF10B5ONE", "")) if has_checkbox else None
    filing = {
        "accession": acc,
        "form": _text(s.get("DOCUMENT_TYPE", "")) or "4",
        "schema_version": None,
        "period_of_report": sec_date(s.get("PERIOD_OF_REPORT")),
        "filing_date": sec_date(s.get("FILING_DATE")),
        "filing_date_source": "edgar",
        "date_of_original_submission": sec_date(s.get("DATE_OF_ORIG_SUB")),
        "amends_accession": None,
        "issuer_cik": issuer_cik,
        "issuer_name": _text(s.get("ISSUERNAME", "")),
        "ticker": (s.get("ISSUERTRADINGSYMBOL") or "").strip().upper() or None,
        "not_subject_to_section16": _bool(s.get("NOT_SUBJECT_SEC16", "")),
        "aff10b5one": checkbox,
        "remarks": _text(s.get("REMARKS", "")),
        "signature_name": _text(sigs[0].get("OWNERSIGNATURENAME", "")) if sigs else None,
        "signature_date": sec_date(sigs[0].get("OWNERSIGNATUREDATE")) if sigs else None,
        "xml_url": None,
    }
    owners = [_owner(acc, i, o) for i, o in enumerate(owner_rows)]
    filing["n_owners"] = len(owners)
    issuer = {"issuer_cik": issuer_cik, "issuer_name": filing["issuer_name"], "ticker": filing["ticker"]}
    owner_cols = owner_columns(owners)
    no_checkbox = not has_checkbox and (filing["filing_date"] or dt.date.min) >= CHECKBOX_SINCE
    rows: dict[str, list[dict]] = {"transactions": [], "holdings": []}
    for file in ("NONDERIV_TRANS", "NONDERIV_HOLDING", "DERIV_TRANS", "DERIV_HOLDING"):
        target, kind, table, colmap = ROW_TABLES[file]
        source_rows = groups[file].get(acc, [])
        also = (_PLAN_COLUMNS if no_checkbox and kind == "T" else ()) + (_NO_FOOTNOTES if no_notes else ())
        unverified = _unverified(source_rows, colmap, also)
        for seq, r in enumerate(source_rows):
            row = {
                "row_id": f"{acc}:{table}:{kind}{seq}",
                "accession": acc,
                "table": table,
                "seq": seq,
                **issuer,
                **owner_cols,
                "footnote_ids": _footnote_ids(r),
                "superseded_by": None,
                "unverified": unverified,
            }
            for col, key in colmap.items():
                row[key] = _text(r.get(col, ""))
            if key_upper := row.get("code"):
                row["code"] = key_upper.upper()
            rows[target].append(row)
    derive_filing(filing, rows["transactions"], rows["holdings"], notes)
    out["filings"].append(filing)
    out["owners"].extend(owners)
    out["transactions"].extend(rows["transactions"])
    out["holdings"].extend(rows["holdings"])
    out["footnotes"].extend({"accession": acc, "footnote_id": k, "text": v} for k, v in notes.items())


def _bool(text: str) -> bool | None:
    t = (text or "").strip().lower()
    if t in ("1", "true", "y", "yes"):
        return True
    if t in ("0", "false", "n", "no"):
        return False
    return None


def _owner(acc: str, position: int, o: dict) -> dict:
    rel = (o.get("RPTOWNER_RELATIONSHIP") or "").replace(" ", "").lower()
    flags = {
        "is_director": "director" in rel,
        "is_officer": "officer" in rel,
        "is_ten_percent_owner": "tenpercentowner" in rel,
        "is_other": "other" in rel,
    }
    title, other = _text(o.get("RPTOWNER_TITLE", "")), _text(o.get("RPTOWNER_TXT", ""))
    return {
        "accession": acc,
        "position": position,
        "owner_cik": _cik(o.get("RPTOWNERCIK", "")),
        "owner_name": " ".join((o.get("RPTOWNERNAME") or "").split()) or None,
        **flags,
        "officer_title": title,
        "other_text": other,
        "role": role_text(flags, title, other),
        "city": _text(o.get("RPTOWNER_CITY", "")),
        "state": _text(o.get("RPTOWNER_STATE", "")),
    }


def _footnote_ids(r: dict) -> str | None:
    ids: list[str] = []
    for col, value in r.items():
        if col.endswith("_FN") and value:
            for fid in value.split(","):
                fid = fid.strip()
                if fid and fid not in ids:
                    ids.append(fid)
    return ",".join(ids) or None


def _unverified(rows: list[dict], colmap: dict[str, str], also: tuple[str, ...] = ()) -> str | None:
    """Columns the positional quirk may have moved in this filing's rows of one table: a field present (value or
    footnote) on some rows and not on others. `also`: columns unverifiable for another reason (no checkbox)."""
    cols = set(also)
    if len(rows) < 2:
        return ",".join(sorted(cols)) or None
    for col, key in colmap.items():
        fn = (
            f"{col}_FN"  # absent for the transactionCoding fields (their footnotes are on the coding element)
        )
        present = [bool(r.get(col)) or bool(r.get(fn)) for r in rows]
        if any(present) and not all(present):
            cols.update(_AFFECTS.get(key, (key.removesuffix("_raw"),)))
            if any(r.get(fn) for r in rows):
                cols.update(_AFFECTS["footnote_ids"])
    for fn in ("TRANS_FORM_TYPE_FN", "EQUITY_SWAP_TRANS_CD_FN"):
        present = [bool(r.get(fn)) for r in rows]
        if any(present) and not all(present) and fn.removesuffix("_FN") not in colmap:
            cols.update(_AFFECTS["footnote_ids"])
    return ",".join(sorted(cols)) or None


def quarter_name(text: str) -> str | None:
    """'2023q1' from '2023q1', '2023Q1' or a zip name/URL; None when it is not one."""
    m = ZIP_NAME_RE.search(text or "") or QUARTER_RE.match((text or "").lower())
    return f"{m[1]}q{m[2]}" if m else None
