"""The columnar data-set reader (loaders/datasets_columnar.py) gives exactly the frames of the per-filing reader
(datasets.read_quarter_rows: a dict per row and loaders.derive.derive_filing per filing), row for row and column for
column, on every quarter fake EDGAR serves and on a hand-made quarter of odd values. A change to either path (or to
derive) that the other does not share breaks these tests."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from loaders import datasets, derive
from loaders.datasets_columnar import read_quarter
from loaders.schema import SORT_KEYS
from tests.test_datasets import _quarters, _tiny_zip, _zip


def _assert_same(
    data: bytes, name: str, workers: tuple[int, ...] = (2, 1), before=lambda w: None
) -> datasets.Quarter:
    """The columnar reader's quarter (the last of `workers`), checked equal to the per-filing reader's in this
    process (1) and with the filings shared out to forked processes (2, 3, ...); before(w) runs before each read."""
    ref = datasets.read_quarter_rows(data, name)
    for w in workers:
        before(w)
        got = read_quarter(data, name, workers=w)
        for table, frame in _in_store_order(ref.frames).items():
            pd.testing.assert_frame_equal(got.frames[table], frame, obj=f"{name} {table} workers={w}")
        assert (got.filings, got.rows, got.problems, got.missing_tables) == (
            ref.filings,
            ref.rows,
            ref.problems,
            ref.missing_tables,
        )
    return got


def _in_store_order(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The per-filing reader's frames (filings in SUBMISSION's order) in the order the columnar reader gives them,
    the store's (SORT_KEYS: stable, nulls last), owners and footnotes by the issuer of their filing."""
    issuer = frames["filings"].drop_duplicates("accession").set_index("accession")["issuer_cik"]
    return {
        t: f.assign(_i=f["accession"].map(issuer))
        .sort_values(["_i", *SORT_KEYS[t][1:]], kind="stable", na_position="last")
        .drop(columns="_i")
        .reset_index(drop=True)
        for t, f in frames.items()
    }


@pytest.mark.fake_edgar
def test_columnar_reader_equals_the_per_filing_derivation_on_every_served_quarter(fake_edgar, monkeypatch):
    """Guards against the fast reader drifting from the one derivation (a date, value, flag, 10b5-1 status, price
    range or unverified mark that differs from derive_filing's) on real corpus quarters, with and without the
    checkbox column; against it sending every filing through derive_filing (no speed-up) or none; and against the
    holdings chain check drifting (167 of the corpus's filings have a row flagged holdings_mismatch)."""
    calls = []
    real = derive.derive_filing
    monkeypatch.setattr(derive, "derive_filing", lambda *a: calls.append(1) or real(*a))
    checked = referred = mismatched = 0
    for quarter in _quarters(fake_edgar):
        data = _zip(fake_edgar, quarter)
        try:
            datasets.check_zip(data, quarter)
        except datasets.IncompleteDataSet:
            with pytest.raises(datasets.IncompleteDataSet):
                read_quarter(data, quarter)
            continue
        got = _assert_same(
            data, quarter, before=lambda w: calls.clear()
        )  # calls: those of the last read, in here
        assert len(calls) < max(got.filings / 3, 10), (quarter, len(calls), got.filings)
        tx = got.frames["transactions"]
        mismatched += tx.loc[tx["flags"].str.contains("holdings_mismatch", na=False), "accession"].nunique()
        checked += got.filings
        referred += len(calls)
    assert checked > 15000 and referred > 0 and mismatched > 150


_SUB = (
    "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDATE_OF_ORIG_SUB\tNO_SECURITIES_OWNED\tNOT_SUBJECT_SEC16\t"
    "FORM3_HOLDINGS_REPORTED\tFORM4_TRANS_REPORTED\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL\t"
    "REMARKS\tAFF10B5ONE"
)


def _odd_quarter(backwards: bool = False) -> bytes:
    """Four filings with the values that send a filing down each branch: the first is derived column by column
    (checkbox on a grant, ranges "respectively", a price outside its range, late, implausible, after the filing),
    the others by derive_filing (no filing date, a plan in the remarks, odd numbers; a date in year 9999, a
    holdings chain that breaks; a filing whose only odd value is its original-submission date in year 9999).
    backwards: every table but SUBMISSION lists its rows in reverse (not in filing order)."""
    sub = [
        _SUB,
        "0000000001-23-000001\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t0000000042\tWiley\twly\t\t1",
        "0000000001-23-000002\t\t03-MAY-2023\t\t\t0\t\t\t4/A\t0000000043\tWiley\tWLY\tSold under a 10b5-1 plan\t",
        "0000000001-23-000003\t05-MAY-2023\t03-MAY-2023\t01-JAN-9999\t\t0\t\t\t4\t0000000044\tWiley\tWLY\t\ttrue",
        "0000000001-23-000004\t05-MAY-2023\t03-MAY-2023\t01-JAN-9999\t\t0\t\t\t4/A\t0000000045\tWiley\tWLY\t\t",
    ]
    z = zipfile.ZipFile(io.BytesIO(_tiny_zip(sub)))
    members = {n: z.read(n).decode() for n in z.namelist()}
    head, *rows = members["NONDERIV_TRANS.tsv"].splitlines()
    cols = head.split("\t")
    base = rows[0].split("\t")

    def row(acc: str, sk: int, **values: str) -> str:
        r = list(base)
        r[0], r[1] = acc, str(sk)
        for k, v in values.items():
            r[cols.index(k)] = v
        return "\t".join(r)

    a, b, c = (f"0000000001-23-00000{i}" for i in (1, 2, 3))
    lines = [
        head,
        row(
            a, 1, TRANS_CODE="A", TRANS_PRICEPERSHARE="0", TRANS_PRICEPERSHARE_FN="F1", TRANS_SHARES_FN="F4"
        ),  # checkbox, not a plan code; F4's text is blank
        row(
            a,
            2,
            TRANS_SHARES="100",
            SHRS_OWND_FOLWNG_TRANS="900",
            TRANS_PRICEPERSHARE="20.50",
            TRANS_PRICEPERSHARE_FN="F2",
        ),
        row(
            a,
            3,
            TRANS_SHARES="100",
            SHRS_OWND_FOLWNG_TRANS="800",
            TRANS_PRICEPERSHARE="25.00",
            TRANS_PRICEPERSHARE_FN="F2",
            TRANS_TIMELINESS="L",
        ),  # outside its range, late
        row(
            a,
            4,
            TRANS_CODE="P",
            TRANS_PRICEPERSHARE="2000000",
            TRANS_DATE="07-MAY-2023",
            DIRECT_INDIRECT_OWNERSHIP="I",
            TRANS_ACQUIRED_DISP_CD="A",
            TRANS_SHARES_FN="F4",
            SHRS_OWND_FOLWNG_TRANS_FN="F5",
        ),  # implausible, after the filing; footnotes that say nothing (blank F4, no F5)
        row(b, 4, TRANS_DATE="31-FEB-2023", TRANS_SHARES="1,000 F3"),
        row(b, 5, TRANS_SHARES="-5", TRANS_PRICEPERSHARE="9e99", DEEMED_EXECUTION_DATE="04-MAY-2023"),
        row(c, 6, TRANS_SHARES="100", SHRS_OWND_FOLWNG_TRANS="900"),
        row(c, 7, TRANS_SHARES="100", SHRS_OWND_FOLWNG_TRANS="700"),  # the holdings chain breaks
        row(c, 8, TRANS_CODE="G", NATURE_OF_OWNERSHIP="By Trust", DIRECT_INDIRECT_OWNERSHIP="I"),
    ]
    members["NONDERIV_TRANS.tsv"] = "\n".join(lines) + "\n"
    members["FOOTNOTES.tsv"] = (
        "ACCESSION_NUMBER\tFOOTNOTE_ID\tFOOTNOTE_TXT\n"
        f"{a}\tF1\tGrant of restricted stock.\n"
        f"{a}\tF2\tWeighted average; prices ranged from $20.00 to $21.00 and $24.00 to $24.50, respectively.\n"
        f"{a}\tF1\tGrant of restricted stock units.\n"
        f"{a}\tF4\t   \n"
        f"{b}\tF3\tPlan  adopted   on March 1, 2023.\n"
        f"{c}\tF9\tNot attached to any row.\n"
        "0000000009-23-000009\tF1\tA footnote of a filing SUBMISSION does not list.\n"
    )
    members["REPORTINGOWNER.tsv"] += f"{a}\t0000000008\tRoe Richard\tTenPercentOwner\t\tgroup\n"
    members["OWNER_SIGNATURE.tsv"] = (
        "ACCESSION_NUMBER\tOWNERSIGNATURENAME\tOWNERSIGNATUREDATE\n"
        f"{b}\t/s/ Jane Doe\t04-MAY-2023\n{c}\t/s/ Jane Doe\t06-MAY-2023\n"
    )
    if backwards:
        for name, text in members.items():
            if name != "SUBMISSION.tsv":
                head, *rows = text.splitlines()
                members[name] = "\n".join([head, *rows[::-1]]) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name, text in members.items():
            out.writestr(name, text)
    return buf.getvalue()


def test_columnar_reader_equals_the_per_filing_derivation_on_odd_values():
    """Guards against the fast reader mishandling what the corpus rarely has: a checkbox on a grant, a footnote
    listing ranges "respectively" (one price outside its range), a holdings chain that breaks, a late mark, a
    missing filing date (falls back to the signature), an impossible date, a number with a footnote mark, negative
    and absurd values, an implausible price, a date after the filing, a repeated footnote id, a footnote id whose
    text is blank and one with no text at all, two owners, an
    original-submission date in year 9999, remarks naming a plan, a footnote of an accession SUBMISSION lacks
    (named in the problems, left out)."""
    got = _assert_same(_odd_quarter(), "odd", workers=(2, 3, 4, 1))
    assert got.problems == [
        "FOOTNOTES: 1 accession(s) not in SUBMISSION (left out), e.g. 0000000009-23-000009"
    ]
    tx = got.frames["transactions"]
    assert len(tx) == 9 and got.frames["owners"]["accession"].tolist().count("0000000001-23-000001") == 2
    assert tx["flags"].notna().sum() >= 5 and tx["price_low"].notna().sum() == 2
    first = tx[tx["accession"] == "0000000001-23-000001"]
    assert first["flags"].tolist()[2:] == ["price_outside_range", "date_after_filing,implausible_value"]
    assert first["price_low"].tolist()[1:3] == [20.0, 24.0] and first["is_late"].tolist()[2]
    assert "not a trade a plan covers" in first["tenb51_note"].iloc[0]
    # a footnote id with a blank text, or with none, adds nothing; the repeated F1 keeps its last text
    assert first["footnotes"].iloc[0] == "F1: Grant of restricted stock units."
    assert pd.isna(first["footnotes"].iloc[3])


def test_rows_out_of_filing_order_are_shared_out_to_the_right_filings():
    """Guards against the shares of filings handed to forked processes taking rows by position: when a table does
    not list its rows in SUBMISSION's order, each row must still reach its own filing, in SK order."""
    got = _assert_same(_odd_quarter(backwards=True), "backwards", workers=(2, 3, 1))
    # each filing's footnotes by id, F1 with the text listed last (first in the reversed table)
    notes = got.frames["footnotes"]
    assert got.rows["transactions"] == 9 and notes["footnote_id"].tolist()[:3] == ["F1", "F2", "F4"]
    assert notes["text"].iloc[0] == "Grant of restricted stock."


@pytest.mark.fake_edgar
def test_arrow_tables_are_stored_as_the_conformed_frames_would_be(fake_edgar, tmp_path):
    """Guards against the Arrow hand-off (the reader's tables written without pandas: store.enrich_arrow, the XML
    filter on Arrow) storing other columns, types or values than the pandas path (store.enrich on conformed frames):
    on the largest corpus quarter and the first with the 10b5-1 checkbox, both enrich versions give equal frames and
    the same Arrow schema, and a store written from the tables reads back equal to one written from the frames,
    with a filing already held as XML left out by both."""
    import pyarrow as pa

    from loaders import store as st
    from loaders.frames import load
    from loaders.parser import parse_ownership
    from loaders.schema import from_arrow
    from tests.fixtures.builder import fixture_filings

    for quarter in ("2023q1", "2023q2"):
        got = read_quarter(_zip(fake_edgar, quarter), quarter)
        assert got.filings > 1000
        tables = st.enrich_arrow(got.frames.tables, "dataset")
        frames = st.enrich({t: got.frames[t] for t in st.TABLES}, "dataset")
        for t in st.TABLES:
            pd.testing.assert_frame_equal(from_arrow(tables[t], t), frames[t], obj=f"{quarter} {t}")
            want = pa.Table.from_pandas(frames[t], preserve_index=False).schema.remove_metadata()
            assert tables[t].schema == want, (quarter, t)
        assert frames["filings"]["row_kinds"].notna().sum() > 1000
        assert (
            frames["owners"]["issuer_cik"].notna().all()
            and frames["filings"]["first_owner_cik"].notna().all()
        )
    loaded = {}
    held = got.frames["filings"]["accession"].iloc[7]
    for kind, given in (("arrow", got.frames), ("pandas", dict(got.frames))):
        store = st.Store(tmp_path / kind)
        assert store.write([parse_ownership(fixture_filings()[0][2], held, "2023-05-05")]) == 1  # held as XML
        assert store.write_quarter(quarter, given, {"sha256": kind}) == got.filings - 1
        loaded[kind] = load(store, footnotes=True)
        live = loaded[kind].filings
        assert len(live) == got.filings and live.set_index("accession").loc[held, "source"] == "xml"
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        pd.testing.assert_frame_equal(
            getattr(loaded["arrow"], name), getattr(loaded["pandas"], name), obj=name
        )


@pytest.mark.parametrize(
    "values",
    [
        ["3", "", "12a", " 5", "+7", "10", "007"],  # ASCII: the Arrow path
        ["3", "\u0663", "1"],  # an Arabic-Indic three: isdigit() and int() read it; the value-by-value path
        ["1", "1234567890123456789012", "2"],  # too long for int64 in Arrow: value by value
    ],
)
def test_row_keys_order_rows_as_int_of_digits_else_zero(values):
    """Guards against the Arrow reading of the *_SK row keys differing from the per-filing reader's rule
    (int(v) if v.isdigit() else 0): a key with a sign, a space or a letter sorts as 0, a non-ASCII digit as its
    value, a key too long for int64 does not overflow."""
    from loaders.datasets_columnar import _sk_keys

    want = [int(v) if v.isdigit() else 0 for v in values]
    got = _sk_keys(pa.array(values, pa.string()))
    assert np.argsort(got, kind="stable").tolist() == sorted(range(len(values)), key=want.__getitem__)
    assert len(set(got.tolist())) == len(set(want))  # equal keys stay equal, different ones different


def test_a_cik_too_long_to_be_one_is_null_and_the_quarter_still_loads():
    """Guards against one malformed row taking down a whole quarter: a 23-digit ISSUERCIK (no CIK has more than
    10 digits) overflowed int64 and both readers raised. It is read as the XML path reads it (no CIK), the other
    filings load, and both readers agree."""
    sub = [
        "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL",
        "0000000001-23-000001\t05-MAY-2023\t03-MAY-2023\t4\t42\tWiley\tWLY",
        "0000000001-23-000002\t05-MAY-2023\t03-MAY-2023\t4\t12345678901234567890123\tWiley\tWLY",
        "0000000001-23-000003\t05-MAY-2023\t03-MAY-2023\t4\t0000000042\tWiley\tWLY",
    ]
    got = _assert_same(_tiny_zip(sub), "t")
    filings = got.frames["filings"].set_index("accession").sort_index()
    assert filings["issuer_cik"].tolist() == [42, pd.NA, 42]
    assert got.rows["transactions"] == 3 and filings["filing_url"].notna().tolist() == [True, False, True]


def test_a_large_quarter_is_shared_between_two_processes_only_where_two_cores_are(monkeypatch):
    """Guards against the default losing the second core (a real quarter read in one process, ~1.4x slower) or
    forking on a one-core machine, where a second process only adds its cost."""
    from loaders import datasets_columnar, forked

    seen: list[int] = []
    real = forked.shares
    monkeypatch.setattr(forked, "shares", lambda fn, args, **k: seen.append(len(args)) or real(fn, args, **k))
    monkeypatch.setattr(datasets_columnar, "PARALLEL_FROM", 3)  # the odd quarter has 4 filings
    monkeypatch.setattr(forked, "cores", lambda: 2)
    assert read_quarter(_odd_quarter(), "odd").filings == 4 and seen == [2]
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert read_quarter(_odd_quarter(), "odd").filings == 4 and seen == [2]
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(datasets_columnar, "PARALLEL_FROM", 5)
    assert read_quarter(_odd_quarter(), "odd").filings == 4 and seen == [2]


@pytest.mark.parametrize(
    "odd, problem, kept",
    [
        (" 0000000001-23-000002 ", None, "0000000001-23-000002"),
        ("", "(empty)", None),
        ("0000000001-23-000001", "0000000001-23-000001", None),
    ],
    ids=["padded", "empty", "repeated"],
)
def test_submission_rows_without_a_usable_accession_are_named_and_left_out(odd, problem, kept):
    """Guards against the fast check of SUBMISSION's accession numbers letting through a padded, an empty or a
    repeated one: the padded one is stripped and kept, the empty one and the repeat are named and left out, as the
    per-filing reader does."""
    head = "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL"
    sub = [
        head,
        "0000000001-23-000001\t05-MAY-2023\t03-MAY-2023\t4\t42\tWiley\tWLY",
        f"{odd}\t06-MAY-2023\t03-MAY-2023\t4/A\t42\tWiley\tWLY",
        "0000000001-23-000003\t05-MAY-2023\t03-MAY-2023\t4\t42\tWiley\tWLY",
    ]
    got = _assert_same(_tiny_zip(sub), "accessions", workers=(2, 1))
    # _tiny_zip gives filings -000001 to -000003 a row each in these tables: -000002's are strays when it is gone
    stray = [
        f"{t}: 1 accession(s) not in SUBMISSION (left out), e.g. 0000000001-23-000002"
        for t in ("REPORTINGOWNER", "NONDERIV_TRANS")
    ]
    want = [f"SUBMISSION row without a usable accession number: {problem}", *stray] if problem else []
    assert got.problems == want
    # in the store's order: one issuer, so by filing date (-000002 was filed a day later)
    accessions = ["0000000001-23-000001", "0000000001-23-000003", *([kept] if kept else [])]
    assert got.frames["filings"]["accession"].tolist() == accessions
    assert got.frames["filings"]["form"].tolist() == ["4", "4", *(["4/A"] if kept else [])]


def test_holdings_chain_order_is_chosen_per_table_as_derive_does():
    """Guards against the columnar holdings chain check choosing between listed and transaction-date order for a
    whole filing instead of for each of its tables: here the non-derivative chain reconciles only by date (0
    breaks vs 1) while the derivative chain breaks less as listed (1 vs 2), so only the derivative row breaking
    as listed is flagged; derive._flag_holdings_chain on the same rows agrees."""
    import datetime as dt

    from loaders.datasets_columnar import _holdings_mismatch

    days = ["2023-05-02", "2023-05-01", "2023-05-03", "2023-05-01", "2023-05-02"]
    table = ["nonDerivative"] * 2 + ["derivative"] * 3
    conv = [None, None, 10.0, 10.0, 10.0]
    expiry = [None, None, "2030-01-01", "2030-01-01", "2030-01-01"]
    titles = ["Common Stock"] * 2 + ["Stock Option"] * 3
    signed = [-100.0, -100.0, 100.0, 100.0, 100.0]
    owned = [900.0, 1000.0, 500.0, 600.0, 800.0]
    got = _holdings_mismatch(
        np.zeros(5, dtype=np.int64),
        np.array(table, dtype=object),
        {
            "direct_indirect": np.array(["D"] * 5, dtype=object),
            "conversion_price": np.array([np.nan if c is None else c for c in conv]),
            "expiration_date": np.array([e or "NaT" for e in expiry], dtype="datetime64[ns]"),
        },
        np.array(titles, dtype=object),
        np.array(owned),
        np.array(signed),
        np.array(days, dtype="datetime64[D]"),
    )
    rows = [
        {
            "table": table[i],
            "direct_indirect": "D",
            "conversion_price": conv[i],
            "expiration_date": dt.date.fromisoformat(expiry[i]) if expiry[i] else None,
            "security_title": titles[i],
            "owned_after": owned[i],
            "signed_shares": signed[i],
            "transaction_date": dt.date.fromisoformat(days[i]),
            "flags": None,
        }
        for i in range(5)
    ]
    for name in ("nonDerivative", "derivative"):
        derive._flag_holdings_chain([r for r in rows if r["table"] == name])
    flagged = [r["flags"] == "holdings_mismatch" for r in rows]
    assert got.tolist() == flagged == [False, False, False, False, True]
