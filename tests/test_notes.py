"""loaders.notes: what footnotes and remarks say about 10b5-1 plans, adoption dates and price ranges.

Each case is the text of a real filing (its accession names the test or the case); the docstrings name the silent
failure guarded against."""

from __future__ import annotations

import datetime as dt

import pytest

from loaders.notes import (
    AMENDED_RULE_EFFECTIVE,
    Adoption,
    adoption,
    price_range,
    price_ranges,
    respectively,
    tenb51,
    tenb51_mention,
)


@pytest.mark.parametrize(
    ("text", "spelling"),
    [
        pytest.param("These shares were sold pursuant to Rule 10b51 trading plan adopted by the Reporting Person.",
                     "10b51", id="0001781162-23-000010"),
        pytest.param("effected pursuant to a Rule 10b5-l trading plan previously adopted by the reporting person",
                     "10b5-l", id="0001327811-23-000099"),
        pytest.param("These shares were sold pursuant to a 10b5 plan dated June 15, 2020.", "10b5 plan",
                     id="0001474506-20-000267"),
        pytest.param("effected pursuant to a Rule 10b5-trading plan adopted by the Reporting Person",
                     "10b5-trading plan", id="0001747632-20-000021"),
        pytest.param("sold pursuant to a Rule 10b-51 trading plan", "10b-51", id="issue-8-spelling-10b-51"),
        pytest.param("intended to comply with Rule 10b 5-1(c) under the Securities Exchange Act of 1934", None,
                     id="0001437749-23-017919"),
        pytest.param("effected under a 10b5\u20131 plan", None, id="en-dash"),
    ],
)  # fmt: skip
def test_tenb51_misspellings_read_as_a_plan(text, spelling):
    """Guards against missing a plan that a filer misspelled ("10b51", "10b5-l", "10b5 plan"...): such rows got
    "unknown" (0001781162-23-000010: 3 rows). The spelling is kept so the row can say how it was read."""
    m = tenb51(text)
    assert m is not None and m.said is True and m.spelling == spelling


@pytest.mark.parametrize(
    "text",
    [
        "in compliance with Rule 10b-5 under the Exchange Act",
        "Rule 10b-5 In addition, the reporting person",
        "Rule 10b-5 1934 Act",
        "Gift to a family trust.",
    ],
)
def test_rule_10b_5_is_not_a_plan(text):
    """Guards against the anti-fraud Rule 10b-5 (or a stray 'I'/'1' after it) being read as a 10b5-1 plan."""
    assert tenb51(text) is None


def test_negated_mention_says_not_a_plan():
    """Guards against 'not pursuant to a Rule 10b5-1 plan' counting as a plan sale, and the tri-state collapsing."""
    m = tenb51("The sale was not made pursuant to a Rule 10b51 trading plan.")
    assert m is not None and m.said is False
    assert tenb51_mention("The sale was not made pursuant to a Rule 10b5-1 trading plan.") is False
    assert tenb51_mention("Sold under a Rule 10b5-1 trading plan.") is True
    assert tenb51_mention("Gift to a family trust.") is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        pytest.param("The sales reported on this Form 4 were effected pursuant to a Rule 10b5-1 trading plan adopted "
                     "by the Still Family Trust, DTD 3/12/1996 (the \"Still Family Trust\") on January 17, 2018, and "
                     "subsequently transferred to the reporting person pursuant to the Assignment and Assumption "
                     "Agreement dated March 1, 2018.", dt.date(2018, 1, 17), id="0001327811-23-000046-trust-date"),
        pytest.param("On November 1, 2022, Mr. Regan adopted a 10b5-1 Plan. This 10b5-1 Plan allows the orderly "
                     "disposition of shares owned by Mr. Regan.", dt.date(2022, 11, 1), id="0001093557-23-000016"),
        pytest.param("These shares were sold pursuant to a 10b5-1 plan entered into by Ms. Card Beckles on August 16, "
                     "2022.", dt.date(2022, 8, 16), id="0001209191-23-004310-honorific"),
        pytest.param("All sale transactions reported in this Form 4 were effected pursuant to a Rule 10b5-1 trading "
                     "plan entered into by the reporting person effective January 24,2023.", dt.date(2023, 1, 24),
                     id="0001562180-23-002059-no-space"),
        pytest.param("Adoption date of referenced 10b5-1(c) plan is: 03-13-2023", dt.date(2023, 3, 13),
                     id="0001437749-23-017919-dashes"),
        pytest.param("The shares were sold pursuant to a prior written authorization executed by the reporting person "
                     "on August 10, 2022 that is intended to comply with Rule 10b5-1", dt.date(2022, 8, 10),
                     id="0001209191-23-020267-executed"),
        pytest.param("This transaction was effected pursuant to a Rule 10b5-1 trading plan adopted by the reporting "
                     "person on February 23, 2023.", dt.date(2023, 2, 23), id="TEAM-0000899243-23-012708"),
        pytest.param("Rule 10b5-1 trading plan dated 2024-02-28.", dt.date(2024, 2, 28), id="iso"),
        pytest.param("The transaction took place in accordance with a Trading Plan that complies with SEC Rule "
                     "10b5-1 and expires on September 8, 2023.", None, id="0001035267-23-000023-expiry"),
        pytest.param("sold on May 1, 2024 pursuant to a Rule 10b5-1 plan", None, id="sale-date"),
        pytest.param("On May 1, 2024 the reporting person sold shares under a Rule 10b5-1 plan adopted on March 3, "
                     "2023.", dt.date(2023, 3, 3), id="sale-date-before-adoption-key"),
        pytest.param("a Rule 10b5-1 plan adopted on February 30, 2023 (sic), replacing one adopted on March 1, 2023",
                     dt.date(2023, 3, 1), id="impossible-date-skipped"),
        pytest.param("Rule 10b5-1 plan adopted on December 1, 2000", dt.date(2000, 12, 1), id="first-plan-year"),
        pytest.param("a 10b5-1 plan entered into on 3/1/23; shares sold on 6/1/23", dt.date(2023, 3, 1),
                     id="two-digit-year"),
        pytest.param("DTD 3/12/2005, the trust adopted a Rule 10b5-1 plan", None, id="trust-date-after-2000"),
        pytest.param("Rule 10b5-1 plan adopted " + "y" * 98 + " March 1, 2023", dt.date(2023, 3, 1),
                     id="gap-100-chars"),
        pytest.param("Rule 10b5-1 plan adopted " + "y" * 99 + " March 1, 2023", None, id="gap-101-chars"),
        pytest.param("Rule 10b5-1 plan adopted on December 1, 1999", None, id="before-the-rule"),
        pytest.param("Rule 10b5-1 plan adopted on December 1, 2100", dt.date(2100, 12, 1), id="year-2100"),
        pytest.param("Rule 10b5-1 plan adopted on December 1, 2101", None, id="year-2101"),
        pytest.param("adopted on May 16, 2024 under Rule 10b-5", None, id="rule-10b-5"),
    ],
)  # fmt: skip
def test_adoption_date_phrasings(text, date):
    """Guards against a trust's date (1996) or an expiry, sale or unrelated date taken for the adoption date, and
    against missing dates written "On <date>, X adopted", "Ms. X on <date>", "January 24,2023", "03-13-2023"."""
    assert adoption(text) == (Adoption(date=date) if date else None)


def test_adoption_month_only_0001562180_23_005231():
    """Guards against losing "adopted ... in March 2023" (no day): the 1st of the month, marked month-only."""
    a = adoption("This transaction was effected pursuant to a Rule 10b5-1 trading plan adopted by the reporting "
                 "person in March 2023.")  # fmt: skip
    assert a is not None and (a.date, a.month_only) == (dt.date(2023, 3, 1), True)


def test_modified_plan_counts_from_modification_0001209191_23_039190():
    """Guards against taking the original September 2022 date for a plan "modified on March 21, 2023" (under the
    amended rule a modification is a new adoption, with its own cooling-off)."""
    a = adoption(
        "Sales were made pursuant to a 10b5-1 Plan dated September 2022 and modified on March 21, 2023."
    )
    assert a is not None and (a.date, a.modified) == (dt.date(2023, 3, 21), True)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The sales reported on this Form 4 were effected pursuant to a contract, instruction or written "
                     "plan adopted prior to February 27, 2023 that was intended to satisfy the affirmative defense "
                     "conditions of Rule 10b5-1(c) as in effect on the date of adoption.", id="0001779128-23-000038"),
        pytest.param("The transactions reported in this Form 4 were effected pursuant to a Rule 10b5-1 trading plan "
                     "that was in effect prior to February 27, 2023.", id="0001517737-23-000036"),
        pytest.param("The shares set forth above were sold pursuant to the 10b5-1 Plan that was intended to comply "
                     "with prior version of Rule 10b5-1 promulgated under the Securities Exchange Act of 1934",
                     id="0001093557-23-000162-prior-version"),
    ],
)  # fmt: skip
def test_plan_adopted_before_the_amended_rule(text):
    """Guards against reading "adopted prior to February 27, 2023" as an adoption ON that date (which would start a
    90-day cooling-off for a plan the amended rule does not cover)."""
    assert adoption(text) == Adoption(
        date=None, before=AMENDED_RULE_EFFECTIVE, month_only=False, modified=False
    )


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        pytest.param("The transactions on January 30, 2023, January 31, 2023 and February 1, 2023 were each executed "
                     "in multiple trades at prices ranging from $2.75 to $3.465, $2.25 to $2.9275, and $2.15 to "
                     "$2.6275, respectively.", ((2.75, 3.465), (2.25, 2.9275), (2.15, 2.6275)),
                     id="0000950103-23-001657-three-ranges"),
        pytest.param("sold in multiple transactions at prices ranging from $87.75 to $86.75, inclusive.",
                     ((86.75, 87.75),), id="0001628280-23-019599-high-to-low"),
        pytest.param("Represents the weighted average sale price. The highest price at which shares were sold was "
                     "$115.31 and the lowest price at which shares were sold was $114.32.", ((114.32, 115.31),),
                     id="0001104659-23-063751-highest-lowest"),
        pytest.param("The lowest price at which shares were sold was $59.67 and the highest price at which shares "
                     "were sold was $60.66.", ((59.67, 60.66),), id="0001209191-23-008525-lowest-highest"),
        pytest.param("Sales at prices ranging from $121.52 per share to $121.79 per share.", ((121.52, 121.79),),
                     id="0001062993-23-002531-per-share"),
        pytest.param("2,242,072 unvested RSUs that vest ratably between 2023 and 2026", (),
                     id="0001657853-23-000008-years"),
        pytest.param("prices ranged from $1,001.10 through $1,002.00", ((1001.1, 1002.0),), id="through"),
        pytest.param("a low of $5.00 and a high of $5.25", ((5.0, 5.25),), id="low-high"),
        pytest.param("404 shares sold at $296.56 - 297.56; 1,201 shares", ((296.56, 297.56),),
                     id="0001035267-23-000097-second-without-dollar"),
        pytest.param("weighted average price of $19.25", (), id="no-range"),
        pytest.param("sold at prices ranging from 19.12 to 19.54", ((19.12, 19.54),), id="no-dollar-sign"),
        pytest.param("sold at prices ranging from $5 to $6", ((5.0, 6.0),), id="no-decimals"),
        pytest.param("sold at prices ranging from $0 to $6", (), id="zero-low-is-junk"),
        pytest.param("executed in multiple trades at prices ranging from $0.8700 to $0.9443.", ((0.87, 0.9443),),
                     id="0001781162-23-000010-below-a-dollar"),
        pytest.param("The highest price at which shares were sold was $0.95 and the lowest price at which shares "
                     "were sold was $0.90.", ((0.90, 0.95),), id="highest-lowest-below-a-dollar"),
        pytest.param("The highest price at which shares were sold was $1.00 and the lowest price at which shares "
                     "were sold was $0.00.", (), id="highest-lowest-zero-low"),
        pytest.param("250,000 shares were sold pursuant to a block trade for $7.00 per share and 8,600 shares", (),
                     id="0001213900-23-006798-block-trade"),
    ],
)  # fmt: skip
def test_price_ranges(text, ranges):
    """Guards against dropping a high-to-low range, reading only the first of several ranges, missing "highest
    ... lowest" or "per share to" phrasings, "through" as a separator, and years read as prices."""
    assert price_ranges(text) == ranges
    assert price_range(text) == (ranges[0] if ranges else None)


def test_respectively_marks_ranges_per_row():
    """Guards against mapping a "respectively" list by price containment alone (ranges overlap)."""
    assert respectively("$2.75 to $3.465, $2.25 to $2.9275, and $2.15 to $2.6275, respectively.")
    assert not respectively(
        "ranging from $248.78 to $252.47 as follows: 6,434 shares sold at $248.78 to $249.77"
    )
