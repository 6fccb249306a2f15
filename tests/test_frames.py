"""Frames: declared schemas, selection by ticker/CIK/insider, joint filings, roster helpers."""

from __future__ import annotations

import pytest

from loaders.frames import Frames, load, loaded_insiders, loaded_issuers, search_insiders
from loaders.schema import check
from loaders.store import Store
from tests.fixtures.builder import FIXTURE_TOTALS
from tests.store_support import fixture_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return fixture_store(tmp_path_factory.mktemp("frames"))


def test_every_frame_has_declared_schema(store):
    """Guards against a frame reaching the pages with a missing column or a wrong dtype."""
    frames = load(store)
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        check(getattr(frames, name), name)
        assert len(getattr(frames, name)) > 0, name
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        check(getattr(Frames.empty(), name), name)


def test_ticker_selection_and_exact_totals(store):
    """Guards against rows of other issuers leaking in, or amendments counting twice, in issuer totals."""
    tx = load(store, tickers=["acme"]).transactions
    assert set(tx["ticker"]) == {"ACME"}
    assert tx.loc[tx["code"] == "S", "value"].sum() == pytest.approx(FIXTURE_TOTALS["ACME"]["sale_value"])
    assert tx.loc[tx["code"] == "P", "value"].sum() == pytest.approx(FIXTURE_TOTALS["ACME"]["purchase_value"])
    assert tx["row_id"].is_unique


def test_insider_selection_spans_issuers_and_joint_filings(store):
    """Guards against an insider page missing other issuers, or a joint filer missing the shared filing."""
    jane = load(store, owner_cik=1000001).transactions
    assert set(jane["ticker"]) == {"ACME", "BETA"}
    gp = load(store, owner_cik=1000005).transactions  # second owner of the joint filing
    assert list(gp["shares"]) == [100000.0] and gp["owner_ciks"].iloc[0] == "1000004|1000005"


def test_loaded_issuers_and_insiders(store):
    """Guards against wrong counts in the issuer picker and insider search."""
    issuers = loaded_issuers(store).set_index("ticker")
    assert issuers.loc["ACME", "n_filings"] == 16 and issuers.loc["BETA", "n_filings"] == 3
    insiders = loaded_insiders(store).set_index("owner_cik")
    assert insiders.loc[1000001, "issuers"] == "ACME, BETA" and insiders.loc[1000001, "n_filings"] == 9
    assert list(search_insiders("jane roe", store)["owner_cik"]) == [1000001]
    assert list(search_insiders("1000003", store)["owner_name"]) == ["Major Mary"]
    assert search_insiders("nobody here", store).empty


def test_empty_store_gives_empty_frames(tmp_path):
    """Guards against a crash on first start, before anything was pulled."""
    frames = load(Store(tmp_path))
    assert len(frames) == 0
    check(frames.transactions, "transactions")
    assert loaded_issuers(Store(tmp_path)).empty


def test_future_dated_filing_does_not_move_the_default_range(tmp_path):
    """Guards against one filing dated 2099 (a typo) pushing every default date range past today, empty charts."""
    import datetime as dt

    from analytics.filters import default_range
    from loaders.frames import latest_plausible_filing_date
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import fixture_filings

    store = Store(tmp_path)
    rows = [parse_ownership(x, a, d) for a, d, x in fixture_filings()]
    future = parse_ownership(fixture_filings()[0][2], "0009999999-99-000001", "2099-01-05")
    store.write([*rows, future])
    today = dt.date(2026, 11, 26)
    real = max(p.filing["filing_date"] for p in rows)
    assert latest_plausible_filing_date(store, today=today) == real
    frames = load(store)
    assert frames.filings["filing_date"].max().year == 2099
    assert default_range(frames.filings, today=today)[1] == real
    assert default_range(frames.filings.iloc[-1:], today=today)[1] == today  # only future dates: up to today
    issuers = loaded_issuers(store)
    assert issuers["last_filing"].max().date() == real


def test_share_class_symbols_find_the_issuer(tmp_path):
    """Guards against an issuer filing as "WLY, WLYB" (or "wly") being unreachable by either class's ticker."""
    from loaders.frames import issuers_for_ticker, symbols
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import fixture_filings

    assert symbols("WLY, WLYB") == ["WLY", "WLYB"] and symbols("NONE") == [] and symbols("wly") == ["WLY"]
    store = Store(tmp_path)
    acc, day, xml = fixture_filings()[0]
    p = parse_ownership(xml.replace(b">ACME<", b">WLY, WLYB<"), acc, day)
    q = parse_ownership(fixture_filings()[1][2].replace(b">ACME<", b">wlyb<"), fixture_filings()[1][0], day)
    store.write([p, q])
    cik = p.filing["issuer_cik"]
    assert issuers_for_ticker("WLY", store) == [cik] and issuers_for_ticker("wlyb", store) == [cik]
    assert issuers_for_ticker("NONE", store) == [] and issuers_for_ticker("WL", store) == []
    assert len(load(store, tickers=["WLYB"]).filings) == 2
    assert loaded_issuers(store).set_index("issuer_cik").loc[cik, "tickers"] == "WLY, WLYB"


def test_since_reads_only_the_range_and_keeps_totals_in_it(store):
    """Guards against a windowed load (the issuer page reads only its date range) losing rows inside the range."""
    import datetime as dt

    from analytics.filters import Filters, apply_filters

    everything = load(store, tickers=["ACME"])
    start = dt.date(2023, 6, 1)
    part = load(store, tickers=["ACME"], since=start)
    assert 0 < len(part.filings) < len(everything.filings)
    assert (part.filings["filing_date"] >= "2023-06-01").all()
    f = Filters(tickers=("ACME",), start=start, end=dt.date(2030, 1, 1), codes=())
    assert len(apply_filters(part.transactions, f)) == len(apply_filters(everything.transactions, f))


def test_windowed_load_reads_only_recent_partitions_and_loses_no_row(store):
    """Guards against issue 9's partition pruning (a page's date window reads only the quarters filed since its
    start) dropping a row inside the window or reading the whole history: the windowed frames equal the full
    frames cut to the filings filed since the start, and a query limited to later partitions sees no older row."""
    import datetime as dt

    everything = load(store, tickers=["ACME"])
    # 2023-11-20: a filing (with a footnote) on the start day itself, and earlier ones of the same quarter
    for start in (dt.date(2023, 6, 1), dt.date(2023, 11, 20)):
        _window_equals_the_full_load_cut(store, everything, start)
    old = "SELECT count(*) AS n FROM filings WHERE filing_date < DATE '2023-04-01'"
    assert int(store.query(old)["n"].iloc[0]) > 0
    assert int(store.query_many([old], filed_since="2023q2")[0]["n"].iloc[0]) == 0


def _window_equals_the_full_load_cut(store, everything, start) -> None:
    import pandas as pd

    part = load(store, tickers=["ACME"], since=start)
    keep = set(everything.filings.loc[everything.filings["filing_date"] >= pd.Timestamp(start), "accession"])
    assert 0 < len(keep) < len(everything.filings)
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        full = getattr(everything, name)
        want = full[full["accession"].isin(keep)].reset_index(drop=True)
        got = getattr(part, name).reset_index(drop=True)
        key = (
            "row_id"
            if "row_id" in want
            else ["accession", *[c for c in ("position", "footnote_id") if c in want]]
        )
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True),
            want.sort_values(key).reset_index(drop=True),
            obj=name,
        )


def test_arrow_conversion_equals_conforming_the_pandas_result(store):
    """Guards against frames.load's Arrow-to-pandas conversion changing a value or a dtype (null ints, booleans,
    dates, text with nulls) compared with conforming DuckDB's own pandas result."""
    import pandas as pd

    from loaders.schema import conform, from_arrow

    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        sql = f"SELECT * FROM {name} ORDER BY ALL"
        arrow = from_arrow(store.query_arrow([sql])[0], name)
        plain = conform(store.query(sql), name)
        assert len(arrow) > 0, name
        pd.testing.assert_frame_equal(arrow, plain)
        check(arrow, name)


def test_load_without_footnotes_leaves_every_other_frame_as_it_was(store):
    """Guards against the pages' footnote-less load (ui.data.load reads no footnotes frame: no page shows one)
    dropping or shifting another frame: the four others are equal to the full load's, the footnotes frame is empty
    with its declared columns, and every row still carries its footnote text."""
    import pandas as pd

    full = load(store, tickers=["acme"])
    lean = load(store, tickers=["acme"], footnotes=False)
    for name in ("filings", "owners", "transactions", "holdings"):
        pd.testing.assert_frame_equal(getattr(lean, name), getattr(full, name))
    assert len(full.footnotes) > 0 and lean.footnotes.empty
    check(lean.footnotes, "footnotes")
    assert lean.transactions["footnotes"].notna().any()


def test_insider_search_finds_hyphenated_apostrophe_and_accented_names_team_cannon_brookes(tmp_path):
    """Guards against the search the insider page runs missing names with punctuation: "Cannon-Brookes", TEAM's
    co-founder (CIK 1666120, "Cannon-Brookes Michael" in his Form 4s), found nothing (the query kept its hyphen,
    the stored name did not), nor "O'Brien"; an accented first letter ("Émile") never matched either. Each name is
    found by its own spelling and by its words, and a part of a word inside another word does not match."""
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import Holding, Owner, form_xml

    names = {1666120: "Cannon-Brookes Michael", 1000011: "O'Brien Pat", 1000012: "Émile Durand"}
    store = Store(tmp_path)
    store.write(
        [
            parse_ownership(
                form_xml(
                    issuer=(1650372, "Atlassian Corp", "TEAM"),
                    owners=[Owner(cik, name, director=True)],
                    period="2023-05-03",
                    holdings=[Holding(1000)],
                ),
                f"0001650372-23-00000{i}",
                "2023-05-05",
            )
            for i, (cik, name) in enumerate(names.items())
        ]
    )
    for query, cik in [
        ("Cannon-Brookes", 1666120),
        ("cannon brookes", 1666120),
        ("Brookes, Michael", 1666120),
        ("O'Brien", 1000011),
        ("obrien", None),  # not how it is filed: no match rather than a guess
        ("brien", 1000011),
        ("Émile", 1000011 + 1),
        ("émile durand", 1000012),
        ("rookes", None),  # inside a word
    ]:
        got = list(search_insiders(query, store)["owner_cik"])
        assert got == ([cik] if cik else []), (query, got)
    assert search_insiders("--", store).empty  # punctuation alone: no words, no match-all


def test_insider_search_lists_namesakes_with_equal_filings_by_cik(tmp_path):
    """Guards against namesakes with as many filings coming back in any order (at 15 M rows the real
    Cannon-Brookes, CIK 1666120, came second after a copy): ties go by CIK."""
    from loaders.parser import parse_ownership
    from tests.fixtures.builder import Holding, Owner, form_xml

    store = Store(tmp_path)
    store.write(
        [
            parse_ownership(
                form_xml(issuer=(1650372, "Atlassian Corp", "TEAM"), owners=[Owner(cik, "Cannon-Brookes Michael")],
                         period="2023-05-03", holdings=[Holding(1000)]),
                f"0001650372-23-00000{i}",
                "2023-05-05",
            )
            for i, cik in enumerate((401666120, 1666120, 201666120))
        ]
    )  # fmt: skip
    assert list(search_insiders("Cannon-Brookes", store)["owner_cik"]) == [1666120, 201666120, 401666120]
