"""analytics.quality: row flags with plain reasons, price outliers, the Data quality summary.

Each docstring names the silent failure it guards against."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import quality
from loaders import schema
from loaders.parser import parse_ownership
from loaders.schema import conform
from tests.fixtures.builder import ACME, JANE, JOHN, Tx, form_xml


def _tx(filings: list[tuple[str, list[Tx], dict]]) -> pd.DataFrame:
    rows = []
    for i, (filed, txs, kw) in enumerate(filings):
        xml = form_xml(
            issuer=ACME,
            owners=[kw.pop("owner", JANE)],
            period=kw.pop("period", txs[0].date),
            transactions=txs,
            **kw,
        )
        rows += parse_ownership(xml, f"0001234567-23-{i + 1:06d}", filed).transactions
    return conform(rows, "transactions")


def _week(price_typo: float, title: str = "Common Stock") -> pd.DataFrame:
    return _tx([
        ("2023-03-08", [Tx("2023-03-06", "S", 10, 180.0, "D", 90), Tx("2023-03-06", "S", 10, 181.0, "D", 80)], {}),
        ("2023-03-10", [Tx("2023-03-08", "P", 5, 182.0, "A", 15, title=title)], {"owner": JOHN}),
        ("2023-03-13", [Tx("2023-03-09", "S", 10, 183.0, "D", 70), Tx("2023-03-09", "S", 1, price_typo, "D", 69)],
         {}),
        ("2023-03-20", [Tx("2023-03-16", "S", 10, 40.0, "D", 59)], {}),  # a week later: nothing to compare with
    ])  # fmt: skip


def test_price_outlier_against_the_issuers_week_0001209191_23_018495():
    """Guards against a typo price (PANW: $188,139 among ~$183-188 trades that week) passing because its
    filing gave no range, and against flagging a trade with no neighbours within 3 days."""
    tx = _week(183_000.0)
    assert list(quality.price_outliers(tx)) == [False, False, False, False, True, False]
    assert list(quality.suspect_values(tx)) == [False, False, False, False, True, False]
    assert not quality.price_outliers(_week(200.0)).any()  # a normal price is not an outlier
    assert quality.price_outliers(_week(36.0)).iloc[4]  # 5x below counts too


def test_outlier_compares_the_same_security_only():
    """Guards against comparing class A with class B prices (BRK.A vs BRK.B are 1,500x apart)."""
    tx = _week(183.0, title="Class B Common Stock")
    tx.loc[2, "price"] = 182_000.0  # the class B purchase, alone in its class
    assert not quality.price_outliers(tx).any()


def test_quality_notes_and_summary_name_every_flag():
    """Guards against a flagged row without a plain reason, and a Data quality table whose counts or "left out"
    marks disagree with the totals."""
    tx = _week(183_000.0)
    q = quality.with_quality(tx)
    assert "price_outlier" in q.loc[4, "flags"] and q.loc[4, "suspect"]
    assert "issuer's other trades" in q.loc[4, "quality"] and q.loc[0, "quality"] == ""
    summary = quality.quality_summary(tx).set_index("flag")
    assert summary.loc["price_outlier", ["rows", "filings", "totals"]].tolist() == [1, 1, "left out"]
    assert summary.loc["price_outlier", "value"] == 183_000.0


def test_fallbacks_visible_in_the_note():
    """Guards against a date fallback or a 10b5-1 decision being invisible to the reader (hover, table)."""
    tx = _tx([
        ("2024-03-19", [Tx("0022-03-15", "S", 1, 1.0, "D", 0, footnotes=["F1"])],
         {"aff10b5one": False, "period": "2024-03-15",
          "footnotes": {"F1": "Sold under a Rule 10b5-1 plan adopted on May 1, 2023."}}),
    ])  # fmt: skip
    note = quality.with_quality(tx).loc[0, "quality"]
    assert "date as filed: '0022-03-15'" in note and "period of report used" in note
    assert "10b5-1: checkbox unchecked, but footnote F1 says" in note
    summary = quality.quality_summary(tx).set_index("flag")
    assert summary.loc["date_fallback", "totals"] == "counted" and summary.loc["tenb51_conflict", "rows"] == 1


def test_holdings_hover_leads_with_the_check_note():
    """Guards against the holdings chart hiding a date fallback or a 10b5-1 decision (hover shows footnotes)."""
    from analytics import holdings

    tx = _tx([
        ("2024-03-19", [Tx("0022-03-15", "S", 1, 1.0, "D", 0, footnotes=["F1"])],
         {"aff10b5one": False, "footnotes": {"F1": "Sold under a Rule 10b5-1 plan adopted on May 1, 2023."}}),
    ])  # fmt: skip
    pts = holdings.holdings_series(tx, conform([], "holdings"))
    assert pts["footnotes"].iloc[0].startswith("Check: transaction date is before 1990")
    assert "F1: Sold under a Rule 10b5-1 plan" in pts["footnotes"].iloc[0]


def _days(*offsets: int, typo_day: int = 0) -> pd.DataFrame:
    """Open-market sales at ~$10 on 2023-03-10 + offset days, and a $100 trade on 2023-03-10 + typo_day."""
    base = pd.Timestamp("2023-03-10")
    txs = [((base + pd.Timedelta(days=o)).date().isoformat(), 10.0) for o in offsets]
    txs.append(((base + pd.Timedelta(days=typo_day)).date().isoformat(), 100.0))
    return _tx([(f"{d[:8]}28", [Tx(d, "S", 1, p, "D", 0)], {}) for d, p in txs])


def test_outlier_window_and_minimum_neighbours():
    """Guards against a wider week (4 days) or fewer neighbours (2) than the rule says: 3 days either side
    inclusive, at least 3 other trades."""
    assert quality.price_outliers(_days(-1, -2, -3)).iloc[
        -1
    ]  # 3 neighbours, the farthest exactly 3 days away
    assert not quality.price_outliers(_days(-1, -2, -4)).iloc[-1]  # one is 4 days away: only 2 neighbours
    assert not quality.price_outliers(_days(-1, 1)).any()


def test_far_outside_range_both_ways_and_suspect_from_flags():
    """Guards against the far-from-range test missing prices far BELOW their range, a factor wider than 2, and
    an implausible value not counting as suspect; an empty frame gives an empty mask."""
    tx = _tx([("2023-05-03", [Tx("2023-05-01", "S", 1, p, "D", 0, price_footnotes=["F1"]) for p in (25.0, 19.0, 4.0, 6.0)],
               {"footnotes": {"F1": "sold at prices ranging from $10.00 to $10.50."}})])  # fmt: skip
    assert list(quality.far_outside_range(tx)) == [True, False, True, False]
    big = _tx([("2023-05-03", [Tx("2023-05-01", "S", 6_000_000_000, 1.0, "D", 0)], {})])
    assert list(quality.suspect_values(big)) == [True]
    assert quality.suspect_values(big.iloc[0:0]).empty


# --- small frames through conform: the boundaries of each rule (mutation run survivors) ---------------------------

_D = pd.Timestamp("2023-03-06")


def _row(**kw) -> dict:
    base = {
        "accession": "0001234567-23-000001", "seq": 1, "row_id": None, "issuer_cik": 1234567, "ticker": "ACME",
        "owner_cik": 1000001, "owner_name": "Roe Jane", "table": "nonDerivative", "security_title": "Common Stock",
        "code": "S", "acquired_disposed": "D", "direct_indirect": "D", "shares": 10.0, "price": 10.0,
        "value": 100.0, "owned_after": None, "transaction_date": _D,
    }  # fmt: skip
    return {**base, **kw}


def _frame(*rows: dict) -> pd.DataFrame:
    out = [{**r, "seq": i + 1, "row_id": r.get("row_id") or f"r{i}"} for i, r in enumerate(rows)]
    return conform(out, "transactions")


def _outliers(prices, days=(0, 0, 0, 0), **kw) -> list[bool]:
    rows = [
        _row(price=p, transaction_date=_D + pd.Timedelta(days=d), **kw)
        for p, d in zip(prices, days, strict=True)
    ]
    return list(quality.price_outliers(_frame(*rows)))


def test_outlier_exactly_five_times_away_either_way():
    """Guards against `>=` turned into `>` (a price exactly 5x the median, or exactly a fifth of it, passes), in
    the scan and in the pre-filter that picks the groups to scan."""
    assert _outliers([10.0, 10.0, 10.0, 50.0]) == [False, False, False, True]
    assert _outliers([10.0, 10.0, 10.0, 2.0]) == [False, False, False, True]
    assert _outliers([10.0, 10.0, 10.0, 49.0]) == [False] * 4


def test_outlier_neighbours_on_both_sides_of_the_window():
    """Guards against a window that only looks back or only forward, that skips the next neighbour, that needs
    more than 3 neighbours, or that reaches 4 days."""
    assert _outliers([50.0, 10.0, 10.0, 10.0], days=(0, 1, 2, 3)) == [True, False, False, False]
    assert _outliers([10.0, 10.0, 10.0, 50.0], days=(0, 1, 2, 3)) == [False, False, False, True]
    assert _outliers([50.0, 10.0, 10.0, 10.0], days=(0, 4, 4, 4)) == [False] * 4


def test_outlier_only_open_market_table_one_priced_dated_rows():
    """Guards against derivative rows, non-open-market codes (M), zero prices (gifts) or undated rows being
    compared as if they were open-market trades, and against penny prices (under $1) being left out."""
    base = [_row(price=10.0), _row(price=10.0), _row(price=10.0)]
    assert list(quality.price_outliers(_frame(*base, _row(price=50.0, table="derivative"))))[-1] is False
    assert list(quality.price_outliers(_frame(*base, _row(price=50.0, code="M"))))[-1] is False
    assert list(quality.price_outliers(_frame(*base, _row(price=0.0)))) == [False] * 4
    assert list(quality.price_outliers(_frame(*base, _row(price=50.0, transaction_date=None))))[-1] is False
    assert _outliers([0.5, 0.5, 0.5, 2.5]) == [False, False, False, True]


def test_outlier_groups_by_issuer_even_without_a_cik():
    """Guards against rows without an issuer CIK being dropped from the comparison, and two issuers' prices
    being compared with each other."""
    assert _outliers([10.0, 10.0, 10.0, 50.0], issuer_cik=None) == [False, False, False, True]
    mixed = _frame(_row(price=10.0), _row(price=10.0), _row(price=10.0), _row(price=50.0, issuer_cik=7654321))
    assert list(quality.price_outliers(mixed)) == [False] * 4


def test_far_outside_range_boundaries():
    """Guards against `>` / `<` turned into `>=` / `<=` (a price exactly 2x its range flagged) and against a range
    with only a low end (nullable floats from the store) flagged because its comparison is unknown."""
    tx = _frame(
        _row(price=20.0, price_low=8.0, price_high=10.0),
        _row(price=20.01, price_low=8.0, price_high=10.0),
        _row(price=4.0, price_low=8.0, price_high=10.0),
        _row(price=3.99, price_low=8.0, price_high=10.0),
    )
    assert list(quality.far_outside_range(tx)) == [False, True, False, True]
    one_end = pd.DataFrame({c: pd.array([v], dtype="Float64") for c, v in
                            (("price", 10.0), ("price_low", 8.0), ("price_high", None))})  # fmt: skip
    assert list(quality.far_outside_range(one_end)) == [False]


def test_text_of_missing_values_is_empty():
    """Guards against "None" or "nan" printed in a quality note for a missing value."""
    assert [quality._text(v) for v in (None, pd.NA, float("nan"), "x", 1.5)] == ["", "", "", "x", "1.5"]


def test_quality_note_per_row_names_only_what_applies():
    """Guards against: <NA> instead of "" for a clean row; the checkbox named as a fallback source; the 10b5-1
    source dropped from a plain row; a footnoted range ("$nan") or "date as filed" added to rows without those
    flags; "10b5-1 from the" with no source; the conflict flag's generic reason shown next to its own note."""
    tx = _frame(
        _row(),
        _row(tenb51_source="checkbox"),
        _row(tenb51_source="row_footnote"),
        _row(flags="holdings_mismatch", transaction_date_raw="2023-13-45"),
        _row(flags="holdings_mismatch", tenb51_source="checkbox"),
        _row(flags="holdings_mismatch", tenb51_source="remarks"),
        _row(flags="date_fallback", transaction_date_raw="2023-13-45"),
        _row(flags="tenb51_conflict", tenb51_note="the footnote says plan; the box is unchecked"),
    )
    mismatch = schema.TRANSACTION_FLAGS["holdings_mismatch"]
    assert list(quality.quality_notes(tx)) == [
        "",
        "",
        "10b5-1 from the row footnote",
        mismatch,
        mismatch,
        f"{mismatch}; 10b5-1 from the remarks",
        f"{schema.TRANSACTION_FLAGS['date_fallback']}; date as filed: '2023-13-45'",
        "10b5-1: the footnote says plan; the box is unchecked",
    ]


def test_with_quality_and_summary_of_nothing():
    """Guards against with_quality / quality_summary returning None (a page crash) on an empty selection."""
    empty = conform([], "transactions")
    q = quality.with_quality(empty)
    assert {"suspect", "quality", "joint_owners"} <= set(q.columns) and q.empty
    s = quality.quality_summary(empty)
    assert s.empty and list(s.columns) == ["flag", "reason", "rows", "filings", "value", "totals"]


def test_summary_counts_left_out_rows_and_sorts_left_out_first():
    """Guards against the summary saying "counted" or "left out" for a flag whose rows are partly left out, a
    wrong count of left-out rows, and an order that does not put left-out flags first and then the most rows."""
    tx = _frame(
        _row(accession="a", flags="holdings_mismatch,implausible_value"),
        _row(accession="b", flags="holdings_mismatch"),
        _row(accession="c", flags="holdings_mismatch"),
        _row(accession="d", flags="value_missing"),
        _row(accession="e", flags="value_missing"),
        _row(accession="f", flags="date_after_filing"),
    )
    s = quality.quality_summary(tx)
    assert list(s.index) == list(range(len(s))) and list(s.columns)[0] == "flag"
    assert list(zip(s["flag"], s["totals"], s["rows"], strict=True)) == [
        ("implausible_value", "left out", 1),
        ("value_missing", "counted", 2),
        ("date_after_filing", "counted", 1),
        ("holdings_mismatch", "1 left out", 3),
    ]


def test_same_day_buy_and_sale_far_apart_is_suspect_0001213900_23_014092():
    """Guards against IGTA 0001213900-23-014092 counting as $189 M of insider buying: one filing buys 140,000
    shares of a SPAC at $1,352.66 and sells 40,000 at $386.48 the same day (it traded near $10). A buy and a sale
    of one security on one day priced 3x apart cannot both be right and the filing does not say which is wrong,
    so both rows are suspect, marked with a plain reason, and left out of totals."""
    tx = _tx([("2023-02-23", [Tx("2023-02-17", "P", 140_000, 1352.66, "A", 2_507_500),
                              Tx("2023-02-17", "S", 40_000, 386.48, "D", 2_467_500)], {})])  # fmt: skip
    assert list(quality.price_conflicts(tx)) == [True, True]
    assert list(quality.suspect_values(tx)) == [True, True]
    checked = quality.with_quality(tx)
    assert list(checked["suspect"]) == [True, True] and checked["flags"].str.contains("price_conflict").all()
    assert checked["quality"].str.contains("priced 3x apart or more").all()
    summary = quality.quality_summary(tx, checked).set_index("flag")
    assert (
        summary.loc["price_conflict", "rows"] == 2 and summary.loc["price_conflict", "totals"] == "left out"
    )


def _buy(price: float, day: str = "2023-02-17") -> Tx:
    return Tx(day, "P", 10, price, "A", 10)


def _sale(price: float, day: str = "2023-02-17", **kw) -> Tx:
    return Tx(day, "S", 5, price, "D", 5, **kw)


@pytest.mark.parametrize(
    ("filings", "expected"),
    [
        pytest.param(
            [[_sale(4.88, "2023-03-27"), _sale(12.00, "2023-03-27")]], [False, False], id="NIR-sales-only"
        ),
        pytest.param(
            [[_buy(0.01, "2023-02-03"), _buy(0.04, "2023-02-03")]], [False, False], id="ETST-buys-only"
        ),
        pytest.param([[_buy(29.99), _sale(10.0)]], [False, False], id="under-3x"),
        pytest.param([[_buy(10.0), _sale(30.0)]], [True, True], id="sale-exactly-3x-above"),
        pytest.param([[_buy(30.0), _sale(10.0)]], [True, True], id="buy-exactly-3x-above"),
        pytest.param([[_buy(100.0, "2023-02-16"), _sale(10.0)]], [False, False], id="different-days"),
        pytest.param(
            [[_buy(100.0), _sale(10.0, title="Warrants")]], [False, False], id="different-securities"
        ),
        pytest.param([[_buy(100.0)], [_sale(10.0)]], [False, False], id="different-filings"),
        # only the rows far from the other side: a second sale near the purchase price is not marked
        pytest.param([[_buy(10.0), _sale(10.5), _sale(95.0)]], [True, False, True], id="only-the-far-rows"),
    ],
)
def test_price_conflict_needs_a_buy_and_a_sale_of_one_security_on_one_day_in_one_filing(filings, expected):
    """Guards against the conflict rule dropping real trades: sales alone spread 2.5x in a day (NIR
    0001209191-23-021547, a de-SPAC's $4.88-$12.00 day), penny-stock purchases 4x apart (ETST
    0001493152-23-003610), a buy and a sale under 3x apart, on different days, of different securities or in
    different filings all count; exactly 3x apart is a conflict either way round."""
    tx = _tx([("2023-02-23", txs, {}) for txs in filings])
    assert list(quality.price_conflicts(tx)) == expected


def test_igta_filing_from_the_corpus_is_left_out_0001213900_23_014092():
    """Guards against the rule missing the real filing as EDGAR serves it (parsed from the shared corpus)."""
    from tests.conftest import need_corpus

    path = need_corpus() / "form4" / "0001213900-23-014092.xml"
    parsed = parse_ownership(path.read_bytes(), "0001213900-23-014092", "2023-02-23")
    tx = conform(parsed.transactions, "transactions")
    assert list(tx["code"]) == ["P", "S"] and list(quality.suspect_values(tx)) == [True, True]
