"""Numbers the pages show, called directly on the fixture corpus with exact expected values."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics import flow, holdings, insiders, plans
from analytics.filters import Filters, apply_filters
from loaders.frames import load
from tests.fixtures.builder import FIXTURE_TOTALS
from tests.store_support import fixture_store


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return load(fixture_store(tmp_path_factory.mktemp("numbers")), tickers=["ACME"])


def test_headline(acme):
    """Guards against joint filers counted twice, or holdings/grants leaking into open-market totals."""
    h = flow.headline(apply_filters(acme.transactions, Filters()))
    t = FIXTURE_TOTALS["ACME"]
    assert (h.sold, h.bought) == (pytest.approx(t["sale_value"]), pytest.approx(t["purchase_value"]))
    assert h.plan_sale_share == pytest.approx(t["plan_sale_value"] / t["sale_value"])
    assert (
        h.insiders == 5 and h.transactions == 12
    )  # the fund and its GP both count as insiders, the sale once


def test_net_flow_per_quarter(acme):
    """Guards against sales landing in the wrong period or plan bucket, and against positive sells."""
    f = flow.net_flow(apply_filters(acme.transactions, Filters()), "Q")
    q2_2024 = f[f["period"] == pd.Timestamp("2024-04-01")].set_index(["direction", "plan"])["value"]
    assert q2_2024.to_dict() == {
        ("Buy", "Discretionary"): 77000.0,
        ("Sell", "10b5-1 plan"): -440000.0,
        ("Sell", "Discretionary"): -4000000.0,
    }
    assert f.loc[f["direction"] == "Sell", "value"].sum() == pytest.approx(
        -FIXTURE_TOTALS["ACME"]["sale_value"]
    )


def test_holdings_series_steps_and_anchors(acme):
    """Guards against holdings lines built from the wrong rows (flow instead of owned-after, lost anchors)."""
    pts = holdings.holdings_series(acme.transactions, acme.holdings)
    jane = pts[pts["series"] == "Roe Jane \u2014 Direct"]
    assert list(jane["shares_owned"]) == [
        492000.0,
        482000.0,
        472000.0,
        462000.0,
        456000.0,
        452000.0,
        442000.0,
        432000.0,
    ]
    trust = pts[pts["series"] == "Doe John \u2014 Indirect (By Trust)"]
    assert list(zip(trust["kind"], trust["shares_owned"], strict=True)) == [
        ("anchor", 12000.0)
    ]  # the 4/A restatement
    assert set(pts.loc[pts["owner_name"] == "Poe Peter", "kind"]) == {"anchor"}
    last = holdings.latest_holdings(pts).set_index("series")["shares_owned"]
    assert last["Major Mary \u2014 Direct"] == 54000.0


def test_plan_numbers(acme):
    """Guards against wrong plan shares, adoption dates or cooling-off checks."""
    tx = apply_filters(acme.transactions, Filters(codes=("S",)))
    assert plans.plan_share(tx) == pytest.approx(2_533_400 / 7_208_400)
    act = plans.plan_activity(tx, "Q").set_index("period")
    assert act.loc[pd.Timestamp("2024-04-01"), "plan_value"] == 440000.0
    assert act.loc[pd.Timestamp("2024-04-01"), "other_value"] == 4_000_000.0
    adopt = plans.plan_adoptions(acme.transactions).set_index("adoption_date")
    row = adopt.loc[pd.Timestamp("2023-03-01")]
    assert row["first_plan_sale"] == pd.Timestamp("2023-06-15") and row["days_to_first_sale"] == 106
    assert row["cooling_off_days"] == 90 and not row["too_soon"] and row["plan_sales"] == 7
    early = adopt.loc[pd.Timestamp("2022-09-01")]
    assert early["days_to_first_sale"] == 105 and early["plan_sale_value"] == 224000.0


def test_cooling_off_flag_and_disagreements():
    """Guards against missing a first plan sale inside the cooling-off period, or a checkbox contradiction."""
    from loaders.parser import parse_ownership
    from loaders.schema import conform
    from tests.fixtures.builder import ACME, JANE, Tx, form_xml

    note = {"F1": "Sold under a Rule 10b5-1 trading plan adopted on May 1, 2024."}
    soon = parse_ownership(
        form_xml(issuer=ACME, owners=[JANE], period="2024-06-03", aff10b5one=True, footnotes=note,
                 transactions=[Tx("2024-06-03", "S", 100, 10.0, "D", 0, footnotes=["F1"])]),
        "0001234567-24-000500", "2024-06-05",
    )  # fmt: skip
    clash = parse_ownership(
        form_xml(issuer=ACME, owners=[JANE], period="2024-07-01", aff10b5one=False, footnotes=note,
                 transactions=[Tx("2024-07-01", "S", 100, 10.0, "D", 0, footnotes=["F1"])]),
        "0001234567-24-000501", "2024-07-03",
    )  # fmt: skip
    tx = conform(soon.transactions + clash.transactions, "transactions")
    adopt = plans.plan_adoptions(tx)
    assert list(adopt["days_to_first_sale"]) == [33] and bool(adopt["too_soon"].iloc[0])
    filings = conform([soon.filing, clash.filing], "filings")
    dis = plans.checkbox_disagreements(tx, filings)
    assert list(dis["accession"]) == ["0001234567-24-000501"] and list(dis["checkbox"]) == ["unchecked"]


def test_roster_and_tables(acme):
    """Guards against roster rows with wrong flows, and tables whose links or labels break."""
    f = Filters()
    tx = apply_filters(acme.transactions, f)
    scope = apply_filters(acme.transactions, f, skip=("codes",))
    r = insiders.roster(tx, acme.owners, acme.holdings, scope).set_index("owner_cik")
    points = holdings.holdings_series(
        scope, acme.holdings[acme.holdings["accession"].isin(scope["accession"])]
    )
    given = insiders.roster(tx, acme.owners, acme.holdings, scope, points).set_index("owner_cik")
    pd.testing.assert_frame_equal(given, r)  # the page hands over the holdings chart's points: same roster
    assert r.loc[1000001, "net_flow"] == pytest.approx(-2_533_400)
    assert r.loc[1000001, "plan_sale_share"] == 1.0 and r.loc[1000001, "last_holding"] == 432000.0
    assert r.loc[1000002, "bought"] == 227000.0 and pd.isna(r.loc[1000002, "plan_sale_share"])
    assert r.loc[1000004, "sold"] == r.loc[1000005, "sold"] == 4_000_000.0
    table = insiders.transactions_table(tx)
    assert (
        len(table) == 12 and table["Filing"].str.startswith("https://www.sec.gov/Archives/edgar/data/").all()
    )
    assert table.loc[table["Price range"].notna(), "Price range"].tolist() == ["41.10\u201341.90"] * 2
    late = insiders.late_filings(acme.transactions, acme.filings)
    assert set(late["late_business_days"]) == {5} and len(late) == 3
    assert insiders.insider_summary(tx[tx["owner_cik"] == 1000003], acme.filings, "Mary").late_filings == 1
    assert dt.date(2024, 8, 8) == late["filing_date"].iloc[0].date()


def test_gifts_before_2023_rule_are_not_late_form_4s():
    """Guards against issue 7 item 11: gifts made before 27 February 2023 could be reported on Form 5, so a Form 4
    filed for one weeks later is not late; the same gift a year later is."""
    import pandas as pd

    from analytics.insiders import late_filings

    tx = pd.DataFrame({
        "accession": ["a-22-gift", "b-23-gift", "c-22-sale"], "code": ["G", "G", "S"], "is_late": [True, True, True],
        "transaction_date": pd.to_datetime(["2022-06-01", "2023-06-01", "2022-06-01"]),
        "filing_date": pd.to_datetime(["2022-08-01", "2023-08-01", "2022-08-01"]), "ticker": "X", "owner_name": "Y",
        "late_business_days": [40, 40, 40], "value": [1.0, 2.0, 3.0],
    })  # fmt: skip
    filings = pd.DataFrame({"accession": tx["accession"], "filing_url": "u"})
    assert sorted(late_filings(tx, filings)["accession"]) == ["b-23-gift", "c-22-sale"]


def _rows(txs, owner=None, acc="0001234567-24-000600", filed="2024-03-19", **kw):
    from loaders.parser import parse_ownership
    from loaders.schema import conform
    from tests.fixtures.builder import ACME, JANE, form_xml

    xml = form_xml(issuer=ACME, owners=[owner or JANE], period=txs[0].date, transactions=txs, **kw)
    return conform(parse_ownership(xml, acc, filed).transactions, "transactions")


def test_unknown_plan_status_is_not_plan():
    """Guards against sales of unknown plan status counting as plan sales in the plan share, the headline and the
    plan activity chart (only a known True counts)."""
    from tests.fixtures.builder import Tx

    plan = _rows([Tx("2024-03-15", "S", 100, 1.0, "D", 0)], aff10b5one=True, acc="0001234567-24-000601")
    unknown = _rows([Tx("2024-03-15", "S", 300, 1.0, "D", 0)], acc="0001234567-24-000602")
    no = _rows([Tx("2024-03-15", "S", 600, 1.0, "D", 0)], aff10b5one=False, acc="0001234567-24-000603")
    tx = pd.concat([plan, unknown, no], ignore_index=True)
    assert list(tx["is_10b5_1"].astype(object)) == [True, pd.NA, False]
    assert plans.plan_share(tx) == pytest.approx(0.1)
    h = flow.headline(tx)
    assert h.plan_sale_share == pytest.approx(0.1) and h.net == -1000.0 and h.sold == 1000.0
    act = plans.plan_activity(tx)
    assert (act["plan_value"].sum(), act["other_value"].sum()) == (100.0, 900.0)


def test_headline_net_is_bought_minus_sold():
    """Guards against net = bought + sold (a sign slip only visible when both are non-zero)."""
    from tests.fixtures.builder import Tx

    tx = _rows([Tx("2024-03-15", "P", 10, 5.0, "A", 10), Tx("2024-03-15", "S", 4, 5.0, "D", 6)])
    h = flow.headline(tx)
    assert (h.bought, h.sold, h.net) == (50.0, 20.0, 30.0)


def test_holdings_line_leaves_out_derivatives_and_dates_anchors_by_period():
    """Guards against derivative rows (options) joining the common-stock holdings line, and against a Form 3/5
    holdings anchor placed at its filing date instead of its period of report."""
    from loaders.parser import parse_ownership
    from loaders.schema import conform
    from tests.fixtures.builder import ACME, PETER, Holding, Tx, form_xml

    tx = _rows([Tx("2024-03-15", "S", 10, 5.0, "D", 90),
                Tx("2024-03-15", "M", 10, 1.0, "D", 5, derivative=True, title="Stock Option", exercise_price=1.0)])  # fmt: skip
    xml = form_xml(issuer=ACME, owners=[PETER], period="2024-01-02", document_type="3",
                   holdings=[Holding(25000)])  # fmt: skip
    h = conform(parse_ownership(xml, "0001234567-24-000610", "2024-01-12").holdings, "holdings")
    pts = holdings.holdings_series(tx, h)
    assert sorted(zip(pts["kind"], pts["shares_owned"], strict=True)) == [
        ("anchor", 25000.0),
        ("trade", 90.0),
    ]
    assert pts.loc[pts["kind"] == "anchor", "date"].iloc[0] == pd.Timestamp("2024-01-02")
