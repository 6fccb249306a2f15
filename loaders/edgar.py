"""The only module that talks to EDGAR (httpx). Everything else receives bytes, records or frames.

- Identity: the SEC's required User-Agent ("Name email") is checked before the first request is built.
- Rate: one process-wide gate spaces every request at least 1/max_rps apart (default 9/s: fake and real EDGAR count
  any 1-second window, so even spacing, not bursts) and, after a 429 or a rate-block page, pauses every thread.
  A library bucket (pyrate-limiter) allows bursts within a window and has no shared pause, hence this small gate.
- Retries with exponential backoff and jitter for 5xx, resets, truncated bodies and timeouts; Retry-After honoured.
  403 and 404 are not retried. Failures map to loaders.errors once, here.
- Listings: ticker -> CIK (company_tickers.json) and the Forms 3/4/5 of a CIK (submissions JSON and every older
  page in filings.files[]), cached in the store's JSON cache with TTLs.
"""

from __future__ import annotations

import difflib
import json
import random
import re
import threading
import time
from dataclasses import dataclass

import httpx

from loaders.config import Settings
from loaders.errors import (
    EdgarBlocked,
    EdgarForbidden,
    EdgarNotFound,
    EdgarUnavailable,
    LoaderError,
    UnknownTicker,
)
from loaders.store import Store

OWNERSHIP_FORMS = frozenset({"3", "3/A", "4", "4/A", "5", "5/A"})
PERIODIC_FORMS = frozenset(
    {"10-Q", "10-K", "10-QT", "10-KT", "10-K405"}
)  # the reports that end a cooling-off
MAX_ATTEMPTS = 6
MAX_CONNECT_ATTEMPTS = 3  # an unreachable host should fail fast, not after a minute of backoff
MAX_RATE_PAUSES = 5
_XSL_FOLDER = re.compile(r"^xslF345X\d+/", re.I)


class _Gate:
    """Process-wide request spacing and pause, shared by every client and thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._pause_until = 0.0

    def wait(self, rps: float) -> None:
        interval = 1.0 / rps if rps > 0 else 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_at, self._pause_until)
                self._next_at = start + interval
            if start > now:
                time.sleep(start - now)
            if time.monotonic() >= self._pause_until:
                return

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)


GATE = _Gate()


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


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("retry-after", "").strip()
    try:
        return min(float(raw), 120.0) if raw else None
    except ValueError:
        return None


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2**attempt) * (0.5 + random.random())


class EdgarClient:
    """HTTP access to EDGAR (or anything serving its paths). No I/O happens in the constructor."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None, transport=None):
        self.settings = settings or Settings.from_env()
        self.store = store or Store(self.settings.data_dir)
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.requests = 0

    # ------------------------------------------------------------------ plumbing
    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                identity = self.settings.require_identity()
                self._client = httpx.Client(
                    headers={"User-Agent": identity, "Accept-Encoding": "gzip, deflate"},
                    timeout=httpx.Timeout(10.0, connect=5.0, pool=None),
                    limits=httpx.Limits(max_connections=max(4, self.settings.workers)),
                    follow_redirects=True,
                    transport=self._transport,
                )
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str) -> bytes:
        """GET url politely; the body, or a LoaderError saying what went wrong."""
        client = self._http()
        attempt = rate_pauses = connect_failures = 0
        last = ""
        while True:
            GATE.wait(self.settings.max_rps)
            with self._lock:
                self.requests += 1
            try:
                resp = client.get(url)
            except httpx.ConnectError as e:
                connect_failures += 1
                last = f"cannot connect ({e})"
                if connect_failures >= MAX_CONNECT_ATTEMPTS:
                    raise EdgarUnavailable(f"EDGAR is unreachable at {_host(url)}: {last}") from None
            except (httpx.TimeoutException, httpx.TransportError) as e:
                last = f"{type(e).__name__}: {e}"
            else:
                status = resp.status_code
                if status == 200:
                    return resp.content
                if status == 404:
                    raise EdgarNotFound(f"EDGAR has no {url} (404)")
                if status == 429 or (status == 403 and b"Threshold" in resp.content):
                    rate_pauses += 1
                    if rate_pauses > MAX_RATE_PAUSES:
                        raise EdgarBlocked(
                            "EDGAR is rate-limiting this machine (too many requests). Wait about 10 minutes and "
                            "try again; the SEC extends the block while requests continue."
                        )
                    GATE.pause(_retry_after(resp) or _backoff(rate_pauses + 1))
                    continue
                if status == 403:
                    raise EdgarForbidden(
                        "EDGAR refused the request (403): the User-Agent identity was not accepted. Set "
                        'EDGAR_IDENTITY to your name and e-mail, e.g. "Jane Doe jane@example.com".'
                    )
                last = f"HTTP {status}"
                wait = _retry_after(resp)
                if wait is not None and status >= 500:
                    attempt += 1
                    if attempt >= MAX_ATTEMPTS:
                        break
                    time.sleep(wait)
                    continue
                if status < 500:
                    raise EdgarUnavailable(f"EDGAR answered HTTP {status} for {url}")
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                break
            time.sleep(_backoff(attempt))
        raise EdgarUnavailable(f"EDGAR kept failing for {url} after {attempt} attempts ({last}).")

    def get_json(self, url: str, cache_key: str, ttl: float) -> dict:
        cached = self.store.read_json_cache(cache_key, ttl)
        if cached is not None:
            try:
                return json.loads(cached)
            except ValueError:
                pass
        body = self.get(url)
        try:
            data = json.loads(body)
        except ValueError:
            raise EdgarUnavailable(f"EDGAR sent something other than JSON for {url}") from None
        self.store.write_json_cache(cache_key, body)
        return data

    # ------------------------------------------------------------------ listings
    def ticker_map(self) -> dict[str, tuple[int, str]]:
        """TICKER -> (cik, company title) from company_tickers.json."""
        data = self.get_json(
            f"{self.settings.www}/files/company_tickers.json", "company_tickers", self.settings.tickers_ttl
        )
        rows = data.values() if isinstance(data, dict) else data
        return {str(r["ticker"]).upper(): (int(r["cik_str"]), str(r.get("title", ""))) for r in rows}

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
        base = f"{self.settings.data}/submissions"
        ttl = self.settings.submissions_ttl
        main = self.get_json(f"{base}/CIK{cik:010d}.json", f"submissions-CIK{cik:010d}", ttl)
        filings = main.get("filings", {})
        pages = [filings.get("recent", {})]
        for page in filings.get("files", []) or []:
            name = page["name"]
            pages.append(self.get_json(f"{base}/{name}", f"submissions-{name.removesuffix('.json')}", ttl))
        seen, refs = set(), []
        for cols in pages:
            for i, acc in enumerate(cols.get("accessionNumber", [])):
                form = cols["form"][i]
                if form not in OWNERSHIP_FORMS or acc in seen:
                    continue
                seen.add(acc)
                refs.append(FilingRef(acc, cols["filingDate"][i], form, cik, cols["primaryDocument"][i]))
        return str(main.get("name", "")), refs

    def xml_url(self, ref: FilingRef) -> str:
        return f"{self.settings.www}/Archives/edgar/data/{ref.cik}/{ref.accession.replace('-', '')}/{ref.xml_name}"

    def fetch_xml(self, ref: FilingRef) -> bytes:
        return self.get(self.xml_url(ref))

    # ------------------------------------------------------------------ issue 8: periodic reports
    def periodic_reports(self, cik: int) -> list[dict]:
        """The 10-Q/10-K filings of an issuer from its submissions feed: [{form, report_date, filing_date,
        accession}], newest first. Reads the JSON ownership_filings cached (a request only when none is cached)."""
        periodic = frozenset({"10-Q", "10-K", "10-QT", "10-KT", "10-K405"})  # reports that end a cooling-off
        base = f"{self.settings.data}/submissions"
        ttl = float("inf")  # any cached copy: ownership_filings has just refreshed a stale one
        main = self.get_json(f"{base}/CIK{cik:010d}.json", f"submissions-CIK{cik:010d}", ttl)
        filings = main.get("filings", {})
        pages = [filings.get("recent", {})]
        for page in filings.get("files", []) or []:
            name = page["name"]
            pages.append(self.get_json(f"{base}/{name}", f"submissions-{name.removesuffix('.json')}", ttl))
        out, seen = [], set()
        for cols in pages:
            forms, reports = cols.get("form", []), cols.get("reportDate", [])
            for i, acc in enumerate(cols.get("accessionNumber", [])):
                if forms[i] in periodic and acc not in seen and i < len(reports) and reports[i]:
                    seen.add(acc)
                    out.append({"form": forms[i], "report_date": reports[i], "filing_date": cols["filingDate"][i],
                                "accession": acc})  # fmt: skip
        return out


def _host(url: str) -> str:
    return httpx.URL(url).host or url


__all__ = ["EdgarClient", "FilingRef", "GATE", "LoaderError"]
