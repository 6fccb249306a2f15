"""Pull the ownership filings of an issuer or an insider from EDGAR into the store, incrementally.

Only accessions the store lacks are fetched (raw XML already cached is re-parsed without a request); each body is
parsed, which validates it, before anything is cached; corrupt or unreachable filings are reported in
PullReport.failed and never cached, and the pull goes on. Fetches run on a thread pool sized to keep the
process-wide rate budget busy when each request takes 100+ ms.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from loaders import listings
from loaders.config import Settings
from loaders.edgar import EdgarClient, FilingRef
from loaders.errors import CorruptFiling, LoaderError
from loaders.parser import ParsedFiling, parse_ownership
from loaders.store import Store

WRITE_EVERY = 250


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

    def summary(self) -> str:
        return (
            f"{self.target} ({self.name or self.cik}): {self.new:,} new, {self.cached:,} cached, "
            f"{len(self.failed):,} failed of {self.total:,} filings; {self.requests:,} requests in {self.elapsed:.1f} s"
        )


Progress = Callable[[int, int, PullReport], None]


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
    refresh: bool = False,
) -> PullReport:
    """Every Form 3/4/5 (and amendment) of an issuer, by ticker or CIK. refresh=True re-fetches the listing even
    when the cached one is within its TTL (new filings since)."""
    settings, store, client = _setup(_fresh(settings, refresh), store, client)
    target = str(ticker_or_cik).strip().upper()
    before = client.requests
    cik = int(target) if target.isdigit() else client.resolve_ticker(target)[0]
    report = _pull(client, store, settings, target, cik, progress, before, "issuer")
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
    refresh: bool = False,
) -> PullReport:
    """Every ownership filing of one reporting owner (rows are attributed to the issuer named in each XML)."""
    settings, store, client = _setup(_fresh(settings, refresh), store, client)
    return _pull(
        client, store, settings, f"insider {int(cik)}", int(cik), progress, client.requests, "insider"
    )


def _fresh(settings: Settings | None, refresh: bool) -> Settings | None:
    """Settings whose listings are never fresh enough, for a refresh."""
    if not refresh:
        return settings
    return dataclasses.replace(settings or Settings.from_env(), submissions_ttl=0.0)


def _pull(client, store, settings, target, cik, progress, before: int, kind: str) -> PullReport:
    started = time.perf_counter()
    report = PullReport(target=target, cik=cik)
    listing, error = None, None
    try:
        report.name, refs = client.ownership_filings(cik)
        listing = listings.started(store.root, kind, cik, report.name, target, [r.accession for r in refs])
        report.total = len(refs)
        known = store.known_accessions()
        todo = [r for r in refs if r.accession not in known]
        report.cached = report.total - len(todo)
        if progress:
            progress(report.cached, report.total, report)
        _fetch_all(client, store, settings, todo, report, progress, before)
    except BaseException as e:
        error = str(e) or type(e).__name__
        raise
    finally:
        report.requests = client.requests - before
        report.elapsed = time.perf_counter() - started
        if listing is not None:
            listings.finished(store.root, listing, report.failed, error)
    return report


def _fetch_one(client: EdgarClient, store: Store, ref: FilingRef) -> tuple[ParsedFiling, bytes | None]:
    cached = store.read_raw(ref.accession)
    body = cached if cached is not None else client.fetch_xml(ref)
    parsed = parse_ownership(body, ref.accession, ref.filing_date, "edgar")
    parsed.filing["xml_url"] = client.xml_url(ref).replace(client.settings.www, "https://www.sec.gov")
    return parsed, (body if cached is None else None)


def _fetch_all(
    client, store, settings, todo: list[FilingRef], report: PullReport, progress, before: int
) -> None:
    batch: list[ParsedFiling] = []
    done = report.cached
    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        futures = {pool.submit(_fetch_one, client, store, ref): ref for ref in todo}
        try:
            for fut in as_completed(futures):
                ref = futures[fut]
                try:
                    parsed, body = fut.result()
                except CorruptFiling as e:
                    report.failed.append((ref.accession, e.reason))
                except LoaderError as e:
                    if _fatal(e):
                        raise
                    report.failed.append((ref.accession, str(e)))
                else:
                    if body is not None:
                        store.write_raw(ref.accession, body)
                    batch.append(parsed)
                    if len(batch) >= WRITE_EVERY:
                        report.new += store.write(batch)
                        batch = []
                done += 1
                if progress:
                    report.requests = client.requests - before
                    progress(done, report.total, report)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        finally:
            report.new += store.write(batch)


def _fatal(e: LoaderError) -> bool:
    """Errors that would fail every other filing too: stop the pull instead of reporting each one."""
    from loaders.errors import EdgarBlocked, EdgarForbidden, IdentityMissing

    return isinstance(e, EdgarBlocked | EdgarForbidden | IdentityMissing)
