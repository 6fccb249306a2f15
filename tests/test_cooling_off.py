"""Rule 10b5-1 cooling-off (analytics.plans) as amended: effective date, role, the issuer's 10-Q/10-K dates.

Each docstring names the silent failure it guards against; cases from real filings are named after them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics import plans
from analytics.plans import cooling_off_end
from loaders.parser import parse_ownership
from loaders.schema import conform
from tests.conftest import need_corpus
from tests.fixtures.builder import ACME, JANE, Owner, Tx, form_xml

D = dt.date


def _reports(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Periodic reports as loaders.periodic.load_periodic returns them: (form, report_date, filing_date)."""
    return pd.DataFrame(
        {
            "issuer_cik": pd.array([ACME[0]] * len(rows), dtype="Int64"),
            "form": pd.array([r[0] for r in rows], dtype="string"),
            "report_date": pd.to_datetime([r[1] for r in rows]),
            "filing_date": pd.to_datetime([r[2] for r in rows]),
        }
    )


def test_team_plans_adopted_before_effective_date_0000899243_23_012708():
    """Guards against flagging TEAM's plans adopted 23-24 Feb 2023 (first sales after 75-88 days) as too soon:
    the amended rule, and its cooling-off, covers only plans adopted on or after 27 Feb 2023."""
    end, rule = cooling_off_end(D(2023, 2, 23), "officer_director")
    assert end == D(2023, 2, 23) and "before 27 Feb 2023" in rule
    end, _ = cooling_off_end(D(2023, 2, 27), "officer_director")
    assert end == D(2023, 5, 28)  # adopted on the effective date: the amended rule applies


def test_directors_get_the_officer_period_not_30_days():
    """Guards against a director who is not an officer getting the 30-day period of other persons."""
    assert cooling_off_end(D(2023, 3, 1), "officer_director")[0] == D(2023, 5, 30)
    assert cooling_off_end(D(2023, 3, 1), "other") == (D(2023, 3, 31), "not a director or officer: 30 days")
    assert cooling_off_end(D(2023, 3, 1), "issuer")[0] == D(2023, 3, 1)


@pytest.mark.parametrize(
    ("filed", "end", "which"),
    [
        ("2023-05-05", D(2023, 6, 13), "90 days"),  # 10-Q + 2 business days (May 9) < 90 days
        ("2023-06-16", D(2023, 6, 21), "2 business days after the 10-Q"),  # later than 90 days
        ("2023-07-28", D(2023, 7, 13), "120-day cap"),  # later than 120 days: capped
    ],
)
def test_officer_period_uses_the_quarter_report(filed, end, which):
    """Guards against ignoring the 10-Q for the quarter of adoption (later of 90 days or 2 business days after
    it, capped at 120 days), and against using a report for an earlier quarter."""
    reports = _reports(("10-K", "2022-12-31", "2023-02-20"), ("10-Q", "2023-03-31", filed))
    got, rule = cooling_off_end(D(2023, 3, 15), "officer_director", reports)
    assert got == end and which in rule and filed in rule


def test_officer_period_without_report_dates_says_so():
    """Guards against a silent 90-day floor when the issuer's 10-Q dates are not loaded or not yet filed."""
    end, rule = cooling_off_end(D(2023, 3, 15), "officer_director", None)
    assert end == D(2023, 6, 13) and "not loaded" in rule and "120" in rule
    end, rule = cooling_off_end(
        D(2023, 3, 15), "officer_director", _reports(("10-K", "2022-12-31", "2023-02-20"))
    )
    assert end == D(2023, 6, 13) and "not filed yet" in rule


def _plan_rows(owner: Owner, adopted: str, first_sale: str) -> pd.DataFrame:
    note = {"F1": f"Sold under a Rule 10b5-1 trading plan adopted on {adopted}."}
    xml = form_xml(issuer=ACME, owners=[owner], period=first_sale, aff10b5one=True, footnotes=note,
                   transactions=[Tx(first_sale, "S", 100, 10.0, "D", 0, footnotes=["F1"])])  # fmt: skip
    return conform(parse_ownership(xml, "0001234567-23-000900", first_sale).transactions, "transactions")


@pytest.mark.parametrize(("first_sale", "too_soon"), [("2023-06-12", True), ("2023-06-13", False)])
def test_boundary_day_90(first_sale, too_soon):
    """Guards against `<=` for `<` at the boundary: a first sale on day 90 is allowed, on day 89 it is not."""
    out = plans.plan_adoptions(_plan_rows(JANE, "March 15, 2023", first_sale))
    assert list(out["cooling_off_end"]) == [pd.Timestamp("2023-06-13")]
    assert bool(out["too_soon"].iloc[0]) is too_soon and out["cooling_off_days"].iloc[0] == 90


def test_director_only_plan_adoption_flagged_at_day_60():
    """Guards against plan_adoptions treating a director (not an officer) as 'other' (30 days)."""
    director = Owner(1000009, "Dee Director", director=True)
    out = plans.plan_adoptions(_plan_rows(director, "March 15, 2023", "2023-05-14"))
    assert bool(out["too_soon"].iloc[0]) and out["cooling_off_days"].iloc[0] == 90
    ten = Owner(1000010, "Ten Percent LP", ten_percent=True)
    out = plans.plan_adoptions(_plan_rows(ten, "March 15, 2023", "2023-05-14"))
    assert not bool(out["too_soon"].iloc[0]) and out["cooling_off_days"].iloc[0] == 30


def test_plan_adoptions_uses_issuer_reports_and_says_which_rule():
    """Guards against plan_adoptions ignoring the issuer's 10-Q dates (a sale on day 95 is too soon when the
    10-Q came 110 days after adoption) and against losing the rule's wording for the page."""
    tx = _plan_rows(JANE, "March 15, 2023", "2023-06-18")
    out = plans.plan_adoptions(tx, _reports(("10-Q", "2023-03-31", "2023-06-29")))
    assert bool(out["too_soon"].iloc[0]) and out["cooling_off_end"].iloc[0] == pd.Timestamp("2023-07-03")
    assert "10-Q filed 2023-06-29" in out["cooling_off_rule"].iloc[0]
    assert not bool(plans.plan_adoptions(tx)["too_soon"].iloc[0])  # without the dates: the 90-day floor


@pytest.mark.corpus
def test_corpus_team_february_2023_plans_not_flagged():
    """Guards against the real TEAM plans of 21-24 Feb 2023 (Salem 0000899243-23-012708: first sale 75 days after
    adoption; Bharadwaj 0001562180-23-004407) being flagged too soon."""
    corpus = need_corpus()
    rows = []
    for acc in ("0000899243-23-012708", "0001562180-23-004407"):
        rows += parse_ownership((corpus / "form4" / f"{acc}.xml").read_bytes(), acc).transactions
    out = plans.plan_adoptions(conform(rows, "transactions"))
    assert set(out["adoption_date"].dt.date) == {D(2023, 2, 23), D(2023, 2, 24)}
    assert not out["too_soon"].any() and out["cooling_off_rule"].str.contains("before 27 Feb 2023").all()


def test_quarter_report_includes_the_adoption_day_and_needs_a_filing_date():
    """Guards against skipping the 10-Q whose period ends the very day of adoption, and against using a report
    with no filing date."""
    reports = _reports(("10-Q", "2023-03-31", "2023-06-16"), ("10-Q", "2023-06-30", "2023-07-20"))
    end, rule = cooling_off_end(D(2023, 3, 31), "officer_director", reports)
    assert end == D(2023, 6, 29) and "filed 2023-06-16" in rule  # 90 days: Jun 29 (10-Q + 2 bd = Jun 21)
    reports.loc[0, "filing_date"] = pd.NaT
    assert "filed 2023-07-20" in cooling_off_end(D(2023, 3, 31), "officer_director", reports)[1]


def test_issuer_as_reporting_owner_has_no_cooling_off():
    """Guards against treating the issuer (a company reporting its own shares) like an insider."""
    issuer = Owner(ACME[0], "ACME Widgets Inc", other=True)
    out = plans.plan_adoptions(_plan_rows(issuer, "March 15, 2023", "2023-03-20"))
    assert out["cooling_off_rule"].iloc[0] == "the issuer: no cooling-off" and not bool(
        out["too_soon"].iloc[0]
    )


def test_plan_adoption_without_sales_and_unknown_rows_left_out():
    """Guards against a plan with no sale yet being flagged or given a first sale, and against rows of unknown
    plan status (with an adoption date of a plan they are not under) creating adoptions."""
    note = {"F1": "Exercised under a Rule 10b5-1 trading plan adopted on March 15, 2023."}
    xml = form_xml(issuer=ACME, owners=[JANE], period="2023-07-03", aff10b5one=True, footnotes=note,
                   transactions=[Tx("2023-07-03", "M", 100, 1.0, "A", 100, footnotes=["F1"])])  # fmt: skip
    tx = conform(parse_ownership(xml, "0001234567-23-000950", "2023-07-05").transactions, "transactions")
    out = plans.plan_adoptions(tx)
    assert (out["plan_sales"].iloc[0], out["plan_sale_value"].iloc[0]) == (0, 0.0)
    assert pd.isna(out["first_plan_sale"].iloc[0]) and not bool(out["too_soon"].iloc[0])
    unknown = tx.assign(is_10b5_1=pd.array([pd.NA], dtype="boolean"))
    assert (
        plans.plan_adoptions(unknown).empty and list(plans.plan_adoptions(unknown).columns)[0] == "owner_cik"
    )


def test_plan_activity_splits_values_and_shares():
    """Guards against plan and other sales swapped or mixed, a missing value counted as $1, and a plan share for a
    period without sale dollars."""
    rows = []
    for i, (box, shares, price) in enumerate([(True, 100, 10.0), (False, 300, 10.0), (True, 50, None)]):
        xml = form_xml(issuer=ACME, owners=[JANE], period="2023-05-01", aff10b5one=box,
                       transactions=[Tx("2023-05-01", "S", shares, price, "D", 0)])  # fmt: skip
        rows += parse_ownership(xml, f"0001234567-23-00096{i}", "2023-05-03").transactions
    xml = form_xml(issuer=ACME, owners=[JANE], period="2023-07-01", aff10b5one=True,
                   transactions=[Tx("2023-07-01", "S", 10, 0.0, "D", 0)])  # fmt: skip
    rows += parse_ownership(xml, "0001234567-23-000969", "2023-07-03").transactions
    act = plans.plan_activity(conform(rows, "transactions")).set_index("period")
    may = act.loc[pd.Timestamp("2023-05-01")]
    assert (may["plan_value"], may["plan_shares"], may["other_value"], may["other_shares"]) == (
        1000.0,
        150.0,
        3000.0,
        300.0,
    )
    assert may["plan_share"] == 0.25 and pd.isna(act.loc[pd.Timestamp("2023-07-01"), "plan_share"])
    assert list(plans.plan_activity(conform([], "transactions")).columns) == [
        "period", "plan_value", "plan_shares", "other_value", "other_shares", "plan_share",
    ]  # fmt: skip


def test_checkbox_disagreements_table():
    """Guards against the disagreements table mislabelling the box, what the row counts as, or cutting the
    footnote's first characters; and against an empty table without columns."""
    note = {"F1": "Sold under a Rule 10b5-1 trading plan adopted on March 1, 2023."}
    xml = form_xml(issuer=ACME, owners=[JANE], period="2023-05-01", aff10b5one=False, footnotes=note,
                   transactions=[Tx("2023-05-01", "S", 1, 1.0, "D", 0, footnotes=["F1"])])  # fmt: skip
    p = parse_ownership(xml, "0001234567-23-000970", "2023-05-03")
    tx, filings = conform(p.transactions, "transactions"), conform([p.filing], "filings")
    dis = plans.checkbox_disagreements(tx, filings)
    assert dis[["checkbox", "counted_as"]].values.tolist() == [["unchecked", "10b5-1 plan"]]
    assert dis["footnotes"].iloc[0].startswith("F1: Sold") and "the footnote wins" in dis["decision"].iloc[0]
    assert dis["filing_url"].iloc[0].endswith("0001234567-23-000970-index.htm")
    empty = plans.checkbox_disagreements(tx.iloc[0:0], filings)
    assert empty.empty and "counted_as" in empty.columns


def _plan_row(**kw) -> dict:
    base = {
        "accession": "0001234567-23-000980", "seq": 1, "row_id": "r1", "issuer_cik": ACME[0], "ticker": "ACME",
        "owner_cik": 1000001, "owner_name": "Roe Jane", "role": "Officer", "is_officer": True,
        "is_director": False, "code": "S", "shares": 10.0, "price": 5.0, "value": 50.0, "is_10b5_1": True,
        "plan_adoption_date": pd.Timestamp("2023-06-01"), "transaction_date": pd.Timestamp("2023-07-15"),
        "filing_date": pd.Timestamp("2023-07-17"),
    }  # fmt: skip
    return {**base, **kw}


def test_plan_adoption_without_ticker_or_known_roles():
    """Guards against a plan of an issuer without a ticker dropping out of the adoptions table (NA group keys),
    and against unknown officer/director checkboxes treated as officer (90 days instead of 30 for a sale on day
    44); also against the old index or extra columns in the table."""
    tx = conform([_plan_row(ticker=None, is_officer=None, is_director=None)], "transactions")
    out = plans.plan_adoptions(tx)
    assert list(out.columns) == [
        "owner_cik", "owner_name", "ticker", "role", "adoption_date", "first_plan_sale", "days_to_first_sale",
        "cooling_off_days", "cooling_off_end", "cooling_off_rule", "too_soon", "plan_sales", "plan_sale_value",
    ]  # fmt: skip
    assert list(out.index) == [0]
    row = out.iloc[0]
    assert (row["days_to_first_sale"], row["cooling_off_days"], bool(row["too_soon"])) == (44, 30, False)
    assert (row["plan_sales"], row["plan_sale_value"]) == (1, 50.0)


def test_plan_adoption_ignores_another_issuers_reports():
    """Guards against an officer's cooling-off taken from another issuer's 10-Q when the page loaded reports of
    several issuers but none of the plan's own."""
    tx = conform([_plan_row(transaction_date=pd.Timestamp("2023-09-05"))], "transactions")
    other = _reports(("10-Q", "2023-06-30", "2023-09-20")).assign(issuer_cik=pd.array([999], dtype="Int64"))
    row = plans.plan_adoptions(tx, other).iloc[0]
    assert row["cooling_off_end"] == pd.Timestamp("2023-08-30") and not bool(row["too_soon"])
    assert row["cooling_off_rule"].startswith("director/officer: 90 days (the 10-Q/10-K")


def test_checkbox_disagreements_checked_box_order_and_long_footnotes():
    """Guards against a checked box shown as "unchecked", footnotes cut at the wrong length, disagreements out of
    filing order, and the old index leaking in as a column."""
    note = "F1: " + "n" * 500
    tx = conform(
        [
            _plan_row(accession="b", flags="tenb51_conflict", is_10b5_1=False, footnotes=note,
                      filing_date=pd.Timestamp("2023-07-18"), tenb51_note="the footnote says no plan"),
            _plan_row(accession="a", flags="tenb51_conflict", is_10b5_1=True, footnotes="F1: plan",
                      filing_date=pd.Timestamp("2023-07-17")),
            _plan_row(accession="c", flags=None),
        ],
        "transactions",
    )  # fmt: skip
    filings = conform([{"accession": "a", "aff10b5one": False, "filing_url": "u-a"},
                       {"accession": "b", "aff10b5one": True, "filing_url": "u-b"}], "filings")  # fmt: skip
    dis = plans.checkbox_disagreements(tx, filings)
    assert list(dis.index) == [0, 1] and dis.columns[0] == "accession" and "index" not in dis.columns
    assert list(dis["accession"]) == ["a", "b"] and list(dis["checkbox"]) == ["unchecked", "checked"]
    assert list(dis["counted_as"]) == ["10b5-1 plan", "not a plan"] and list(dis["filing_url"]) == [
        "u-a",
        "u-b",
    ]
    assert dis["footnotes"].iloc[1] == note[:400]


def test_market_scope_reads_a_year_before_the_range_for_plans_only():
    """Guards against the market plans page missing the plan adoptions and first sales of the year before its
    range (adoption -> first sale needs them), reaching further back than a year, or reading every award."""
    import duckdb

    from analytics.filters import Filters

    start = dt.date(2024, 1, 1)
    rows = conform(
        [
            _plan_row(row_id="sale-364", plan_adoption_date=None, transaction_date=pd.Timestamp("2023-01-02")),
            _plan_row(row_id="sale-366", plan_adoption_date=None, transaction_date=pd.Timestamp("2022-12-31")),
            _plan_row(row_id="award", code="A", plan_adoption_date=None, transaction_date=pd.Timestamp("2024-02-01")),
            _plan_row(row_id="adopted", code="M", transaction_date=pd.Timestamp("2023-06-01")),
            _plan_row(row_id="conflict", code="G", plan_adoption_date=None, flags="tenb51_conflict",
                      transaction_date=pd.Timestamp("2023-06-01")),
            _plan_row(row_id="other-issuer", ticker="BETA", issuer_cik=7654321,
                      transaction_date=pd.Timestamp("2024-02-01")),
        ],
        "transactions",
    )  # fmt: skip
    sql, params = plans.market_scope(Filters(tickers=("ACME",), start=start, end=dt.date(2024, 12, 31)))
    con = duckdb.connect()
    con.register("transactions", rows)
    got = con.execute(f"SELECT row_id FROM transactions t WHERE {sql} ORDER BY row_id", params).fetchall()
    assert [r[0] for r in got] == ["adopted", "conflict", "sale-364"]


def test_plan_adoptions_list_the_newest_first():
    """Guards against the plans page's adoption table opening on the oldest plans (seen at 15 M rows: plans adopted
    in 2010-2011 above those of the two-year range): newest adoption first, names in order within a date."""
    rows = pd.concat(
        [
            _plan_rows(Owner(1000011, "Old Olga", officer=True), "March 15, 2011", "2011-07-01"),
            _plan_rows(Owner(1000013, "Zed New", officer=True), "March 15, 2023", "2023-07-01"),
            _plan_rows(Owner(1000012, "Amy New", officer=True), "March 15, 2023", "2023-07-03"),
        ],
        ignore_index=True,
    )
    out = plans.plan_adoptions(rows)
    assert list(out["owner_name"]) == ["Amy New", "Zed New", "Old Olga"]
