"""Out-of-range values become nulls with a flag; filings that cannot be parsed, placed or stored are quarantined
with their reason, never block their batch, and are retried only when their bytes change.

The two hostile filings are small fixtures shaped like real Forms 4 (tests/fixtures/builder.py): one signed on
9999-12-31 (an OverflowError aborted a whole ingest before), one whose issuer CIK has 25 digits (a TypeError in
Store.write lost its whole batch before)."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from loaders.config import Settings
from loaders.edgar import EdgarClient
from loaders.gate import Gate
from loaders.ingest import ingest_dir
from loaders.parser import amount, date_out_of_range, parse_ownership, to_date, to_number
from loaders.pipeline import pull_issuer
from loaders.quarantine import Quarantine, write_isolating
from loaders.schema import conform
from loaders.store import Store
from tests.clocks import FakeClock
from tests.conftest import IDENTITY
from tests.fixtures.builder import ACME, JANE, Tx, form_xml, write_fixture_corpus

SIGNED_9999 = "0001234567-24-900001"
CIK_25 = "0001234567-24-900002"
HUGE_CIK = 1234567890123456789012345


def _hostile() -> dict[str, bytes]:
    return {
        SIGNED_9999: form_xml(
            issuer=ACME,
            owners=[JANE],
            period="2024-03-15",
            signature_date="9999-12-31",
            transactions=[Tx("2024-03-15", "S", 100, 40.0, "D", 1000)],
        ),
        CIK_25: form_xml(
            issuer=(HUGE_CIK, "ACME Widgets Inc", "ACME"),
            owners=[JANE],
            period="2024-03-15",
            transactions=[Tx("2024-03-15", "S", 100, 40.0, "D", 1000)],
        ),
    }


# ---------------------------------------------------------------------------------------------- parser values
def test_out_of_range_dates_are_null_with_a_flag_not_exceptions():
    """Guards against OverflowError on 9999-12-31 and dates after 2262 silently becoming NaT."""
    assert to_date("9999-12-31") is None and date_out_of_range("9999-12-31")
    assert to_date("2300-01-01") is None and date_out_of_range("2300-01-01")
    assert to_date("2261-12-31") is not None and not date_out_of_range("2024-02-30")  # not a date at all
    parsed = parse_ownership(_hostile()[SIGNED_9999], SIGNED_9999)
    assert parsed.filing["signature_date"] is None
    assert "signature_date_out_of_range" in parsed.filing["flags"]
    assert str(parsed.filing["filing_date"]) == "2024-03-15"  # falls back to the period, no exception


def test_25_digit_cik_is_null_with_a_flag():
    """Guards against a 25-digit CIK reaching the store (TypeError on write lost a whole batch)."""
    parsed = parse_ownership(_hostile()[CIK_25], CIK_25)
    assert parsed.filing["issuer_cik"] is None and "issuer_cik_invalid" in parsed.filing["flags"]
    assert all(t["issuer_cik"] is None for t in parsed.transactions)
    conform([parsed.filing], "filings")  # storable values only


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "1e400", "-5", "-0.01", "2e15"])
def test_out_of_range_amounts_become_null_with_a_flag(raw):
    """Guards against inf and negative shares or prices being stored unflagged (or inf reaching a total)."""
    assert amount(raw) == (None, True)
    assert to_number(raw) is None or math.isfinite(to_number(raw))
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-03-15",
        transactions=[Tx("2024-03-15", "S", raw, raw, "D", raw)],
    )
    row = parse_ownership(xml, "0001234567-24-000777").transactions[0]
    assert (
        row["shares"] is None and row["price"] is None and row["owned_after"] is None and row["value"] is None
    )
    assert "value_out_of_range" in row["flags"] and "value_missing" not in row["flags"]
    assert row["shares_raw"] == raw  # the text as filed is kept


def test_far_expiration_and_transaction_dates_are_flagged():
    """Guards against an expiration date of 9999-12-31 or a transaction dated 2300 breaking a write."""
    xml = form_xml(
        issuer=ACME,
        owners=[JANE],
        period="2024-03-15",
        transactions=[
            Tx("2300-01-01", "S", 10, 1.0, "D", 0),
            Tx(
                "2024-03-15", "M", 10, 0, "D", 0, derivative=True, exercise_price=1.0, expiration="9999-12-31"
            ),
        ],
    )
    rows = parse_ownership(xml, "0001234567-24-000778").transactions
    assert "date_out_of_range" in rows[0]["flags"] and "date_fallback" in rows[0]["flags"]
    assert str(rows[0]["transaction_date"]) == "2024-03-15"
    assert rows[1]["expiration_date"] is None and "date_out_of_range" in rows[1]["flags"]
    conform(rows, "transactions")


# ---------------------------------------------------------------------------------------------- ingest
def test_hostile_filings_quarantined_while_the_rest_of_the_batch_lands(tmp_path):
    """Guards against one bad filing aborting an ingest or losing its batch (the 9999-12-31 and 25-digit-CIK
    filings): both are quarantined with their reason, the 19 others are stored in the same batch."""
    write_fixture_corpus(tmp_path / "xml")
    for acc, xml in _hostile().items():
        (tmp_path / "xml" / f"{acc}.xml").write_bytes(xml)
    store = Store(tmp_path / "data")
    report = ingest_dir(tmp_path / "xml", store)
    assert report.new == 19 and len(store.known_accessions()) == 19
    reasons = dict(report.failed)
    assert set(reasons) == {f"{SIGNED_9999}.xml", f"{CIK_25}.xml"}
    assert "signature date" in reasons[f"{SIGNED_9999}.xml"] and "issuer CIK" in reasons[f"{CIK_25}.xml"]
    entries = {e.key: e for e in Quarantine(store.root).entries()}
    assert set(entries) == {SIGNED_9999, CIK_25}
    assert store.read_raw(SIGNED_9999) is None and store.read_raw(CIK_25) is None


def test_quarantined_file_is_retried_only_when_its_bytes_change(tmp_path):
    """Guards against a bad file failing the same way on every run (re-parsed each time), and against a fixed
    file never being picked up again."""
    (tmp_path / "xml").mkdir()
    bad = tmp_path / "xml" / f"{SIGNED_9999}.xml"
    bad.write_bytes(_hostile()[SIGNED_9999])
    store = Store(tmp_path / "data")
    ingest_dir(tmp_path / "xml", store)
    first = Quarantine(store.root).get(SIGNED_9999)
    again = ingest_dir(tmp_path / "xml", store)
    assert again.quarantined == 1 and len(again.failed) == 1 and "still quarantined" in again.failed[0][1]
    assert Quarantine(store.root).get(SIGNED_9999) == first  # not re-recorded: not tried again
    bad.write_bytes(bad.read_bytes().replace(b"9999-12-31", b"2024-03-18"))
    fixed = ingest_dir(tmp_path / "xml", store)
    assert fixed.new == 1 and not fixed.failed and Quarantine(store.root).entries() == []


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_store_failure_isolates_the_bad_filing(tmp_path):
    """Guards against a value the store cannot write (a CIK beyond int64 that slipped past the parser) losing
    the whole batch: the batch is halved until the bad filing is found; it is quarantined, the rest written."""
    write_fixture_corpus(tmp_path / "xml")
    parsed = [parse_ownership(p.read_bytes(), p.stem) for p in sorted((tmp_path / "xml").glob("*.xml"))]
    parsed[7].filing["issuer_cik"] = HUGE_CIK  # what the parser used to let through
    store = Store(tmp_path / "data")
    store.write_raw(parsed[7].accession, b"<ownershipDocument/>")
    failed: list[tuple[str, str]] = []
    written = write_isolating(store, parsed, failed, Quarantine(store.root))
    assert written == 18 and [a for a, _ in failed] == [parsed[7].accession]
    assert len(store.known_accessions()) == 18 and parsed[7].accession not in store.known_accessions()
    assert "store could not write" in Quarantine(store.root).get(parsed[7].accession).reason


def test_unsafe_file_names_never_become_paths(tmp_path):
    """Guards against a local file name steering the raw cache outside its folder."""
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "...xml").write_bytes(_hostile()[CIK_25])
    store = Store(tmp_path / "data")
    report = ingest_dir(tmp_path / "xml", store)
    assert report.failed and "file name" in report.failed[0][1]
    assert [p for p in tmp_path.rglob("*") if p.suffix == ".xml" and "xml" not in p.parent.name] == []


# ---------------------------------------------------------------------------------------------- pull
class TinyEdgar:
    """A MockTransport serving one issuer's feed and its filings (hostile ones included)."""

    def __init__(self, filings: dict[str, bytes]):
        self.filings = filings
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path == "/files/company_tickers.json":
            body = {"0": {"cik_str": 1234567, "ticker": "ACME", "title": "ACME Widgets Inc"}}
        elif path == "/submissions/CIK0001234567.json":
            accs = sorted(self.filings)
            recent = {
                "accessionNumber": accs,
                "filingDate": ["2024-03-19"] * len(accs),
                "form": ["4"] * len(accs),
                "primaryDocument": [f"xslF345X05/{a}.xml" for a in accs],
            }
            body = {"name": "ACME Widgets Inc", "filings": {"recent": recent, "files": []}}
        else:
            acc = path.rsplit("/", 1)[-1].removesuffix(".xml")
            if acc not in self.filings:
                return httpx.Response(404, stream=httpx.ByteStream(b"not found"))
            return httpx.Response(200, stream=httpx.ByteStream(self.filings[acc]))
        return httpx.Response(200, stream=httpx.ByteStream(json.dumps(body).encode()))


def test_pull_quarantines_bad_filings_and_keeps_the_rest(tmp_path):
    """Guards against one unparsable or unplaceable filing stopping a pull; and against re-parsing it on every
    pull while its bytes stay the same."""
    good = {
        f"0001234567-24-00000{i}": form_xml(
            issuer=ACME,
            owners=[JANE],
            period="2024-03-15",
            transactions=[Tx("2024-03-15", "S", i, 40.0, "D", 0)],
        )
        for i in range(1, 6)
    }
    broken = {"0001234567-24-000009": b"<ownershipDocument><issuer>"}
    edgar = TinyEdgar({**good, **_hostile(), **broken})
    clock = FakeClock()
    settings = Settings(identity=IDENTITY, www="https://w.test", data="https://d.test", data_dir=tmp_path)
    gate = Gate(tmp_path / "locks" / "edgar.gate", clock=clock, sleep=clock.sleep)
    client = EdgarClient(settings, transport=httpx.MockTransport(edgar), gate=gate)
    report = pull_issuer("ACME", settings=settings, client=client)
    assert report.new == 5 and len(report.failed) == 3 and report.total == 8
    assert {e.key for e in Quarantine(tmp_path).entries()} == {SIGNED_9999, CIK_25, "0001234567-24-000009"}
    again = pull_issuer("ACME", settings=settings, client=client)
    assert again.new == 0 and again.quarantined == 3 and again.cached == 5
