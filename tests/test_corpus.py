"""Parser over the real EDGAR corpus in ../shared/edgar (skipped when absent)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from lxml import etree

from loaders.parser import parse_ownership
from tests.conftest import need_corpus

pytestmark = pytest.mark.corpus


def _parse_file(path):
    return parse_ownership(path.read_bytes(), path.stem)


def test_every_real_filing_parses_with_matching_row_counts():
    """Guards against a schema version or odd filing raising, and against rows silently dropped or invented:
    per filing, transactions match MANIFEST.tsv's counts and the XML's own element counts."""
    corpus = need_corpus()
    with open(corpus / "MANIFEST.tsv", newline="") as fh:
        manifest = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}
    files = sorted(p for sub in ("form3", "form4", "form5") for p in (corpus / sub).glob("*.xml"))
    assert len(files) > 17000
    failures, mismatches = [], []
    for path in files:
        try:
            p = _parse_file(path)
        except Exception as e:  # noqa: BLE001 - collect every failure, name it
            failures.append(f"{path.name}: {e!r}")
            continue
        nd = sum(t["table"] == "nonDerivative" for t in p.transactions)
        d = len(p.transactions) - nd
        row = manifest.get(f"{path.parent.name}/{path.name}")
        if row and (str(nd), str(d)) != (row["n_nonderiv_tx"], row["n_deriv_tx"]):
            mismatches.append(
                f"{path.name}: parsed {nd}/{d}, manifest {row['n_nonderiv_tx']}/{row['n_deriv_tx']}"
            )
        if len(p.holdings) + len(p.transactions) == 0 and b"Transaction>" in path.read_bytes():
            mismatches.append(f"{path.name}: rows in XML but none parsed")
    assert not failures, failures[:20]
    assert not mismatches, mismatches[:20]


def test_row_counts_match_xml_element_counts_on_sample():
    """Guards against holdings leaking into transactions (or vice versa) on real layouts."""
    corpus = need_corpus()
    for path in sorted((corpus / "form4").glob("*.xml"))[::97]:
        root = etree.fromstring(path.read_bytes())
        p = _parse_file(path)
        for table in ("nonDerivative", "derivative"):
            assert sum(t["table"] == table for t in p.transactions) == len(
                root.findall(f".//{table}Transaction")
            )
            assert sum(h["table"] == table for h in p.holdings) == len(root.findall(f".//{table}Holding"))


def _tx(accession):
    return _parse_file(need_corpus() / "form4" / f"{accession}.xml")


def test_checkbox_filing_with_price_ranges_and_adoption():
    """AMD / Papermaster, 2023: checkbox 1, weighted-average ranges per tranche, plan adopted 2022-11-17."""
    p = _tx("0000002488-23-000066")
    assert p.filing["aff10b5one"] is True
    sales = [t for t in p.transactions if t["code"] == "S"]
    assert [(t["shares"], t["price"], t["price_low"], t["price_high"]) for t in sales] == [
        (26803.0, 91.34, 90.68, 91.66),
        (3197.0, 91.78, 91.68, 91.89),
    ]
    assert all(t["is_10b5_1"] is True and t["tenb51_source"] == "checkbox" for t in p.transactions)
    assert {t["plan_adoption_date"] for t in sales} == {dt.date(2022, 11, 17)}
    assert [t["table"] for t in p.transactions].count("derivative") == 1


def test_footnote_only_10b5_1_before_checkbox_existed():
    """AMD / Bergman, Feb 2023 (no aff10b5One element): the plan shows only in a row footnote."""
    (t,) = _tx("0000002488-23-000022").transactions
    assert (t["code"], t["shares"], t["price"]) == ("S", 3000.0, 85.88)
    assert (t["is_10b5_1"], t["tenb51_source"], t["plan_adoption_date"]) == (
        True,
        "row_footnote",
        dt.date(2022, 6, 2),
    )


def test_gift_in_plan_filing_is_not_marked_plan():
    """AMD / Papermaster, Feb 2023: the G gift row has no plan footnote, so it stays unknown, not True."""
    p = _tx("0000002488-23-000014")
    gift = next(t for t in p.transactions if t["code"] == "G")
    assert gift["is_10b5_1"] is None
    assert [t["is_10b5_1"] for t in p.transactions if t["code"] == "S"] == [True, True]


def test_six_joint_filers_one_row():
    """STGW / Goldman Sachs group: six reporting owners, one sale counted once."""
    p = _tx("0000895345-23-000203")
    assert len(p.owners) == 6 and p.owners[0]["owner_name"] == "GOLDMAN SACHS GROUP INC"
    (t,) = p.transactions
    assert (t["code"], t["shares"], t["price"], t["n_owners"]) == ("S", 4000000.0, 6.4294, 6)
    assert t["owner_ciks"].count("|") == 5


def test_amendment_with_footnote_only_fields():
    """AMD / Wolin 4/A: derivative M row with a footnote-only conversion price and dates, lineage date kept."""
    p = _tx("0000002488-17-000078")
    assert p.filing["form"] == "4/A" and p.filing["date_of_original_submission"] == dt.date(2017, 1, 18)
    (t,) = p.transactions
    assert (t["table"], t["code"], t["shares"], t["owned_after"]) == ("derivative", "M", 107843.0, 218954.0)
    assert t["conversion_price"] is None and t["exercise_date"] is None and "F1" in t["footnote_ids"]
    assert t["underlying_shares"] == 107843.0


def test_agrees_with_go_edgar_expected_outputs():
    """Cross-check against another parser's golden output (not SEC truth): non-derivative rows' code, shares,
    price, owned-after, 10b5-1 flag and adoption date, row by row."""
    corpus = need_corpus()
    checked = 0
    for exp_path in sorted((corpus / "datasets" / "parser_expected").glob("*.expected.json")):
        acc = exp_path.name.split("_", 1)[1].split(".")[0]
        xml = next(corpus.glob(f"form*/{acc}.xml"), None)
        if xml is None:
            continue
        exp = json.loads(exp_path.read_text())["expected"]
        mine = [t for t in _parse_file(xml).transactions if t["table"] == "nonDerivative"]
        want = exp["transactions"] or []
        assert len(mine) == len(want), acc
        for m, w in zip(mine, want, strict=True):
            assert (m["code"], m["shares"], m["owned_after"]) == (
                w["transactionCode"],
                float(w["shares"]),
                float(w["sharesOwnedFollowing"]),
            ), acc
            assert m["price"] == (None if w["pricePerShare"] is None else float(w["pricePerShare"])), acc
            assert bool(m["is_10b5_1"]) == w["is10b51Plan"], acc
            if w["plan10b51AdoptionDate"]:
                assert str(m["plan_adoption_date"]) == w["plan10b51AdoptionDate"], acc
            checked += 1
    assert checked >= 5
