"""Per-listing state (loaders/listings.py) recorded by real pulls over HTTP against fake EDGAR serving a small
synthetic corpus (tests/fixtures/newuser.py): loaded means "the issuer's listing was fetched", a pull cut short
names what is missing and the next pull completes it, a refresh sees a filing added since."""

from __future__ import annotations

import pytest

from loaders import listings
from loaders.config import Settings
from loaders.pipeline import pull_insider, pull_issuer
from loaders.store import Store
from tests.browser_support import free_port
from tests.conftest import IDENTITY
from tests.fixtures.newuser import ADDED, COST, COUNTS, FRME, JELINEK, write_addition, write_newuser_corpus

pytestmark = pytest.mark.fake_edgar


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("newuser-corpus")
    return folder, write_newuser_corpus(folder)


def _settings(server, data_dir, **kw) -> Settings:
    return Settings(identity=IDENTITY, www=server.url, data=server.url, data_dir=data_dir, **kw)


def test_insider_pull_does_not_make_the_issuer_loaded(fake_edgar_factory, corpus, tmp_path):
    """Guards against issue 7 item 3: pulling COST director Jelinek (2 filings) made COST count as loaded, so
    COST's own listing was never fetched and the page showed 2 of its 10 filings."""
    server = fake_edgar_factory("--corpus", str(corpus[0]))
    settings = _settings(server, tmp_path)
    report = pull_insider(JELINEK.cik, settings=settings)
    assert report.total == 2 and report.new == 2
    assert (
        listings.read(tmp_path, "insider", JELINEK.cik).listed
        == sorted(a for a in corpus[1]["COST"] if a.endswith(("000004", "000008")))[::-1]
    )
    assert listings.read(tmp_path, "issuer", COST[0]) is None  # COST is not loaded ...
    report = pull_issuer("COST", settings=settings)  # ... so typing it pulls its listing
    cost = listings.read(tmp_path, "issuer", COST[0])
    assert report.total == 10 and report.new == 8 and report.cached == 2
    assert cost.tickers == ["COST"] and len(cost.listed) == COUNTS["COST"]
    assert cost.missing(Store(tmp_path).known_accessions()) == [] and cost.finished_at is not None


def test_pull_cut_short_names_missing_filings_then_completes(fake_edgar_factory, corpus, tmp_path):
    """Guards against issue 7 item 2: EDGAR going away at filing 13 of 55 left 15 stored, no warning, and the
    issuer counted as loaded forever. The listing state must name the missing filings; the next pull fetches them."""
    port = free_port()
    server = fake_edgar_factory("--corpus", str(corpus[0]), "--port", str(port), "--latency-ms", "40")
    settings = _settings(server, tmp_path)

    def kill_at_13(done: int, total: int, report) -> None:
        if done >= 13 and server.proc.poll() is None:
            server.stop()

    report = pull_issuer("FRME", settings=settings, progress=kill_at_13)
    listing = listings.read(tmp_path, "issuer", FRME[0])
    missing = listing.missing(Store(tmp_path).known_accessions())
    assert len(listing.listed) == COUNTS["FRME"] and listing.finished_at is not None
    assert 0 < len(missing) < COUNTS["FRME"] - 12
    assert set(missing) <= set(listing.failed) and len(report.failed) == len(missing)
    assert all("unreachable" in listing.failed[a] or "failing" in listing.failed[a] for a in missing)

    fake_edgar_factory("--corpus", str(corpus[0]), "--port", str(port))  # EDGAR is back
    again = pull_issuer("FRME", settings=settings)
    assert again.new == len(missing) and not again.failed
    listing = listings.read(tmp_path, "issuer", FRME[0])
    assert listing.missing(Store(tmp_path).known_accessions()) == [] and listing.failed == {}


def test_refresh_fetches_a_filing_added_since(fake_edgar_factory, corpus, tmp_path_factory, tmp_path):
    """Guards against issue 7 item 2 (no refresh): within the listing's TTL a plain pull sends no request, a
    refresh re-reads the listing and fetches the filing EDGAR added since."""
    port = free_port()
    server = fake_edgar_factory("--corpus", str(corpus[0]), "--port", str(port))
    settings = _settings(server, tmp_path)
    assert pull_issuer("COST", settings=settings).new == 10
    first = listings.read(tmp_path, "issuer", COST[0]).fetched_at
    server.stop()
    extra = tmp_path_factory.mktemp("addition")
    write_addition(extra)
    server = fake_edgar_factory("--corpus", str(corpus[0]), "--corpus", str(extra), "--port", str(port))
    warm = pull_issuer("COST", settings=settings)
    assert (warm.total, warm.new, warm.requests) == (10, 0, 0)
    fresh = pull_issuer("COST", settings=settings, refresh=True)
    assert (fresh.total, fresh.new) == (11, 1)
    listing = listings.read(tmp_path, "issuer", COST[0])
    assert listing.listed[0] == ADDED and listing.fetched_at > first
    assert ADDED in Store(tmp_path).known_accessions()


def test_listing_age_and_staleness_use_the_given_clock(tmp_path):
    """Guards against "updated N minutes ago" and the TTL refresh reading the wall clock in tests (flaky)."""
    got = listings.started(tmp_path, "issuer", 42, "X CORP", "XX", ["a", "b"], now=1_000.0)
    assert listings.read(tmp_path, "issuer", 42) == got and got.finished_at is None
    assert got.age(now=1_000.0 + 299) == 299 and not got.stale(3600, now=1_000.0 + 3600)
    assert got.stale(3600, now=1_000.0 + 3601)
    assert [listings.age_text(s) for s in (5, 60, 150, 3600 * 3, 86400 * 2)] == [
        "just now", "1 minute ago", "2 minutes ago", "3 hours ago", "2 days ago"
    ]  # fmt: skip
    done = listings.finished(tmp_path, got, [("b", "EDGAR is unreachable")], now=1_010.0)
    assert done.missing({"a"}) == ["b"] and listings.read(tmp_path, "issuer", 42).failed == {
        "b": "EDGAR is unreachable"
    }
    assert listings.for_ticker(tmp_path, "xx").cik == 42 and listings.for_ticker(tmp_path, "YY") is None
    (listings.folder(tmp_path) / "issuer-0000000043.json").write_text("{not json")
    assert listings.read(tmp_path, "issuer", 43) is None and len(listings.all_listings(tmp_path)) == 1
