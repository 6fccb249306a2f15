"""Pull the ownership filings of an issuer or an insider from EDGAR into the store, incrementally.

Only accessions the store lacks are fetched (raw XML already cached is re-parsed without a request); each body is
parsed, which validates it, before anything is cached. A filing that fails to parse or to store goes to the
quarantine (loaders/quarantine.py) with its reason and never blocks the others of its batch; it is tried again
only when its bytes change. Unreachable filings are reported in PullReport.failed and the pull goes on. Two pulls
into one data folder fetch each filing once (loaders.gate.claim). Fetches run on a thread pool sized to keep the
shared rate budget busy when each request takes 100+ ms. When EDGAR blocks us, every request pauses (the client
and its gate do that); PullReport.paused_until says until when, and progress is called so a page can show it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from loaders import ids
from loaders.config import Settings
from loaders.edgar import EdgarClient, FilingRef
from loaders.errors import (
    Cancelled,
    CorruptFiling,
    EdgarBlocked,
    EdgarForbidden,
    IdentityMissing,
    LoaderError,
)
from loaders.gate import Pause, claim
from loaders.parser import ParsedFiling, parse_ownership
from loaders.quarantine import Quarantine, problems, write_isolating
from loaders.store import Store

WRITE_EVERY = 250  # filings per store write at most, and at most WRITE_BYTES of raw XML
WRITE_BYTES = 64 * 1024 * 1024


@dataclass
class PullReport:
    target: str
    cik: int | None = None
    name: str = ""
    total: int = 0
    new: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0
    elapsed: float = 0.0
    quarantined: int = 0  # of `failed`: still quarantined with the same bytes, so not tried again
    paused_until: float | None = None  # when EDGAR blocked us: the (gate clock) time requests resume
    done: int = 0

    def summary(self) -> str:
        still = f" ({self.quarantined:,} still quarantined, unchanged)" if self.quarantined else ""
        return (
            f"{self.target} ({self.name or self.cik}): {self.new:,} new, {self.cached:,} cached, "
            f"{len(self.failed):,} failed{still} of {self.total:,} filings; {self.requests:,} requests in "
            f"{self.elapsed:.1f} s"
        )


Progress = Callable[[int, int, PullReport], None]


@dataclass
class _Outcome:
    parsed: ParsedFiling | None = None
    failure: str | None = None
    still_quarantined: bool = False


def _setup(settings: Settings | None, store: Store | None, client: EdgarClient | None):
    settings = settings or Settings.from_env()
    store = store or Store(settings.data_dir)
    return settings, store, client or EdgarClient(settings, store)


def pull_issuer(
    ticker_or_cik: str | int,
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    client: EdgarClient | None = None,
) -> PullReport:
    """Every Form 3/4/5 (and amendment) of an issuer, by ticker or CIK."""
    settings, store, client = _setup(settings, store, client)
    target = str(ticker_or_cik).strip().upper()
    before = client.requests
    if target.isdigit():
        cik = ids.cik(target)
        if cik is None:
            raise LoaderError(f"{target} is not a CIK (a number of 1 to 10 digits).")
    else:
        cik = client.resolve_ticker(target)[0]
    report = _pull(client, store, settings, target, cik, progress, before)
    _record_periodic(client, store, cik)
    return report


def _record_periodic(client: EdgarClient, store: Store, cik: int) -> None:
    """Keep the issuer's 10-Q/10-K dates (for the 10b5-1 cooling-off check) from the feed just read; a failure
    here never fails the pull: the check then says the dates are unknown."""
    from loaders.periodic import record_periodic

    try:
        record_periodic(client, store, cik)
    except LoaderError:
        return  # the filings themselves were pulled; the cooling-off check reports the dates as unknown


def pull_insider(
    cik: int | str,
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    client: EdgarClient | None = None,
) -> PullReport:
    """Every ownership filing of one reporting owner (rows are attributed to the issuer named in each XML)."""
    settings, store, client = _setup(settings, store, client)
    valid = ids.cik(cik if isinstance(cik, int) else str(cik))
    if valid is None:
        raise LoaderError(f"{cik!r} is not a CIK (a number of 1 to 10 digits).")
    return _pull(client, store, settings, f"insider {valid}", valid, progress, client.requests)


def _pull(client, store, settings, target, cik, progress, before: int) -> PullReport:
    started = time.perf_counter()
    report = PullReport(target=target, cik=cik)
    previous = client.on_pause

    def on_pause(pause: Pause) -> None:
        report.paused_until = pause.until
        if previous is not None:
            previous(pause)
        if progress:
            report.requests = client.requests - before
            progress(report.done, report.total, report)

    client.on_pause = on_pause
    try:
        report.name, refs = client.ownership_filings(cik)
        report.total = len(refs)
        known = store.known_accessions()
        todo = [r for r in refs if r.accession not in known]
        report.cached = report.done = report.total - len(todo)
        if progress:
            progress(report.cached, report.total, report)
        _fetch_all(client, store, settings, todo, report, progress, before)
    except LoaderError as e:
        e.report = report  # the CLI prints what was done before the error
        raise
    finally:
        client.on_pause = previous
        report.requests = client.requests - before
        report.elapsed = time.perf_counter() - started
    return report


def _fetch_one(client: EdgarClient, store: Store, quarantine: Quarantine, ref: FilingRef) -> _Outcome:
    """Fetch (or read cached), parse and check one filing; the raw XML is cached only when it can be stored."""
    url = client.xml_url(ref)  # validates accession, CIK and file name before they touch a path or a URL
    cached = store.read_raw(ref.accession)
    if cached is not None:
        return _parse(client, quarantine, ref, url, cached, store=None)
    with claim(store.root, ref.accession, client.cancelled):
        cached = store.read_raw(ref.accession)  # another pull into this folder may have fetched it meanwhile
        if cached is not None:
            return _parse(client, quarantine, ref, url, cached, store=None)
        return _parse(client, quarantine, ref, url, client.fetch_xml(ref), store=store)


def _parse(
    client, quarantine: Quarantine, ref: FilingRef, url: str, body: bytes, store: Store | None
) -> _Outcome:
    held = quarantine.holds(ref.accession, body)
    if held is not None:
        return _Outcome(
            failure=f"still quarantined (unchanged since {held.when}): {held.reason}", still_quarantined=True
        )
    try:
        parsed = parse_ownership(body, ref.accession, ref.filing_date, "edgar")
    except CorruptFiling as e:
        quarantine.add(ref.accession, e.reason, body, url)
        return _Outcome(failure=e.reason)
    except Exception as e:  # noqa: BLE001 - a parser bug on one filing must not stop the others
        reason = f"the parser failed on it ({type(e).__name__}: {e})"
        quarantine.add(ref.accession, reason, body, url)
        return _Outcome(failure=reason)
    problem = problems(parsed)
    if problem:
        quarantine.add(ref.accession, problem, body, url)
        return _Outcome(failure=problem)
    parsed.filing["xml_url"] = url.replace(client.settings.www, "https://www.sec.gov")
    if store is not None:
        store.write_raw(ref.accession, body)
    return _Outcome(parsed=parsed)


def _fetch_all(
    client, store, settings, todo: list[FilingRef], report: PullReport, progress, before: int
) -> None:
    batch: list[ParsedFiling] = []
    batch_bytes = 0
    quarantine = Quarantine(store.root)
    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
            futures = {pool.submit(_fetch_one, client, store, quarantine, ref): ref for ref in todo}
            try:
                for fut in as_completed(futures):
                    ref = futures[fut]
                    try:
                        outcome = fut.result()
                    except LoaderError as e:
                        if _fatal(e):
                            raise
                        report.failed.append((ref.accession, str(e)))
                    else:
                        if outcome.parsed is not None:
                            batch.append(outcome.parsed)
                            batch_bytes += _raw_size(store, outcome.parsed.accession)
                            if len(batch) >= WRITE_EVERY or batch_bytes >= WRITE_BYTES:
                                report.new += write_isolating(store, batch, report.failed, quarantine)
                                batch, batch_bytes = [], 0
                        else:
                            report.failed.append((ref.accession, outcome.failure or "failed"))
                            report.quarantined += outcome.still_quarantined
                    report.done += 1
                    if progress:
                        report.requests = client.requests - before
                        progress(report.done, report.total, report)
            except BaseException:
                client.cancel()  # threads waiting at the gate (perhaps for a 10-minute block) stop within a second
                for f in futures:
                    f.cancel()
                raise
            finally:
                report.new += write_isolating(store, batch, report.failed, quarantine)
    finally:
        client.resume()


def _raw_size(store: Store, accession: str) -> int:
    try:
        return store.raw_path(accession).stat().st_size
    except OSError:
        return 4096


def _fatal(e: LoaderError) -> bool:
    """Errors that would fail every other filing too: stop the pull instead of reporting each one."""
    return isinstance(e, EdgarBlocked | EdgarForbidden | IdentityMissing | Cancelled)
