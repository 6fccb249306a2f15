"""A hostile EDGAR over real HTTP (a small stdlib server written here, port 0): it cannot make the client leave
the EDGAR hosts, write outside the data folder, exceed the memory caps or hang past the deadline, and every bad
answer is a named error naming the URL, never a traceback."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
import tracemalloc
from collections.abc import Callable

import pytest

from loaders.config import Settings
from loaders.edgar import EdgarClient, Limit
from loaders.errors import EdgarBadAnswer, EdgarUnavailable, LoaderError
from loaders.pipeline import pull_issuer
from tests.conftest import IDENTITY

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class Hostile(http.server.ThreadingHTTPServer):
    """Answers each path with a handler from `routes`; records (path, User-Agent) of every request."""

    daemon_threads = True

    def __init__(self, routes: dict[str, Handler] | None = None):
        self.routes: dict[str, Handler] = routes or {}
        self.seen: list[tuple[str, str]] = []
        server = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                server.seen.append((self.path, self.headers.get("User-Agent", "")))
                handler = server.routes.get(self.path.split("?")[0])
                if handler is None:
                    return send(self, 404, b"no")
                try:
                    handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up on us: what a cap or a deadline should do

            def log_message(self, *a):
                pass

        super().__init__(("127.0.0.1", 0), H)
        self.handle_error = lambda request, address: None  # a client hanging up is the point, not an error
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def send(h, status: int, body: bytes, **headers: str) -> None:
    h.send_response(status)
    for k, v in {"Content-Length": str(len(body)), **headers}.items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def redirect(to: str) -> Handler:
    return lambda h: send(h, 301, b"", Location=to)


def json_body(data) -> Handler:
    return lambda h: send(h, 200, json.dumps(data).encode(), **{"Content-Type": "application/json"})


@pytest.fixture
def hostile():
    servers: list[Hostile] = []

    def start(routes=None) -> Hostile:
        servers.append(Hostile(routes))
        return servers[-1]

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _client(server: Hostile, tmp_path, limits=None) -> EdgarClient:
    settings = Settings(identity=IDENTITY, www=server.url, data=server.url, data_dir=tmp_path / "data")
    return EdgarClient(settings, limits=limits)


def _feed(accession: str = "0001234567-24-000001", document: str = "xslF345X05/doc.xml", files=()) -> dict:
    recent = {
        "accessionNumber": [accession],
        "filingDate": ["2024-03-19"],
        "form": ["4"],
        "primaryDocument": [document],
    }
    return {"name": "ACME", "filings": {"recent": recent, "files": list(files)}}


TICKERS = {"0": {"cik_str": 1234567, "ticker": "ACME", "title": "ACME Widgets Inc"}}


def test_redirect_off_the_edgar_host_is_not_followed(hostile, tmp_path):
    """Guards against an off-host redirect sending our identity elsewhere and its data stored as sec.gov's."""
    evil = hostile({"/steal": json_body(TICKERS)})
    edgar = hostile({"/files/company_tickers.json": redirect(evil.url + "/steal")})
    with pytest.raises(EdgarBadAnswer, match="outside the configured EDGAR hosts") as e:
        pull_issuer("ACME", settings=_client(edgar, tmp_path).settings)
    assert evil.seen == []  # never contacted: the identity stayed home
    assert edgar.url + "/files/company_tickers.json" == e.value.url
    assert not (tmp_path / "data" / "http").exists() or not list((tmp_path / "data" / "http").iterdir())


@pytest.mark.parametrize(
    "feed",
    [
        _feed(accession="../../x/evil"),
        _feed(document="../../../../evil.xml"),
        _feed(files=[{"name": "../../../evil.json"}]),
    ],
)
def test_hostile_listing_cannot_write_outside_the_data_folder(hostile, tmp_path, feed):
    """Guards against an accession number or file name like ../../x/evil writing a file outside the data dir."""
    xml = b"<ownershipDocument><issuer><issuerCik>1234567</issuerCik></issuer></ownershipDocument>"
    routes = {
        "/files/company_tickers.json": json_body(TICKERS),
        "/submissions/CIK0001234567.json": json_body(feed),
        "/Archives/edgar/data/1234567/0001234567-24-000001/evil.xml": lambda h: send(h, 200, xml),
    }
    edgar = hostile(routes)
    (tmp_path / "data").mkdir()
    before = {p for p in tmp_path.rglob("*")}
    try:
        report = pull_issuer("ACME", settings=_client(edgar, tmp_path).settings)
    except LoaderError as e:
        assert isinstance(e, EdgarBadAnswer) and "Traceback" not in str(e)
    else:
        assert report.new == 0 and report.failed and "not a file name" in report.failed[0][1]
    after = {p for p in tmp_path.rglob("*")} - before
    assert all(p.resolve().is_relative_to((tmp_path / "data").resolve()) for p in after), after
    assert not any(p.name.startswith("evil") for p in tmp_path.rglob("*"))
    assert not any("Archives" in path for path, _ in edgar.seen)


def _endless(h) -> None:
    """A body that never ends (chunked, no length): a GiB and more if the client keeps reading."""
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    for _ in range(16384):  # 1 GiB
        h.wfile.write(frame)


def test_endless_body_stops_at_the_default_cap(hostile, tmp_path):
    """Guards against a 1 GiB body read whole (2.3 GB RSS seen): the default filing cap (20 MB) stops it."""
    edgar = hostile({"/Archives/big.xml": _endless})
    client = _client(edgar, tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(EdgarBadAnswer, match="cap for a filing") as e:
            client.get(edgar.url + "/Archives/big.xml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.url.endswith("/Archives/big.xml")
    assert peak < 80 * 1024 * 1024, peak


def test_gzip_bomb_stops_at_the_default_cap(hostile, tmp_path):
    """Guards against a small gzip bomb inflating to gigabytes (4.4 GB seen from 2 MB)."""
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), 9)
    edgar = hostile(
        {"/submissions/CIK0001234567.json": lambda h: send(h, 200, bomb, **{"Content-Encoding": "gzip"})}
    )
    client = _client(edgar, tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(EdgarBadAnswer, match="decompressed"):
            client.ownership_filings(1234567)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(bomb) < 1_000_000 and peak < 120 * 1024 * 1024, peak
    assert not (tmp_path / "data" / "http").exists()  # nothing cached


def test_trickling_body_cannot_hang_past_the_deadline(hostile, tmp_path):
    """Guards against a body trickling a byte every half second holding a request open (80 s seen)."""

    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b"<")
            h.wfile.flush()
            time.sleep(0.5)

    edgar = hostile({"/Archives/slow.xml": trickle})
    client = _client(edgar, tmp_path, limits={"filing": Limit(1024 * 1024, 2.0)})
    started = time.monotonic()
    with pytest.raises(EdgarUnavailable, match="within 2 s"):
        client.get(edgar.url + "/Archives/slow.xml")
    assert time.monotonic() - started < 4.0


def test_silent_server_cannot_hang_past_the_deadline(hostile, tmp_path):
    """Guards against a server that accepts and then says nothing (read timeout longer than the deadline)."""

    def silent(h):
        time.sleep(6)

    edgar = hostile({"/Archives/silent.xml": silent})
    client = _client(edgar, tmp_path, limits={"filing": Limit(1024, 1.5)})
    started = time.monotonic()
    with pytest.raises(EdgarUnavailable):
        client.get(edgar.url + "/Archives/silent.xml")
    assert time.monotonic() - started < 4.0


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ({"/submissions/CIK0001234567.json": redirect("/loop")} | {"/loop": redirect("/submissions/CIK0001234567.json")}, "loop"),
        ({"/submissions/CIK0001234567.json": lambda h: send(h, 200, b"\x1f\x8b\x08\x00junk", **{"Content-Encoding": "gzip"})}, "compressed body"),
        ({"/submissions/CIK0001234567.json": json_body({"filings": {"recent": {"form": ["4"], "accessionNumber": []}}})}, "no filingDate column"),
        ({"/submissions/CIK0001234567.json": json_body(_feed() | {"filings": {**_feed()["filings"], "files": [{}]}})}, "without a valid name"),
        ({"/submissions/CIK0001234567.json": lambda h: send(h, 200, b"[" * 100000)}, "not JSON"),
        ({"/submissions/CIK0001234567.json": json_body(_feed(files=[{"name": f"CIK0001234567-submissions-{i:03d}.json"} for i in range(300)]))}, "older pages"),
    ],
)  # fmt: skip
def test_malformed_answers_are_named_errors(hostile, tmp_path, routes, problem):
    """Guards against tracebacks from a redirect loop, bad gzip, ragged or nameless listings, deep JSON, or a
    feed with 300 older pages (all were followed before)."""
    edgar = hostile(routes)
    with pytest.raises(EdgarBadAnswer, match=problem) as e:
        _client(edgar, tmp_path).ownership_filings(1234567)
    assert "CIK0001234567.json" in str(e.value)
    assert len(edgar.seen) <= 6
    assert not (tmp_path / "data" / "http").exists()
