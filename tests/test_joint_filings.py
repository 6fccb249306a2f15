"""Issuer totals count each economic trade once (joint filings) and leave suspect values out (analytics.flow).

Each docstring names the silent failure it guards against; cases from real filings are named after them."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analytics import flow, insiders, quality
from loaders.parser import parse_ownership
from loaders.schema import conform
from tests.conftest import need_corpus
from tests.fixtures.builder import ACME, Owner, Tx, form_xml

SMITH = Owner(3000001, "Smith Edgar R. III", director=True)
HOOD = Owner(3000002, "Hood William K", director=True)
CANNON = Owner(3000003, "Cannon-Brookes Michael", director=True, ten_percent=True)
FARQUHAR = Owner(3000004, "Farquhar Scott", director=True, ten_percent=True)
FUND = Owner(3000005, "Sponsor Fund LLC", ten_percent=True)
DIR_A = Owner(3000006, "Director A", director=True)
DIR_B = Owner(3000007, "Director B", director=True)
LLC = "By Smith & Hood Investments, LLC"


_OWNERS: list[dict] = []


def _filing(n: int, owner: Owner, txs: list[Tx], filed: str = "2023-04-10") -> list[dict]:
    xml = form_xml(issuer=ACME, owners=[owner], period=txs[0].date, transactions=txs, aff10b5one=False)
    parsed = parse_ownership(xml, f"0001437749-23-{n:06d}", filed)
    _OWNERS.extend(parsed.owners)
    return parsed.transactions


def _frame() -> pd.DataFrame:
    rows = []
    # 0001437749-23-009844 / -009846: two owners report the same purchases of their shared LLC
    for n, owner in ((9844, SMITH), (9846, HOOD)):
        rows += _filing(n, owner, [Tx("2022-02-28", "P", 500, 21.40, "A", 767333, direct="I", nature=LLC),
                                   Tx("2022-03-15", "P", 2600, 21.60, "A", 769933, direct="I", nature=LLC)])  # fmt: skip
    # TEAM's founders: identical sales, each from his own trust ("By Trust"): two trades
    for n, owner in ((9900, CANNON), (9901, FARQUHAR)):
        rows += _filing(
            n, owner, [Tx("2023-01-03", "S", 250, 165.124, "D", 184595, direct="I", nature="By Trust")]
        )
    # a fund (direct) and its designee director (indirect "By Fund"): one trade; identical grants: two
    rows += _filing(9910, FUND, [Tx("2023-03-01", "S", 1000, 10.0, "D", 9000),
                                 Tx("2023-03-01", "A", 20000, 0, "A", 20000, direct="I", nature="See footnote")])  # fmt: skip
    rows += _filing(9911, DIR_A, [Tx("2023-03-01", "S", 1000, 10.0, "D", 9000, direct="I", nature="By Fund"),
                                  Tx("2023-03-01", "A", 20000, 0, "A", 20000)])  # fmt: skip
    # two directors' identical direct sales are two trades
    rows += _filing(9920, DIR_A, [Tx("2023-03-02", "S", 300, 11.0, "D", 700)])
    rows += _filing(9921, DIR_B, [Tx("2023-03-02", "S", 300, 11.0, "D", 700)])
    # the same owner re-filing the same report: one trade
    rows += _filing(9930, DIR_B, [Tx("2023-03-03", "S", 100, 12.0, "D", 600)], filed="2023-03-06")
    rows += _filing(9931, DIR_B, [Tx("2023-03-03", "S", 100, 12.0, "D", 600)], filed="2023-03-07")
    return conform(rows, "transactions")


def test_joint_filing_counts_once_0001437749_23_009844():
    """Guards against issuer flow counting a trade twice when two owners (FGBI: Smith and Hood, through their LLC)
    each report it; against merging TEAM's founders' identical sales from their own trusts, two directors'
    identical direct sales or identical grants; and against losing a re-filed report's duplicate."""
    tx = _frame()
    dup = flow.joint_duplicates(tx)
    by_acc = tx.assign(dup=dup["duplicate_of"].notna()).groupby("accession")["dup"].sum().to_dict()
    assert by_acc == {
        "0001437749-23-009844": 0, "0001437749-23-009846": 2, "0001437749-23-009900": 0,
        "0001437749-23-009901": 0, "0001437749-23-009910": 0, "0001437749-23-009911": 1,
        "0001437749-23-009920": 0, "0001437749-23-009921": 0, "0001437749-23-009930": 0,
        "0001437749-23-009931": 1,
    }  # fmt: skip
    first = tx[tx["accession"] == "0001437749-23-009844"]
    assert list(dup.loc[tx["accession"] == "0001437749-23-009846", "duplicate_of"]) == list(first["row_id"])
    assert set(dup.loc[first.index, "joint_owners"]) == {"Smith Edgar R. III|Hood William K"}


def test_headline_and_flow_count_joint_trades_once_but_every_owner():
    """Guards against headline $ and the flow chart double-counting joint filings, and against dropping the
    second owner from the insider count (they both traded)."""
    tx = _frame()
    h = flow.headline(tx)
    assert h.bought == 500 * 21.40 + 2600 * 21.60  # once, not twice
    assert h.sold == 2 * 250 * 165.124 + 1000 * 10.0 + 2 * 300 * 11.0 + 100 * 12.0
    assert h.net == pytest.approx(h.bought - h.sold) and h.joint_duplicates == 4
    assert h.insiders == 7 and h.filings == 10
    net = flow.net_flow(tx, "Q")
    assert net["value"].sum() == pytest.approx(h.bought - h.sold)  # grants are A at $0
    assert net.loc[net["direction"] == "Buy", "trades"].sum() == 2 + 2  # two purchases + the two grants


def test_per_insider_views_still_show_each_owners_report():
    """Guards against the joint-filing rule leaking into per-insider views (Hood's own purchases vanish)."""
    tx = _frame()
    hood = tx[tx["owner_cik"] == HOOD.cik]
    owners = conform(_OWNERS, "owners").drop_duplicates("accession")
    roster = insiders.roster(tx, owners, conform([], "holdings"), tx)
    assert (
        len(hood) == 2 and roster.set_index("owner_cik").loc[HOOD.cik, "bought"] == 500 * 21.40 + 2600 * 21.60
    )


def test_joint_rule_in_sql_agrees_with_pandas():
    """Guards against the market pages' SQL version of the rule drifting from the issuer pages' pandas one."""
    tx = _frame()
    con = duckdb.connect()
    con.register("transactions", tx)
    got = con.execute(flow.joint_duplicates_sql()).df()
    dup = flow.joint_duplicates(tx)
    want = tx.loc[dup["duplicate_of"].notna(), "row_id"]
    assert dict(zip(got["row_id"], got["duplicate_of"], strict=True)) == dict(
        zip(want, dup.loc[want.index, "duplicate_of"], strict=True)
    )
    narrowed = con.execute(flow.joint_duplicates_sql("code = ?"), ["P"]).df()
    assert len(narrowed) == 2


@pytest.mark.corpus
def test_corpus_fgbi_0001437749_23_009844_and_009846():
    """Guards against the real FGBI pair (Smith and Hood, "By Smith & Hood Investments, LLC") counting twice:
    the 5 rows of -009846 that repeat -009844 are duplicates; the rest of -009846 and all of -009844 count."""
    corpus = need_corpus()
    rows = []
    for acc in ("0001437749-23-009844", "0001437749-23-009846"):
        rows += parse_ownership(
            (corpus / "form4" / f"{acc}.xml").read_bytes(), acc, "2023-04-10"
        ).transactions
    tx = conform(rows, "transactions")
    dup = flow.joint_duplicates(tx)["duplicate_of"].notna()
    assert tx.loc[dup, "accession"].value_counts().to_dict() == {"0001437749-23-009846": 5}
    once = flow.headline(tx)
    assert once.bought == pytest.approx(tx.loc[~dup & (tx["code"] == "P"), "value"].sum())
    assert once.joint_duplicates == 5 and once.insiders == 2


# ---------------------------------------------------------------------------------------------- suspect values
def _panw() -> pd.DataFrame:
    note = "weighted average sale price of the shares sold ranging from ${} to ${} per share."
    notes = {f"F{i}": note.format(lo, hi) for i, (lo, hi) in
             enumerate([(182.835, 183.825), (183.86, 184.835), (184.86, 185.855), (187.875, 188.41)], 1)}  # fmt: skip
    txs = [Tx("2023-03-13", "S", 1067, 183.489, "D", 656678, price_footnotes=["F1"]),
           Tx("2023-03-13", "S", 2033, 184.276, "D", 654645, price_footnotes=["F2"]),
           Tx("2023-03-13", "S", 10497, 185.492, "D", 644148, price_footnotes=["F3"]),
           Tx("2023-03-13", "S", 1500, 188139.0, "D", 642648, price_footnotes=["F4"])]  # fmt: skip
    xml = form_xml(issuer=ACME, owners=[SMITH], period="2023-03-13", transactions=txs, footnotes=notes)
    return conform(parse_ownership(xml, "0001209191-23-018495", "2023-03-14").transactions, "transactions")


def test_panw_typo_left_out_of_totals_by_default_0001209191_23_018495():
    """Guards against a $282 M typo ($188,139 for ~$188) reaching the headline and the flow chart, and against the
    toggle failing to put it back."""
    tx = _panw()
    good = 1067 * 183.489 + 2033 * 184.276 + 10497 * 185.492
    h = flow.headline(tx)
    assert (
        h.sold == pytest.approx(good)
        and h.suspect_rows == 1
        and h.suspect_value == pytest.approx(282_208_500)
    )
    assert flow.headline(tx, include_suspect=True).sold == pytest.approx(good + 282_208_500)
    assert flow.net_flow(tx)["value"].sum() == pytest.approx(-good)
    assert flow.net_flow(tx, include_suspect=True)["value"].sum() == pytest.approx(-good - 282_208_500)
    assert list(quality.suspect_values(tx)) == [False, False, False, True]


def test_counted_and_empty_frames():
    """Guards against counted() keeping suspect values by default, and against empty selections raising or
    losing their columns (a filter that matches nothing must still draw an empty chart)."""
    tx = _panw()
    assert len(flow.counted(tx)) == 3 and len(flow.counted(tx, include_suspect=True)) == 4
    empty = tx.iloc[0:0]
    assert flow.counted(empty).empty
    assert list(flow.net_flow(empty).columns) == ["period", "direction", "plan", "value", "shares", "trades"]
    assert list(flow.net_by_period(flow.net_flow(empty)).columns) == ["period", "value", "shares"]
    h = flow.headline(empty)
    assert (h.transactions, h.sold, h.joint_duplicates, h.suspect_rows) == (0, 0.0, 0, 0)


def test_net_by_period_sums_buys_and_sells():
    """Guards against the net line dropping sells or buys."""
    tx = _frame()
    net = flow.net_by_period(flow.net_flow(tx, "Q")).set_index("period")["value"]
    assert net.sum() == pytest.approx(flow.headline(tx).net)


def test_rows_without_shares_or_owned_after_are_never_merged():
    """Guards against merging rows that cannot be matched on every number (shares or owned-after missing)."""
    rows = []
    for n in (9940, 9941):
        rows += _filing(
            n, DIR_B, [Tx("2023-03-03", "S", None, 12.0, "D", 600), Tx("2023-03-03", "S", 5, 12.0, "D", None)]
        )
    tx = conform(rows, "transactions")
    assert flow.joint_duplicates(tx)["duplicate_of"].isna().all()


def test_joint_rule_details():
    """Guards against: natures compared literally (case and punctuation differ between co-filers); two different
    named trusts merged; a joint gift without a price (price missing on both rows) left double; rows without
    acquired/disposed or value entering the flow."""
    rows = []
    rows += _filing(9950, SMITH, [Tx("2023-03-06", "G", 400, None, "D", 769533, direct="I", nature=LLC)])
    rows += _filing(9951, HOOD, [Tx("2023-03-06", "G", 400, None, "D", 769533, direct="I",
                                    nature="by Smith & Hood Investments LLC")])  # fmt: skip
    rows += _filing(
        9952, CANNON, [Tx("2023-03-07", "S", 9, 5.0, "D", 91, direct="I", nature="By Alpha Trust")]
    )
    rows += _filing(
        9953, FARQUHAR, [Tx("2023-03-07", "S", 9, 5.0, "D", 91, direct="I", nature="By Beta Trust")]
    )
    tx = conform(rows, "transactions")
    dup = flow.joint_duplicates(tx)["duplicate_of"]
    assert list(dup.notna()) == [False, True, False, False] and dup.iloc[1] == tx["row_id"].iloc[0]
    net = flow.net_flow(tx)
    assert net["value"].sum() == pytest.approx(-2 * 9 * 5.0) and net["shares"].sum() == pytest.approx(
        -400 - 18
    )
    odd = tx.iloc[[2]].assign(acquired_disposed=pd.NA)
    assert flow.net_flow(odd).empty
    assert flow.headline(tx.iloc[0:0]).suspect_value == 0.0


def test_transactions_table_names_every_joint_owner_0001437749_23_009844():
    """Guards against the "Also reported by" column of the transactions table garbling the owners of a joint
    filing (0001437749-23-009844 / -009846: Smith and Hood report the same LLC purchases), e.g. the "|" separator
    replaced as a regular expression (", " between every character)."""
    table = insiders.transactions_table(_frame())
    llc = table[table["Insider"].isin([SMITH.name, HOOD.name])]
    assert set(llc["Also reported by"]) == {"Smith Edgar R. III, Hood William K"} and len(llc) == 4
    assert table.loc[table["Insider"] == "Cannon-Brookes Michael", "Also reported by"].isna().all()


def test_checked_once_gives_the_same_numbers_as_checking_in_each_function_0001437749_23_009844():
    """Guards against the issuer page's shortcut (with_quality computed once and handed to headline, net flow, the
    transactions table and the Data quality table) counting differently from each function checking the rows
    itself: joint duplicates (0001437749-23-009844/-009846) and a suspect value must be left out the same way; and
    against a `checked` frame of other rows (a filtered copy) being used silently."""
    tx = _frame()
    typo = tx.index[tx["accession"] == "0001437749-23-009920"][0]
    tx.loc[typo, "flags"] = "implausible_value"  # a suspect value: left out of totals by default
    checked = quality.with_quality(tx)
    assert checked["duplicate_of"].notna().sum() == 4 and bool(checked.loc[typo, "suspect"])
    assert checked["suspect"].equals(quality.suspect_values(tx))
    for include in (False, True):
        assert flow.headline(tx, include, checked) == flow.headline(tx, include)
        pd.testing.assert_frame_equal(
            flow.net_flow(tx, "M", include, checked), flow.net_flow(tx, "M", include)
        )
        pd.testing.assert_frame_equal(flow.counted(tx, include, checked), flow.counted(tx, include))
    assert flow.headline(tx, False, checked).suspect_rows == 1
    pd.testing.assert_frame_equal(insiders.transactions_table(tx, checked), insiders.transactions_table(tx))
    pd.testing.assert_frame_equal(quality.quality_summary(tx, checked), quality.quality_summary(tx))
    with pytest.raises(ValueError, match="same rows"):
        flow.headline(tx.iloc[1:], False, checked)
