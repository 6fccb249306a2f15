"""The only module that talks to EDGAR (httpx). Everything else receives bytes, records or frames.

- Identity: the SEC's required User-Agent ("Name email") is checked before the first request is built.
- Rate: every send, redirect hops included, passes the data folder's gate (loaders/gate.py): at most 10/s (9/s by
  default) across every thread and process sharing the folder. A 429 or a 403 "Request Rate Threshold Exceeded"
  page pauses every request of all of them for the block time (Retry-After when it is a usable number, else
  settings.block_seconds, 600 s by default); threads already waiting honour it, the pull resumes after it, and
  after MAX_BLOCKS blocks in a row for one request it stops with EdgarBlocked.
- Distrust: requests and redirects stay on the configured EDGAR origins (the identity is never sent elsewhere);
  at most MAX_REDIRECTS hops, no loops; each kind of answer (filing, json, index, dataset) has a size cap enforced
  while streaming, decompressed size included, and a total deadline over all attempts (time waiting at the gate
  excluded); listings are checked for shape before they are used or cached; accession numbers, CIKs and file
  names are checked (loaders/ids.py) before they become part of a URL or a path. Every refusal is EdgarBadAnswer
  naming the URL.
- Retries with exponential backoff and jitter for 5xx, resets, truncated bodies and timeouts; Retry-After honoured
  within bounds. 403 and 404 are not retried. Failures map to loaders.errors once, here.
- Listings: ticker -> CIK (company_tickers.json) and the Forms 3/4/5 of a CIK (submissions JSON and at most
  MAX_FILES_PAGES older pages in filings.files[]), cached in the store's JSON cache with TTLs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import email.utils
import io
import json
import math
import os
import random
import re
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from loaders import ids
from loaders.config import Settings
from loaders.errors import (
    Cancelled,
    EdgarBadAnswer,
    EdgarBlocked,
    EdgarForbidden,
    EdgarNotFound,
    EdgarUnavailable,
    LoaderError,
    UnknownTicker,
)
from loaders.gate import MAX_BLOCK_SECONDS, Gate, Pause, block_seconds, gate_for
from loaders.store import Store

OWNERSHIP_FORMS = frozenset({"3", "3/A", "4", "4/A", "5", "5/A"})
PERIODIC_FORMS = frozenset(
    {"10-Q", "10-K", "10-QT", "10-KT", "10-K405"}
)  # the reports that end a cooling-off
MB = 1024 * 1024


@dataclass(frozen=True)
class Limit:
    """What one kind of answer may cost: bytes after decompression, and seconds for the whole request."""

    max_bytes: int
    deadline: float


LIMITS: dict[str, Limit] = {
    "filing": Limit(
        20 * MB, 120.0
    ),  # the parser refuses bodies over 20 MB anyway (real filings reach 19.6 MB)
    "json": Limit(32 * MB, 120.0),  # company_tickers.json is ~1 MB; the largest submissions feeds a few MB
    "index": Limit(256 * MB, 600.0),  # quarterly master/form/company .idx files are tens of MB
    "dataset": Limit(1024 * MB, 1800.0),  # quarterly insider data set zips
}
ERROR_BODY_BYTES = 64 * 1024  # enough to recognise the SEC's rate-block page
MAX_ATTEMPTS = 6
MAX_CONNECT_ATTEMPTS = 3  # an unreachable host should fail fast, not after a minute of backoff
MAX_BLOCKS = 3  # blocks in a row for one request before giving up (the SEC extends blocks while we knock)
MAX_REDIRECTS = 5
MAX_FILES_PAGES = 100  # older submissions pages followed for one CIK (each holds thousands of filings)
MAX_SERVER_RETRY_AFTER = 60.0  # seconds a 5xx may ask us to wait before the next attempt
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
_XSL_FOLDER = re.compile(r"^xslF345X\d+/", re.I)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FilingRef:
    """One ownership filing listed in a submissions feed."""

    accession: str
    filing_date: str
    form: str
    cik: int  # the CIK whose feed (and Archives folder) listed it
    primary_document: str

    @property
    def xml_name(self) -> str:
        return _XSL_FOLDER.sub("", self.primary_document)


def parse_retry_after(raw: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), or None when absent or unusable
    (negative, zero, nan, inf, garbage). Callers cap large values."""
    if not raw or not raw.strip():
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2**attempt) * (0.5 + random.random())


def _origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    u = url if isinstance(url, httpx.URL) else httpx.URL(url)
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return u.scheme, (u.host or "").lower(), port


class _Budget:
    """A request's deadline: seconds left, with the clock stopped while the request waits at the gate."""

    def __init__(self, seconds: float, clock: Callable[[], float]):
        self.clock = clock
        self.left = seconds
        self.since: float | None = clock()

    def remaining(self) -> float:
        return self.left - (self.clock() - self.since if self.since is not None else 0.0)

    def stop(self) -> None:
        self.left, self.since = self.remaining(), None

    def start(self) -> None:
        self.since = self.clock()


class _Deadline(Exception):
    pass


class _Decoder:
    """Content-Encoding decoding with the output bounded while it is produced (a gzip bomb never inflates)."""

    def __init__(self, encoding: str, url: str):
        encoding = encoding.strip().lower()
        self.url = url
        if encoding in ("", "identity"):
            self.wbits = None
        elif encoding in ("gzip", "x-gzip"):
            self.wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self.wbits = zlib.MAX_WBITS  # zlib-wrapped; raw deflate is tried when the header does not match
        else:
            raise EdgarBadAnswer(
                url, f"it uses the Content-Encoding {encoding[:40]!r}, which was not asked for"
            )
        self.z = zlib.decompressobj(self.wbits) if self.wbits is not None else None
        self.fed = False

    def feed(self, data: bytes, room: int) -> list[bytes]:
        """The decoded bytes of `data`; stops once more than `room` bytes came out (the caller then refuses)."""
        if self.z is None:
            return [data]
        out: list[bytes] = []
        produced = 0
        pending = data
        try:
            while pending:
                if not self.fed and self.wbits == zlib.MAX_WBITS and pending[:1] and pending[0] & 0x0F != 8:
                    self.z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate (no zlib header)
                self.fed = True
                piece = self.z.decompress(pending, max(1, room - produced + 1))
                if piece:
                    out.append(piece)
                    produced += len(piece)
                if produced > room:
                    return out
                if self.z.eof:
                    pending = self.z.unused_data  # another gzip member follows
                    if pending and self.wbits is not None:
                        self.z = zlib.decompressobj(self.wbits)
                else:
                    pending = self.z.unconsumed_tail
        except zlib.error as e:
            raise EdgarBadAnswer(self.url, f"its compressed body is corrupt ({e})") from None
        return out

    def finish(self) -> None:
        if self.z is not None and self.fed and not self.z.eof:
            raise EdgarBadAnswer(self.url, "its compressed body ends before the end of the stream")


class EdgarClient:
    """HTTP access to EDGAR (or anything serving its paths). No I/O happens in the constructor.

    `transport` (an httpx transport) and `gate` (a loaders.gate.Gate with an injected clock and sleep) are the
    seams tests use; `limits` overrides the caps of some kinds; `on_pause(pause)` hears about each pause."""

    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        gate: Gate | None = None,
        limits: dict[str, Limit] | None = None,
        on_pause: Callable[[Pause], None] | None = None,
    ):
        self.settings = settings or Settings.from_env()
        self.store = store or Store(self.settings.data_dir)
        self._transport = transport
        self._gate = gate
        self.limits = {**LIMITS, **(limits or {})}
        self.on_pause = on_pause
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._announced: float | None = None
        self.requests = 0
        self.origins = {_origin(self.settings.www), _origin(self.settings.data)}

    # ------------------------------------------------------------------ plumbing
    @property
    def gate(self) -> Gate:
        if self._gate is None:
            self._gate = gate_for(self.settings.data_dir)
        return self._gate

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                identity = self.settings.require_identity()
                self._client = httpx.Client(
                    headers={"User-Agent": identity, "Accept-Encoding": "gzip, deflate"},
                    timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT, pool=None),
                    limits=httpx.Limits(max_connections=max(4, self.settings.workers)),
                    follow_redirects=False,  # every hop is checked and passes the gate (_send)
                    transport=self._transport,
                )
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def cancel(self) -> None:
        """Stop every request of this client: waiting ones raise Cancelled (within a second)."""
        self._cancel.set()

    def resume(self) -> None:
        """Undo cancel() (once the cancelled work has wound down)."""
        self._cancel.clear()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _notify(self, pause: Pause) -> None:
        with self._lock:
            if self._announced == pause.until:
                return
            self._announced = pause.until
        if self.on_pause is not None:
            self.on_pause(pause)

    def _turn(self, budget: _Budget) -> None:
        budget.stop()
        try:
            self.gate.wait_turn(self.settings.max_rps, self._notify, self._cancel.is_set)
        finally:
            budget.start()
        with self._lock:
            self.requests += 1

    def _allowed(self, url: str) -> bool:
        try:
            u = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return False
        return u.scheme in ("http", "https") and _origin(u) in self.origins

    # ------------------------------------------------------------------ one GET, politely
    def get(self, url: str, *, kind: str = "filing") -> bytes:
        """GET url politely; the body, or a LoaderError saying what went wrong.

        kind (filing | json | index | dataset) chooses the size cap and the deadline (LIMITS)."""
        sink = io.BytesIO()
        self._fetch(url, kind, sink)
        return sink.getvalue()

    def download(self, url: str, dest: Path, *, kind: str = "dataset") -> int:
        """GET url into the file `dest` (written to a temporary name beside it, then renamed); its size.

        Same rules as get(), without holding the body in memory (for data set zips)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "w+b") as fh:
                self._fetch(url, kind, fh)
                fh.flush()
                os.fsync(fh.fileno())
                size = fh.tell()
            os.replace(tmp, dest)
            return size
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _fetch(self, url: str, kind: str, sink: BinaryIO) -> None:
        if kind not in self.limits:
            raise ValueError(f"kind must be one of {', '.join(self.limits)}, not {kind!r}")
        limit = self.limits[kind]
        if not self._allowed(url):
            raise EdgarBadAnswer(url, "it is not on the configured EDGAR hosts (EDGAR_WWW, EDGAR_DATA)")
        client = self._http()
        budget = _Budget(limit.deadline, self.gate.clock)
        attempt = connect_failures = blocks = 0
        last = ""
        while True:
            if self._cancel.is_set():
                raise Cancelled()
            sink.seek(0)
            sink.truncate()
            try:
                status, headers, body = self._send(client, url, kind, limit, budget, sink)
            except _Deadline:
                raise EdgarUnavailable(
                    f"EDGAR did not deliver {url} within {limit.deadline:g} s (the limit for a {kind})."
                ) from None
            except httpx.ConnectError as e:
                connect_failures += 1
                last = f"cannot connect ({e})"
                if connect_failures >= MAX_CONNECT_ATTEMPTS:
                    raise EdgarUnavailable(f"EDGAR is unreachable at {_host(url)}: {last}") from None
            except (httpx.TimeoutException, httpx.TransportError) as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if status == 200:
                    return
                if status == 404:
                    raise EdgarNotFound(f"EDGAR has no {url} (404)")
                if status == 429 or (status == 403 and b"Threshold" in body and b"Undeclared" not in body):
                    blocks += 1
                    pause = self._blocked(headers)
                    if blocks > MAX_BLOCKS:
                        raise EdgarBlocked(
                            f"EDGAR kept refusing requests (HTTP {status}) after {MAX_BLOCKS} pauses; the SEC "
                            f"extends its block while requests continue. Everything fetched so far is kept; try "
                            f"again after {_clock_time(pause.until)}.",
                            until=pause.until,
                        )
                    continue  # the gate holds every request until the pause ends
                if status == 403:
                    raise EdgarForbidden(
                        "EDGAR refused the request (403): the User-Agent identity was not accepted. Set "
                        'EDGAR_IDENTITY to your name and e-mail, e.g. "Jane Doe jane@example.com".'
                    )
                last = f"HTTP {status}"
                if status < 500:
                    raise EdgarUnavailable(f"EDGAR answered HTTP {status} for {url}")
                wait = parse_retry_after(headers.get("retry-after"), self.gate.clock())
                if wait is not None:
                    attempt += 1
                    if attempt >= MAX_ATTEMPTS:
                        break
                    self._sleep(min(wait, MAX_SERVER_RETRY_AFTER), budget, url, kind, limit)
                    continue
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                break
            self._sleep(_backoff(attempt), budget, url, kind, limit)
        raise EdgarUnavailable(f"EDGAR kept failing for {url} after {attempt} attempts ({last}).")

    def _sleep(self, seconds: float, budget: _Budget, url: str, kind: str, limit: Limit) -> None:
        if budget.remaining() < seconds:
            raise EdgarUnavailable(
                f"EDGAR did not deliver {url} within {limit.deadline:g} s (the limit for a {kind})."
            )
        self.gate.sleep(seconds)

    def _blocked(self, headers: httpx.Headers) -> Pause:
        """Pause every request sharing the gate: Retry-After when usable, else the configured block time."""
        asked = parse_retry_after(headers.get("retry-after"), self.gate.clock())
        seconds = (
            min(asked, MAX_BLOCK_SECONDS) if asked is not None else block_seconds(self.settings.block_seconds)
        )
        pause = self.gate.block(seconds)
        self._notify(pause)
        return pause

    def _send(self, client: httpx.Client, url: str, kind: str, limit: Limit, budget: _Budget, sink: BinaryIO):
        """One request with its redirect hops (each through the gate): (status, headers, error body).

        A 200 body goes to `sink` (b"" is returned); any other status returns its first bytes."""
        current, seen = url, {url}
        for _hop in range(MAX_REDIRECTS + 1):
            self._turn(budget)
            left = budget.remaining()
            if left <= 0:
                raise _Deadline()
            timeout = httpx.Timeout(min(READ_TIMEOUT, left), connect=min(CONNECT_TIMEOUT, left), pool=None)
            with client.stream("GET", current, timeout=timeout) as resp:
                if resp.status_code in _REDIRECTS:
                    current = self._next_hop(url, current, resp.headers.get("location"), seen)
                    continue
                if resp.status_code == 200:
                    self._read(resp, current, kind, limit.max_bytes, budget, sink)
                    return 200, resp.headers, b""
                error = io.BytesIO()
                self._read(resp, current, kind, ERROR_BODY_BYTES, budget, error)
                return resp.status_code, resp.headers, error.getvalue()
        raise EdgarBadAnswer(url, f"it redirects more than {MAX_REDIRECTS} times")

    def _next_hop(self, url: str, current: str, location: str | None, seen: set[str]) -> str:
        if not location:
            raise EdgarBadAnswer(url, "it redirects without saying where (no Location header)")
        try:
            target = str(httpx.URL(current).join(location))
        except (httpx.InvalidURL, ValueError):
            raise EdgarBadAnswer(url, f"it redirects to an invalid URL {location[:200]!r}") from None
        if not self._allowed(target):
            raise EdgarBadAnswer(
                url, f"it redirects to {_host(target)}, outside the configured EDGAR hosts (not followed)"
            )
        if target in seen:
            raise EdgarBadAnswer(url, "it redirects in a loop")
        seen.add(target)
        return target

    def _read(
        self, resp: httpx.Response, url: str, kind: str, cap: int, budget: _Budget, sink: BinaryIO
    ) -> None:
        """Write the decoded body to sink, within the budget. A 200 body over `cap` bytes is refused (declared
        or decompressed); other bodies are cut at `cap`."""
        strict = resp.status_code == 200
        declared = resp.headers.get("content-length", "").strip()
        if strict and declared.isdigit() and int(declared) > cap:
            raise EdgarBadAnswer(
                url, f"it is {int(declared):,} bytes, over the {cap:,}-byte cap for a {kind}"
            )
        decoder = _Decoder(resp.headers.get("content-encoding", ""), url) if strict else None
        size = raw = 0
        for data in resp.iter_raw():
            if budget.remaining() <= 0:
                raise _Deadline()
            raw += len(data)
            pieces = decoder.feed(data, cap - size) if decoder is not None else [data[: cap - size + 1]]
            for piece in pieces:
                sink.write(piece)
                size += len(piece)
            if size > cap or raw > cap:
                if not strict:
                    sink.truncate(cap)
                    return
                raise EdgarBadAnswer(url, f"it is over the {cap:,}-byte cap for a {kind} (decompressed)")
        if budget.remaining() <= 0:
            raise _Deadline()
        if decoder is not None:
            decoder.finish()

    # ------------------------------------------------------------------ listings
    def get_json(
        self, url: str, cache_key: str, ttl: float, validate: Callable[[object, str], None] | None = None
    ):
        """Parsed JSON of url, from the store's cache while fresh. `validate(data, url)` raises EdgarBadAnswer
        for a wrong shape; an answer that fails it is never cached, and a cached one that fails it is re-fetched."""
        cached = self.store.read_json_cache(cache_key, ttl)
        if cached is not None:
            try:
                data = json.loads(cached)
                if validate is not None:
                    validate(data, url)
                return data
            except (ValueError, RecursionError, EdgarBadAnswer):
                pass
        body = self.get(url, kind="json")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise EdgarBadAnswer(url, "it is not JSON") from None
        if validate is not None:
            validate(data, url)
        self.store.write_json_cache(cache_key, body)
        return data

    def ticker_map(self) -> dict[str, tuple[int, str]]:
        """TICKER -> (cik, company title) from company_tickers.json."""
        data = self.get_json(
            f"{self.settings.www}/files/company_tickers.json",
            "company_tickers",
            self.settings.tickers_ttl,
            _check_tickers,
        )
        rows = data.values() if isinstance(data, dict) else data
        out: dict[str, tuple[int, str]] = {}
        for r in rows:
            if (cik := ids.cik(r["cik_str"])) is not None:  # always, after _check_tickers
                out[str(r["ticker"]).upper()] = (cik, str(r.get("title") or ""))
        return out

    def resolve_ticker(self, ticker: str) -> tuple[int, str]:
        """(cik, title) of a ticker; UnknownTicker with close matches when EDGAR does not know it."""
        wanted = ticker.strip().upper()
        tickers = self.ticker_map()
        if wanted in tickers:
            return tickers[wanted]
        close = difflib.get_close_matches(wanted, list(tickers), n=5, cutoff=0.6)
        by_title = [t for t, (_, title) in tickers.items() if wanted and wanted.lower() in title.lower()][:3]
        raise UnknownTicker(ticker, list(dict.fromkeys(close + by_title))[:6])

    def ownership_filings(self, cik: int) -> tuple[str, list[FilingRef]]:
        """(name, Forms 3/4/5 and amendments of a CIK), newest first, following every older page."""
        valid = ids.cik(cik)
        if valid is None:
            raise LoaderError(f"{cik!r} is not a CIK (a number of 1 to 10 digits).")
        base = f"{self.settings.data}/submissions"
        ttl = self.settings.submissions_ttl
        main = self.get_json(f"{base}/CIK{valid:010d}.json", f"submissions-CIK{valid:010d}", ttl, _check_feed)
        filings = main["filings"]
        pages = [filings["recent"]]
        for page in filings.get("files") or []:
            name = page["name"]
            pages.append(
                self.get_json(f"{base}/{name}", f"submissions-{name.removesuffix('.json')}", ttl, _check_page)
            )
        seen, refs = set(), []
        for cols in pages:
            for i, acc in enumerate(cols["accessionNumber"]):
                form = cols["form"][i]
                if form not in OWNERSHIP_FORMS or acc in seen:
                    continue
                seen.add(acc)
                refs.append(FilingRef(acc, cols["filingDate"][i], form, valid, cols["primaryDocument"][i]))
        return str(main.get("name") or ""), refs

    def xml_url(self, ref: FilingRef) -> str:
        """The raw XML's URL; EdgarBadAnswer when the listing gave an unsafe accession, CIK or file name."""
        where = (
            f"{self.settings.data}/submissions/CIK{ref.cik:010d}.json" if ids.cik(ref.cik) else "the listing"
        )
        if not ids.is_accession(ref.accession):
            raise EdgarBadAnswer(where, f"it lists the accession number {ref.accession[:40]!r}")
        if ids.cik(ref.cik) is None:
            raise EdgarBadAnswer(where, f"it lists the CIK {ref.cik!r}")
        if not ids.is_file_name(ref.xml_name):
            raise EdgarBadAnswer(
                where,
                f"it lists the document {ref.primary_document[:80]!r} for {ref.accession}, not a file name",
            )
        return f"{self.settings.www}/Archives/edgar/data/{ref.cik}/{ref.accession.replace('-', '')}/{ref.xml_name}"

    def fetch_xml(self, ref: FilingRef) -> bytes:
        return self.get(self.xml_url(ref), kind="filing")

    # ------------------------------------------------------------------ market data sets and indexes (issue 9)
    def dataset_page_url(self) -> str:
        return f"{self.settings.www}/data-research/sec-markets-data/insider-transactions-data-sets"

    def dataset_quarters(self) -> dict[str, str]:
        """{"2023q1": zip URL} of every quarter the SEC's data sets page links (structureddata and
        datastandardsinnovation folders alike); never cached (a new quarter appears a few weeks after its end)."""
        page = self.get(self.dataset_page_url(), kind="index").decode("utf-8", errors="replace")
        out: dict[str, str] = {}
        for href in re.findall(r"""href\s*=\s*["']([^"']+)["']""", page, re.I):
            m = _DATASET_ZIP.search(href)
            if not m:
                continue
            url = href if href.startswith("http") else f"{self.settings.www}/{href.lstrip('/')}"
            out.setdefault(f"{m.group(1)}q{m.group(2)}", url)
        if not out:
            raise EdgarUnavailable(
                f"EDGAR's data sets page ({self.dataset_page_url()}) lists no insider transactions data set"
            )
        return out

    def fetch_dataset(self, url: str) -> bytes:
        return self.get(url, kind="dataset")

    def form_index(self, year: int, quarter: int) -> list[IndexEntry]:
        """Forms 3/4/5 (and amendments) of EDGAR's quarterly form.idx."""
        url = f"{self.settings.www}/Archives/edgar/full-index/{year}/QTR{quarter}/form.idx"
        return parse_form_index(self.get(url, kind="index"))

    def daily_form_index(self, day) -> list[IndexEntry]:
        """Forms 3/4/5 (and amendments) of one day's form.idx; [] when EDGAR has none for that day (404)."""
        q = (day.month - 1) // 3 + 1
        url = f"{self.settings.www}/Archives/edgar/daily-index/{day.year}/QTR{q}/form.{day:%Y%m%d}.idx"
        try:
            return parse_form_index(self.get(url, kind="index"))
        except EdgarNotFound:
            return []

    def filing_xml_url(self, entry: IndexEntry) -> str:
        """The raw ownership XML of an index entry, found in its folder's index.json (not the XSL rendering)."""
        folder = f"{self.settings.www}/Archives/edgar/data/{entry.cik}/{entry.accession.replace('-', '')}"
        try:
            listing = json.loads(self.get(f"{folder}/index.json", kind="json"))
            items = listing["directory"]["item"]
            names = [str(i["name"]) for i in items if str(i.get("type", "")).lower() != "folder.gif"]
        except (ValueError, KeyError, TypeError):
            raise EdgarUnavailable(f"EDGAR sent an unreadable folder listing for {folder}") from None
        xml = [n for n in names if n.lower().endswith(".xml") and "/" not in n]
        if not xml:
            raise EdgarNotFound(f"EDGAR's folder {folder} holds no ownership XML")
        preferred = [n for n in xml if n.startswith(entry.accession)] or xml
        return f"{folder}/{preferred[0]}"

    # ------------------------------------------------------------------ issue 8: periodic reports
    def periodic_reports(self, cik: int) -> list[dict]:
        """The 10-Q/10-K filings of an issuer from its submissions feed: [{form, report_date, filing_date,
        accession}], newest first. Reads the JSON ownership_filings cached (a request only when none is cached)."""
        periodic = frozenset({"10-Q", "10-K", "10-QT", "10-KT", "10-K405"})  # reports that end a cooling-off
        base = f"{self.settings.data}/submissions"
        ttl = float("inf")  # any cached copy: ownership_filings has just refreshed a stale one
        main = self.get_json(f"{base}/CIK{cik:010d}.json", f"submissions-CIK{cik:010d}", ttl, _check_feed)
        filings = main.get("filings", {})
        pages = [filings.get("recent", {})]
        for page in filings.get("files", []) or []:
            name = page["name"]
            pages.append(
                self.get_json(f"{base}/{name}", f"submissions-{name.removesuffix('.json')}", ttl, _check_page)
            )
        out, seen = [], set()
        for cols in pages:
            forms, reports = cols.get("form", []), cols.get("reportDate", [])
            for i, acc in enumerate(cols.get("accessionNumber", [])):
                if forms[i] in periodic and acc not in seen and i < len(reports) and reports[i]:
                    seen.add(acc)
                    out.append({"form": forms[i], "report_date": reports[i], "filing_date": cols["filingDate"][i],
                                "accession": acc})  # fmt: skip
        return out


@dataclass(frozen=True)
class IndexEntry:
    """One ownership filing listed in an EDGAR form.idx."""

    form: str
    cik: int
    filing_date: str  # YYYY-MM-DD
    accession: str


_DATASET_ZIP = re.compile(r"(\d{4})q([1-4])_form345\.zip", re.I)
_INDEX_FILE = re.compile(r"edgar/data/(\d+)/(\d{10}-\d{2}-\d{6})\.txt$")


def parse_form_index(body: bytes) -> list[IndexEntry]:
    """Forms 3/4/5 (and /A) of a form.idx (fixed width: form type, company, CIK, date filed, file name), one entry
    per accession (EDGAR lists a Form 4 once per filer)."""
    out: dict[str, IndexEntry] = {}
    started = False
    for line in body.decode("latin-1").splitlines():
        if not started:
            started = line.startswith("-----")
            continue
        parts = line.split()
        if len(parts) < 4:
            continue
        m = _INDEX_FILE.search(parts[-1])
        form = line[:12].strip()
        if not m or form not in OWNERSHIP_FORMS:
            continue
        day = parts[-2]
        day = f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 and day.isdigit() else day
        out.setdefault(m.group(2), IndexEntry(form, int(parts[-3]), day, m.group(2)))
    return list(out.values())


# ---------------------------------------------------------------------------------------------- listing shapes
_FEED_COLUMNS = ("accessionNumber", "filingDate", "form", "primaryDocument")


def _check_tickers(data: object, url: str) -> None:
    rows = data.values() if isinstance(data, dict) else data
    if not isinstance(rows, (list, type({}.values()))):
        raise EdgarBadAnswer(url, "it is not a ticker list (an object or array of entries)")
    for row in rows:
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("ticker"), str)
            or ids.cik(row.get("cik_str")) is None
        ):
            raise EdgarBadAnswer(url, f"it has an entry without a valid ticker and CIK: {str(row)[:120]}")


def _check_columns(cols: object, url: str) -> None:
    if not isinstance(cols, dict):
        raise EdgarBadAnswer(url, "its filings are not a table of columns")
    lengths = set()
    for name in _FEED_COLUMNS:
        col = cols.get(name)
        if not isinstance(col, list):
            raise EdgarBadAnswer(url, f"its filings have no {name} column")
        lengths.add(len(col))
    if len(lengths) > 1:
        raise EdgarBadAnswer(url, "its filing columns have different lengths (ragged)")
    for i, form in enumerate(cols["form"]):
        acc, day, doc = (cols[c][i] for c in ("accessionNumber", "filingDate", "primaryDocument"))
        if not isinstance(form, str) or not isinstance(doc, str):
            raise EdgarBadAnswer(url, f"row {i} has a form or document that is not text")
        if form not in OWNERSHIP_FORMS:
            continue
        if not ids.is_accession(acc):
            raise EdgarBadAnswer(url, f"it lists the accession number {str(acc)[:40]!r}")
        if not isinstance(day, str) or not _ISO_DATE.fullmatch(day):
            raise EdgarBadAnswer(url, f"it lists the filing date {str(day)[:40]!r} for {acc}")


def _check_feed(data: object, url: str) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("filings"), dict):
        raise EdgarBadAnswer(url, "it is not a submissions feed (no filings object)")
    if "name" in data and data["name"] is not None and not isinstance(data["name"], str):
        raise EdgarBadAnswer(url, "its name is not text")
    filings = data["filings"]
    _check_columns(filings.get("recent"), url)
    files = filings.get("files") or []
    if not isinstance(files, list):
        raise EdgarBadAnswer(url, "its filings.files is not a list")
    if len(files) > MAX_FILES_PAGES:
        raise EdgarBadAnswer(url, f"it lists {len(files):,} older pages, over the cap of {MAX_FILES_PAGES}")
    for page in files:
        name = page.get("name") if isinstance(page, dict) else None
        if not ids.is_submissions_page(name):
            raise EdgarBadAnswer(url, f"it lists an older page without a valid name: {str(page)[:120]}")


def _check_page(data: object, url: str) -> None:
    _check_columns(data, url)


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except (httpx.InvalidURL, TypeError):
        return url[:100]


def _clock_time(ts: float) -> str:
    """A gate time as local wall-clock HH:MM:SS (the gate's default clock is time.time)."""
    try:
        return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return "a while"


__all__ = [
    "EdgarClient",
    "FilingRef",
    "IndexEntry",
    "LIMITS",
    "Limit",
    "LoaderError",
    "parse_form_index",
    "parse_retry_after",
]
