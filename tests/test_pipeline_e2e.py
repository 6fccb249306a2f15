"""Pull end to end against ../shared/fake_edgar (skipped when absent): over real HTTP, or through the transport seam."""

from __future__ import annotations

import shutil

import pytest

from loaders.config import Settings
from loaders.edgar import EdgarClient
from loaders.errors import IdentityMissing, UnknownTicker
from loaders.frames import load
from loaders.gate import Gate
from loaders.pipeline import pull_insider, pull_issuer
from loaders.store import Store
from tests.clocks import FakeClock, max_in_window
from tests.conftest import IDENTITY
from tests.edgar_double import InProcessEdgar

pytestmark = pytest.mark.fake_edgar
FINKELSTEIN = 1688537


def _settings(server, tmp_path, **kw) -> Settings:
    return Settings(identity=IDENTITY, www=server.url, data=server.url, data_dir=tmp_path, **kw)


def _in_process(tmp_path, **kw):
    """A client answering from fake EDGAR's own Site through the transport seam, on a fake clock."""
    double = InProcessEdgar()
    clock = FakeClock()
    settings = Settings(
        identity=IDENTITY, www="http://edgar.test", data="http://edgar.test", data_dir=tmp_path, **kw
    )
    gate = RecordingGate(tmp_path / "locks" / "edgar.gate", clock=clock, sleep=clock.sleep)
    return double, EdgarClient(settings, transport=double.transport(clock), gate=gate), settings


class RecordingGate(Gate):
    """The gate, keeping the time of every send it lets through (what EDGAR would count)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sends: list[float] = []

    def wait_turn(self, *a, **kw) -> float:
        t = super().wait_turn(*a, **kw)
        self.sends.append(t)
        return t


@pytest.mark.corpus
def test_pull_issuer_then_incremental_then_warm(tmp_path):
    """Guards against missing filings, re-fetching what is stored, and any request on a warm reopen."""
    double, client, settings = _in_process(tmp_path)
    first = pull_issuer("NLY", settings=settings, client=client)
    assert first.total == 19 and first.new == 19 and not first.failed
    assert first.requests == 21  # tickers + submissions + 19 raw XML, nothing twice
    assert len(double.paths("/Archives/")) == len(set(double.paths("/Archives/"))) == 19
    assert max_in_window(client.gate.sends) <= 9 and len(client.gate.sends) == 21
    tx = load(Store(tmp_path), tickers=["NLY"]).transactions
    assert len(tx) > 0 and set(tx["ticker"]) == {"NLY"}
    assert "Finkelstein David L" in set(tx["owner_name"])
    warm = pull_issuer("NLY", settings=settings, client=client)
    assert (warm.new, warm.cached, warm.requests) == (0, 19, 0)


@pytest.mark.corpus
def test_incremental_pull_fetches_only_missing(tmp_path):
    """Guards against a second pull re-downloading every filing once listings expire."""
    double, client, settings = _in_process(tmp_path, submissions_ttl=0)
    pull_issuer("NLY", settings=settings, client=client)
    store = Store(tmp_path)
    victim = sorted(store.known_accessions())[0]
    shutil.rmtree(tmp_path / "store")  # forget the parsed rows but keep the raw cache ...
    store.raw_path(victim).unlink()  # ... except for one filing
    double.requests.clear()
    again = pull_issuer("NLY", settings=settings, client=client)
    assert again.new == 19
    assert double.paths("/Archives/") == [double.paths("/Archives/")[0]]  # only the missing raw filing
    assert victim.replace("-", "") in double.paths("/Archives/")[0]


def test_paging_follows_files(fake_edgar_factory, tmp_path):
    """Guards against reading only filings.recent (half of a large issuer missing) and, over real HTTP, against
    any request that bypasses the gate: every request fake EDGAR saw was a send the gate let through, the gate let
    at most 7 through in any 1.05 s, and fake EDGAR's own count in any 1 s window stays <= 10 (the others use the
    transport seam and a fake clock). The test runs at 7/s, not the default 9/s, so that a CPU stall of the
    loaded test machine (which delays requests and delivers them in a clump) cannot push fake EDGAR's count over
    10; the default rate is checked on a fake clock (tests/test_gate.py) and by two real processes
    (tests/test_gate_http.py)."""
    server = fake_edgar_factory("--page-size", "50")
    settings = _settings(server, tmp_path, max_rps=7)
    gate = RecordingGate(tmp_path / "locks" / "edgar.gate")
    client = EdgarClient(settings, gate=gate)
    report = pull_issuer("TEAM", settings=settings, client=client)
    assert report.total == 308 and report.new == 308 and not report.failed
    stats = server.stats()
    assert stats["by_prefix"].get("/submissions/CIK0001650372-submissions-006.json", 1) >= 1
    assert stats["total"] == len(gate.sends) == report.requests  # nothing reached EDGAR around the gate
    assert max_in_window(gate.sends, 1.05) <= 7
    assert stats["max_requests_in_1s"] <= 10, stats


def test_pull_insider_attributes_rows_to_issuer(fake_edgar, tmp_path):
    """Guards against attributing an insider's rows to the insider's CIK instead of the issuer in the XML."""
    report = pull_insider(FINKELSTEIN, settings=_settings(fake_edgar, tmp_path))
    assert report.new > 0 and not report.failed
    tx = load(Store(tmp_path), owner_cik=FINKELSTEIN).transactions
    assert set(tx["issuer_cik"]) == {1043219} and set(tx["ticker"]) == {"NLY"}


def test_faults_still_yield_every_filing(fake_edgar_factory, tmp_path):
    """Guards against losing filings to 5xx, resets, truncated bodies and slow answers."""
    server = fake_edgar_factory("--fault-rate", "0.1", "--seed", "1")  # 503, 500, reset, truncate, slow
    report = pull_issuer("NLY", settings=_settings(server, tmp_path))
    assert (report.total, report.new, report.failed) == (19, 19, [])
    faults = server.stats()["by_fault"]
    assert sum(faults.values()) > 0, faults


def test_corrupt_filings_reported_and_not_cached(fake_edgar_factory, tmp_path):
    """Guards against caching a broken 200 OK body as a filing."""
    server = fake_edgar_factory("--corrupt-rate", "0.3", "--seed", "1")
    report = pull_issuer("NLY", settings=_settings(server, tmp_path))
    store = Store(tmp_path)
    assert report.failed and report.new + len(report.failed) == 19
    for acc, reason in report.failed:
        assert acc not in store.known_accessions() and store.read_raw(acc) is None, reason
    clean = fake_edgar_factory()
    again = pull_issuer("NLY", settings=_settings(clean, tmp_path))
    assert again.new == len(report.failed) and not again.failed


def test_missing_identity_says_how_and_sends_nothing(fake_edgar, tmp_path):
    """Guards against anonymous requests (the SEC blocks them) and against a cryptic error."""
    fake_edgar.reset()
    settings = Settings(identity=None, www=fake_edgar.url, data=fake_edgar.url, data_dir=tmp_path)
    with pytest.raises(IdentityMissing) as e:
        pull_issuer("NLY", settings=settings)
    assert "EDGAR_IDENTITY" in str(e.value)
    assert fake_edgar.stats()["total"] == 0


def test_unknown_ticker_suggests(fake_edgar, tmp_path):
    """Guards against a bare KeyError for a typo'd ticker."""
    with pytest.raises(UnknownTicker) as e:
        pull_issuer("NLYY", settings=_settings(fake_edgar, tmp_path))
    assert "NLY" in e.value.suggestions


def test_pull_issuer_keeps_periodic_report_dates(fake_edgar, tmp_path):
    """Guards against the 10b5-1 cooling-off check never seeing the issuer's 10-Q dates: a pull stores them from
    the submissions feed it already read (no extra request), one per quarter as fake EDGAR lists them."""
    from loaders.periodic import load_periodic

    fake_edgar.reset()
    report = pull_issuer("NLY", settings=_settings(fake_edgar, tmp_path))
    assert report.requests == 21 and fake_edgar.stats()["total"] == 21  # nothing more than the pull itself
    reports = load_periodic(Store(tmp_path))
    assert len(reports) > 0 and set(reports["form"]) == {"10-Q"}
    assert reports["report_date"].dt.is_quarter_end.all() and not reports["report_date"].duplicated().any()
    assert ((reports["filing_date"] - reports["report_date"]).dt.days == 35).all()
    assert set(reports["issuer_cik"]) == {report.cik}
