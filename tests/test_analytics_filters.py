"""Filters: URL round-trip, tolerance of junk, the sentence, and row selection."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from analytics.filters import Filters, apply_filters, default_range, fmt_money, fmt_shares
from loaders.frames import load
from tests.store_support import fixture_store


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    return load(fixture_store(tmp_path_factory.mktemp("filters")))


def test_query_round_trip_over_many_combinations():
    """Guards against a shared URL that comes back as a different view."""
    options = {
        "tickers": [(), ("NLY",), ("NLY", "TEAM")],
        "insider": [None, 1688537],
        "start": [None, dt.date(2023, 1, 1)],
        "end": [None, dt.date(2024, 10, 31)],
        "codes": [("P", "S"), (), ("S",), ("A", "F", "M")],
        "roles": [(), ("officer",), ("director", "ten_percent")],
        "plan": [(), ("yes",), ("no", "unknown")],
        "min_value": [0.0, 100000.0],
        "freq": ["M", "Q"],
        "unit": ["$", "shares"],
    }
    keys = list(options)
    for combo in itertools.islice(itertools.product(*options.values()), 0, None, 7):
        f = Filters(
            **dict(zip(keys, combo, strict=True)), title_contains="CFO", ownership="I", derivative="non"
        )
        assert Filters.from_query(f.to_query()) == f


def test_defaults_leave_url_empty_and_junk_is_ignored():
    """Guards against noisy URLs and against a hand-edited URL crashing the page."""
    assert Filters().to_query() == {}
    junk = {"ticker": "<script>", "insider": "abc", "start": "2023-13-45", "codes": "ZZ,S", "role": "king",
            "own": "X", "plan": "maybe", "min": "-5", "freq": "W", "unit": "€"}  # fmt: skip
    f = Filters.from_query(junk)
    assert f == Filters(codes=("S",))
    assert Filters.from_query({"start": "2024-12-31", "end": "2024-01-01"}).start == dt.date(2024, 1, 1)
    assert Filters.from_query({"ticker": ["NLY", "TEAM"]}).tickers == ("TEAM",)  # last value wins, as in URLs


@pytest.mark.parametrize(
    ("f", "sentence"),
    [
        (
            Filters(tickers=("NLY",), roles=("officer",), start=dt.date(2023, 1, 1), end=dt.date(2024, 10, 31),
                    codes=("S",), plan=("yes",)),
            "Open-market sales by officers of NLY, 2023-01-01 to 2024-10-31, under a 10b5-1 plan only.",
        ),
        (Filters(), "Open-market purchases and sales of all loaded issuers, all dates."),
        (
            Filters(tickers=("NLY", "TEAM"), codes=(), min_value=100000, ownership="D"),
            "All transactions of NLY and TEAM, all dates, direct holdings only, at least $100,000 each.",
        ),
        (
            Filters(insider=1688537, codes=("A", "F"), start=dt.date(2024, 1, 1)),
            "Transactions coded A (grant or award from the company) and F (tax or exercise price paid with shares "
            "(withholding)) by Finkelstein David L of all loaded issuers, from 2024-01-01.",
        ),
    ],
)  # fmt: skip
def test_describe_sentences(f, sentence):
    """Guards against a sentence that misdescribes the view (the explorer and exports rely on it)."""
    assert f.describe(insider_name="Finkelstein David L") == sentence


def test_apply_filters_each_field(frames):
    """Guards against a filter silently doing nothing (each one must cut the fixture rows as expected)."""
    tx = frames.transactions
    f = Filters(codes=())
    assert len(apply_filters(tx, f)) == len(tx)
    assert set(apply_filters(tx, f.replace(tickers=("BETA",)))["ticker"]) == {"BETA"}
    assert set(apply_filters(tx, f.replace(insider=1000005))["shares"]) == {100000.0}  # joint filer's row
    assert set(apply_filters(tx, f.replace(roles=("ten_percent",)))["owner_cik"]) == {1000004}
    assert set(apply_filters(tx, f.replace(title_contains="financial"))["owner_name"]) == {"Major Mary"}
    assert set(apply_filters(tx, f.replace(ownership="I"))["owner_cik"]) == {1000004}
    assert set(apply_filters(tx, f.replace(derivative="derivative"))["table"]) == {"derivative"}
    assert len(apply_filters(tx, f.replace(plan=("unknown",)))) == 1  # Beta Bob's 10b-5 footnote sale
    assert apply_filters(tx, f.replace(min_value=1_000_000))["value"].min() >= 1_000_000
    ranged = apply_filters(tx, f.replace(start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31)))
    assert ranged["transaction_date"].between("2024-01-01", "2024-03-31").all() and len(ranged) == 4


def test_default_range_is_two_years_to_latest_filing(frames):
    """Guards against defaulting to all history (slow, unreadable charts) or to today's date."""
    assert default_range(frames.filings) == (dt.date(2022, 9, 19), dt.date(2024, 9, 18))


def test_number_formats():
    """Guards against unreadable figures ($1234567.0) on headline cards."""
    assert [fmt_money(v) for v in (1_234_567, -350_000, 12.3e9, 950, 0)] == [
        "$1.2M",
        "-$350K",
        "$12.3B",
        "$950",
        "$0",
    ]
    assert fmt_money(100000, exact=True) == "$100,000" and fmt_money(None) == "–"
    assert fmt_shares(25_000) == "25K" and fmt_shares(-1_500_000) == "-1.5M"
