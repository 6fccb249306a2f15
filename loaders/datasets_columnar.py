"""The data-set quarter reader, column by column. PURE: zip bytes in, store frames out; same answers as the
per-filing reader (`loaders.datasets.read_quarter_rows`, which runs `loaders.derive.derive_filing` on every filing).

Why: a real quarter holds ~50,000 filings; building a dict per row and deriving each filing in Python runs at a few
thousand filings per second. Here the tables are read with pyarrow and stay Arrow until a rule reads a column (once
per distinct value, through Arrow's dictionary encoding), the rows are mapped with pandas column operations, the
filings are taken in the store's order (issuer, then accession number) and a quarter of PARALLEL_FROM filings or
more is shared out in two shares of whole issuers derived at once (this process and a forked child,
`loaders.forked`), each giving its tables sorted as the store keeps them (schema.SORT_KEYS). The derivation is split:

- a filing with a value that is not plain goes through `derive_filing` itself (the reference, so the rules live in
  one place): a number or date that does not parse, is out of range or implausible as a date, a transaction date
  that falls back to the period, a filing date missing or out of range;
- every other filing (nearly all) gets the same columns from vectorised operations: clean dates, numbers, values,
  signed values, code names, late business days, the checkbox's 10b5-1 status, flags, the holdings chain check;
  where a footnote or the remarks speak of a 10b5-1 plan (tested once per distinct text), the plan columns come
  from derive's own per-row rules (_text_plans calls _Filing._plan and _adoption); price ranges are read once per
  distinct text (notes.price_ranges) and matched to rows by _price_ranges, which follows derive._Filing._range.

tests/test_datasets_columnar.py checks, on every generated quarter, that both readers give equal frames row for row.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders import derive, forked
from loaders.codes import code_name
from loaders.datasets import (
    _AFFECTS,
    _NO_FOOTNOTES,
    _PLAN_COLUMNS,
    CHECKBOX_SINCE,
    OPTIONAL,
    REQUIRED,
    ROW_TABLES,
    ArrowFrames,
    Quarter,
    _cik,
    _open,
    _tsv,
    member,
    sec_date,
)
from loaders.notes import price_ranges, tenb51
from loaders.schema import SCHEMAS, SORT_KEYS, arrow_column, empty, sorted_rows, taken, to_arrow

_ROW_FILES = ("NONDERIV_TRANS", "NONDERIV_HOLDING", "DERIV_TRANS", "DERIV_HOLDING")
_OWNER_FLAGS = ("is_director", "is_officer", "is_ten_percent_owner", "is_other")
_DAY = np.timedelta64(1, "D")


# ---------------------------------------------------------------------------------------------- reading
def _tables(zf, members: dict, name: str) -> dict[str, pa.Table]:
    """Every table of the zip as an Arrow table of strings, the members inflated in two threads (zlib lets go of
    the GIL) and each read as soon as it is inflated."""
    wanted = [t for t in (*REQUIRED, *OPTIONAL) if t in members]
    # the largest member first, so that the other thread inflates and reads the small ones meanwhile
    order = sorted(wanted, key=lambda t: -members[t].file_size)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(
            zip(
                order,
                pool.map(lambda t: _table(member(zf, members[t], name), f"{name}/{t}.tsv"), order),
                strict=True,
            )
        )
    return {t: done[t] for t in wanted}


def _table(raw: bytes, name: str) -> pa.Table:
    """One TSV as an Arrow table of strings ('' = missing), read by pyarrow; the csv module when pyarrow refuses it
    (ragged rows are padded or cut to the header, as read_tables does)."""
    import pyarrow.csv as pcsv

    if not raw.strip():
        return pa.table({})
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    header = raw.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace").split("\t")
    try:
        table = pcsv.read_csv(
            io.BytesIO(raw),
            # the largest table (FOOTNOTES) in threads; the others are read while it is inflated
            read_options=pcsv.ReadOptions(use_threads=len(raw) > 1 << 24),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char='"', double_quote=True),
            convert_options=pcsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if table.column_names != header or b'"' in raw and b"\r" in raw:
            raise ValueError("header")
        return table
    except (pa.ArrowInvalid, ValueError, UnicodeDecodeError):
        head, rows = _tsv(raw, name)
        columns = [pa.array([r[i] for r in rows], pa.string()) for i in range(len(head))]
        return pa.Table.from_arrays(columns, names=head)


def _col(table: pa.Table, name: str) -> pa.Array:
    """A raw table's column of str ('' when the table lacks it)."""
    if name in table.column_names:
        return table.column(name).combine_chunks()
    return pa.repeat(pa.scalar("", pa.string()), table.num_rows)


def _present(table: pa.Table, name: str) -> np.ndarray:
    """Rows where the raw table's column holds a value (not '')."""
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return pc.not_equal(table.column(name), "").to_numpy(zero_copy_only=False)


def _distinct(s: pd.Series | pa.Array) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of s, so that a per-value function runs once per distinct value (NaN, null ->
    None); an Arrow column is encoded in Arrow, without a Python string per row."""
    if isinstance(s, pa.Array):
        enc = pc.dictionary_encode(s, null_encoding="encode")
        return enc.indices.to_numpy(zero_copy_only=False).astype(np.intp), enc.dictionary.to_pylist()
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    return codes, [None if isinstance(u, float) and u != u else u for u in uniq]


def _mapped(s: pd.Series | pa.Array, fn) -> pd.Series:
    """fn applied once per distinct value (same index as s; 0..n-1 for an Arrow column)."""
    codes, uniq = _distinct(s)
    out = np.empty(len(uniq), dtype=object)
    out[:] = [fn(u) for u in uniq]
    index = s.index if isinstance(s, pd.Series) else None
    return pd.Series(out[codes] if len(codes) else np.empty(0, dtype=object), index=index, dtype=object)


def _cumcount(f: np.ndarray) -> np.ndarray:
    """groupby(f).cumcount() of rows sorted by f: each row's place among its filing's rows."""
    return np.arange(len(f)) - np.searchsorted(f, f, side="left")


def _stripped(s: pd.Series | pa.Array) -> pd.Series:
    """datasets._text: stripped, None when empty."""
    return _mapped(s, lambda v: (v.strip() or None) if v else None)


def _sk_sorted(table: pa.Table) -> pa.Table:
    """Rows in the order datasets._group gives them: by the *_SK column (non-digits as 0), stable."""
    sk = next((c for c in table.column_names if c.endswith("_SK")), None)
    if sk is None or not table.num_rows:
        return table
    # lexsort is stable: ties keep their order
    return table.take(np.lexsort([_sk_keys(table.column(sk).combine_chunks())]))


def _rows_in(table: pa.Table, span: tuple[int, int] | None) -> pa.Table:
    """The table's rows of the filings at positions span[0] <= `_f` < span[1] (all when None), by filing, then in
    the SK order of _sk_sorted, with `_f` counted from span[0]."""
    f = table.column("_f").to_numpy()
    lo, rows = 0, None
    if span is not None:
        lo, hi = span
        rows = np.flatnonzero((f >= lo) & (f < hi))
        f = f[rows]
    sk = next((c for c in table.column_names if c.endswith("_SK")), None)
    keys = [f]
    if sk is not None and len(f):
        text = table.column(sk) if rows is None else table.column(sk).take(rows)
        keys.insert(0, _sk_keys(text.combine_chunks()))
    order = np.lexsort(keys)  # stable: rows with equal keys keep their listed order
    out = table.take(order if rows is None else rows[order])
    if lo:
        out = out.set_column(out.column_names.index("_f"), "_f", pc.subtract(out.column("_f"), lo))
    return out


def _sk_keys(text: pa.Array) -> np.ndarray:
    """Keys that sort the rows as int(v) if v.isdigit() else 0 does: those values, in Arrow, when every value is
    ASCII (isdigit is then [0-9]+) and at most 18 characters long (fits in int64); else their ranks, value by
    value."""
    longest = pc.max(pc.utf8_length(text)).as_py() or 0
    if longest <= 18 and pc.all(pc.string_is_ascii(text)).as_py() is not False:
        digits = pc.fill_null(pc.match_substring_regex(text, "^[0-9]+$"), False)
        keys = pc.if_else(digits, pc.cast(pc.if_else(digits, text, "0"), pa.int64()), 0)
        return keys.to_numpy(zero_copy_only=False)
    codes, uniq = _distinct(pd.Series(text.to_numpy(zero_copy_only=False), dtype=object))
    keys = [int(v) if v and v.isdigit() else 0 for v in uniq]
    rank = {k: i for i, k in enumerate(sorted(set(keys)))}  # the keys' order, in int64 however long they are
    return np.array([rank[k] for k in keys], dtype=np.int64)[codes]


def _as_datetime(values: list) -> np.ndarray:
    """dates / None -> datetime64[ns] (NaT for None), converted once per distinct date (most values are None)."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    at = [i for i, v in enumerate(values) if v is not None]
    if at:
        codes, uniq = _distinct(pd.Series([values[i] for i in at], dtype=object))
        days = pd.to_datetime(pd.Series(uniq, dtype=object), errors="coerce").to_numpy("datetime64[ns]")
        out[at] = days[codes]
    return out


def _as_days(s: pd.Series) -> np.ndarray:
    """dates / None -> datetime64[D] (NaT for None), converted once per distinct date."""
    codes, uniq = _distinct(s)
    return np.array(uniq, dtype="datetime64[D]")[codes]


# ---------------------------------------------------------------------------------------------- the quarter
def read_quarter(data: bytes, name: str = "data set", workers: int | None = None) -> Quarter:
    """Every filing of one quarter's zip as store frames, equal to datasets.read_quarter_rows (see the module doc)
    with each table in the store's order (schema.SORT_KEYS).

    workers: processes that derive the filings, each a contiguous share of them in store order, whole issuers (the
    derivation of one filing never looks at another's rows, so the shares put back in order are the whole);
    default: 2 for a quarter of PARALLEL_FROM filings or more where two processes can run at once (_workers), else
    1 (this process)."""
    zf, members, missing = _open(data, name, verify=False)  # each table's CRC is checked as it is read
    tables = _tables(zf, members, name)
    sub, accs, problems = _submissions(tables["SUBMISSION"])
    # the filings in the store's order (issuer, then accession number): each share then holds whole issuers, and
    # its tables come out in the order the store keeps them (store.write_quarter finds them sorted)
    ciks = _mapped(_col(sub, "ISSUERCIK"), _cik).to_numpy(dtype=object)
    issuer = pa.array(ciks, pa.int64(), from_pandas=True)
    by = [("i", "ascending"), ("a", "ascending")]
    order = pc.sort_indices(pa.table({"i": issuer, "a": accs}), sort_keys=by)
    sub, accs, issuer = sub.take(order), accs.take(order), issuer.take(order)

    children = {}
    for t in (*REQUIRED, *OPTIONAL):
        if t == "SUBMISSION" or t not in tables:
            continue
        table = tables[t]
        if not table.num_rows:
            children[t] = table
            continue
        # each row's filing position; null for a stray row (its accession is not in SUBMISSION)
        f = pc.cast(pc.index_in(_col(table, "ACCESSION_NUMBER"), value_set=accs), pa.int64())
        known_row = pc.is_valid(f)
        if not pc.all(known_row).as_py():
            # each stray accession once, in SK order (the stable SK order of these rows is theirs in the whole table)
            keys = pc.unique(_col(_sk_sorted(table.filter(pc.invert(known_row))), "ACCESSION_NUMBER"))
            problems.append(
                f"{t}: {len(keys)} accession(s) not in SUBMISSION (left out), e.g. {keys[0].as_py()}"
            )
            table = table.filter(known_row)
            f = f.filter(known_row)
        children[t] = table.append_column("_f", f)
    workers = _workers(len(accs)) if workers is None else max(1, min(workers, len(accs)))
    if workers > 1:
        # a filing's work grows with its rows: each counts as one more row
        work = np.ones(len(accs), dtype=np.int64)
        for table in children.values():
            if table.num_rows:
                work += np.bincount(table.column("_f").to_numpy(), minlength=len(accs))
        cuts = _cuts(issuer, work, workers)
        out = forked.shares(_read_part, _shares(sub, accs, children, missing, cuts))
    else:
        out = _read_part(sub, accs, children, missing)
    rows = {t: f.num_rows for t, f in out.items()}
    return Quarter(ArrowFrames(out), rows["filings"], rows, problems, missing)


# filings: a smaller quarter is read in this process (measured: a second process pays off from ~1,000 filings)
PARALLEL_FROM = 2_000


def _workers(n: int) -> int:
    """2 for a quarter of PARALLEL_FROM filings or more where two processes can run at once (forked.available, 2
    cores), else 1."""
    return 2 if n >= PARALLEL_FROM and forked.available() and forked.cores() >= 2 else 1


def _submissions(sub: pa.Table) -> tuple[pa.Table, pa.Array, list[str]]:
    """The SUBMISSION rows with a usable accession number (stripped, not empty, the first of its number), those
    numbers in filing order, and a problem line per row left out."""
    col = _col(sub, "ACCESSION_NUMBER")
    # the usual case, checked in Arrow: nothing to strip or leave out
    plain = pc.all(pc.match_substring_regex(col, r"^[0-9A-Za-z-]+$")).as_py() is not False
    if plain and pc.count_distinct(col).as_py() == len(col):
        return sub, col, []
    acc = [a.strip() for a in col.to_pylist()]
    bad = pd.Series(acc, dtype=object)
    bad = ((bad == "") | bad.duplicated()).to_numpy(dtype=bool)
    problems = [
        f"SUBMISSION row without a usable accession number: {a or '(empty)'}"
        for a in np.array(acc, dtype=object)[bad]
    ]
    keep = ~bad
    return (
        sub.filter(pa.array(keep)),
        pa.array([a for a, k in zip(acc, keep, strict=True) if k], pa.string()),
        problems,
    )


# the share done in this process is this much larger than a forked child's: a child also writes its tables out and
# pays for the pages it writes to that it shares with this process (measured on real-size quarters with equal
# shares: the child took 0.1-0.25 s longer than this process's ~1.2 s; with 0.1 the parent still waited up to 0.39 s,
# with 0.2 at most 0.19 s)
HERE_LARGER = 0.2


def _cuts(issuer: pa.Array, work: np.ndarray, workers: int) -> np.ndarray:
    """Where shares of the filings (in store order) begin and end: shares of about equal work (each filing's in
    `work`), the first (done in this process) HERE_LARGER larger than the others, each cut moved on to where the
    next issuer begins, so that no issuer is split (a filings table sorts by date within its issuer); fewer shares
    when an issuer spans a cut's whole share."""
    ids = pc.fill_null(issuer, -1).to_numpy(zero_copy_only=False)
    n = len(ids)
    # where each issuer begins, then n
    starts = np.append(np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]), n)
    share = np.cumsum([0.0, 1.0 + HERE_LARGER, *[1.0] * (workers - 1)])
    done = np.cumsum(work)  # the work of the filings up to and with each
    wanted = np.searchsorted(done, done[-1] * share[1:-1] / share[-1]) if n else np.zeros(0, dtype=int)
    cuts = starts[np.searchsorted(starts, np.concatenate([[0], wanted, [n]]))]
    return np.unique(cuts)


def _shares(
    sub: pa.Table, accs: pa.Array, children: dict[str, pa.Table], missing: list[str], cuts: np.ndarray
) -> list:
    """The arguments of _read_part for the share of filings between each two cuts: its SUBMISSION rows and
    accession numbers, and every table whole (a share takes its own rows, _rows_in)."""
    return [
        (sub.slice(lo, hi - lo), accs.slice(lo, hi - lo), children, missing, (lo, hi))
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)
    ]


def _read_part(
    sub: pa.Table,
    accessions: pa.Array,
    children: dict[str, pa.Table],
    missing: list[str],
    span: tuple[int, int] | None = None,
) -> dict[str, pa.Table]:
    """The store tables of the filings in `sub` (SUBMISSION rows with usable, distinct accession numbers: their
    numbers, stripped, in `accessions`; in store order) from the other tables' rows of those filings (each row's
    filing position in its column `_f`; span: the positions of these filings, when `sub` is a share of them), in
    the store's order (schema.SORT_KEYS)."""
    has_checkbox = "AFF10B5ONE" in sub.column_names
    accs = pd.Series(accessions.to_pylist(), dtype=object)

    def rows_of(t: str) -> pa.Table:
        """The table's rows (of known filings) by filing, then in SK order, with their filing position `_f`."""
        table = children.get(t)
        if table is None or not table.num_rows:
            return pa.table({"_f": pa.array([], pa.int64())})
        return _rows_in(table, span)

    filings = _filings(sub, accs, has_checkbox, rows_of("OWNER_SIGNATURE"))
    owners = _owners(rows_of("REPORTINGOWNER"), accs)
    notes, texts = _notes(rows_of("FOOTNOTES"), accs)
    first = _first_owner(owners, len(accs))
    no_checkbox = np.array(
        [not has_checkbox and d is not None and d >= CHECKBOX_SINCE for d in filings["filing_date"]],
        dtype=bool,
    )
    parts = {
        file: _rows(rows_of(file), file, accs, no_checkbox, "FOOTNOTES" in missing) for file in _ROW_FILES
    }
    tx = _stack(parts["NONDERIV_TRANS"], parts["DERIV_TRANS"])
    hold = _stack(parts["NONDERIV_HOLDING"], parts["DERIV_HOLDING"])
    return _derive(filings, owners, first, tx, hold, notes, texts, has_checkbox)


def _stack(*parts: dict[str, np.ndarray]) -> pd.DataFrame:
    """The row tables' parts (_rows: columns of equal length) as one frame in filing, table, SK order; a column only
    some parts have (derivative terms) holds None elsewhere."""
    parts = tuple(p for p in parts if len(p["_f"])) or parts[:1]
    cols = dict.fromkeys(c for p in parts for c in p)
    arrays = {
        c: np.concatenate([p[c] if c in p else np.full(len(p["_f"]), None, dtype=object) for p in parts])
        for c in cols
    }
    order = np.lexsort((arrays["seq"], arrays["_t"], arrays["_f"]))
    return pd.DataFrame({c: a[order] for c, a in arrays.items()})


def _filings(sub: pa.Table, accs: pd.Series, has_checkbox: bool, sigs: pa.Table) -> pd.DataFrame:
    """The filing columns as datasets._filing fills them before the derivation (dates as date objects)."""
    n = len(accs)
    # each filing's first signature (sigs are by filing, then in SK order)
    has_sig, first_sig = np.unique(sigs.column("_f").to_numpy(), return_index=True)

    def sig(col: str) -> pd.Series:
        out = np.full(n, "", dtype=object)
        if col in sigs.column_names:
            out[has_sig] = sigs.column(col).take(first_sig).to_pylist()
        return pd.Series(out, dtype=object)

    out = pd.DataFrame(
        {
            "accession": accs.to_numpy(dtype=object),
            "form": _stripped(_col(sub, "DOCUMENT_TYPE")).fillna("4").to_numpy(dtype=object),
            "period_of_report": _mapped(_col(sub, "PERIOD_OF_REPORT"), sec_date).to_numpy(dtype=object),
            "filing_date": _mapped(_col(sub, "FILING_DATE"), sec_date).to_numpy(dtype=object),
            "date_of_original_submission": _mapped(_col(sub, "DATE_OF_ORIG_SUB"), sec_date).to_numpy(
                dtype=object
            ),
            "issuer_cik": _mapped(_col(sub, "ISSUERCIK"), _cik).to_numpy(dtype=object),
            "issuer_name": _stripped(_col(sub, "ISSUERNAME")).to_numpy(dtype=object),
            "ticker": _mapped(_col(sub, "ISSUERTRADINGSYMBOL"), lambda v: v.strip().upper() or None).to_numpy(
                dtype=object
            ),
            "not_subject_to_section16": _mapped(_col(sub, "NOT_SUBJECT_SEC16"), _bool_text).to_numpy(
                dtype=object
            ),
            "aff10b5one": (
                _mapped(_col(sub, "AFF10B5ONE"), lambda v: derive.to_bool(v.strip()) if v.strip() else None)
                if has_checkbox
                else pd.Series([None] * n, dtype=object)
            ).to_numpy(dtype=object),
            "remarks": _stripped(_col(sub, "REMARKS")).to_numpy(dtype=object),
            "signature_name": _stripped(sig("OWNERSIGNATURENAME")).to_numpy(dtype=object),
            "signature_date": _mapped(sig("OWNERSIGNATUREDATE"), sec_date).to_numpy(dtype=object),
        }
    )
    return out


def _bool_text(text: str) -> bool | None:
    t = (text or "").strip().lower()
    if t in ("1", "true", "y", "yes"):
        return True
    if t in ("0", "false", "n", "no"):
        return False
    return None


def _owners(rows: pa.Table, accs: pd.Series) -> pd.DataFrame:
    """One row per reporting owner, as datasets._owner builds them (filing order, then SK order)."""
    if not rows.num_rows:
        return empty("owners").assign(_f=pd.Series([], dtype=np.int64))
    f = rows.column("_f").to_numpy()
    codes, uniq = _distinct(_col(rows, "RPTOWNER_RELATIONSHIP"))  # each distinct relationship read once
    words = ("director", "officer", "tenpercentowner", "other")
    per_value = [[w in (v or "").replace(" ", "").lower() for w in words] for v in uniq]
    on = np.array(per_value, dtype=bool).reshape(len(uniq), len(words))[codes]
    flags = {k: pd.Series(on[:, j]) for j, k in enumerate(_OWNER_FLAGS)}
    title = _stripped(_col(rows, "RPTOWNER_TITLE"))
    other = _stripped(_col(rows, "RPTOWNER_TXT"))
    # owners share a few relationships and titles: each combination is worded once
    keys = list(
        zip(*(flags[k].to_numpy(dtype=bool).tolist() for k in _OWNER_FLAGS), title, other, strict=True)
    )
    roles = {r: derive.role_text(dict(zip(_OWNER_FLAGS, r[:4], strict=True)), r[4], r[5]) for r in set(keys)}
    role = [roles[r] for r in keys]
    out = pd.DataFrame(
        {
            "accession": accs.to_numpy(dtype=object)[f],
            "position": _cumcount(f),
            "owner_cik": _mapped(_col(rows, "RPTOWNERCIK"), _cik).to_numpy(dtype=object),
            "owner_name": _mapped(_col(rows, "RPTOWNERNAME"), lambda v: " ".join((v or "").split()) or None),
            **{k: v.to_numpy(dtype=bool) for k, v in flags.items()},
            "officer_title": title.to_numpy(dtype=object),
            "other_text": other.to_numpy(dtype=object),
            "role": role,
            "city": _stripped(_col(rows, "RPTOWNER_CITY")).to_numpy(dtype=object),
            "state": _stripped(_col(rows, "RPTOWNER_STATE")).to_numpy(dtype=object),
            "_f": f,
        }
    )
    return out


def _first_owner(owners: pd.DataFrame, n: int) -> pd.DataFrame:
    """derive.owner_columns per filing (index = filing position): the first owner's columns, every owner's CIK and
    name ("|"-joined), the number of owners."""
    cols = ["owner_cik", "owner_name", *_OWNER_FLAGS, "officer_title", "role"]
    first = owners.drop_duplicates("_f", keep="first").set_index("_f")[cols].reindex(range(n))
    first = first.astype(object).where(first.notna(), None)
    counts = owners.groupby("_f").size().reindex(range(n), fill_value=0)
    first["owner_ciks"] = first["owner_cik"].map(lambda c: None if c is None else str(c))
    first["owner_names"] = first["owner_name"].map(lambda s: s or None)
    multi = set(counts[counts > 1].index)
    if multi:
        joined: dict[int, tuple[list[str], list[str]]] = {}
        for fi, cik, name in zip(owners["_f"], owners["owner_cik"], owners["owner_name"], strict=True):
            if fi in multi:
                c, nm = joined.setdefault(int(fi), ([], []))
                if cik is not None:
                    c.append(str(cik))
                if name:
                    nm.append(name)
        at = sorted(joined)
        first.loc[at, "owner_ciks"] = ["|".join(joined[i][0]) or None for i in at]
        first.loc[at, "owner_names"] = ["|".join(joined[i][1]) or None for i in at]
    first["n_owners"] = counts.to_numpy()
    return first.reset_index(drop=True)


def _notes(rows: pa.Table, accs: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """The footnotes as datasets._filing's dict: per filing, id -> whitespace-normalised text (a repeated id keeps
    its first place and its last text), filing order; and the distinct texts, which each row's `_tc` indexes (so
    that a rule on the text runs once per distinct text, _per_text)."""
    if not rows.num_rows:
        no = pd.Series([], dtype=np.int64)
        return pd.DataFrame({"_f": no, "footnote_id": [], "text": [], "_tc": no}), []
    fid = _mapped(_col(rows, "FOOTNOTE_ID"), lambda v: (v or "").strip())
    codes, raw = _distinct(_col(rows, "FOOTNOTE_TXT"))
    texts = [" ".join((v or "").split()) for v in raw]
    frame = pd.DataFrame(
        {
            "_f": rows.column("_f").to_numpy(),
            "footnote_id": fid,
            "text": np.array(texts, dtype=object)[codes],
            "_tc": codes,
        }
    )
    frame = frame[frame["footnote_id"] != ""]
    twice = frame.duplicated(["_f", "footnote_id"])
    if not twice.any():  # the usual case: no filing repeats an id (rows come by filing: _rows_in)
        return frame.reset_index(drop=True), texts
    last = frame.drop_duplicates(["_f", "footnote_id"], keep="last").set_index(["_f", "footnote_id"])
    first = frame.drop_duplicates(["_f", "footnote_id"], keep="first")
    at = pd.MultiIndex.from_frame(first[["_f", "footnote_id"]])
    first = first.assign(text=last["text"].reindex(at).to_numpy(), _tc=last["_tc"].reindex(at).to_numpy())
    return first.sort_values("_f", kind="stable").reset_index(drop=True), texts


def _per_text(notes: pd.DataFrame, texts: list[str], fn) -> pd.Series:
    """fn of each footnote's text (same index as notes), run once per distinct text."""
    out = np.empty(len(texts), dtype=object)
    out[:] = [fn(v) for v in texts]
    return pd.Series(out[notes["_tc"].to_numpy()], index=notes.index, dtype=object)


def _rows(
    rows: pa.Table,
    file: str,
    accs: pd.Series,
    no_checkbox: np.ndarray,
    no_notes: bool,
) -> dict[str, np.ndarray]:
    """One row table's raw facts (datasets._filing's row dicts) as columns, with _f (filing), _t (table order) and
    seq; not the columns a row takes from its filing (issuer, owners: _derive's `own`)."""
    target, kind, table, colmap = ROW_TABLES[file]
    if not rows.num_rows:
        empty_ = np.zeros(0, dtype=object)
        return {"_f": np.zeros(0, dtype=np.int64), "_t": empty_, "seq": empty_}
    f = rows.column("_f").to_numpy()
    seq = _cumcount(f)
    acc = accs.to_numpy(dtype=object)[f]
    # "{accession}:{table}:{kind}{seq}", joined in Arrow
    row_id = pc.binary_join_element_wise(
        pa.array(acc, pa.string()), f":{table}:{kind}", pc.cast(pa.array(seq), pa.string()), ""
    )
    out: dict[str, Any] = {
        "row_id": row_id.to_numpy(zero_copy_only=False),
        "accession": acc,
        "table": np.full(len(f), table, dtype=object),
        "seq": seq,
    }
    fn_cols = [c for c in rows.column_names if c.endswith("_FN")]
    out["footnote_ids"] = _footnote_ids(rows, fn_cols)
    out["superseded_by"] = np.full(len(f), None, dtype=object)
    for col, key in colmap.items():
        out[key] = _stripped(_col(rows, col)).to_numpy(dtype=object)
    if "code" in out:
        codes = pd.Series(out["code"], dtype=object)
        out["code"] = _mapped(codes, lambda c: c.upper() if c else c).to_numpy()
    also = np.where(no_checkbox[f], 1, 0) if kind == "T" else np.zeros(len(f), dtype=int)
    out["unverified"] = _unverified(rows, colmap, f, also, no_notes)
    out["_f"] = f
    out["_t"] = np.full(len(f), 0 if table == "nonDerivative" else 1)
    return out


def _footnote_ids(rows: pa.Table, fn_cols: list[str]) -> np.ndarray:
    """datasets._footnote_ids per row: every id of the row's *_FN columns, in column order, once."""
    if not fn_cols:
        return np.full(rows.num_rows, None, dtype=object)
    # rows repeat a few patterns ("F1", "F1,F2"): number each distinct combination of the columns' values, parse once
    pattern = np.zeros(rows.num_rows, dtype=np.int64)
    for col in fn_cols:
        codes, uniq = _distinct(_col(rows, col))
        pattern, _ = pd.factorize(pattern * (len(uniq) + 1) + codes + 1)
    _, first, which = np.unique(pattern, return_index=True, return_inverse=True)
    parsed = np.full(len(first), None, dtype=object)
    keys = zip(*(rows.column(c).take(first).to_pylist() for c in fn_cols), strict=True)
    for j, key in enumerate(keys):
        ids = [fid for value in key if value for fid in (x.strip() for x in value.split(",")) if fid]
        parsed[j] = ",".join(dict.fromkeys(ids)) or None
    return parsed[which]


def _unverified(
    rows: pa.Table, colmap: dict[str, str], f: np.ndarray, also: np.ndarray, no_notes: bool
) -> np.ndarray:
    """datasets._unverified per row: the columns the positional quirk may have moved within the row's filing and
    table (a field present on some of its rows and not on others), plus the plan columns where no checkbox can be
    seen (also = 1) and the footnote-derived columns when the quarter has no FOOTNOTES.tsv."""
    checks: list[tuple[np.ndarray, np.ndarray, tuple[str, ...], bool]] = []
    for col, key in colmap.items():
        fn = f"{col}_FN"
        value = _present(rows, col)
        fnp = _present(rows, fn)
        checks.append((value | fnp, fnp, _AFFECTS.get(key, (key.removesuffix("_raw"),)), True))
    for fn in ("TRANS_FORM_TYPE_FN", "EQUITY_SWAP_TRANS_CD_FN"):
        if fn.removesuffix("_FN") not in colmap:
            fnp = _present(rows, fn)
            checks.append((fnp, fnp, (), False))
    present = np.column_stack([c[0] for c in checks]).astype(np.int64)
    fnp_all = np.column_stack([c[1] for c in checks]).astype(np.int64)
    g = pd.Series(f)
    sums = pd.DataFrame(present).groupby(g.to_numpy()).sum()
    fsum = pd.DataFrame(fnp_all).groupby(g.to_numpy()).sum()
    sizes = g.value_counts().reindex(sums.index).to_numpy()
    mixed = (sums.to_numpy() > 0) & (sums.to_numpy() < sizes[:, None]) & (sizes[:, None] >= 2)
    base_sets = [set(), set(_PLAN_COLUMNS)]
    if no_notes:
        base_sets = [s | set(_NO_FOOTNOTES) for s in base_sets]
    fsums = fsum.to_numpy()
    per_filing: dict[int, set[str]] = {}
    for gi in np.flatnonzero(mixed.any(axis=1)):
        cols: set[str] = set()
        for j in np.flatnonzero(mixed[gi]):
            affects, is_field = checks[j][2], checks[j][3]
            cols.update(affects)
            if not is_field or fsums[gi, j] > 0:
                cols.update(_AFFECTS["footnote_ids"])
        per_filing[int(sums.index[gi])] = cols
    out = np.array([",".join(sorted(s)) or None for s in base_sets], dtype=object)[also]
    texts: dict[tuple[int, int], str | None] = {}  # per filing and base set
    for i in np.flatnonzero(np.isin(f, list(per_filing))):
        fa = (int(f[i]), int(also[i]))
        if fa not in texts:
            texts[fa] = ",".join(sorted(base_sets[fa[1]] | per_filing[fa[0]])) or None
        out[i] = texts[fa]
    return out


# ---------------------------------------------------------------------------------------------- the derivation
def _text_matters(text) -> bool:
    """True when a footnote or the remarks can change the 10b5-1 columns: it mentions Rule 10b5-1 (status,
    adoption date; `adoption` needs a mention too). Price ranges are read here, per row (_price_ranges)."""
    return bool(text) and tenb51(text) is not None


def _amounts(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(value or NaN, not plain): derive.amount once per distinct text; not plain = out of range, or text given that
    is not a number (the derivation flags both)."""
    codes, uniq = _distinct(s)
    got = [derive.amount(u) for u in uniq]
    x = np.array([np.nan if v is None else v for v, _ in got], dtype=float)
    bad = np.array(
        [b or (u is not None and v is None) for u, (v, b) in zip(uniq, got, strict=True)], dtype=bool
    )
    return x[codes], bad[codes]


def _numbers(s: pd.Series) -> np.ndarray:
    """derive._as_number of text (None -> NaN)."""
    return _mapped(
        s, lambda v: np.nan if (x := derive.to_number(v) if v is not None else None) is None else x
    ).to_numpy(dtype=float)


def _days(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] or NaT, far) from text: derive.to_date once per distinct text; far = a real date outside the
    storable years (the derivation flags it)."""
    codes, uniq = _distinct(s)
    dates = [derive.to_date(u) if u is not None else None for u in uniq]
    day = np.array(
        [np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in dates], "datetime64[D]"
    )
    far = np.array([bool(u) and derive.date_out_of_range(u) for u in uniq], dtype=bool)
    return day[codes], far[codes]


def _letters(s: pd.Series) -> np.ndarray:
    return _mapped(s, lambda v: str(v or "").upper()[:1] or None).to_numpy(dtype=object)


def _derive(
    filings: pd.DataFrame,
    owners: pd.DataFrame,
    first: pd.DataFrame,
    tx: pd.DataFrame,
    hold: pd.DataFrame,
    notes: pd.DataFrame,
    texts: list[str],
    has_checkbox: bool,
) -> dict[str, pa.Table]:
    n = len(filings)
    # the columns every row takes from its filing: made Arrow once per filing, then taken to the rows
    own = {c: filings[c].to_numpy(dtype=object) for c in ("accession", "issuer_cik", "issuer_name", "ticker")}
    own.update({c: first[c].to_numpy(dtype=object) for c in first.columns})

    made: dict[tuple[str, str], pa.Array] = {}

    def by_filing(name: str, f: np.ndarray) -> dict[str, pa.Array]:
        at = pa.array(f)
        for c, v in own.items():
            if (c, SCHEMAS[name][c]) not in made:
                made[c, SCHEMAS[name][c]] = arrow_column(v, SCHEMAS[name][c], n)
        return {c: made[c, SCHEMAS[name][c]].take(at) for c in own}

    # -- which filings need the per-filing derivation
    complex_f = np.zeros(n, dtype=bool)
    # filings whose footnotes or remarks speak of a 10b5-1 plan: their plan columns come from derive's own rules,
    # row by row (_text_plans); everything else about them is derived column by column
    hits = _per_text(notes, texts, _text_matters)
    text_f = np.zeros(n, dtype=bool)
    text_f[notes["_f"].to_numpy()[hits.to_numpy(dtype=bool)]] = True
    text_f |= _mapped(filings["remarks"], _text_matters).to_numpy(dtype=bool)
    days = {
        col: _as_days(filings[col])
        for col in ("filing_date", "period_of_report", "signature_date", "date_of_original_submission")
    }
    for day in days.values():
        year = day.astype("datetime64[Y]").astype(np.int64) + 1970
        complex_f |= ~np.isnat(day) & ((year < derive.MIN_YEAR) | (year > derive.MAX_YEAR))
    fdate, period = days["filing_date"], days["period_of_report"]
    complex_f |= np.isnat(fdate)  # filing date falls back
    form = filings["form"].to_numpy(dtype=object)
    box = filings["aff10b5one"].to_numpy(dtype=object)
    # each footnote's text in Arrow, from its distinct texts
    note_text = pa.array(texts, pa.string()).take(pa.array(notes["_tc"].to_numpy(), pa.int64()))
    texts_of = _NoteTexts(notes, note_text)

    def common(rows: pd.DataFrame) -> dict[str, np.ndarray]:
        """What holdings and transactions share (derive._Filing._common), plus far dates (-> complex)."""
        f = rows["_f"].to_numpy()
        deriv = rows["table"].to_numpy(dtype=object) == "derivative"
        out: dict[str, Any] = {
            "form": form[f],
            "filing_date": fdate[f].astype("datetime64[ns]"),
            "period_of_report": period[f].astype("datetime64[ns]"),
            "direct_indirect": _letters(rows["direct_indirect"]),
        }
        conv = (
            _numbers(rows["conversion_price"]) if "conversion_price" in rows else np.full(len(rows), np.nan)
        )
        under = (
            _numbers(rows["underlying_shares"]) if "underlying_shares" in rows else np.full(len(rows), np.nan)
        )
        ex, ex_far = _days(_col_obj(rows, "exercise_date"))
        exp, exp_far = _days(_col_obj(rows, "expiration_date"))
        out["conversion_price"] = np.where(deriv, conv, np.nan)
        out["underlying_shares"] = np.where(deriv, under, np.nan)
        nat = np.datetime64("NaT")
        out["exercise_date"] = np.where(deriv, ex, nat).astype("datetime64[ns]")
        out["expiration_date"] = np.where(deriv, exp, nat).astype("datetime64[ns]")
        out["underlying_title"] = np.where(
            deriv, _col_obj(rows, "underlying_title").to_numpy(dtype=object), None
        )
        out["footnotes"] = texts_of(f, rows["footnote_ids"].to_numpy(dtype=object))
        out["_far"] = deriv & (ex_far | exp_far)
        return out

    # -- transactions
    t = tx
    tf = t["_f"].to_numpy() if len(t) else np.zeros(0, dtype=np.int64)
    tcols = common(t) if len(t) else {}
    if len(t):
        tdate, _ = _days(t["transaction_date_raw"])
        deemed, _ = _days(t["deemed_execution_date"])
        shares, bad_s = _amounts(t["shares_raw"])
        price, bad_p = _amounts(t["price_raw"])
        owned, bad_o = _amounts(t["owned_after_raw"])
        horizon = np.where(np.isnat(fdate[tf]), period[tf], fdate[tf])
        odd = (
            np.isnat(tdate)
            | (tdate < np.datetime64("1990-01-01"))
            | (~np.isnat(horizon) & (tdate > horizon + 366 * _DAY))
        )
        odd |= bad_s | bad_p | bad_o | tcols["_far"]
        complex_f[tf[odd]] = True
        code = t["code"].to_numpy(dtype=object)
        ad = _letters(t["acquired_disposed"])
        timeliness = _letters(t["timeliness"])
        value = shares * price
        sign = np.where(ad == "D", -1.0, 1.0)
        with np.errstate(invalid="ignore"):
            implausible = (value > derive.IMPLAUSIBLE_VALUE) | (price > derive.IMPLAUSIBLE_PRICE)
        start = np.where(np.isnat(deemed), tdate, deemed)
        can = ~np.isnat(start) & ~np.isnat(fdate[tf]) & (form[tf] == "4")
        late = np.full(len(t), -1, dtype=np.int64)
        if can.any():
            late[can] = np.busday_count(start[can], fdate[tf][can], busdaycal=derive._BUSDAYS)
        late_days = pd.array(np.where(can, late, 0), dtype="Int64")
        late_days[~can] = pd.NA
        is_late = pd.array(np.where(can, late > derive.LATE_AFTER_BUSINESS_DAYS, False), dtype="boolean")
        is_late[~can] = pd.NA
        is_late[timeliness == "L"] = True
        after = ~np.isnat(fdate[tf]) & (tdate > fdate[tf])
        low, high, outside = _price_ranges(t, notes, texts, price)
        # 10b5-1 from the checkbox alone where no text of the filing says anything about a plan
        plans = {}
        for key in set(zip(code, box[tf], strict=True)):
            plans[key] = _checkbox_plan(*key)
        plan = [plans[k] for k in zip(code, box[tf], strict=True)]
        if text_f.any():
            _text_plans(plan, t, hold, notes, filings, text_f, code, tdate)
        conflict = np.array([p[3] for p in plan], dtype=bool)
        on = np.column_stack([after, implausible, conflict, outside]).astype(np.int64)
        flags = _FLAG_SETS[on @ (1 << np.arange(len(_TX_FLAGS)))]
        mismatch = _holdings_mismatch(
            tf,
            t["table"].to_numpy(dtype=object),
            tcols,
            t["security_title"].to_numpy(dtype=object),
            owned,
            np.where(np.isnan(shares), np.nan, sign * shares),
            tdate,
        )
        flags[mismatch] = [f"{x}," if x else "" for x in flags[mismatch]]
        flags[mismatch] += "holdings_mismatch"
        simple_tx = dict(
            {
                **{c: t[c].to_numpy() for c in t.columns},
                **{k: v for k, v in tcols.items() if k != "_far"},
                "transaction_date": tdate.astype("datetime64[ns]"),
                "deemed_execution_date": deemed.astype("datetime64[ns]"),
                "code_name": _mapped(t["code"], code_name),
                "equity_swap": _mapped(
                    t["equity_swap"], lambda v: derive.to_bool(v) if v is not None else None
                ),
                "timeliness": timeliness,
                "acquired_disposed": ad,
                "shares": shares,
                "price": price,
                "value": value,
                "signed_shares": sign * shares,
                "signed_value": sign * value,
                "owned_after": owned,
                "value_owned_after": _numbers(t["value_owned_after"]),
                "is_10b5_1": pd.array([p[0] for p in plan], dtype="boolean"),
                "price_low": low,
                "price_high": high,
                "tenb51_source": [p[1] for p in plan],
                "late_business_days": late_days,
                "is_late": is_late,
                "flags": flags,
                "tenb51_note": [p[2] for p in plan],
                "plan_adoption_date": _as_datetime([p[4] for p in plan]),
                "plan_adopted_before": _as_datetime([p[5] for p in plan]),
                **by_filing("transactions", tf),
            }
        )
    else:
        simple_tx = {}
    # -- holdings
    h = hold
    if len(h):
        hf = h["_f"].to_numpy()
        hcols = common(h)
        owned_h, bad_h = _amounts(h["shares_owned_raw"])
        complex_f[hf[bad_h | hcols["_far"]]] = True
        simple_hold = dict(
            {
                **{c: h[c].to_numpy() for c in h.columns},
                **{k: v for k, v in hcols.items() if k != "_far"},
                "shares_owned": owned_h,
                "value_owned": _numbers(h["value_owned"]),
                "flags": None,
                **by_filing("holdings", hf),
            }
        )
    else:
        simple_hold = {}
    # -- filings
    n_tx = np.bincount(tf, minlength=n) if len(t) else np.zeros(n, dtype=np.int64)
    n_h = np.bincount(h["_f"].to_numpy(), minlength=n) if len(h) else np.zeros(n, dtype=np.int64)
    fil = filings.copy()
    fil["n_owners"] = np.bincount(owners["_f"].to_numpy(), minlength=n) if len(owners) else 0
    fil["schema_version"] = None
    fil["filing_date_source"] = "edgar"
    fil["amends_accession"] = None
    fil["xml_url"] = None
    fil["is_amendment"] = _mapped(filings["form"], lambda x: str(x).endswith("/A")).to_numpy(dtype=bool)
    fil["flags"] = None
    fil["n_transactions"] = n_tx
    fil["n_holdings"] = n_h
    # -- the per-filing derivation for the rest, then both parts in the reader's order
    ref = _reference(fil, t, h, notes, complex_f, own)
    fil_cols = {c: fil[c].to_numpy() for c in fil.columns}
    fil_cols.update(days)  # the dates as datetime64 (far ones are in complex filings, replaced below)
    fil_cols["filing_url"] = _filing_urls(fil["issuer_cik"].to_numpy(dtype=object), fil["accession"])
    foot = {
        "accession": filings["accession"].to_numpy(dtype=object)[notes["_f"].to_numpy()],
        "footnote_id": notes["footnote_id"].to_numpy(dtype=object),
        "text": note_text,
    }
    # each table in the store's order (SORT_KEYS): the filings are by issuer, then accession number (read_quarter),
    # so a filing's position stands for both; owners are by filing and position already
    filings_t = _merge(fil_cols, n, (ref["filings"], np.flatnonzero(complex_f)), "filings")
    foot_t = to_arrow(foot, "footnotes", len(notes))
    by_note = pa.table({"f": notes["_f"].to_numpy(), "id": foot_t.column("footnote_id")})
    keys = SORT_KEYS
    return {
        "filings": sorted_rows(filings_t, filings_t.select(keys["filings"])),
        "owners": to_arrow({c: owners[c].to_numpy() for c in owners.columns}, "owners", len(owners)),
        "transactions": _merge(simple_tx, len(t), ref["transactions"], "transactions", keys["transactions"]),
        "holdings": _merge(simple_hold, len(h), ref["holdings"], "holdings", keys["holdings"]),
        "footnotes": sorted_rows(foot_t, by_note),
    }


class _NoteTexts:
    """derive's footnotes text of each row, in Arrow: "F1: text\nF3: text", the row's footnote ids (comma-joined,
    in its order) that have a text (not empty) among its filing's footnotes; null when none has."""

    def __init__(self, notes: pd.DataFrame, text: pa.Array) -> None:
        self.f = notes["_f"].to_numpy(dtype=np.int64)
        self.ids = pa.array(notes["footnote_id"].to_numpy(dtype=object), pa.string())
        self.text = text

    def __call__(self, f: np.ndarray, row_ids: np.ndarray) -> pa.Array:
        n = len(f)
        lists = pc.split_pattern(pa.array(row_ids, pa.string(), from_pandas=True), ",")
        flat = pc.list_flatten(lists)
        row = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
        # a (filing, id) pair as one number: the filing's position, then the id's number among all ids seen
        names = pc.unique(pa.concat_arrays([self.ids, flat]))
        width = len(names) + 1
        wanted = f[row] * width + pc.index_in(flat, value_set=names).to_numpy(zero_copy_only=False)
        held = self.f * width + pc.index_in(self.ids, value_set=names).to_numpy(zero_copy_only=False)
        at = pd.Index(held).get_indexer(wanted)  # (filing, id) is unique among the notes (_notes)
        text = self.text.take(pa.array(at, mask=at < 0))
        keep = pc.fill_null(pc.not_equal(text, ""), False)
        piece = pc.binary_join_element_wise(flat, text, ": ").filter(keep)
        counts = np.bincount(row[keep.to_numpy(zero_copy_only=False)], minlength=n)
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32())
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, piece), "\n")
        return pc.if_else(pa.array(counts > 0), joined, pa.scalar(None, pa.string()))


def _filing_urls(ciks: np.ndarray, accessions: pd.Series) -> pa.Array:
    """derive.filing_url of every filing, in Arrow when every accession is ASCII (so \\d is [0-9])."""
    acc = pa.array(accessions.to_numpy(dtype=object), pa.string(), from_pandas=True)
    cik = pa.array(ciks, pa.int64(), from_pandas=True)
    if pc.all(pc.string_is_ascii(acc)).as_py() is False:
        return pa.array([derive.filing_url(c, a) for c, a in zip(ciks, accessions, strict=True)], pa.string())
    ok = pc.and_kleene(pc.match_substring_regex(acc, r"^[0-9]{10}-[0-9]{2}-[0-9]{6}$"), pc.not_equal(cik, 0))
    url = pc.binary_join_element_wise(
        derive.ARCHIVES + "/", pc.cast(cik, pa.string()), "/", pc.replace_substring(acc, "-", ""), "/", acc,
        "-index.htm", "",
    )  # fmt: skip
    return pc.if_else(pc.fill_null(ok, False), url, pa.scalar(None, pa.string()))


_TX_FLAGS = ("date_after_filing", "implausible_value", "tenb51_conflict", "price_outside_range")
# the flags text of every combination, indexed by its bits (bit j = _TX_FLAGS[j] is on)
_FLAG_SETS = np.array(
    [",".join(x for j, x in enumerate(_TX_FLAGS) if k >> j & 1) or None for k in range(1 << len(_TX_FLAGS))],
    dtype=object,
)


def _merge(simple: dict, n: int, derived: tuple, name: str, by: list[str] | None = None) -> pa.Table:
    """The n simple rows as an Arrow table, with the per-filing derivation's rows (derived = (table, positions)) in
    their places; by: sorted by these columns (nulls last, stable), as the simple rows hold them (a
    complex row has the keys of the simple row in its place), in the same take."""
    done, where = derived
    table = to_arrow(simple, name, n)
    order = np.arange(n)
    if by:
        order = pc.sort_indices(table.select(by), sort_keys=[(k, "ascending") for k in by]).to_numpy()
    if not len(where):
        return taken(table, order)
    at = np.arange(n)
    at[where] = n + np.arange(len(where))
    return pa.concat_tables([table, done]).take(at[order])


# every price notes.price_ranges reads holds "$" or digits, a dot, a digit ("12.50", "1,.5"): a text with neither has no
# range, and most footnotes ("Held by the 2010 Trust.") are skipped without running the range patterns
_DECIMAL = re.compile(r"\d[\d,]*\.\d")


def _ranges(text: str | None) -> tuple:
    """notes.price_ranges, without its regular expressions for texts that cannot hold a price."""
    if not text or ("$" not in text and not _DECIMAL.search(text)):
        return ()
    return price_ranges(text)


def _price_ranges(t: pd.DataFrame, notes: pd.DataFrame, texts: list[str], price: np.ndarray):
    """derive._Filing._range per transaction row: (price_low, price_high, price_outside_range)."""
    n = len(t)
    low, high, outside = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    if not len(notes):
        return low, high, outside
    ranges = _per_text(notes, texts, _ranges)
    has = ranges.map(bool).to_numpy(dtype=bool)
    if not has.any():
        return low, high, outside
    by_note = {
        (int(f), i): (r, txt)
        for f, i, r, txt in zip(
            notes["_f"][has], notes["footnote_id"][has], ranges[has], notes["text"][has], strict=True
        )
    }
    tf = t["_f"].to_numpy()
    ids_all = t["footnote_ids"].to_numpy(dtype=object)
    row_ids = t["row_id"].to_numpy(dtype=object)
    # the rows with footnotes in filings with a range in a footnote
    sel = np.flatnonzero(np.isin(tf, [f for f, _ in by_note]) & pd.notna(ids_all))
    # the transaction rows pointing at each footnote with more than one range, in order ("respectively")
    several = {key for key, (rs, _) in by_note.items() if len(rs) > 1}
    pointing: dict[tuple[int, str], list[str]] = {}
    for fi, ids, rid in zip(tf[sel].tolist(), ids_all[sel].tolist(), row_ids[sel].tolist(), strict=True):
        for k in ids.split(","):
            if (fi, k) in several:
                pointing.setdefault((fi, k), []).append(rid)
    tol = derive.RANGE_TOLERANCE
    for j in sel[[bool(ids) for ids in ids_all[sel]]]:
        fi, p = int(tf[j]), price[j]
        known = p == p  # not NaN
        found, fallback = None, None
        for k in ids_all[j].split(","):
            got = by_note.get((fi, k))
            if not got:
                continue
            rs, text = got
            if len(rs) == 1:
                rng = rs[0]
            elif derive.respectively(text) and len(rs) == len(rows := pointing.get((fi, k), [])):
                rng = rs[rows.index(row_ids[j])]
            else:
                rng = next((r for r in rs if known and r[0] - tol <= p <= r[1] + tol), rs[0])
            if not known or rng[0] - tol <= p <= rng[1] + tol:
                found = rng
                break
            fallback = fallback or rng
        found = found or fallback
        if found is not None:
            low[j], high[j] = found
            outside[j] = known and not (found[0] - tol <= p <= found[1] + tol)
    return low, high, outside


def _col_obj(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _checkbox_plan(code, box) -> tuple:
    """derive._Filing._plan for a row of a filing whose footnotes and remarks say nothing about a plan:
    (is_10b5_1, source, note, conflict, adoption date, adopted before)."""
    if code not in derive.PLAN_CODES:
        if box is True:
            name = code_name(code) or "no code"
            note = (
                f"checkbox checked, but code {code or '?'} ({name}) is not a trade a plan covers: not applied"
            )
            return None, None, note, False, None, None
        return (
            (False, "checkbox", None, False, None, None)
            if box is False
            else (None,) * 3 + (False, None, None)
        )
    if box is True:
        return True, "checkbox", None, False, None, None
    if box is False:
        return False, "checkbox", None, False, None, None
    return None, None, None, False, None, None


def _text_plans(plan, t, hold, notes, filings, text_f, code, tdate) -> None:
    """The plan columns of the rows of filings whose texts speak of a plan, by derive's own rules (its _Filing
    plan context, _plan and _adoption), in place in `plan`."""
    tf = t["_f"].to_numpy()
    by_f: dict[int, dict[str, str]] = {}
    sel = text_f[notes["_f"].to_numpy()]
    for fi, k, v in zip(*(notes[c][sel].tolist() for c in ("_f", "footnote_id", "text")), strict=True):
        by_f.setdefault(fi, {})[k] = v
    refs: dict[int, set[str]] = {}
    for frame in (t, hold):
        if len(frame):
            sel = text_f[frame["_f"].to_numpy()]
            for fi, ids in zip(frame["_f"][sel].tolist(), frame["footnote_ids"][sel].tolist(), strict=True):
                if ids:
                    refs.setdefault(fi, set()).update(k for k in ids.split(",") if k)
    ctxs: dict[int, derive._Filing] = {}
    ids_all = t["footnote_ids"].to_numpy(dtype=object)
    days = tdate.astype(object)
    remarks = filings["remarks"].to_numpy(dtype=object)
    box = filings["aff10b5one"].to_numpy(dtype=object)
    fdate = filings["filing_date"].to_numpy(dtype=object)
    for j in np.flatnonzero(text_f[tf]):
        fi = int(tf[j])
        ctx = ctxs.get(fi)
        if ctx is None:
            ctx = ctxs[fi] = object.__new__(derive._Filing)
            ctx.footnotes, ctx.checkbox, ctx.remarks, ctx.fdate = (
                by_f.get(fi, {}),
                box[fi],
                remarks[fi],
                fdate[fi],
            )
            ctx._plan_context(refs.get(fi, set()))
        ids = ids_all[j]
        row_notes = [(k, x) for k in (ids.split(",") if ids else []) if k and (x := ctx.footnotes.get(k))]
        said, source, conflict, note = ctx._plan(code[j], row_notes)
        adopted, adoption_note = ctx._adoption(row_notes, days[j]) if said else (None, "")
        plan[j] = (
            said,
            source,
            derive._join([note, adoption_note]) or None,
            conflict,
            adopted.date if adopted else None,
            adopted.before if adopted else None,
        )


def _holdings_mismatch(f, table, cols, title, owned, signed, day) -> np.ndarray:
    """Rows derive._flag_holdings_chain flags: the breaks of each filing's table in listed order, or in transaction
    date order (stable; no date first) where that order has fewer."""
    listed = _chain_breaks(f, table, cols, title, owned, signed)
    if not listed.any():
        return listed
    group = f * 2 + (table == "derivative")
    # the rows of each table with a break, in listed order, then by day within their table (NaT: the least int64)
    broken = np.flatnonzero(np.isin(group, group[listed]))
    at = broken[np.lexsort((day[broken].astype(np.int64), group[broken]))]
    sub = {k: cols[k][at] for k in ("direct_indirect", "conversion_price", "expiration_date")}
    dated = np.zeros(len(f), dtype=bool)
    dated[at[_chain_breaks(f[at], table[at], sub, title[at], owned[at], signed[at])]] = True
    size = 2 * (int(f.max()) + 1)
    fewer = np.bincount(group[dated], minlength=size) < np.bincount(group[listed], minlength=size)
    return np.where(fewer[group], dated, listed)


def _chain_breaks(f, table, cols, title, owned, signed) -> np.ndarray:
    """Rows where derive._chain_breaks finds a break, the rows taken in the order given."""
    direct = cols["direct_indirect"] == "D"
    deriv = table == "derivative"
    conv, exp = cols["conversion_price"], cols["expiration_date"]
    direct &= ~deriv | (~np.isnan(conv) & ~np.isnat(exp))
    out = np.zeros(len(f), dtype=bool)
    if not direct.any():
        return out
    idx = np.flatnonzero(direct)
    frame = pd.DataFrame(
        {
            "f": f[idx],
            "t": deriv[idx],
            "title": [(x or "").lower() for x in title[idx]],
            "conv": np.nan_to_num(conv[idx], nan=-1.0),
            "exp": exp[idx].astype("int64"),
            "owned": owned[idx],
        }
    )
    keys = ["f", "t", "title", "conv", "exp"]
    last = frame.groupby(keys, sort=False)["owned"].ffill()
    prev = last.groupby([frame[k] for k in keys], sort=False).shift(1).to_numpy(dtype=float)
    own, sig = owned[idx], signed[idx]
    known = ~np.isnan(prev) & ~np.isnan(own) & ~np.isnan(sig)
    whole = deriv[idx] & ~np.isnan(own) & ~np.isnan(sig) & ((own == sig) | ((sig < 0) & (own == 0)))
    with np.errstate(invalid="ignore"):
        brk = known & ~whole & (np.abs(prev + sig - own) > np.maximum(1.0, 0.001 * np.abs(own)))
    out[idx[brk]] = True
    return out


_FILING_KEYS = (
    "accession", "form", "schema_version", "period_of_report", "filing_date", "filing_date_source",
    "date_of_original_submission", "amends_accession", "issuer_cik", "issuer_name", "ticker",
    "not_subject_to_section16", "aff10b5one", "remarks", "signature_name", "signature_date", "xml_url", "n_owners",
)  # fmt: skip


def _reference(
    fil: pd.DataFrame, tx: pd.DataFrame, hold: pd.DataFrame, notes: pd.DataFrame, complex_f, own: dict
):
    """derive_filing on the raw facts of the complex filings (own: the columns each row takes from its filing, by
    filing position): {"filings": table, "transactions": (table, positions), "holdings": (table, positions)}, each
    an Arrow table of conform()'s values (schema.to_arrow)."""
    tsel = np.flatnonzero(complex_f[tx["_f"].to_numpy()]) if len(tx) else np.zeros(0, dtype=np.int64)
    hsel = np.flatnonzero(complex_f[hold["_f"].to_numpy()]) if len(hold) else np.zeros(0, dtype=np.int64)
    t_by = _records(tx, tsel, _RAW_TX, own)
    h_by = _records(hold, hsel, _RAW_HOLD, own)
    n_by: dict[int, dict[str, str]] = {}
    mine = complex_f[notes["_f"].to_numpy()] if len(notes) else np.zeros(0, dtype=bool)
    for fi, k, v in zip(
        *(notes[c].to_numpy()[mine].tolist() for c in ("_f", "footnote_id", "text")), strict=True
    ):
        n_by.setdefault(fi, {})[k] = v
    fsel = np.flatnonzero(complex_f)
    base = _plain(fil.iloc[fsel][list(_FILING_KEYS)].to_dict("records"))
    t_out: list[dict] = []
    h_out: list[dict] = []
    for fi, filing in zip(fsel, base, strict=True):
        filing["n_owners"] = int(filing["n_owners"])
        rows_t, rows_h = t_by.get(int(fi), []), h_by.get(int(fi), [])
        derive.derive_filing(filing, rows_t, rows_h, n_by.get(int(fi), {}))
        t_out += rows_t
        h_out += rows_h
    return {
        "filings": _records_table(base, "filings"),
        "transactions": (_records_table(t_out, "transactions"), tsel),
        "holdings": (_records_table(h_out, "holdings"), hsel),
    }


def _records_table(records: list[dict], name: str) -> pa.Table:
    """Row dicts as the store table `name` (a key the schema lacks is left out, a column no dict has is null)."""
    return to_arrow({c: [r.get(c) for r in records] for c in SCHEMAS[name]}, name, len(records))


def _plain(recs: list[dict]) -> list[dict]:
    for r in recs:
        for k, v in r.items():
            if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                r[k] = None
            elif isinstance(v, np.integer):
                r[k] = int(v)
            elif isinstance(v, np.bool_):
                r[k] = bool(v)
    return recs


def _records(frame: pd.DataFrame, sel: np.ndarray, keys: set[str], own: dict) -> dict[int, list[dict]]:
    """The raw-fact dicts of the selected rows, with their filing's columns (own), grouped by filing position (row
    order kept)."""
    out: dict[int, list[dict]] = {}
    if not len(sel):
        return out
    f = frame["_f"].to_numpy()[sel]
    cols = [c for c in frame.columns if c in keys]
    arrays = [frame[c].to_numpy()[sel].tolist() for c in cols]  # Python scalars; None already
    cols += [c for c in own if c in keys and c not in frame.columns]
    arrays += [own[c][f].tolist() for c in cols[len(arrays) :]]
    for i, fi in enumerate(f):
        out.setdefault(int(fi), []).append({c: a[i] for c, a in zip(cols, arrays, strict=True)})
    return out


_RAW_TX = {
    "row_id", "accession", "table", "seq", "issuer_cik", "issuer_name", "ticker", "owner_cik", "owner_name",
    "owner_ciks", "owner_names", "n_owners", "is_director", "is_officer", "is_ten_percent_owner", "is_other",
    "officer_title", "role", "footnote_ids", "superseded_by", "unverified", "security_title",
    "transaction_date_raw", "deemed_execution_date", "transaction_form_type", "code", "equity_swap", "timeliness",
    "shares_raw", "price_raw", "acquired_disposed", "owned_after_raw", "value_owned_after", "direct_indirect",
    "nature", "conversion_price", "expiration_date", "underlying_title", "underlying_shares", "exercise_date",
}  # fmt: skip
_RAW_HOLD = {
    "row_id", "accession", "table", "seq", "issuer_cik", "issuer_name", "ticker", "owner_cik", "owner_name",
    "owner_ciks", "owner_names", "n_owners", "is_director", "is_officer", "is_ten_percent_owner", "is_other",
    "officer_title", "role", "footnote_ids", "superseded_by", "unverified", "security_title", "shares_owned_raw",
    "value_owned", "direct_indirect", "nature", "conversion_price", "expiration_date", "underlying_title",
    "underlying_shares", "exercise_date",
}  # fmt: skip
