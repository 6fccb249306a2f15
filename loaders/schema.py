"""Declared columns and dtypes of every frame the loaders hand out; `conform` enforces them.

Frames (one row each):
- FILINGS       one ownership filing (accession)
- OWNERS        one reporting owner of one filing (joint filings have several)
- TRANSACTIONS  one transaction row of Table I (non-derivative) or Table II (derivative)
- HOLDINGS      one holdings row (not a trade: anchors holdings, never flow)
- FOOTNOTES     one footnote of one filing

Row identity is accession + table + position (`row_id`), never (owner, date, code).
Owner columns on TRANSACTIONS/HOLDINGS describe the filing's first reporting owner; `owner_ciks` and
`owner_names` list every owner ("|"-joined) so a joint filing is counted once at issuer level and still
found from each insider.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

S, F, I, B, D = "string", "float64", "Int64", "boolean", "datetime64[ns]"  # noqa: E741

FILINGS: dict[str, str] = {
    "accession": S,  # 0001104659-24-112345
    "form": S,  # 3, 3/A, 4, 4/A, 5, 5/A
    "is_amendment": B,
    "schema_version": S,
    "period_of_report": D,
    "filing_date": D,  # from EDGAR's index/submissions; else signature date (filing_date_source says which)
    "filing_date_source": S,  # edgar | manifest | signature | period
    "date_of_original_submission": D,
    "amends_accession": S,  # lineage: the original this amendment restates (when it is in the store)
    "issuer_cik": I,
    "issuer_name": S,
    "ticker": S,  # upper-case trading symbol as filed
    "n_owners": I,
    "not_subject_to_section16": B,
    "aff10b5one": B,  # checkbox: True/False, <NA> when the form has no such element (pre-2023)
    "remarks": S,
    "signature_name": S,
    "signature_date": D,
    "n_transactions": I,
    "n_holdings": I,
    "filing_url": S,  # EDGAR filing index page
    "xml_url": S,  # raw XML on EDGAR
    # issue 6: values out of range become null with a flag (FILING_FLAGS); most of them quarantine the filing
    "flags": S,
}

OWNERS: dict[str, str] = {
    "accession": S,
    "position": I,  # order of the reportingOwner element (0 = first)
    "owner_cik": I,
    "owner_name": S,
    "is_director": B,
    "is_officer": B,
    "is_ten_percent_owner": B,
    "is_other": B,
    "officer_title": S,
    "other_text": S,
    "role": S,  # "Director; Officer (CEO); 10% Owner; Other (…)"
    "city": S,
    "state": S,
}

_ROW_KEYS: dict[str, str] = {
    "row_id": S,  # f"{accession}:{table}:{seq}"
    "accession": S,
    "table": S,  # nonDerivative | derivative
    "seq": I,  # position among this kind of row (transactions or holdings) in that table
    "form": S,
    "filing_date": D,
    "period_of_report": D,
    "issuer_cik": I,
    "issuer_name": S,
    "ticker": S,
    "owner_cik": I,
    "owner_name": S,
    "owner_ciks": S,  # every reporting owner's CIK, "|"-joined
    "owner_names": S,
    "n_owners": I,
    "is_director": B,
    "is_officer": B,
    "is_ten_percent_owner": B,
    "is_other": B,
    "officer_title": S,
    "role": S,
    "security_title": S,
}

_DERIVATIVE: dict[str, str] = {
    "conversion_price": F,
    "exercise_date": D,
    "expiration_date": D,
    "underlying_title": S,
    "underlying_shares": F,
}

_TAIL: dict[str, str] = {
    "direct_indirect": S,  # D | I
    "nature": S,  # nature of indirect ownership ("By Trust")
    "footnote_ids": S,  # every footnote id on any field of the row, "F1,F3"
    "footnotes": S,  # "F1: text\nF3: text"
    "flags": S,  # comma-separated sanity flags (see TRANSACTION_FLAGS)
    "superseded_by": S,  # accession of the amendment that restates this row; <NA> = live
}

TRANSACTIONS: dict[str, str] = {
    **_ROW_KEYS,
    "transaction_date": D,  # cleaned: typo dates fall back to period_of_report (flag date_fallback)
    "transaction_date_raw": S,
    "deemed_execution_date": D,
    "transaction_form_type": S,
    "code": S,  # SEC transaction code (P, S, A, M, ...); <NA> when transactionCoding is missing
    "code_name": S,  # plain English
    "equity_swap": B,
    "timeliness": S,  # E early / L late / <NA>
    "acquired_disposed": S,  # A | D
    "shares": F,
    "shares_raw": S,  # text as filed ("923 F1"); number null when it is not a number
    "price": F,
    "price_raw": S,
    "value": F,  # shares * price
    "signed_shares": F,  # +shares for A, -shares for D
    "signed_value": F,
    "owned_after": F,
    "owned_after_raw": S,
    "value_owned_after": F,  # some filers report a value instead of shares
    **_DERIVATIVE,
    "is_10b5_1": B,  # tri-state: True / False / <NA> unknown
    "tenb51_source": S,  # checkbox | row_footnote | filing_footnote | remarks | <NA>
    "plan_adoption_date": D,
    "price_low": F,  # weighted-average price range from footnotes
    "price_high": F,
    "late_business_days": I,  # business days from transaction (or deemed execution) date to filing date
    "is_late": B,  # > 2 business days (Form 4), or timeliness L
    **_TAIL,
    # issue 8: derived-value provenance
    "tenb51_note": S,  # why is_10b5_1 is what it is, when not plain (conflict, scope, misspelling, adoption)
    "plan_adopted_before": D,  # the plan was adopted before this date (no exact adoption date given)
}

HOLDINGS: dict[str, str] = {
    **_ROW_KEYS,
    "shares_owned": F,
    "shares_owned_raw": S,
    "value_owned": F,
    **_DERIVATIVE,
    **_TAIL,
}

FOOTNOTES: dict[str, str] = {
    "accession": S,
    "footnote_id": S,
    "text": S,
}

# --- issue 9 (market data sets, scalable store): appended columns, filled by every path that builds rows ---
FILINGS.update(
    {
        "source": S,  # xml (the filing's own XML) | dataset (SEC quarterly insider data set)
        "first_owner_cik": I,  # CIK of the first reporting owner (amendment matching without a join)
        "row_kinds": S,  # kinds of rows the filing holds, "nonDerivative:T,derivative:H" (what a 4/A restates)
    }
)
OWNERS.update({"source": S, "issuer_cik": I})  # issuer_cik: lets a one-issuer query skip other issuers' parts
FOOTNOTES.update({"source": S, "issuer_cik": I})
for _rows in (TRANSACTIONS, HOLDINGS):
    _rows.update(
        {
            "source": S,
            # fields the SEC's positional quirk may have moved between rows of this filing (data-set rows whose XML
            # we do not hold), comma-separated column names ("nature,deemed_execution_date"); <NA> = as filed
            "unverified": S,
        }
    )  # columns the store fills when it writes rows (loaders.store.enrich), not the parser
STORE_FILLED: dict[str, set[str]] = {
    "filings": {"source", "first_owner_cik", "row_kinds"},
    "owners": {"source", "issuer_cik"},
    "footnotes": {"source", "issuer_cik"},
    "transactions": {"source", "unverified"},
    "holdings": {"source", "unverified"},
}

SCHEMAS: dict[str, dict[str, str]] = {
    "filings": FILINGS,
    "owners": OWNERS,
    "transactions": TRANSACTIONS,
    "holdings": HOLDINGS,
    "footnotes": FOOTNOTES,
}

TRANSACTION_FLAGS = {
    "date_after_filing": "transaction date is after the filing date",
    "date_before_1990": "transaction date is before 1990",
    "date_fallback": "transaction date unusable; period of report used instead",
    "implausible_value": "shares x price is implausibly large",
    "holdings_mismatch": "owned before +/- shares does not equal owned after",
    "value_missing": "shares or price not a number as filed",
    "tenb51_conflict": "10b5-1 checkbox and the footnotes or remarks disagree",
    "price_outside_range": "price lies outside the range its own footnote gives",
    # issue 6
    "value_out_of_range": "shares, price or holding negative, infinite or absurdly large as filed; stored as null",
    "date_out_of_range": "a date outside the years 1900-2261 as filed; stored as null",
}

# issue 6: flags on a filing; all but original_date_out_of_range quarantine it (loaders/quarantine.py): a filing
# whose issuer, owner or own dates are impossible cannot be placed
FILING_FLAGS = {
    "issuer_cik_invalid": "the issuer CIK is not a CIK (1 to 10 digits)",
    "owner_cik_invalid": "a reporting owner's CIK is not a CIK (1 to 10 digits)",
    "signature_date_out_of_range": "the signature date is outside the years 1900-2261",
    "period_out_of_range": "the period of report is outside the years 1900-2261",
    "original_date_out_of_range": "the date of the original submission is outside the years 1900-2261",
}


def empty(name: str) -> pd.DataFrame:
    """An empty frame with the declared columns and dtypes of `name`."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCHEMAS[name].items()})


_DTYPES = {t: pd.api.types.pandas_dtype(t) for t in (S, F, I, B, D)}  # "string" = pandas' default storage


def conform(frame: pd.DataFrame | list[dict], name: str) -> pd.DataFrame:
    """Exactly the declared columns of `name`, in order, with their dtypes (missing columns become null)."""
    schema = SCHEMAS[name]
    df = pd.DataFrame(frame) if not isinstance(frame, pd.DataFrame) else frame
    out = {}
    for col, dtype in schema.items():
        if col not in df.columns:
            out[col] = pd.Series([None] * len(df), index=df.index).astype(dtype if dtype != F else "float64")
            continue
        out[col] = _conform_column(df[col], dtype)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def _conform_column(s: pd.Series, dtype: str) -> pd.Series:
    if s.dtype == _DTYPES[dtype]:
        return s  # already conformed (the frame conform builds copies it)
    if dtype == D:
        # a column DuckDB already gives as dates skips to_datetime (which walks every value to decide on a cache)
        dates = s if pd.api.types.is_datetime64_dtype(s.dtype) else pd.to_datetime(s, errors="coerce")
        return dates.astype("datetime64[ns]")
    if dtype == F:
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if dtype == I:
        return pd.to_numeric(s, errors="coerce").astype("Int64")
    if dtype == B:
        return s.astype("boolean")
    return s.astype("string")


def _arrow_dtype(t: pa.DataType):
    """The pandas dtype an Arrow column becomes in from_arrow (None: pyarrow's default)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def from_arrow(table: pa.Table, name: str) -> pd.DataFrame:
    """conform() of an Arrow query result, converted column by column to the nullable dtypes (text straight to
    "string": going through Python objects first made converting a large issuer's rows half of its load)."""
    return conform(table.to_pandas(types_mapper=_arrow_dtype, date_as_object=False), name)


# the order the store keeps each table's rows in (a part is sorted so; nulls last)
SORT_KEYS = {
    "filings": ["issuer_cik", "filing_date", "accession"],
    "owners": ["issuer_cik", "accession", "position"],
    "transactions": ["issuer_cik", "accession", "table", "seq"],
    "holdings": ["issuer_cik", "accession", "table", "seq"],
    "footnotes": ["issuer_cik", "accession", "footnote_id"],
}


def taken(table: pa.Table, order: np.ndarray) -> pa.Table:
    """table.take(order); the table itself (no copy) when order is 0, 1, ..., n-1."""
    return table if np.array_equal(order, np.arange(len(order))) else table.take(order)


def sorted_rows(table: pa.Table, keys: pa.Table) -> pa.Table:
    """table's rows sorted by the columns of `keys` (a row each), ascending, stable, nulls last (as pandas'
    sort_values(kind="stable") sorts); the table itself when they already are."""
    by = [(k, "ascending") for k in keys.column_names]
    return taken(table, pc.sort_indices(keys, sort_keys=by).to_numpy())


_ARROW = {S: pa.string(), F: pa.float64(), I: pa.int64(), B: pa.bool_(), D: pa.timestamp("ns")}


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of `name` as the store writes it (what pyarrow makes of a conformed frame)."""
    return pa.schema([(c, _ARROW[t]) for c, t in SCHEMAS[name].items()])


# numpy kinds that convert straight to each Arrow column type with conform()'s values; anything else goes through
# conform's own conversion (_conform_column)
_FAST_KINDS = {S: "O", F: "fiub", I: "iubf", B: "bO", D: "M"}
_NS_FIRST, _NS_LAST = (
    np.datetime64("1677-09-22", "D"),
    np.datetime64("2262-04-10", "D"),
)  # datetime64[ns] range


def to_arrow(columns: dict, name: str, n: int) -> pa.Table:
    """The columns of `name` (numpy arrays, pandas arrays, lists of n values or one value for every row; a missing
    column is null) as an Arrow table with the values conform() gives: NaN and None are null, numbers and dates
    that do not convert are null. Arrays already of the column's kind convert without a pass through pandas; a date
    outside datetime64[ns]'s range is null. Arrow arrays are taken as they are (cast to the column's type)."""
    arrays = [arrow_column(columns.get(col), dtype, n) for col, dtype in SCHEMAS[name].items()]
    return pa.Table.from_arrays(arrays, schema=arrow_schema(name))


def arrow_column(values: Any, dtype: str, n: int) -> pa.Array | pa.ChunkedArray:
    """One column of to_arrow: `values` (an array, a list of n values, or one value for every row; None: a null
    column) as an Arrow array of the schema dtype `dtype`, with conform()'s values."""
    kind = _ARROW[dtype]
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if values.type == kind else values.cast(kind)
    if values is None or np.ndim(values) == 0:  # missing, or one value for every row
        values = np.full(n, values, dtype=object)
    try:
        dt = getattr(values, "dtype", None)
        if isinstance(dt, np.dtype) and dt.kind not in _FAST_KINDS[dtype]:
            raise TypeError("another kind: conform decides")
        if dt is None and dtype in (D, I):
            raise TypeError("a list: conform decides")
        if dtype == D and dt != np.dtype("datetime64[ns]"):
            days = values.astype("datetime64[D]")
            values = np.where((days < _NS_FIRST) | (days > _NS_LAST), np.datetime64("NaT"), values)
            values = values.astype("datetime64[ns]")
        if dtype in (D, I) and dt == np.dtype("O"):
            raise TypeError("objects: conform decides")
        return pa.array(values, kind, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        conformed = _conform_column(pd.Series(values, dtype=object), dtype)
        return pa.Array.from_pandas(conformed, type=kind)


def check(frame: pd.DataFrame, name: str) -> None:
    """Raise AssertionError when `frame` does not have exactly the declared columns and dtypes."""
    want = SCHEMAS[name]
    assert list(frame.columns) == list(want), f"{name}: columns {list(frame.columns)} != {list(want)}"
    for col, dtype in want.items():
        assert str(frame[col].dtype) == dtype, f"{name}.{col}: dtype {frame[col].dtype} != {dtype}"
