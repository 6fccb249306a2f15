"""The data-set path agrees with the XML path, row for row, on every corpus quarter served by fake EDGAR.

For each quarter: every transaction of the data set is compared with the same row (accession, table, position)
parsed from the filing's own XML. Accession, date, code, shares, price, acquired/disposed and owned-after must agree
(to the cent) unless the data-set row marks that field unverified; every difference in any compared field must be
marked unverified; and, served by a fake EDGAR that does NOT apply the SEC's positional quirk (--dataset-aligned),
those very differences vanish (so each one is the quirk, not a mapping bug). The same for holdings rows and the
10b5-1 tri-state.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from loaders import datasets
from loaders.parser import parse_ownership
from tests.conftest import CORPUS, IDENTITY, need_corpus, need_fake_edgar

PRIMARY = ("transaction_date", "code", "shares", "price", "acquired_disposed", "owned_after")
OPTIONAL = (
    "deemed_execution_date",
    "timeliness",
    "nature",
    "direct_indirect",
    "value_owned_after",
    "security_title",
    "equity_swap",
    "transaction_form_type",
    "conversion_price",
    "exercise_date",
    "expiration_date",
    "underlying_title",
    "underlying_shares",
    "footnote_ids",
    "is_10b5_1",
    "tenb51_source",
    "plan_adoption_date",
    "price_low",
    "price_high",
    "late_business_days",
    "is_late",
    "flags",
)
HOLDING = ("shares_owned", "value_owned", "direct_indirect", "nature", "security_title", "footnote_ids")
NUMBERS = {
    "shares",
    "price",
    "owned_after",
    "value_owned_after",
    "conversion_price",
    "underlying_shares",
    "price_low",
    "price_high",
    "shares_owned",
    "value_owned",
}
TEXTS = {"security_title", "underlying_title", "nature"}


def _same(col: str, a, b) -> bool:
    if b is None or (not isinstance(b, str) and pd.isna(b)):
        return a is None or (not isinstance(a, str) and pd.isna(a))
    if a is None or (not isinstance(a, str) and pd.isna(a)):
        return False
    if col in NUMBERS:
        return abs(round(float(b) + 1e-9, 2) - float(a)) < 0.0051
    if isinstance(b, dt.date):
        return pd.Timestamp(a).date() == b
    if col in TEXTS:  # the data sets flatten line breaks and tabs to one space
        return " ".join(str(a).split()) == " ".join(str(b).split())
    if col == "footnote_ids":  # a set: the SEC's order is not reproducible
        return set(str(a).split(",")) == set(str(b).split(","))
    return a == b


def _corpus_files() -> dict[str, Path]:
    return {p.stem: p for d in ("form3", "form4", "form5") for p in (CORPUS / d).glob("*.xml")}


def _zip(server, quarter: str) -> bytes:
    import time
    import urllib.request

    time.sleep(0.15)  # the test's own look-ups stay under fake EDGAR's 10/s
    url = f"{server.url}/files/structureddata/data/insider-transactions-data-sets/{quarter}_form345.zip"
    req = urllib.request.Request(url, headers={"User-Agent": IDENTITY})
    with urllib.request.urlopen(req, timeout=180) as r:
        return r.read()


def _quarters(server) -> list[str]:
    import re
    import urllib.request

    url = f"{server.url}/data-research/sec-markets-data/insider-transactions-data-sets"
    req = urllib.request.Request(url, headers={"User-Agent": IDENTITY})
    with urllib.request.urlopen(req, timeout=60) as r:
        return sorted(set(re.findall(r"(\d{4}q[1-4])_form345\.zip", r.read().decode())))


def _differences(quarter: datasets.Quarter, files: dict[str, Path], xml_by_acc: dict) -> tuple[dict, int]:
    """{(row_id, column): (dataset value, xml value, unverified?)} over every row whose XML the corpus holds."""
    out: dict = {}
    compared = 0
    filings = quarter.frames["filings"].set_index("accession")
    for name, cols in (("transactions", PRIMARY + OPTIONAL), ("holdings", HOLDING)):
        for row in quarter.frames[name].to_dict("records"):
            acc = row["accession"]
            if acc not in files:
                continue
            if acc not in xml_by_acc:
                day = filings.loc[acc, "filing_date"]
                xml_by_acc[acc] = parse_ownership(files[acc].read_bytes(), acc, day.date())
            parsed = xml_by_acc[acc]
            mine = {r["row_id"]: r for r in getattr(parsed, name)}
            xml = mine.get(row["row_id"])
            assert xml is not None, f"{row['row_id']} is in the data set but not in the XML"
            compared += 1
            unverified = set((row["unverified"] or "").split(","))
            for col in cols:
                if not _same(col, row[col], xml[col]):
                    out[(row["row_id"], col)] = (row[col], xml[col], col in unverified)
        have = set(quarter.frames[name]["row_id"])
        for acc in set(quarter.frames["filings"]["accession"]) & set(xml_by_acc):  # no XML row missing
            assert {r["row_id"] for r in getattr(xml_by_acc[acc], name)} <= have, acc
    return out, compared


@pytest.fixture(scope="module")
def aligned(fake_edgar_factory_module):
    return fake_edgar_factory_module("--dataset-aligned")


@pytest.fixture(scope="module")
def fake_edgar_factory_module():
    from tests.conftest import FakeEdgar

    need_fake_edgar()
    started = []

    def start(*args):
        started.append(FakeEdgar(list(args)))
        return started[-1]

    yield start
    for s in started:
        s.stop()


def test_dataset_and_xml_paths_agree_on_every_corpus_quarter(fake_edgar, aligned):
    """Guards against a mapping bug (a column read from the wrong field, dates or cents parsed wrong, the 10b5-1
    tri-state or a footnote lost) hiding behind the SEC's positional quirk, and against unmarked quirk damage."""
    need_corpus()
    files = _corpus_files()
    quarters = [q for q in _quarters(fake_edgar) if q != "2024q3"]  # 2024q3: the real partial SEC set
    assert "2023q1" in quarters and "2020q1" in quarters
    total = explained = 0
    for q in quarters:
        got = datasets.read_quarter(_zip(fake_edgar, q), q)
        xml: dict = {}
        diffs, compared = _differences(got, files, xml)
        total += compared
        unexplained = {k: v for k, v in diffs.items() if not v[2]}
        assert not unexplained, (
            f"{q}: {len(unexplained)} unmarked differences, e.g. {next(iter(unexplained.items()))}"
        )
        primary = {k: v for k, v in diffs.items() if k[1] in PRIMARY}
        assert all(v[2] for v in primary.values())
        explained += len(diffs)
        straight = datasets.read_quarter(_zip(aligned, q), q)
        straight_diffs, _ = _differences(straight, files, xml)
        plan_cols = set(datasets._PLAN_COLUMNS) | {"plan_adoption_date"}
        for key in diffs:  # with the quirk switched off the difference is gone: it was the quirk
            if key[1] in plan_cols and q < "2023q2":
                continue  # no AFF10B5ONE column before 2023q2: the checkbox is unknowable, not shifted
            assert key not in straight_diffs, f"{q}: {key} differs even without the positional quirk"
        assert not {k for k in straight_diffs if k[1] not in plan_cols}, q
    assert total > 40_000 and explained > 100  # the quirk is really exercised


def test_tenb51_tristate_follows_the_checkbox_column():
    """Guards against reading AFF10B5ONE where it does not exist (before 2023q2) or ignoring it where it does."""
    sub = [
        "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDATE_OF_ORIG_SUB\tNO_SECURITIES_OWNED\tNOT_SUBJECT_SEC16\t"
        "FORM3_HOLDINGS_REPORTED\tFORM4_TRANS_REPORTED\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL\t"
        "REMARKS\tAFF10B5ONE",
        "0000000001-23-000001\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t0000000042\tWiley\tWLY, WLYB\t\t1",
        "0000000001-23-000002\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t0000000042\tWiley\twly\t\tfalse",
        "0000000001-23-000003\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t0000000042\tWiley\tNONE\t\t",
    ]
    q = datasets.read_quarter(_tiny_zip(sub), "t")
    tx = q.frames["transactions"].set_index("accession")
    assert tx.loc["0000000001-23-000001", "is_10b5_1"] is True or tx.loc["0000000001-23-000001", "is_10b5_1"]
    assert tx.loc["0000000001-23-000001", "tenb51_source"] == "checkbox"
    assert not tx.loc["0000000001-23-000002", "is_10b5_1"]
    assert pd.isna(tx.loc["0000000001-23-000003", "is_10b5_1"])  # empty checkbox and no footnote: unknown
    assert list(q.frames["filings"]["ticker"]) == ["WLY, WLYB", "WLY", "NONE"]
    assert tx.loc["0000000001-23-000001", "transaction_date"] == pd.Timestamp("2023-05-03")
    assert (
        tx.loc["0000000001-23-000001", "price"] == 19.82
        and tx.loc["0000000001-23-000001", "shares"] == 250000.0
    )


def _tiny_zip(submission: list[str]) -> bytes:
    header = (
        "ACCESSION_NUMBER\tNONDERIV_TRANS_SK\tSECURITY_TITLE\tSECURITY_TITLE_FN\tTRANS_DATE\tTRANS_DATE_FN\t"
        "DEEMED_EXECUTION_DATE\tDEEMED_EXECUTION_DATE_FN\tTRANS_FORM_TYPE\tTRANS_CODE\tEQUITY_SWAP_INVOLVED\t"
        "EQUITY_SWAP_TRANS_CD_FN\tTRANS_TIMELINESS\tTRANS_TIMELINESS_FN\tTRANS_SHARES\tTRANS_SHARES_FN\t"
        "TRANS_PRICEPERSHARE\tTRANS_PRICEPERSHARE_FN\tTRANS_ACQUIRED_DISP_CD\tTRANS_ACQUIRED_DISP_CD_FN\t"
        "SHRS_OWND_FOLWNG_TRANS\tSHRS_OWND_FOLWNG_TRANS_FN\tVALU_OWND_FOLWNG_TRANS\tVALU_OWND_FOLWNG_TRANS_FN\t"
        "DIRECT_INDIRECT_OWNERSHIP\tDIRECT_INDIRECT_OWNERSHIP_FN\tNATURE_OF_OWNERSHIP\tNATURE_OF_OWNERSHIP_FN"
    )
    rows = [
        f"0000000001-23-00000{i}\t{i}\tCommon\t\t03-MAY-2023\t\t\t\t4\tS\t0\t\t\t\t250000.0\t\t19.82\t\tD\t\t"
        "1000.0\t\t\t\tD\t\t\t"
        for i in (1, 2, 3)
    ]
    owner = "ACCESSION_NUMBER\tRPTOWNERCIK\tRPTOWNERNAME\tRPTOWNER_RELATIONSHIP\tRPTOWNER_TITLE\tRPTOWNER_TXT"
    members = {
        "SUBMISSION.tsv": "\n".join(submission) + "\n",
        "NONDERIV_TRANS.tsv": "\n".join([header, *rows]) + "\n",
        "REPORTINGOWNER.tsv": owner
        + "\n"
        + "".join(
            f"0000000001-23-00000{i}\t0000000007\tDoe  Jane\tDirector,Officer\tCEO\t\n" for i in (1, 2, 3)
        ),
        "NONDERIV_HOLDING.tsv": "ACCESSION_NUMBER\tNONDERIV_HOLDING_SK\n",
        "DERIV_TRANS.tsv": "ACCESSION_NUMBER\tDERIV_TRANS_SK\n",
        "DERIV_HOLDING.tsv": "ACCESSION_NUMBER\tDERIV_HOLDING_SK\n",
        "FOOTNOTES.tsv": "ACCESSION_NUMBER\tFOOTNOTE_ID\tFOOTNOTE_TXT\n",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_positional_quirk_marks_the_moved_field(tmp_path):
    """Guards against a data-set row showing another row's nature of ownership as if it were verified."""
    sub = [
        "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDATE_OF_ORIG_SUB\tNO_SECURITIES_OWNED\tNOT_SUBJECT_SEC16\t"
        "FORM3_HOLDINGS_REPORTED\tFORM4_TRANS_REPORTED\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL\t"
        "REMARKS",
        "0000000001-23-000001\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t0000000042\tWiley\tWLY\t",
    ]
    data = _tiny_zip(sub)
    z = zipfile.ZipFile(io.BytesIO(data))
    members = {n: z.read(n).decode() for n in z.namelist()}
    lines = members["NONDERIV_TRANS.tsv"].splitlines()
    # two rows of one filing: the first shows "By Trust" (moved up from the second, which lost it)
    first = lines[1].split("\t")
    first[-2] = "By Trust"
    second = lines[1].split("\t")
    second[1] = "2"
    members["NONDERIV_TRANS.tsv"] = "\n".join([lines[0], "\t".join(first), "\t".join(second)]) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name, text in members.items():
            out.writestr(name, text)
    tx = datasets.read_quarter(buf.getvalue(), "t").frames["transactions"]
    assert len(tx) == 2 and all("nature" in (u or "").split(",") for u in tx["unverified"])
    assert "shares" not in (tx["unverified"].iloc[0] or "")  # a field present on every row is as filed


def test_corrupt_or_incomplete_zip_is_refused():
    """Guards against storing part of a truncated zip or a data set without its transactions table."""
    good = _tiny_zip(
        [
            "ACCESSION_NUMBER\tFILING_DATE\tDOCUMENT_TYPE\tISSUERCIK",
            "0000000001-23-000001\t05-MAY-2023\t4\t42",
        ]
    )
    with pytest.raises(datasets.DataSetError, match="corrupt or truncated"):
        datasets.read_quarter(good[: len(good) // 2], "2023q2_form345.zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("SUBMISSION.tsv", "ACCESSION_NUMBER\n")
    with pytest.raises(datasets.DataSetError, match="NONDERIV_TRANS.tsv"):
        datasets.read_quarter(buf.getvalue(), "2024q3_form345.zip")


def test_a_member_failing_its_crc_is_refused_by_the_reader_and_by_check_zip():
    """Guards against the reader (which leaves the up-front CRC pass to check_zip, and checks each table as it
    reads it) turning a corrupted member into rows: one flipped byte inside NONDERIV_TRANS.tsv, stored uncompressed
    so the zip still opens, must fail both check_zip and read_quarter, naming the quarter."""
    good = _tiny_zip(
        [
            "ACCESSION_NUMBER\tFILING_DATE\tDOCUMENT_TYPE\tISSUERCIK",
            "0000000001-23-000001\t05-MAY-2023\t4\t42",
        ]
    )
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    data = bytearray(buf.getvalue())
    at = data.index(b"250000.0")
    data[at] = ord("9")  # 950000.0: a plausible number, caught only by the CRC
    with pytest.raises(datasets.DataSetError, match="2023q2_form345.zip.*CRC"):
        datasets.check_zip(bytes(data), "2023q2_form345.zip")
    with pytest.raises(datasets.DataSetError, match="2023q2_form345.zip.*NONDERIV_TRANS.tsv is corrupt"):
        datasets.read_quarter(bytes(data), "2023q2_form345.zip")
