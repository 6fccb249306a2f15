"""EDGAR client over real HTTP: a scripted local server for 429/403/404/5xx, and spacing of requests."""

from __future__ import annotations

import http.server
import threading
import time
from collections import deque

import pytest

from loaders.config import Settings
from loaders.edgar import EdgarClient, FilingRef
from loaders.errors import EdgarBlocked, EdgarForbidden, EdgarNotFound, EdgarUnavailable, IdentityMissing
from tests.conftest import IDENTITY


class Scripted(http.server.ThreadingHTTPServer):
    """Answers each request with the next (status, headers, body) of its script; records arrival times."""

    def __init__(self, script):
        self.script = deque(script)
        self.arrivals: list[float] = []
        self.agents: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(h):  # noqa: N805
                self.arrivals.append(time.monotonic())
                self.agents.append(h.headers.get("User-Agent", ""))
                status, headers, body = self.script.popleft() if len(self.script) > 1 else self.script[0]
                h.send_response(status)
                for k, v in headers.items():
                    h.send_header(k, v)
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            def log_message(h, *a):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def scripted(tmp_path):
    servers = []

    def make(*script, rps: float = 50):
        server = Scripted(script)
        servers.append(server)
        settings = Settings(
            identity=IDENTITY, www=server.url, data=server.url, data_dir=tmp_path, max_rps=rps
        )
        return server, EdgarClient(settings)

    yield make
    for s in servers:
        s.shutdown()


OK = (200, {}, b"<ownershipDocument/>")


def test_retry_after_on_429_pauses_then_succeeds(scripted):
    """Guards against hammering EDGAR after a 429 (the SEC extends blocks) and against giving up at once."""
    server, client = scripted((429, {"Retry-After": "1"}, b""), OK)
    assert client.get(server.url + "/x") == b"<ownershipDocument/>"
    assert len(server.arrivals) == 2 and server.arrivals[1] - server.arrivals[0] >= 0.95


def test_persistent_rate_block_raises_blocked(scripted, monkeypatch):
    """Guards against an endless loop when EDGAR keeps answering 'Request Rate Threshold Exceeded'."""
    monkeypatch.setattr("loaders.edgar._backoff", lambda attempt: 0.01)
    server, client = scripted((403, {}, b"<html>Request Rate Threshold Exceeded</html>"))
    with pytest.raises(EdgarBlocked, match="rate-limiting"):
        client.get(server.url + "/x")
    assert 2 <= len(server.arrivals) <= 7


def test_undeclared_tool_403_is_identity_problem_not_retried(scripted):
    """Guards against retrying a 403 and against a message that does not say to fix the identity."""
    server, client = scripted((403, {}, b"<html>Undeclared Automated Tool</html>"))
    with pytest.raises(EdgarForbidden, match="EDGAR_IDENTITY"):
        client.get(server.url + "/x")
    assert len(server.arrivals) == 1 and server.agents == [IDENTITY]


def test_404_not_retried(scripted):
    """Guards against wasting the rate budget retrying a missing path."""
    server, client = scripted((404, {}, b"nope"))
    with pytest.raises(EdgarNotFound):
        client.get(server.url + "/x")
    assert len(server.arrivals) == 1


def test_5xx_retried_then_gives_plain_error(scripted, monkeypatch):
    """Guards against one 503 losing a filing, and against endless retries when EDGAR is down."""
    monkeypatch.setattr("loaders.edgar._backoff", lambda attempt: 0.01)
    server, client = scripted((503, {}, b""), (500, {}, b""), OK)
    assert client.get(server.url + "/x") == b"<ownershipDocument/>"
    server2, client2 = scripted((500, {}, b""))
    with pytest.raises(EdgarUnavailable, match="kept failing"):
        client2.get(server2.url + "/y")
    assert len(server2.arrivals) == 6


def test_unreachable_host_fails_fast_with_plain_message(tmp_path):
    """Guards against a page hanging for minutes when there is no network."""
    settings = Settings(
        identity=IDENTITY, www="http://127.0.0.1:9", data="http://127.0.0.1:9", data_dir=tmp_path
    )
    started = time.monotonic()
    with pytest.raises(EdgarUnavailable, match="unreachable"):
        EdgarClient(settings).get("http://127.0.0.1:9/files/company_tickers.json")
    assert time.monotonic() - started < 10


def test_requests_are_spaced_process_wide(scripted):
    """Guards against bursts: two clients on many threads together stay under max_rps in any 1 s window."""
    server, a = scripted(OK, rps=9)
    b = EdgarClient(a.settings)
    threads = [threading.Thread(target=c.get, args=(server.url + "/x",)) for c in (a, b) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(server.arrivals)
    assert len(times) == 24
    worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    assert worst <= 10


def test_identity_required_before_any_request(tmp_path):
    """Guards against sending an anonymous request (403 'Undeclared Automated Tool' at the SEC)."""
    client = EdgarClient(Settings(identity="no-email-here", data_dir=tmp_path))
    with pytest.raises(IdentityMissing, match="EDGAR_IDENTITY"):
        client.get("http://127.0.0.1:9/x")
    assert client.requests == 0


def test_xsl_folder_stripped_from_primary_document():
    """Guards against fetching the XSL-rendered HTML instead of the raw XML."""
    ref = FilingRef("0001043219-24-000010", "2024-10-30", "4", 1043219, "xslF345X05/wf-form4_1.xml")
    client = EdgarClient(Settings(identity=IDENTITY, www="https://www.sec.gov"))
    assert (
        client.xml_url(ref)
        == "https://www.sec.gov/Archives/edgar/data/1043219/000104321924000010/wf-form4_1.xml"
    )
