"""Parser tests on hand-written XML and the fixture corpus; each docstring names the silent failure it guards."""

from __future__ import annotations

import datetime as dt

import pytest

from loaders.errors import CorruptFiling
from loaders.parser import adoption_date, parse_ownership, price_range, tenb51_mention, to_number
from loaders.schema import STORE_FILLED, check, conform
from tests.fixtures.builder import ACME, JANE, JOHN, Holding, Owner, Tx, fixture_filings, form_xml


def _parse(xml: bytes, acc: str = "0001234567-24-000099", filed: str | None = "2024-03-19"):
    return parse_ownership(xml, acc, filed)


def _one_tx(tx: Tx, **kw):
    xml = form_xml(issuer=ACME, owners=[JANE], period=tx.date, transactions=[tx], **kw)
    return _parse(xml).transactions[0]


def test_records_conform_to_declared_schemas():
    """Guards against parser keys drifting from loaders.schema (a renamed key would silently become null)."""
    parsed = [parse_ownership(x, a, d) for a, d, x in fixture_filings()]
    for name, attr in [("transactions", "transactions"), ("holdings", "holdings"), ("owners", "owners")]:
        rows = [r for p in parsed for r in getattr(p, attr)]
        declared = (
            set(conform(rows[:1], name).columns) - STORE_FILLED[name]
        )  # the store fills those (issue 9)
        assert rows and all(set(r) == declared for r in rows), name
        check(conform(rows, name), name)
    check(conform([p.filing for p in parsed], "filings"), "filings")


def test_basic_sale_values():
    """Guards against wrong sign, value or field mapping on the most common row (an open-market sale)."""
    r = _one_tx(Tx("2024-03-15", "S", "1,000", "$19.25", "D", 5000), aff10b5one=False)
    assert (r["code"], r["code_name"], r["acquired_disposed"]) == ("S", "Open-market or private sale", "D")
    assert (r["shares"], r["price"], r["value"]) == (1000.0, 19.25, 19250.0)
    assert (r["signed_shares"], r["signed_value"], r["owned_after"]) == (-1000.0, -19250.0, 5000.0)
    assert r["issuer_cik"] == 1234567 and r["ticker"] == "ACME" and r["owner_cik"] == 1000001
    assert r["role"] == "Director; Officer (Chief Executive Officer)"
    assert r["transaction_date"] == dt.date(2024, 3, 15) and r["flags"] is None


def test_junk_number_coerced_and_raw_kept():
    """Guards against dropping a row (or the filing) when a number carries junk like '923 F1'."""
    r = _one_tx(Tx("2024-03-15", "S", "923 F1", "abc", "D", 100))
    assert r["shares"] == 923.0 and r["shares_raw"] == "923 F1"
    assert r["price"] is None and r["price_raw"] == "abc" and "value_missing" in r["flags"]
    assert to_number("1,234.5(2)") == 1234.5 and to_number("12 shares") is None


def test_footnote_only_price_keeps_footnote():
    """Guards against losing a footnote when a field has only <footnoteId> and no value."""
    r = _one_tx(
        Tx("2024-03-15", "G", 500, None, "D", 100, price_footnotes=["F1"]),
        footnotes={"F1": "No consideration."},
    )
    assert r["price"] is None and r["price_raw"] is None and r["value"] is None
    assert r["footnote_ids"] == "F1" and r["footnotes"] == "F1: No consideration."


def test_missing_transaction_coding_tolerated():
    """Guards against a crash or a dropped row when <transactionCoding> is absent."""
    r = _one_tx(Tx("2024-03-15", None, 10, 5, "A", 10))
    assert r["code"] is None and r["code_name"] is None and r["shares"] == 10.0


def test_true_false_booleans_and_multiple_owners():
    """Guards against reading 'true' as False and against keeping only the first joint filer."""
    fund = Owner(5, "Fund LP", ten_percent=True, bool_style="truefalse")
    gp = Owner(6, "Fund GP", other=True, bool_style="truefalse")
    p = _parse(
        form_xml(
            issuer=ACME,
            owners=[fund, gp],
            period="2024-03-15",
            transactions=[Tx("2024-03-15", "S", 1, 1, "D", 0)],
        )
    )
    assert [o["owner_cik"] for o in p.owners] == [5, 6]
    assert p.owners[0]["is_ten_percent_owner"] is True and p.owners[1]["is_other"] is True
    assert p.transactions[0]["owner_ciks"] == "5|6" and p.transactions[0]["n_owners"] == 2
    assert len(p.transactions) == 1  # one row, not one per owner


def test_holdings_kept_apart_from_transactions():
    """Guards against counting holdings rows as trades (they anchor holdings, never flow)."""
    xml = form_xml(
        issuer=ACME,
        owners=[JOHN],
        period="2024-03-15",
        transactions=[Tx("2024-03-15", "P", 10, 2, "A", 110)],
        holdings=[Holding(500, "I", "By Trust"), Holding(7, derivative=True, title="Warrants")],
    )
    p = _parse(xml)
    assert len(p.transactions) == 1 and len(p.holdings) == 2
    assert p.holdings[0]["shares_owned"] == 500 and p.holdings[0]["nature"] == "By Trust"
    assert p.holdings[1]["table"] == "derivative" and p.filing["n_holdings"] == 2


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Sales made pursuant to a Rule 10b5-1 trading plan.", True),
        ("effected under a 10b5\u20131 plan", True),
        ("pursuant to a Rule 10b-5-1 plan", True),
        ("Rule 10b5-1(c) trading arrangement", True),
        ("in compliance with Rule 10b-5 under the Exchange Act", None),
        ("The sale was not made pursuant to a Rule 10b5-1 trading plan.", False),
        ("Gift to a family trust.", None),
    ],
)
def test_tenb51_mention_variants(text, said):
    """Guards against 'Rule 10b-5' matching as a plan, and against missing dash/negation variants."""
    assert tenb51_mention(text) is said


def test_tenb51_checkbox_then_explicit_footnote_wins_and_conflict_flag():
    """Guards against ignoring the checkbox, against an unchecked box overriding a footnote that says the sale
    was under a plan, and against hiding the disagreement (flag + a note saying which won)."""
    note = {"F1": "Sold pursuant to a Rule 10b5-1 trading plan adopted on May 16, 2023."}
    yes = _one_tx(Tx("2024-03-15", "S", 1, 1, "D", 0), aff10b5one=True)
    assert (yes["is_10b5_1"], yes["tenb51_source"], yes["tenb51_note"]) == (True, "checkbox", None)
    clash = _one_tx(Tx("2024-03-15", "S", 1, 1, "D", 0, footnotes=["F1"]), aff10b5one=False, footnotes=note)
    assert (clash["is_10b5_1"], clash["tenb51_source"]) == (True, "row_footnote")
    assert "tenb51_conflict" in clash["flags"] and "the footnote wins" in clash["tenb51_note"]
    assert clash["plan_adoption_date"] == dt.date(2023, 5, 16)


def test_tenb51_row_footnote_then_filing_footnote_then_unknown():
    """Guards against the tri-state collapsing to False, and a row-scoped footnote leaking to other rows."""
    note = {"F1": "Pursuant to a Rule 10b5-1 trading plan adopted on May 16, 2022."}
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2022-06-01",
        transactions=[
            Tx("2022-06-01", "S", 1, 1, "D", 5, footnotes=["F1"]),
            Tx("2022-06-01", "S", 2, 1, "D", 3),
        ],
        footnotes=note,
    )
    a, b = _parse(xml, filed="2022-06-03").transactions
    assert (a["is_10b5_1"], a["tenb51_source"], a["plan_adoption_date"]) == (
        True,
        "row_footnote",
        dt.date(2022, 5, 16),
    )
    assert b["is_10b5_1"] is None and b["tenb51_source"] is None  # row-scoped note says nothing about row 2
    unscoped = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2022-06-01",
        transactions=[Tx("2022-06-01", "S", 1, 1, "D", 0)],
        footnotes=note,
    )
    r = _parse(unscoped, filed="2022-06-03").transactions[0]
    assert (r["is_10b5_1"], r["tenb51_source"]) == (True, "filing_footnote")
    remark = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2022-06-01",
        transactions=[Tx("2022-06-01", "S", 1, 1, "D", 0), Tx("2022-06-01", "A", 1, 0, "A", 1)],
        remarks="All sales were made under a Rule 10b5-1 plan.",
    )
    s, grant = _parse(remark, filed="2022-06-03").transactions
    assert (s["is_10b5_1"], s["tenb51_source"]) == (True, "remarks") and grant["is_10b5_1"] is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        (
            "pursuant to a Rule 10b5-1 trading plan adopted by the reporting person on November 17, 2022.",
            dt.date(2022, 11, 17),
        ),
        ("a 10b5-1 plan entered into on 3/1/2023; shares sold on 6/1/2023", dt.date(2023, 3, 1)),
        ("Rule 10b5-1 plan adopted Sept. 5, 2023", dt.date(2023, 9, 5)),
        ("Rule 10b5-1 trading plan dated 2024-02-28.", dt.date(2024, 2, 28)),
        ("sold on May 1, 2024 pursuant to a Rule 10b5-1 plan", None),
        ("adopted on May 16, 2024 under Rule 10b-5", None),
    ],
)
def test_adoption_date_phrasings(text, date):
    """Guards against taking a sale date for the adoption date, or a 10b-5 footnote for a plan."""
    assert adoption_date(text) == date


@pytest.mark.parametrize(
    ("text", "rng"),
    [
        ("at prices ranging from $19.12 to $19.54, inclusive", (19.12, 19.54)),
        ("prices ranged from $1,001.10 to $1,002.00", (1001.1, 1002.0)),
        ("sold at prices between $5.00 and $5.25", (5.0, 5.25)),
        ("price range $12.01 - $12.40", (12.01, 12.4)),
        ("weighted average price of $19.25", None),
    ],
)
def test_price_range_phrasings(text, rng):
    """Guards against missing the low/high range of weighted-average price footnotes."""
    assert price_range(text) == rng


def test_typo_dates_fall_back_and_are_flagged():
    """Guards against a year-2035 or year-0022 typo sorting to the top (or bottom) of every chart."""
    for raw, flag in (("2035-03-15", "date_after_filing"), ("0022-03-15", "date_before_1990")):
        xml = form_xml(
            issuer=ACME, owners=[JANE], period="2024-03-15", transactions=[Tx(raw, "S", 1, 1, "D", 0)]
        )
        r = _parse(xml).transactions[0]
        assert r["transaction_date"] == dt.date(2024, 3, 15) and r["transaction_date_raw"] == raw
        assert "date_fallback" in r["flags"] and flag in r["flags"]


def test_sanity_flags():
    """Guards against implausible values, broken holdings chains and late filings passing silently."""
    big = _one_tx(Tx("2024-03-15", "S", 1e9, 100.0, "D", 0))
    assert "implausible_value" in big["flags"]
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-03-15",
        transactions=[Tx("2024-03-15", "S", 100, 1, "D", 900), Tx("2024-03-15", "S", 100, 1, "D", 700)],
    )
    first, second = _parse(xml).transactions
    assert first["flags"] is None and "holdings_mismatch" in second["flags"]  # 900 - 100 != 700
    late = _parse(
        form_xml(
            issuer=ACME,
            owners=[JANE],
            period="2024-03-15",
            transactions=[Tx("2024-03-15", "S", 1, 1, "D", 0)],
        ),
        filed="2024-03-21",
    ).transactions[0]
    assert (late["late_business_days"], late["is_late"]) == (4, True)
    holiday = _parse(
        form_xml(
            issuer=ACME,
            owners=[JANE],
            period="2024-07-03",
            transactions=[Tx("2024-07-03", "S", 1, 1, "D", 0)],
        ),
        filed="2024-07-08",
    ).transactions[0]
    assert (
        holiday["late_business_days"] == 2 and holiday["is_late"] is False
    )  # July 4th is not a business day


HOSTILE = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<ownershipDocument><remarks>&lol2;</remarks></ownershipDocument>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>Request Rate Threshold Exceeded</body></html>", "HTML page"),
        (b'<?xml version="1.0"?><ownershipDocument><issuer><issuerCik>1', "not well-formed"),
        (b'<?xml version="1.0"?><edgarSubmission/>', "not <ownershipDocument>"),
        (HOSTILE, "DTD"),
    ],
)
def test_corrupt_bodies_raise_corrupt_filing(body, reason):
    """Guards against caching an HTML block page, a truncated body or an entity bomb as a filing."""
    with pytest.raises(CorruptFiling) as e:
        parse_ownership(body, "0000000001-24-000001")
    assert reason in str(e.value) and "0000000001-24-000001" in str(e.value)


def test_filing_fields_and_links():
    """Guards against losing filing-level facts: amendment lineage date, checkbox, signature, EDGAR link."""
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-03-15",
        document_type="4/A",
        original="2024-03-19",
        transactions=[Tx("2024-03-15", "S", 1, 1, "D", 0)],
        aff10b5one=True,
        remarks="Amended to fix a price.",
        signature_date="2024-04-01",
    )
    f = parse_ownership(xml, "0001234567-24-000099").filing
    assert f["is_amendment"] is True and f["date_of_original_submission"] == dt.date(2024, 3, 19)
    assert f["aff10b5one"] is True and f["remarks"] == "Amended to fix a price."
    assert (f["filing_date"], f["filing_date_source"]) == (dt.date(2024, 4, 1), "signature")
    assert f["filing_url"] == (
        "https://www.sec.gov/Archives/edgar/data/1234567/000123456724000099/0001234567-24-000099-index.htm"
    )


def test_code_table_is_complete():
    """Guards against a missing SEC transaction code (the SEC lists exactly 20) or a code without a short name."""
    from loaders.codes import SHORT_NAMES, TRANSACTION_CODES, code_name

    assert set(TRANSACTION_CODES) == set(SHORT_NAMES) == set("PSVADFIMCEHOXGLWZJKU")
    assert code_name("s") == "Open-market or private sale" and code_name("Q") == "Unknown code Q"


def test_holdings_chain_accepts_rows_listed_out_of_date_order():
    """Guards against false 'holdings_mismatch' flags when a filer lists a later trade first."""
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-05-24",
        transactions=[
            Tx("2024-05-25", "P", 15000, 1, "A", 3511171),
            Tx("2024-05-24", "P", 20000, 1, "A", 3496171),
        ],
    )
    assert [r["flags"] for r in _parse(xml, filed="2024-05-28").transactions] == [None, None]
    indirect = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-05-24",
        transactions=[
            Tx("2024-05-24", "S", 10, 1, "D", 1000, direct="I", nature="See footnote"),
            Tx("2024-05-24", "S", 10, 1, "D", 5000, direct="I", nature="See footnote"),  # another entity
        ],
    )
    assert [r["flags"] for r in _parse(indirect, filed="2024-05-28").transactions] == [None, None]
