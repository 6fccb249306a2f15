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


# ---------------------------------------------------------------------- descriptors: SQL agrees with pandas
@pytest.fixture(scope="module")
def store_rows(tmp_path_factory):
    """The fixture store plus a share-class issuer ("WLY, WLYB"), and every row of its `transactions` view."""
    from loaders.ingest import ingest_dir
    from loaders.schema import conform
    from tests.fixtures.builder import Owner, Tx, form_xml

    store = fixture_store(tmp_path_factory.mktemp("sql"))
    extra = tmp_path_factory.mktemp("wly")
    wiley = (107140, "WILEY JOHN & SONS INC", "WLY, WLYB")
    xml = form_xml(issuer=wiley, owners=[Owner(3000001, "Wiley Will", director=True)], period="2024-03-01",
                   transactions=[Tx("2024-03-01", "S", 500, 33.0, "D", 1500)], aff10b5one=False)  # fmt: skip
    (extra / "0000107140-24-000001.xml").write_bytes(xml)
    old = form_xml(issuer=(*wiley[:2], "JW.A"), owners=[Owner(3000001, "Wiley Will", director=True)],
                   period="2019-03-01", transactions=[Tx("2019-03-01", "P", 100, 40.0, "A", 2000)])  # fmt: skip
    (extra / "0000107140-19-000001.xml").write_bytes(old)  # the same issuer under its former symbol
    assert ingest_dir(extra, store).new == 2
    return store, conform(store.query("SELECT * FROM transactions"), "transactions")


AGREEMENT_CASES = [
    Filters(codes=()),
    Filters(),
    Filters(codes=("S",), plan=("yes",)),
    Filters(codes=(), plan=("unknown",)),
    Filters(codes=(), plan=("no", "unknown")),
    Filters(codes=(), tickers=("BETA",)),
    Filters(codes=(), tickers=("ACME", "BETA"), start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30)),
    Filters(codes=(), tickers=("WLY",)),
    Filters(codes=(), tickers=("WLYB",)),
    Filters(codes=(), insider=1000005),
    Filters(codes=(), insider=1000001, roles=("director",)),
    Filters(codes=(), roles=("ten_percent", "officer")),
    Filters(codes=(), title_contains="FINANCIAL"),
    Filters(codes=(), ownership="I"),
    Filters(codes=(), ownership="D", derivative="non"),
    Filters(codes=(), derivative="derivative"),
    Filters(codes=("M", "S", "F"), min_value=100_000),
    Filters(codes=(), min_value=224_000),  # exactly Jane Roe's 8,000 x $28.00: the floor is inclusive
    Filters(codes=(), min_value=0.5, end=dt.date(2023, 12, 31)),
    Filters(codes=("G",)),
]


@pytest.mark.parametrize("f", AGREEMENT_CASES, ids=repr)
def test_sql_where_selects_the_same_rows_as_apply_filters(store_rows, f):
    """Guards against the SQL path (market pages over a big store) and the pandas path (issuer pages) showing
    different rows for one URL: every filter's clause must select exactly what its row mask selects."""
    store, tx = store_rows
    sql, params = f.sql_where("t")
    got = set(store.query(f"SELECT row_id FROM transactions t WHERE {sql}", params)["row_id"])
    want = set(apply_filters(tx, f)["row_id"])
    assert got == want
    assert want  # every case selects some rows, so an always-false clause cannot pass
    if f != Filters(codes=()):
        assert len(want) < len(tx)  # the filter really cuts something


def test_share_class_tickers_match_either_class(store_rows):
    """Guards against issue 7 item 4: a filing whose symbol reads "WLY, WLYB" matched neither WLY nor WLYB."""
    _, tx = store_rows
    for ticker in ("WLY", "WLYB", "wly", "JW.A"):
        rows = apply_filters(tx, Filters(codes=(), tickers=(ticker,)))
        assert set(rows["issuer_cik"]) == {107140}
        assert len(rows) == 2  # the issuer's rows under its former symbol too
    assert Filters.from_query({"ticker": "WLY, WLYB"}).tickers == ("WLY", "WLYB")


def test_skip_leaves_a_filter_out_of_both_paths(store_rows):
    """Guards against `skip` working for rows but not for SQL (holdings sections skip codes and plan)."""
    store, tx = store_rows
    f = Filters(codes=("S",), plan=("yes",), tickers=("ACME",))
    sql, params = f.sql_where("t", skip=("codes", "plan"))
    got = set(store.query(f"SELECT row_id FROM transactions t WHERE {sql}", params)["row_id"])
    assert got == set(apply_filters(tx, f, skip=("codes", "plan"))["row_id"])
    assert got == set(tx.loc[tx["issuer_cik"] == 1234567, "row_id"])


# ---------------------------------------------------------------------- descriptors: validation messages
@pytest.mark.parametrize(
    ("query", "expected", "words"),
    [
        ({"start": "1800-01-01"}, Filters(start=dt.date(1990, 1, 1)), "before 1990-01-01"),
        ({"end": "9999-12-31"}, Filters(end=dt.date(2100, 1, 1)), "after 2100-01-01"),
        ({"insider": "1" * 40}, Filters(), "at most 10 digits"),
        ({"insider": "0"}, Filters(), "at most 10 digits"),
        ({"min": "1e308"}, Filters(min_value=1e12), "more than $1T"),
        ({"min": "nan"}, Filters(), "zero or more"),
        ({"min": "abc"}, Filters(), "not a number"),
        ({"codes": "ZZ,S"}, Filters(codes=("S",)), "unknown transaction code \u201cZZ\u201d"),
        ({"ticker": "MSFT,<b>,ZZZZQ"}, Filters(tickers=("MSFT", "ZZZZQ")), "\u201c<B>\u201d: not a ticker"),
        ({"start": "2024-12-31", "end": "2024-01-01"},
         Filters(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31)), "swapped"),
        ({"freq": "W"}, Filters(), "period \u201cW\u201d"),
        ({"title": "x" * 100}, Filters(title_contains="x" * 60), "60 characters"),
    ],
)  # fmt: skip
def test_bad_url_values_are_clamped_or_dropped_with_a_message(query, expected, words):
    """Guards against issue 7 item 6: URL values that crashed a page (date widget minimum, DuckDB integer
    overflow, a 300-digit amount) or were dropped silently."""
    f, notices = Filters.parse_query(query)
    assert f == expected
    assert len(notices) == 1 and words in str(notices[0]), notices


def test_thousands_of_tickers_are_capped_with_a_message():
    """Guards against a URL with 3,000 tickers starting 3,000 pulls."""
    f, notices = Filters.parse_query({"ticker": ",".join(f"T{i}" for i in range(3000))})
    assert len(f.tickers) == 20 and f.tickers[0] == "T0"
    assert "3,000 tickers were given; showing the first 20" in str(notices[0])


def test_clean_url_has_no_messages_and_min_round_trips_exactly():
    """Guards against noise messages on a good link and against 1,234,567 coming back as 1.23457e+06."""
    f = Filters(min_value=1_234_567, tickers=("NLY",), insider=1688537, start=dt.date(2024, 1, 1))
    again, notices = Filters.parse_query(f.to_query())
    assert again == f and notices == []
    assert f.to_query()["min"] == "1234567"


def test_filters_are_values():
    """Guards against an immutable filter object being changed in place (pages share one per run)."""
    f = Filters(tickers=["nly"])
    assert f.tickers == ("NLY",) and hash(f) == hash(Filters(tickers=("NLY",)))
    with pytest.raises(AttributeError):
        f.tickers = ("X",)
    with pytest.raises(TypeError):
        Filters(bogus=1)
    assert f.replace(codes=()).codes == () and f.codes == ("P", "S")


# --- edges found by the mutation run (bin/mutants analytics/filters.py) ---------------------------------------------


def test_filters_survive_pickling():
    """Guards against Filters that cannot be pickled back (Streamlit's cache and session state pickle them): the
    rebuilt object must equal the original."""
    import pickle

    f = Filters(tickers=("NLY", "AGNC"), start=dt.date(2024, 1, 1), min_value=5_000, roles=("officer",))
    assert pickle.loads(pickle.dumps(f)) == f


def test_messages_quote_at_most_24_characters_and_5_items():
    """Guards against a pasted URL value echoed in full (or cut one character late) in a message, and a list of
    bad tickers echoed without limit."""
    raw = "abcdefghijklmnopqrstuvwxyz"  # 26 characters: shown as its first 24 and an ellipsis
    _, notices = Filters.parse_query({"insider": raw})
    assert "\u201cabcdefghijklmnopqrstuvwx\u2026\u201d" in str(notices[0])
    _, notices = Filters.parse_query({"insider": raw[:24]})
    assert "\u201cabcdefghijklmnopqrstuvwx\u201d" in str(notices[0])
    _, notices = Filters.parse_query({"ticker": ",".join(f"<{c}>" for c in "ABCDEF")})
    assert str(notices[0]).startswith("Ignored \u201c<A>\u201d, \u201c<B>\u201d, \u201c<C>\u201d, \u201c<D>\u201d, "
                                      "\u201c<E>\u201d and 1 more: not a ticker")  # fmt: skip


def test_small_share_counts_are_plain_numbers():
    """Guards against share counts under 1,000 shown as nothing (None) instead of the number."""
    assert (fmt_shares(950), fmt_shares(-12), fmt_shares(0)) == ("950", "-12", "0")


def test_a_new_filter_needs_only_its_key_and_parse():
    """Guards against the base filter's defaults (no mask, no SQL, no phrase, the URL text) breaking a view that
    adds a filter overriding only `parse`: the sentence, the rows and the SQL stay as before."""
    from analytics.filters import Filter

    class Note(Filter):
        def parse(self, raw):
            return raw, None

    class WithNote(Filters):
        note = Note("note", "", "note")

    f = WithNote(note="x")
    assert f.describe() == Filters().describe() and f.sql_where() == Filters().sql_where()
    assert f.to_query() == {"note": "x"} and WithNote().to_query() == {}


def test_with_range_fills_only_unset_bounds():
    """Guards against with_range() losing the filters (None) or overwriting a start/end the user set."""
    f = Filters(start=dt.date(2024, 3, 1))
    assert f.with_range((dt.date(2023, 1, 1), dt.date(2024, 12, 31))) == Filters(
        start=dt.date(2024, 3, 1), end=dt.date(2024, 12, 31)
    )
    assert f.with_range(None) is f


def test_missing_numbers_and_ranges_show_a_dash_or_nothing():
    """Guards against "nan" / None shown for a missing share count, and a default range computed (or a crash) when
    nothing is loaded or no row has a date."""
    import pandas as pd

    assert fmt_shares(None) == fmt_shares(float("nan")) == fmt_money(None) == "\u2013"
    assert default_range(None) is None
    assert default_range(pd.DataFrame({"filing_date": pd.to_datetime([])})) is None
    assert default_range(pd.DataFrame({"filing_date": pd.to_datetime([None, None])})) is None


def test_exactly_20_tickers_and_cik_digits():
    """Guards against a message for exactly MAX_TICKERS (20) tickers, an issuer CIK typed as digits refused, and
    all-zero or 11-digit numbers taken as CIKs."""
    f, notices = Filters.parse_query({"ticker": ",".join(f"T{i}" for i in range(20))})
    assert len(f.tickers) == 20 and notices == []
    f, notices = Filters.parse_query({"ticker": "320193,0000,12345678901,0001"})
    assert f.tickers == ("320193", "0001") and "\u201c0000\u201d, \u201c12345678901\u201d" in str(notices[0])


def test_filters_differ_when_a_value_differs():
    """Guards against two filter states of the same kind comparing equal whatever their values (a cache hit that
    shows the wrong rows)."""
    assert Filters(codes=("S",)) != Filters() and Filters(codes=("S",)) == Filters(codes=["s"])


def test_number_and_list_boundaries():
    """Guards against off-by-one edges: 1,000 shares shown as "1,000" instead of "1K", exactly five bad values
    followed by "and 0 more", and a filing dated today left out of the default range."""
    import pandas as pd

    assert (fmt_shares(1000), fmt_shares(999)) == ("1K", "999")
    _, notices = Filters.parse_query({"ticker": ",".join(f"<{c}>" for c in "ABCDE")})
    assert "more" not in str(notices[0])
    today = dt.date(2024, 6, 30)
    frame = pd.DataFrame({"filing_date": pd.to_datetime(["2024-01-02", "2024-06-30", "2024-07-15"])})
    assert default_range(frame, today=today) == (dt.date(2022, 7, 1), today)


def test_date_bounds_are_inclusive_and_ten_digit_ciks_are_kept():
    """Guards against a trade ON the start or end date left out (the range is inclusive, in pandas and in SQL)
    and a 10-digit insider CIK refused."""
    import duckdb
    import pandas as pd

    from loaders.schema import conform

    tx = conform(
        [{"row_id": d, "code": "S", "transaction_date": pd.Timestamp(d)}
         for d in ("2024-01-01", "2024-01-02", "2024-03-30", "2024-03-31")],
        "transactions",
    )  # fmt: skip
    f = Filters(start=dt.date(2024, 1, 2), end=dt.date(2024, 3, 30))
    assert list(apply_filters(tx, f)["row_id"]) == ["2024-01-02", "2024-03-30"]
    con = duckdb.connect()
    con.register("transactions", tx)
    sql, params = f.sql_where("t")
    got = con.execute(f"SELECT row_id FROM transactions t WHERE {sql} ORDER BY row_id", params).fetchall()
    assert [r[0] for r in got] == ["2024-01-02", "2024-03-30"]
    assert Filters.parse_query({"insider": "1234567890"}) == (Filters(insider=1234567890), [])


def test_parse_boundaries_take_the_limits_themselves_without_a_message():
    """Guards against off-by-one parse limits: 1990-01-01, 2100-01-01, a $1T minimum, a $0.50 or $0 minimum, a
    60-character title, the same start and end date, and CIK 1 must all pass without a message (and unchanged)."""
    query = {"start": "1990-01-01", "end": "2100-01-01", "min": "1000000000000", "title": "t" * 60}
    f, notices = Filters.parse_query(query)
    assert notices == [] and (f.start, f.end, f.min_value) == (dt.date(1990, 1, 1), dt.date(2100, 1, 1), 1e12)
    for raw, value in (("0.5", 0.5), ("0", 0.0)):
        assert Filters.parse_query({"min": raw}) == (Filters(min_value=value), [])
    same, notices = Filters.parse_query({"start": "2024-05-01", "end": "2024-05-01"})
    assert notices == [] and same.start == same.end == dt.date(2024, 5, 1)
    assert Filters.parse_query({"insider": "1"}) == (Filters(insider=1), [])


def test_values_given_in_code_are_normalized():
    """Guards against a datetime start kept as a datetime (the date box and the URL expect a date), an unset range
    filled from the wrong end, and a repr that lists defaults instead of changes."""
    assert Filters(start=dt.datetime(2024, 1, 2, 15, 30)).start == dt.date(2024, 1, 2)
    a, b = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
    assert Filters().with_range((a, b)) == Filters(start=a, end=b)
    assert repr(Filters(codes=("S",))) == "Filters(codes=('S',))"


def test_sentences_for_one_bound_and_purchases_only():
    """Guards against the sentence losing "up to <end>" when only the end is set, or "Open-market purchases" for
    code P alone."""
    f = Filters(codes=("P",), end=dt.date(2024, 3, 31))
    assert f.describe() == "Open-market purchases of all loaded issuers, up to 2024-03-31."


def test_choice_messages_name_only_the_bad_values():
    """Guards against a message about roles that names the good ones too (or only them)."""
    f, notices = Filters.parse_query({"role": "director,bogus"})
    assert f.roles == ("director",) and "\u201cbogus\u201d" in str(notices[0])
    assert "\u201cdirector\u201d" not in str(notices[0])


def test_row_masks_treat_missing_values_as_no_match():
    """Guards against rows with unknown values passing a filter: an unknown role flag counted as director, an
    unknown direct/indirect kept by "direct only", a missing value counted as $1 for a $1 minimum; and against the
    officer-title text read as a regular expression ("." matching any title)."""
    from loaders.schema import conform

    tx = conform(
        [
            {"row_id": "director", "code": "S", "is_director": True, "direct_indirect": "D", "value": 5.0,
             "officer_title": "Chief Executive Officer"},
            {"row_id": "unknown", "code": "S", "is_director": None, "direct_indirect": None, "value": None,
             "officer_title": "C.E.O."},
        ],
        "transactions",
    )  # fmt: skip

    def rows(f: Filters) -> list[str]:
        return list(apply_filters(tx, f)["row_id"])

    assert rows(Filters(roles=("director",))) == ["director"]
    assert rows(Filters(ownership="D")) == ["director"]
    assert rows(Filters(min_value=1)) == ["director"]
    assert rows(Filters(title_contains=".")) == ["unknown"]


def test_money_and_share_units_switch_at_exactly_a_million_and_a_billion():
    """Guards against $1,000,000 shown as "$1,000K" and 1,000,000,000 shares as "1,000M" (unit thresholds off)."""
    assert (fmt_money(1e6), fmt_money(1e9)) == ("$1M", "$1B")
    assert (fmt_shares(1e6), fmt_shares(1e9)) == ("1M", "1B")


def test_two_years_to_a_leap_day():
    """Guards against the range that ends on 29 February starting on the wrong day (or crashing)."""
    from analytics.filters import two_years_to

    assert two_years_to(dt.date(2024, 2, 29)) == (dt.date(2022, 3, 1), dt.date(2024, 2, 29))
    assert two_years_to(dt.date(2024, 6, 30)) == (dt.date(2022, 7, 1), dt.date(2024, 6, 30))


def test_ten_digits_are_a_cik_eleven_are_not():
    """Guards against the 10-digit CIK limit off by one: a 10-digit issuer CIK typed in the ticker box refused, or
    an 11-digit insider CIK accepted."""
    assert Filters.parse_query({"ticker": "1234567890"}) == (Filters(tickers=("1234567890",)), [])
    f, notices = Filters.parse_query({"insider": "12345678901"})
    assert f.insider is None and "at most 10 digits" in str(notices[0])
