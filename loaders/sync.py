"""`python -m loaders sync`: the whole market from the SEC's quarterly insider data sets, plus a daily tail.

1. Quarters: the data sets page lists one zip per quarter. Each zip of the chosen range is downloaded once into
   data/datasets/ (atomic; a closed quarter never changes, so it is never fetched again), validated (a corrupt or
   truncated zip is retried once, then named in the summary and nothing of it is stored), read by
   loaders.datasets and committed as that quarter's data-set partition in one step. A quarter already stored from
   the same zip is skipped without a request. Filings whose XML the store already holds are not taken from the data
   set (the XML wins); filings whose raw XML is cached but not parsed are parsed from the cache instead.
2. Tail: every filing listed in EDGAR's indexes after the last stored quarter, up to today: the quarterly form.idx
   for whole quarters, the daily form.idx for the current one. Each Form 3/4/5 (and /A) not stored yet is fetched
   through the same client as `pull` (rate limit, retries, raw cache), parsed and stored as XML. Days whose
   filings all landed are remembered, so a re-run reads only new days (and today again).

The SEC has published partial quarters (2024q3 lacks three tables). A quarter lacking a secondary table (holdings,
derivative trades, footnotes) is loaded without it and named as partial; one lacking SUBMISSION, REPORTINGOWNER or
NONDERIV_TRANS is skipped with a line saying so and nothing of it stored; the others go on.

The report says what was done (quarters, filings, rows, requests, elapsed) and lists every failure; the CLI exits
1 when anything failed, 3 when everything landed but some quarter was partial or skipped as incomplete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from loaders import datasets
from loaders.config import Settings
from loaders.edgar import EdgarClient, IndexEntry
from loaders.errors import CorruptFiling, EdgarBlocked, EdgarForbidden, IdentityMissing, LoaderError
from loaders.parser import ParsedFiling, parse_ownership
from loaders.store import Store, StoreFull, atomic_write

DEFAULT_QUARTERS = 8
WRITE_BYTES = 32 * 1024 * 1024  # tail: write a batch once its raw XML reaches this size (or WRITE_FILINGS)
WRITE_FILINGS = 500


@dataclass
class SyncReport:
    quarters: list[str] = field(default_factory=list)  # chosen range
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already stored
    missing: list[str] = field(default_factory=list)  # in the range but not published (EDGAR lists no zip)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (quarter or accession, reason)
    # the SEC published the quarter without some tables: (quarter, missing tables) loaded without them ...
    partial: list[tuple[str, list[str]]] = field(default_factory=list)
    # ... or skipped because a table no filing can do without is missing (nothing of it stored)
    incomplete: list[tuple[str, list[str], list[str]]] = field(
        default_factory=list
    )  # (quarter, core, others)
    filings: int = 0  # from data sets
    rows: int = 0  # transaction + holding rows from data sets
    xml_from_cache: int = 0
    tail_days: int = 0
    tail_listed: int = 0
    tail_new: int = 0
    tail_cached: int = 0
    requests: int = 0
    elapsed: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"quarters {len(self.loaded)} loaded, {len(self.skipped)} already stored, "
            f"{sum(1 for k, _ in self.failed if datasets.QUARTER_RE.match(k))} failed, "
            f"{len(self.missing)} not published"
            + (f", {len(self.partial)} partial" if self.partial else "")
            + (f", {len(self.incomplete)} skipped as incomplete" if self.incomplete else "")
            + " "
            f"(range {self.quarters[0] if self.quarters else '-'} .. {self.quarters[-1] if self.quarters else '-'}); "
            f"{self.filings:,} filings and {self.rows:,} transaction/holding rows from data sets",
            f"tail: {self.tail_days} days, {self.tail_listed:,} filings listed, {self.tail_new:,} new, "
            f"{self.tail_cached:,} already stored; {self.requests:,} requests in {self.elapsed:.1f} s",
        ]
        for quarter, tables in self.partial:
            lines.append(
                f"  partial {quarter}: the SEC's data set has no {_tsvs(tables)}; loaded without them "
                "(what they hold is missing or marked unverified; re-run sync to pick up a complete release)"
            )
        for quarter, tables, others in self.incomplete:
            lines.append(
                f"  skipped {quarter}: the SEC's data set has no {_tsvs(tables)} (without which no filing can be "
                f"placed){' nor ' + _tsvs(others) if others else ''}; nothing of it was stored (pull its issuers, "
                "or re-run sync once the SEC publishes it whole)"
            )
        return "\n".join(lines)

    @property
    def is_partial(self) -> bool:
        return bool(self.partial or self.incomplete)


def _tsvs(tables: list[str]) -> str:
    return ", ".join(t + ".tsv" for t in tables)


Progress = Callable[[int, int, SyncReport], None]


def parse_quarter(text: str) -> str:
    q = datasets.quarter_name(text)
    if not q:
        raise LoaderError(f"{text!r} is not a quarter: write it like 2023q1")
    return q


def quarter_range(first: str, last: str) -> list[str]:
    y, q = int(first[:4]), int(first[5])
    out = []
    while f"{y:04d}q{q}" <= last:
        out.append(f"{y:04d}q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def quarter_end(quarter: str) -> dt.date:
    y, q = int(quarter[:4]), int(quarter[5])
    return (dt.date(y + 1, 1, 1) if q == 4 else dt.date(y, 3 * q + 1, 1)) - dt.timedelta(days=1)


def quarter_of_day(day: dt.date) -> str:
    return f"{day.year:04d}q{(day.month - 1) // 3 + 1}"


def sync(
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    first: str | None = None,
    last: str | None = None,
    tail: bool = True,
    progress: Progress | None = None,
    client: EdgarClient | None = None,
    today: dt.date | None = None,
) -> SyncReport:
    """Load the data-set quarters first..last (default: the last 8 published) and the tail after them."""
    settings = settings or Settings.from_env()
    store = store or Store(settings.data_dir)
    client = client or EdgarClient(settings, store)
    today = today or dt.date.today()
    started, before = time.perf_counter(), client.requests
    report = SyncReport()
    step = None
    if progress:
        shown = progress

        def step(done: int, total: int, report: SyncReport) -> None:
            """Every step (quarters and tail) shows this sync's requests so far."""
            report.requests = client.requests - before
            shown(done, total, report)

    try:
        listed = client.dataset_quarters()
        published = sorted(listed)
        last = parse_quarter(last) if last else published[-1]
        if first:
            first = parse_quarter(first)
        else:
            back = quarter_range("2000q1", last)[-DEFAULT_QUARTERS:]
            first = back[0]
        if first > last:
            raise LoaderError(f"--from {first} is after --to {last}")
        report.quarters = quarter_range(first, last)
        _quarters(client, store, report, listed, today, step)
        if tail:
            _tail(client, store, report, today, last, step)
    finally:
        store.refresh_indexes()
        report.requests = client.requests - before
        report.elapsed = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------------- quarters
def _quarters(client, store: Store, report: SyncReport, listed: dict, today: dt.date, progress) -> None:
    stored = store.loaded_quarters()
    total = len(report.quarters)
    for i, quarter in enumerate(report.quarters):
        if progress:
            progress(i, total, report)
        if quarter not in listed:
            report.missing.append(quarter)
            continue
        closed = quarter_end(quarter) < today
        cached = store.dataset_dir / f"{quarter}_form345.zip"
        if quarter in stored and closed and (cached.is_file() or not stored[quarter].get("sha256")):
            report.skipped.append(quarter)
            continue
        try:
            data = _zip(client, store, quarter, listed[quarter], closed)
            sha = hashlib.sha256(data).hexdigest()
            if stored.get(quarter, {}).get("sha256") == sha:
                report.skipped.append(quarter)
                if missing := stored[quarter].get("missing_tables"):  # still the partial release
                    report.partial.append((quarter, list(missing)))
                continue
            _load_quarter(store, quarter, data, sha, report)
        except datasets.IncompleteDataSet as e:
            report.incomplete.append((quarter, e.missing, e.also))
        except datasets.DataSetError as e:
            report.failed.append((quarter, e.reason))
        except (StoreFull, EdgarBlocked, EdgarForbidden, IdentityMissing):
            raise
        except LoaderError as e:
            report.failed.append((quarter, str(e)))
    if progress:
        progress(total, total, report)


def _zip(client, store: Store, quarter: str, url: str, closed: bool) -> bytes:
    """The quarter's zip: the cached copy, else downloaded (retried once when corrupt) and cached if closed and
    whole (a partial release is fetched again on the next run, in case the SEC completed it). A zip lacking a CORE
    table raises IncompleteDataSet at once (fetching it again would not help)."""
    path = store.dataset_dir / f"{quarter}_form345.zip"
    if closed and path.is_file():
        data = path.read_bytes()
        try:
            datasets.check_zip(data, path.name)
            return data
        except datasets.DataSetError:
            path.unlink(missing_ok=True)  # damaged on disk: fetch it again
    error: Exception | None = None
    for _ in range(2):
        data = client.fetch_dataset(url)
        try:
            partial = datasets.check_zip(data, path.name)
        except datasets.IncompleteDataSet:
            raise
        except datasets.DataSetError as e:
            error = e
            continue
        if closed and not partial:
            atomic_write(path, data)
        return data
    assert error is not None  # the loop either returned or kept the last error
    raise error


def _load_quarter(store: Store, quarter: str, data: bytes, sha: str, report: SyncReport) -> None:
    q = datasets.read_quarter(data, f"{quarter}_form345.zip")
    frames = q.frames
    accs = list(frames["filings"]["accession"])
    xml_known = store.xml_accessions()
    cached = [a for a in accs if a not in xml_known and store.has_raw(a)]
    parsed: list[ParsedFiling] = []
    dates = dict(zip(frames["filings"]["accession"], frames["filings"]["filing_date"], strict=True))
    for acc in cached:  # the XML wins, row for row: parse what the raw cache holds
        try:
            day = dates.get(acc)
            parsed.append(
                parse_ownership(store.read_raw(acc) or b"", acc, day.date() if day is not None else None)
            )
        except CorruptFiling:
            continue
    if parsed:
        store.write(parsed)
        report.xml_from_cache += len(parsed)
    meta = {"sha256": sha, "problems": q.problems[:20], "missing_tables": q.missing_tables}
    n = store.write_quarter(quarter, frames, meta)
    report.loaded.append(quarter)
    if q.missing_tables:
        report.partial.append((quarter, q.missing_tables))
    report.filings += n
    report.rows += q.rows.get("transactions", 0) + q.rows.get("holdings", 0)
    report.problems.extend(f"{quarter}: {p}" for p in q.problems)


# ---------------------------------------------------------------------------------------------- tail
def tail_days(store: Store, last: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(first, last) day the tail covers: after the last stored quarter (or `last`) and after days already done."""
    stored = sorted(store.loaded_quarters())
    anchor = max([q for q in stored if q <= quarter_of_day(today)] + [last])
    start = quarter_end(anchor) + dt.timedelta(days=1)
    done = store.manifest().get("tail", {}).get("through")
    if done:
        start = max(start, dt.date.fromisoformat(done) + dt.timedelta(days=1))
    return start, today


def _tail(client, store: Store, report: SyncReport, today: dt.date, last: str, progress) -> None:
    start, end = tail_days(store, last, today)
    if start > end:
        return
    entries: list[IndexEntry] = []
    day = start
    while day <= end:  # whole quarters from the quarterly index, the rest day by day
        q_end = quarter_end(quarter_of_day(day))
        if day.month in (1, 4, 7, 10) and day.day == 1 and q_end < today:
            entries += client.form_index(day.year, (day.month - 1) // 3 + 1)
            report.tail_days += (q_end - day).days + 1
            day = q_end + dt.timedelta(days=1)
            continue
        entries += client.daily_form_index(day)
        report.tail_days += 1
        day += dt.timedelta(days=1)
    entries = [e for e in {e.accession: e for e in entries}.values() if start.isoformat() <= e.filing_date]
    report.tail_listed = len(entries)
    known = store.known_accessions()
    todo = [e for e in entries if e.accession not in known]
    report.tail_cached = len(entries) - len(todo)
    failed_days = _fetch(client, store, todo, report, progress)
    through = min(
        [dt.date.fromisoformat(d) - dt.timedelta(days=1) for d in failed_days] + [today - dt.timedelta(1)]
    )
    if through >= start - dt.timedelta(days=1):
        store.record("tail", {"through": through.isoformat()})


def _fetch_one(client: EdgarClient, store: Store, e: IndexEntry) -> tuple[ParsedFiling, bytes | None]:
    cached = store.read_raw(e.accession)
    url = None
    if cached is None:
        url = client.filing_xml_url(e)
        body = client.get(url, kind="filing")
    else:
        body = cached
    parsed = parse_ownership(body, e.accession, e.filing_date, "edgar")
    if url:
        parsed.filing["xml_url"] = url.replace(client.settings.www, "https://www.sec.gov")
    return parsed, (body if cached is None else None)


def _fetch(client, store: Store, todo: list[IndexEntry], report: SyncReport, progress) -> set[str]:
    """Fetch, parse and store the tail's filings; returns the filing dates that had a failure."""
    failed_days: set[str] = set()
    batch: list[ParsedFiling] = []
    size = 0
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, client.settings.workers)) as pool:
        futures = {pool.submit(_fetch_one, client, store, e): e for e in todo}
        try:
            for fut in as_completed(futures):
                e = futures[fut]
                try:
                    parsed, body = fut.result()
                except CorruptFiling as err:
                    report.failed.append((e.accession, err.reason))
                    failed_days.add(e.filing_date)
                except LoaderError as err:
                    if isinstance(err, EdgarBlocked | EdgarForbidden | IdentityMissing):
                        raise
                    report.failed.append((e.accession, str(err)))
                    failed_days.add(e.filing_date)
                else:
                    if body is not None:
                        store.write_raw(e.accession, body)
                    batch.append(parsed)
                    size += len(body or b"") + 2048
                    if len(batch) >= WRITE_FILINGS or size >= WRITE_BYTES:
                        report.tail_new += store.write(batch)
                        batch, size = [], 0
                done += 1
                if progress:
                    progress(done, len(todo), report)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        finally:
            report.tail_new += store.write(batch)
    return failed_days
