"""EDGAR client through its transport seam (httpx.MockTransport) and an injected clock: statuses, 429 blocks,
Retry-After, redirects, size caps, gzip, deadlines and listing validation, deterministic on a loaded machine.

The real-HTTP checks (a hostile server, fake EDGAR, several processes) are in test_hostile.py and
test_gate_http.py."""

from __future__ import annotations

import gzip
import json
import math
import time
import tracemalloc

import httpx
import pytest

from loaders.config import Settings
from loaders.edgar import MAX_BLOCKS, MAX_FILES_PAGES, EdgarClient, FilingRef, Limit, parse_retry_after
from loaders.errors import (
    EdgarBadAnswer,
    EdgarBlocked,
    EdgarForbidden,
    EdgarNotFound,
    EdgarUnavailable,
    IdentityMissing,
)
from loaders.gate import Gate
from tests.clocks import FakeClock, max_in_window
from tests.conftest import IDENTITY

WWW = "https://www.sec.test"
DATA = "https://data.sec.test"
XML = b"<ownershipDocument/>"


class Script:
    """A MockTransport answering from a list of responses (the last repeats); records (clock time, url, UA)."""

    def __init__(self, clock: FakeClock, *answers):
        self.clock = clock
        self.answers = list(answers)
        self.seen: list[tuple[float, str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((self.clock(), str(request.url), request.headers.get("user-agent", "")))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Answer):
            return answer.build()
        if callable(answer):
            return answer(request)
        # a fresh, not yet read response each time (as a real transport gives), from the template
        return httpx.Response(
            answer.status_code, headers=answer.headers, stream=httpx.ByteStream(answer.content)
        )

    @property
    def times(self) -> list[float]:
        return [t for t, _, _ in self.seen]

    @property
    def urls(self) -> list[str]:
        return [u for _, u, _ in self.seen]


class Answer:
    """A response template whose body goes on the wire as given (gzip stays gzip): a fresh response per call."""

    def __init__(self, status: int, body: bytes = b"", **headers: str):
        self.status, self.body, self.headers = status, body, {"Content-Length": str(len(body)), **headers}

    def build(self) -> httpx.Response:
        return httpx.Response(self.status, headers=self.headers, stream=httpx.ByteStream(self.body))


def ok(body: bytes = XML, **headers) -> Answer:
    return Answer(200, body, **headers)


@pytest.fixture
def make(tmp_path):
    """make(*answers, **settings) -> (script, client, clock): a client on a fake clock answering from a script."""

    def make(*answers, limits=None, **kw):
        clock = FakeClock()
        script = Script(clock, *answers)
        settings = Settings(identity=IDENTITY, www=WWW, data=DATA, data_dir=tmp_path, **kw)
        gate = Gate(tmp_path / "locks" / "edgar.gate", clock=clock, sleep=clock.sleep)
        client = EdgarClient(settings, transport=httpx.MockTransport(script), gate=gate, limits=limits)
        return script, client, clock

    return make


# ---------------------------------------------------------------------------------------------- statuses, 429
def test_retry_after_on_429_pauses_exactly_that_long(make):
    """Guards against ignoring Retry-After (hammering EDGAR, which extends its block) and against giving up."""
    script, client, _ = make(httpx.Response(429, headers={"Retry-After": "30"}), ok())
    assert client.get(WWW + "/x") == XML
    assert len(script.times) == 2 and script.times[1] - script.times[0] == pytest.approx(30, abs=1e-3)


def test_429_without_retry_after_blocks_for_the_configured_time(make):
    """Guards against pausing 1-3 s after a 429 (the SEC blocks for about 10 minutes and extends it)."""
    script, client, _ = make(httpx.Response(429), ok(), block_seconds=600)
    assert client.get(WWW + "/x") == XML
    assert script.times[1] - script.times[0] == pytest.approx(600, abs=1e-3)


@pytest.mark.parametrize(
    ("header", "pause"), [("-1", 600), ("nan", 600), ("inf", 600), ("soon", 600), ("1e12", 3600), ("0", 600)]
)
def test_unusable_retry_after_values_are_handled(make, header, pause):
    """Guards against Retry-After -1/nan/garbage raising a traceback or disabling the pause, and a huge value
    stopping everything for years."""
    script, client, _ = make(httpx.Response(429, headers={"Retry-After": header}), ok(), block_seconds=600)
    assert client.get(WWW + "/x") == XML
    assert script.times[1] - script.times[0] == pytest.approx(pause, abs=1e-3)


def test_retry_after_http_date():
    """Guards against misreading the HTTP-date form of Retry-After."""
    now = 1_700_000_000.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:15:20 GMT", now) == pytest.approx(120.0)
    assert parse_retry_after("Tue, 14 Nov 2000 22:14:20 GMT", now) is None
    assert parse_retry_after(" 12 ", now) == 12.0 and parse_retry_after("", now) is None
    assert parse_retry_after("nan", now) is None and parse_retry_after(str(math.inf), now) is None


def test_the_pause_holds_every_client_sharing_the_gate(make, tmp_path):
    """Guards against a per-client pause: after one client's 429, another client of the same data folder sends
    nothing until the block ends."""
    script, a, clock = make(httpx.Response(429, headers={"Retry-After": "45"}), ok())
    b = EdgarClient(a.settings, transport=httpx.MockTransport(script), gate=a.gate)
    a.get(WWW + "/a")
    blocked_at = script.times[0]
    b.get(WWW + "/b")
    assert all(t == blocked_at or t >= blocked_at + 45 for t in script.times)


def test_rate_block_page_403_pauses_but_identity_403_is_not_retried(make):
    """Guards against treating the SEC's 'Request Rate Threshold Exceeded' 403 as an identity problem, and
    against retrying a 403 'Undeclared Automated Tool' (which needs a fixed EDGAR_IDENTITY)."""
    script, client, _ = make(httpx.Response(403, content=b"<h1>Request Rate Threshold Exceeded</h1>"), ok())
    assert client.get(WWW + "/x") == XML and script.times[1] - script.times[0] >= 600
    script, client, _ = make(
        httpx.Response(403, content=b"<title>Threshold</title><h1>Undeclared Automated Tool")
    )
    with pytest.raises(EdgarForbidden, match="EDGAR_IDENTITY"):
        client.get(WWW + "/x")
    assert len(script.seen) == 1 and script.seen[0][2] == IDENTITY


def test_persistent_block_gives_up_with_the_time_to_retry(make):
    """Guards against knocking forever while EDGAR keeps blocking (each knock extends the SEC's block)."""
    script, client, _ = make(httpx.Response(429))
    with pytest.raises(EdgarBlocked, match="try again after") as e:
        client.get(WWW + "/x")
    assert len(script.seen) == MAX_BLOCKS + 1
    assert e.value.until is not None
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert all(g >= 600 for g in gaps)


def test_404_not_retried(make):
    """Guards against wasting the rate budget retrying a missing path."""
    script, client, _ = make(httpx.Response(404))
    with pytest.raises(EdgarNotFound):
        client.get(WWW + "/x")
    assert len(script.seen) == 1


def test_5xx_retried_then_gives_plain_error(make):
    """Guards against one 503 losing a filing, and against endless retries when EDGAR is down."""
    script, client, _ = make(httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(500), ok())
    assert client.get(WWW + "/x") == XML and len(script.seen) == 3
    assert script.times[1] - script.times[0] == pytest.approx(7, abs=1e-3)  # the server's Retry-After
    script, client, _ = make(httpx.Response(500))
    with pytest.raises(EdgarUnavailable, match="kept failing"):
        client.get(WWW + "/y")
    assert len(script.seen) == 6


def test_requests_are_spaced_at_most_nine_per_second(make):
    """Guards against bursts from the client itself: 60 GETs of one client stay under 10 in any 1 s window."""
    script, client, _ = make(ok())
    for i in range(60):
        client.get(f"{WWW}/x{i}")
    assert max_in_window(script.times) <= 9 and client.requests == 60


def test_unreachable_host_fails_fast_with_plain_message(tmp_path):
    """Guards against a page hanging for minutes when there is no network."""
    settings = Settings(
        identity=IDENTITY, www="http://127.0.0.1:9", data="http://127.0.0.1:9", data_dir=tmp_path
    )
    started = time.monotonic()
    with pytest.raises(EdgarUnavailable, match="unreachable"):
        EdgarClient(settings).get("http://127.0.0.1:9/files/company_tickers.json")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("identity", [None, "no-email-here", "foo"])
def test_identity_required_before_any_request(tmp_path, identity):
    """Guards against sending an anonymous request (403 'Undeclared Automated Tool' at the SEC), and against
    telling someone who set EDGAR_IDENTITY=foo that none is configured."""
    client = EdgarClient(Settings(identity=identity, data_dir=tmp_path))
    with pytest.raises(IdentityMissing, match="EDGAR_IDENTITY") as e:
        client.get("https://www.sec.gov/x")
    assert client.requests == 0
    if identity:
        assert 'not of the form "Name email"' in str(e.value) and identity in str(e.value)
        assert "No EDGAR identity is configured" not in str(e.value)


# ---------------------------------------------------------------------------------------------- redirects
def _redirect(to: str, status: int = 301) -> httpx.Response:
    return httpx.Response(status, headers={"Location": to})


def test_redirect_hops_pass_the_gate(make):
    """Guards against redirect hops bypassing the limiter (20 requests/s seen behind a 301)."""
    script, client, _ = make(_redirect("/b"), ok())
    for _ in range(20):
        script.answers = [_redirect("/b"), ok()]
        client.get(WWW + "/a")
    assert client.requests == 40 and max_in_window(script.times) <= 9
    assert script.urls[:2] == [WWW + "/a", WWW + "/b"]


def test_redirect_between_the_two_edgar_hosts_is_followed(make):
    """Guards against refusing EDGAR's own moves between www.sec.gov and data.sec.gov."""
    script, client, _ = make(_redirect(DATA + "/submissions/x.json", 302), ok(b"{}"))
    assert client.get(WWW + "/x") == b"{}"
    assert script.urls == [WWW + "/x", DATA + "/submissions/x.json"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/x",
        "http://www.sec.test/x",
        "https://www.sec.test:8443/x",
        "file:///etc/passwd",
        "//evil.test/",
    ],
)
def test_redirect_off_the_edgar_hosts_is_refused(make, target):
    """Guards against sending the identity to another host (or downgrading to http) and storing its answer as
    EDGAR's."""
    script, client, _ = make(_redirect(target), ok(b"evil"))
    with pytest.raises(EdgarBadAnswer, match="outside the configured EDGAR hosts") as e:
        client.get(WWW + "/files/company_tickers.json")
    assert e.value.url == WWW + "/files/company_tickers.json"
    assert script.urls == [WWW + "/files/company_tickers.json"]


def test_redirect_loop_and_endless_redirects_are_refused(make):
    """Guards against a redirect loop raising a traceback or spinning forever."""
    script, client, _ = make(_redirect("/b"), _redirect("/a"))
    with pytest.raises(EdgarBadAnswer, match="loop"):
        client.get(WWW + "/a")
    counter = iter(range(100))
    script, client, _ = make(lambda r: _redirect(f"/n{next(counter)}"))
    with pytest.raises(EdgarBadAnswer, match="more than 5"):
        client.get(WWW + "/a")
    assert len(script.seen) == 6


def test_urls_off_the_edgar_hosts_are_never_requested(make):
    """Guards against a caller (or a listing) steering the client to another host."""
    script, client, _ = make(ok())
    with pytest.raises(EdgarBadAnswer):
        client.get("https://evil.test/Archives/x.xml")
    assert script.seen == []


# ---------------------------------------------------------------------------------------------- size, gzip, time
def test_declared_size_over_the_cap_is_refused_before_reading(make):
    """Guards against reading a 1 GiB body whole (2.3 GB RSS seen)."""
    chunks = []

    def body():
        for _ in range(1000):
            chunks.append(1)
            yield b"x" * 65536

    script, client, _ = make(
        lambda r: httpx.Response(200, headers={"Content-Length": str(2**30)}, content=body()),
        limits={"filing": Limit(1024 * 1024, 60)},
    )
    with pytest.raises(EdgarBadAnswer, match="over the 1,048,576-byte cap"):
        client.get(WWW + "/big.xml")
    assert len(chunks) == 0


def test_streamed_body_over_the_cap_stops_while_streaming(make):
    """Guards against a body without Content-Length being read to the end before its size is checked."""
    chunks = []

    def body():
        for _ in range(10_000):
            chunks.append(1)
            yield b"x" * 65536

    script, client, _ = make(
        lambda r: httpx.Response(200, content=body()), limits={"json": Limit(1024 * 1024, 60)}
    )
    with pytest.raises(EdgarBadAnswer, match="cap for a json"):
        client.get(WWW + "/big.json", kind="json")
    assert len(chunks) <= 17


def test_gzip_bomb_is_refused_within_the_cap(make):
    """Guards against a 2 MB gzip bomb inflating to gigabytes: decompressed size is capped while decoding."""
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KB
    script, client, _ = make(
        ok(bomb, **{"Content-Encoding": "gzip"}), limits={"filing": Limit(2 * 1024 * 1024, 60)}
    )
    tracemalloc.start()
    try:
        with pytest.raises(EdgarBadAnswer, match="decompressed"):
            client.get(WWW + "/bomb.xml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak


def test_gzip_and_deflate_bodies_are_decoded(make):
    """Guards against returning compressed bytes (EDGAR gzips most answers)."""
    script, client, _ = make(ok(gzip.compress(XML), **{"Content-Encoding": "gzip"}))
    assert client.get(WWW + "/x") == XML
    import zlib

    script, client, _ = make(ok(zlib.compress(XML), **{"Content-Encoding": "deflate"}))
    assert client.get(WWW + "/x") == XML


@pytest.mark.parametrize(
    ("body", "encoding"),
    [(b"\x1f\x8b\x08\x00garbage-not-gzip", "gzip"), (gzip.compress(XML * 100)[:-30], "gzip"), (XML, "br")],
)
def test_bad_compression_is_a_named_error(make, body, encoding):
    """Guards against bad or truncated gzip raising a zlib traceback."""
    script, client, _ = make(ok(body, **{"Content-Encoding": encoding}))
    with pytest.raises(EdgarBadAnswer, match=r"www\.sec\.test/x"):
        client.get(WWW + "/x")


def test_trickling_body_hits_the_deadline(make):
    """Guards against a body trickling 1 byte per 2 s holding a request for minutes (80 s seen)."""
    script, client, clock = make(limits={"filing": Limit(1024 * 1024, 10.0)})
    sent = []

    def trickle():
        for _ in range(1000):
            clock.advance(2.0)
            sent.append(1)
            yield b"<"

    script.answers = [lambda r: httpx.Response(200, content=trickle())]
    start = clock()
    with pytest.raises(EdgarUnavailable, match="within 10 s"):
        client.get(WWW + "/slow.xml")
    assert clock() - start <= 12.0 and len(sent) <= 6


def test_deadline_excludes_time_waiting_at_the_gate(make):
    """Guards against a 10-minute block counting against a request's deadline (the pull must resume after it)."""
    script, client, _ = make(
        httpx.Response(429), ok(), limits={"filing": Limit(1024, 5.0)}, block_seconds=600
    )
    assert client.get(WWW + "/x") == XML


# ---------------------------------------------------------------------------------------------- listings
def _feed(**recent) -> dict:
    cols = {
        "accessionNumber": ["0001234567-24-000001"],
        "filingDate": ["2024-01-02"],
        "form": ["4"],
        "primaryDocument": ["xslF345X05/doc.xml"],
    }
    cols.update(recent)
    return {"cik": "1234567", "name": "ACME", "filings": {"recent": cols, "files": []}}


def _json(data) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(data).encode())


@pytest.mark.parametrize(
    ("feed", "problem"),
    [
        ([1, 2, 3], "not a submissions feed"),
        ({"filings": {"recent": "x"}}, "not a table"),
        (_feed(form=["4", "4"]), "ragged"),
        (_feed(accessionNumber=["../../x/evil"]), "accession number"),
        (_feed(filingDate=["tomorrow"]), "filing date"),
        (
            {**_feed(), "filings": {**_feed()["filings"], "files": [{"filingCount": 3}]}},
            "without a valid name",
        ),
        (
            {**_feed(), "filings": {**_feed()["filings"], "files": [{"name": "../../etc/passwd"}]}},
            "valid name",
        ),
    ],
)
def test_malformed_feed_is_a_named_error_and_never_cached(make, tmp_path, feed, problem):
    """Guards against a wrong-shape submissions JSON raising a traceback, or being cached and failing for hours."""
    script, client, _ = make(_json(feed))
    with pytest.raises(EdgarBadAnswer, match=problem) as e:
        client.ownership_filings(1234567)
    assert "CIK0001234567.json" in e.value.url
    assert not list((tmp_path / "http").glob("*")) if (tmp_path / "http").exists() else True


def test_too_many_older_pages_is_refused(make):
    """Guards against following 300 files[] pages of a hostile feed."""
    pages = [{"name": f"CIK0001234567-submissions-{i:03d}.json"} for i in range(1, MAX_FILES_PAGES + 2)]
    feed = {**_feed(), "filings": {**_feed()["filings"], "files": pages}}
    script, client, _ = make(_json(feed))
    with pytest.raises(EdgarBadAnswer, match="older pages"):
        client.ownership_filings(1234567)
    assert len(script.seen) == 1


def test_not_json_is_a_named_error(make):
    """Guards against a JSONDecodeError traceback for an HTML error page served with 200."""
    script, client, _ = make(ok(b"<html>maintenance</html>"))
    with pytest.raises(EdgarBadAnswer, match="not JSON"):
        client.ticker_map()


def test_wrong_shape_tickers_not_cached_and_recovered(make, tmp_path):
    """Guards against a wrong-shape company_tickers.json staying cached for 24 h after the server recovers."""
    good = {"0": {"cik_str": 1043219, "ticker": "NLY", "title": "Annaly"}}
    script, client, _ = make(_json({"0": {"ticker": "NLY"}}), _json(good))
    with pytest.raises(EdgarBadAnswer, match="ticker and CIK"):
        client.ticker_map()
    assert client.ticker_map() == {"NLY": (1043219, "Annaly")}
    assert client.ticker_map() == {"NLY": (1043219, "Annaly")} and len(script.seen) == 2  # now cached


def test_cached_listing_that_fails_validation_is_refetched(make, tmp_path):
    """Guards against a bad listing cached by an older version poisoning every later pull."""
    script, client, _ = make(_json(_feed()))
    (tmp_path / "http").mkdir()
    (tmp_path / "http" / "submissions-CIK0001234567.json").write_text('{"filings": []}')
    name, refs = client.ownership_filings(1234567)
    assert [r.accession for r in refs] == ["0001234567-24-000001"] and len(script.seen) == 1


@pytest.mark.parametrize(
    "document", ["../../../../evil.xml", "xslF345X05/../../evil.xml", "a/b.xml", "doc.xml?x=1", "", ".hidden"]
)
def test_unsafe_document_names_never_reach_a_url(make, document):
    """Guards against a listing steering a fetch (and the raw cache path) with a crafted file name."""
    script, client, _ = make(ok())
    ref = FilingRef("0001234567-24-000001", "2024-01-02", "4", 1234567, document)
    with pytest.raises(EdgarBadAnswer):
        client.fetch_xml(ref)
    assert script.seen == []


def test_xsl_folder_stripped_from_primary_document():
    """Guards against fetching the XSL-rendered HTML instead of the raw XML."""
    ref = FilingRef("0001043219-24-000010", "2024-10-30", "4", 1043219, "xslF345X05/wf-form4_1.xml")
    client = EdgarClient(Settings(identity=IDENTITY, www="https://www.sec.gov"))
    assert (
        client.xml_url(ref)
        == "https://www.sec.gov/Archives/edgar/data/1043219/000104321924000010/wf-form4_1.xml"
    )


@pytest.mark.parametrize("cik", [0, -5, 10**10, "12345678901", "12a"])
def test_invalid_cik_is_refused_before_any_request(make, cik):
    """Guards against a 25-digit or negative CIK reaching a URL."""
    script, client, _ = make(_json(_feed()))
    with pytest.raises(Exception, match="not a CIK"):
        client.ownership_filings(cik)
    assert script.seen == []


def test_download_streams_to_a_file(make, tmp_path):
    """Guards against holding a data set zip in memory or leaving a half-written file when it fails."""
    script, client, _ = make(ok(b"PK" + b"z" * 5000))
    dest = tmp_path / "sets" / "2024q1.zip"
    assert client.download(WWW + "/files/x.zip", dest) == 5002 and dest.read_bytes()[:2] == b"PK"
    script.answers = [httpx.Response(404)]
    with pytest.raises(EdgarNotFound):
        client.download(WWW + "/files/y.zip", tmp_path / "sets" / "y.zip")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["2024q1.zip"]
