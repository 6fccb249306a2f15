"""schema.to_arrow: the store's Arrow tables built from numpy/pandas columns hold what conform() would give."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from loaders.schema import SCHEMAS, arrow_schema, conform, from_arrow, to_arrow

N = 4
CASES = {
    "strings as objects, with None and NaN": ("security_title", np.array(["A", None, np.nan, "B"], dtype=object)),
    "numbers in a text column": ("security_title", np.array(["A", 3, 2.5, None], dtype=object)),
    "floats with NaN": ("shares", np.array([1.5, np.nan, 0.0, -2.0])),
    "ints into a float column": ("shares", np.array([1, 2, 3, 4])),
    "numeric text into a float column": ("price", np.array(["1.5", "x", None, "2"], dtype=object)),
    "floats into an int column": ("late_business_days", np.array([1.0, np.nan, 2.0, 0.0])),
    "objects into an int column": ("late_business_days", np.array([1, None, "3", 4.0], dtype=object)),
    "pandas Int64": ("late_business_days", pd.array([1, None, 3, 4], dtype="Int64")),
    "bools": ("is_late", np.array([True, False, True, False])),
    "bools as objects with None and numpy bools": ("is_late", np.array([True, None, np.bool_(False), False], dtype=object)),
    "pandas boolean": ("is_10b5_1", pd.array([True, None, False, True], dtype="boolean")),
    "datetime64 in days": ("transaction_date", np.array(["2020-01-02", "NaT", "1999-12-31", "2023-05-05"], "datetime64[D]")),
    "datetime64 in ns": ("transaction_date", np.array(["2020-01-02", "NaT", "1999-12-31", "2023-05-05"], "datetime64[ns]")),
    "dates as objects": ("transaction_date", np.array([dt.date(2020, 1, 2), None, dt.date(1999, 12, 31), "x"], dtype=object)),
    "a list of text": ("tenb51_source", ["checkbox", None, "footnote", None]),
    "one value for every row": ("unverified", None),
    "one text for every row": ("source", "dataset"),
    "a numpy scalar for every row": ("seq", np.int64(3)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_to_arrow_holds_what_conform_gives(case):
    """Guards against the Arrow hand-off of the data-set reader (to_arrow, no pandas on the way) storing other
    values than conform(): NaN kept as a number instead of null, a number in a text column lost, a date shifted by
    a unit mix-up, an int column refusing floats, a scalar not repeated."""
    col, values = CASES[case]
    table = to_arrow({col: values}, "transactions", N)
    assert table.schema == arrow_schema("transactions")
    want = conform(pd.DataFrame({col: values}, index=range(N)), "transactions")
    got = from_arrow(table, "transactions")
    pd.testing.assert_frame_equal(got, want)
    assert got[col].notna().any() or values is None  # the case converts something


def test_to_arrow_makes_dates_beyond_datetime64_ns_null_not_wrapped():
    """Guards against numpy's silent overflow: 3000-01-01 in days, cast to nanoseconds, became 1830-11-23."""
    days = np.array(["3000-01-01", "2020-05-01", "1600-01-01", "NaT"], "datetime64[D]")
    got = from_arrow(to_arrow({"transaction_date": days}, "transactions", N), "transactions")[
        "transaction_date"
    ]
    assert got.isna().tolist() == [True, False, True, True]
    assert got.iloc[1] == pd.Timestamp("2020-05-01")


def test_every_declared_column_has_an_arrow_type():
    """Guards against a column added to a schema without the Arrow type the store writes it with."""
    for name, cols in SCHEMAS.items():
        assert arrow_schema(name).names == list(cols)
