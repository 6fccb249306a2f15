"""Pulls started from the pages: queued and bounded, shared across browser sessions, with their state on the page.

One process-wide `Registry` (st.cache_resource) runs at most MAX_ACTIVE pulls at once on a small pool; more wait in a
queue of at most MAX_WAITING, and anything beyond is refused with a plain message. A pull is keyed by what it pulls
(issuer CIK, or the ticker while its CIK is unknown; insider CIK), so two sessions asking for the same issuer share
one pull. The request rate itself is the EDGAR client's gate.

`prepare(tickers)` is what a page calls: it resolves each ticker to an issuer, decides per issuer listing
(loaders.listings) whether to pull (never listed), resume (filings missing after a pull cut short, once per visit),
refresh (listing older than its TTL, or the user's Refresh button), shows the state ("updated 5 minutes ago",
progress, what is missing and why) and returns the issuers that have data to show now.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import streamlit as st

from loaders import listings
from loaders.errors import (
    EdgarBlocked,
    EdgarNotFound,
    EdgarUnavailable,
    IdentityMissing,
    LoaderError,
    UnknownTicker,
)
from loaders.pipeline import PullReport, pull_insider, pull_issuer
from ui import data
from ui.text import plain

MAX_ACTIVE = 2  # pulls running at once in this server process
MAX_WAITING = 30  # pulls queued behind them; more are refused
RETRY_FAILED_AFTER = 30.0  # seconds before a failed pull may be started again automatically
SHOW_MISSING = 8  # accession numbers named in the message about a pull cut short


@dataclass
class PullJob:
    kind: str  # "issuer" (ticker or CIK) or "insider" (owner CIK)
    target: str
    refresh: bool = False
    queued_at: float = field(default_factory=time.monotonic)
    started: float | None = None
    done: int = 0
    total: int = 0
    requests: int = 0
    finished: bool = False
    report: PullReport | None = None
    error: LoaderError | None = None
    ended_at: float | None = None
    paused_until: float | None = None  # wall-clock time EDGAR's block ends (the gate's clock)

    @property
    def label(self) -> str:
        return self.target if self.kind == "issuer" else f"insider CIK {self.target}"

    @property
    def running(self) -> bool:
        return self.started is not None and not self.finished

    @property
    def elapsed(self) -> float:
        if self.report is not None and self.finished:
            return self.report.elapsed
        return time.monotonic() - (self.started or self.queued_at)

    def run(self) -> None:
        self.started = time.monotonic()

        def progress(done: int, total: int, report: PullReport) -> None:
            self.done, self.total, self.requests = done, total, report.requests
            self.paused_until = report.paused_until

        pull = pull_issuer if self.kind == "issuer" else pull_insider
        try:
            self.report = pull(self.target, settings=data.settings(), progress=progress, refresh=self.refresh)
        except LoaderError as e:
            self.error = e
        except Exception as e:  # noqa: BLE001 - shown on the page, never a traceback
            self.error = LoaderError(f"The pull of {self.label} failed unexpectedly: {e}")
        finally:
            self.ended_at = time.monotonic()
            self.finished = True


class QueueFull(LoaderError):
    def __init__(self, label: str, active: int = MAX_ACTIVE, waiting: int = MAX_WAITING) -> None:
        super().__init__(
            f"{label} was not pulled: {active} pulls are running and {waiting} are waiting. Try again in a minute."
        )


class Registry:
    """Process-wide pulls by (kind, target): at most `active` at once, `waiting` more in a queue."""

    def __init__(self, active: int = MAX_ACTIVE, waiting: int = MAX_WAITING) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[tuple[str, str], PullJob] = {}
        self.waiting, self.size = waiting, active
        self.pool = ThreadPoolExecutor(max_workers=active, thread_name_prefix="pull")

    def start(self, kind: str, target: str, *, again: bool = False, refresh: bool = False) -> PullJob:
        """The queued or running job for (kind, target), else a new one. A finished job is returned as it is
        unless `again` (or it failed over 30 s ago). Raises QueueFull when the queue is full."""
        key = (kind, target.strip().upper())
        with self.lock:
            job = self.jobs.get(key)
            if job is not None and not job.finished:
                return job
            retry = job is not None and job.error is not None and time.monotonic() - (job.ended_at or 0) > 30
            if job is not None and not again and not retry:
                return job
            if sum(1 for j in self.jobs.values() if j.started is None and not j.finished) >= self.waiting:
                raise QueueFull(
                    key[1] if kind == "issuer" else f"insider CIK {key[1]}", self.size, self.waiting
                )
            job = PullJob(kind, key[1], refresh=refresh)
            self.jobs[key] = job
            self.pool.submit(job.run)
            return job

    def get(self, kind: str, target: str) -> PullJob | None:
        return self.jobs.get((kind, target.strip().upper()))

    def latest(self, kind: str, targets: list[str]) -> PullJob | None:
        """The most recently queued job under any of these targets (a running one first)."""
        found = [j for t in targets if (j := self.get(kind, t)) is not None]
        found.sort(key=lambda j: (not j.finished, j.queued_at))
        return found[-1] if found else None

    def ahead_of(self, job: PullJob) -> int:
        """Queued jobs that will start before this one."""
        with self.lock:
            return sum(1 for j in self.jobs.values() if j.started is None and not j.finished
                       and j.queued_at < job.queued_at)  # fmt: skip

    def active(self) -> int:
        return sum(1 for j in self.jobs.values() if j.running)


@st.cache_resource
def registry() -> Registry:
    return Registry()


# ---------------------------------------------------------------------- what a page calls
@dataclass
class Issuer:
    ticker: str
    cik: int | None
    listing: listings.Listing | None
    job: PullJob | None = None
    error: LoaderError | None = None

    @property
    def key(self) -> str:
        return str(self.cik) if self.cik else self.ticker

    @property
    def aliases(self) -> list[str]:
        """Every registry key a pull of this issuer may run under (its CIK, the tickers it was pulled by)."""
        return list(dict.fromkeys([self.key, self.ticker, *(self.listing.tickers if self.listing else [])]))


def prepare(tickers: tuple[str, ...]) -> list[int]:
    """Resolve the tickers, pull what needs pulling, show each issuer's state; the issuer CIKs to show now."""
    resumed: set = st.session_state.setdefault("_pull_resumed", set())
    can_pull = bool(data.settings().identity)
    issuers: dict[str, Issuer] = {}
    for ticker in tickers:
        cik = data.resolve(ticker)
        item = Issuer(ticker, cik, data.listing("issuer", cik) if cik else None)
        if item.key in issuers:  # WLY and WLYB: one issuer
            continue
        issuers[item.key] = item
        item.job = registry().latest("issuer", item.aliases)
        reason = _pull_reason(item, resumed)
        if reason and can_pull:
            try:
                item.job = registry().start(
                    "issuer", item.key, again=reason != "new", refresh=reason == "refresh"
                )
            except QueueFull as e:
                item.error = e
            resumed.add(item.key)
        elif reason == "new" and not can_pull and cik is None:
            item.error = IdentityMissing()
    running = [i.job for i in issuers.values() if i.job is not None and not i.job.finished]
    if running:
        _progress_panel(running)
    shown: list[int] = []
    for item in issuers.values():
        job = item.job
        if (
            job is not None
            and job.finished
            and job.report is not None
            and job.report.cik
            and item.cik is None
        ):
            item.cik = job.report.cik
            item.listing = data.listing("issuer", item.cik)
        has_data = item.cik is not None and data.has_filings(item.cik)
        _status(item, can_pull, has_data)
        if has_data and item.cik is not None:
            shown.append(int(item.cik))
    if not shown and not running:  # nothing to show: at least say what is stored
        from ui import welcome

        welcome.cached_issuers()
    return list(dict.fromkeys(shown))


def shown_tickers(tickers: tuple[str, ...], ciks: list[int]) -> list[str]:
    """The tickers whose issuer is shown (a ticker EDGAR does not know is left out of titles)."""
    return [t for t in tickers if data.resolve(t) in ciks] or list(tickers)


def _pull_reason(item: Issuer, resumed: set) -> str | None:
    """Why this issuer should be pulled now: 'new', 'running', 'missing', 'stale', 'refresh', or None."""
    if item.job is not None and not item.job.finished:
        return "running"
    if st.session_state.pop(f"_refresh_{item.key}", False):
        return "refresh"
    if item.listing is None:
        return "new"
    if resumed.intersection(item.aliases):  # pulled (or resumed) once during this visit already
        return None
    if item.listing.missing(data.stored_accessions()):
        return "missing"
    if item.listing.stale(data.settings().submissions_ttl):
        return "stale"
    return None


def _status(item: Issuer, can_pull: bool, has_data: bool) -> None:
    """One line per issuer: updated N minutes ago + Refresh, or what is missing and why, or the error."""
    job, listing = item.job, item.listing
    since = st.session_state.setdefault("_visit_started", time.monotonic()) - 5
    recent = job is not None and job.finished and (job.ended_at or 0) >= since  # ended during this visit
    error = item.error or (job.error if job is not None and recent else None)
    if error is not None:
        show_error(item.ticker, error, has_data)
    if job is not None and recent and job.report is not None and job.report.total == 0:
        st.warning(f"EDGAR lists no Forms 3, 4 or 5 for {plain(item.ticker)}.")
    if not has_data:
        return
    if listing is None:
        note = "not checked against EDGAR" + ("" if can_pull else " (no EDGAR identity set)")
        st.caption(f"{plain(item.ticker)} · stored filings only, {note}.")
        return
    missing = listing.missing(data.stored_accessions())
    if missing and (job is None or job.finished):
        _missing_message(item, listing, missing, error)
    cols = st.columns([6, 1], vertical_alignment="center")
    cols[0].caption(
        f"{plain(item.ticker)} · {len(listing.listed) - len(missing):,} of {len(listing.listed):,} filings on EDGAR "
        f"stored · listing updated {listings.age_text(listing.age())}"
    )
    if can_pull:
        cols[1].button("Refresh", key=f"refresh-{item.key}", icon=":material/refresh:", on_click=_ask_refresh,
                       args=(item.key,), help="Fetch the issuer's EDGAR listing again and any new filings",
                       disabled=job is not None and not job.finished)  # fmt: skip


def _ask_refresh(key: str) -> None:
    st.session_state[f"_refresh_{key}"] = True


def _missing_message(item: Issuer, listing: listings.Listing, missing: list[str], error) -> None:
    reasons = [listing.failed[a] for a in missing if a in listing.failed] or [
        listing.error or "the pull was cut short"
    ]
    why = "; ".join(sorted({_why(r) for r in reasons}))
    named = ", ".join(missing[:SHOW_MISSING]) + (f" and {len(missing) - SHOW_MISSING:,} more"
                                                  if len(missing) > SHOW_MISSING else "")  # fmt: skip
    st.warning(
        plain(
            f"{len(missing):,} of {len(listing.listed):,} filings of {item.ticker} are missing ({why}): {named}. "
            "The figures below leave them out; your next visit tries them again."
        )  # fmt: skip
    )
    with st.expander(f"The {len(missing):,} missing filings of {plain(item.ticker)}, with the reason"):
        st.text(
            "\n".join(
                f"{a}  {public(listing.failed.get(a, listing.error or 'not fetched yet'))}" for a in missing
            )
        )


def _progress_panel(jobs: list[PullJob]) -> None:
    """Progress of the running or queued pulls, refreshed every second; reruns the page when all are done."""

    @st.fragment(run_every=1.0)
    def panel() -> None:
        for job in jobs:
            if not job.finished:
                render_job(job)
        if all(j.finished for j in jobs):
            st.rerun(scope="app")

    panel()


def render_job(job: PullJob) -> None:
    label = plain(job.label)
    if job.started is None:
        ahead = registry().ahead_of(job)
        st.progress(0.0, text=f"**{label}** is waiting to be pulled: {ahead + registry().active()} pull(s) ahead "
                    f"(at most {MAX_ACTIVE} run at once).")  # fmt: skip
        return
    pct = job.done / job.total if job.total else 0.0
    if job.paused_until and job.paused_until > time.time():
        at = time.strftime("%H:%M:%S", time.localtime(job.paused_until))
        wait = listings.age_text(job.paused_until - time.time()).replace(" ago", "")
        st.progress(min(pct, 1.0), text=f"EDGAR is blocking requests from this machine (too many, from any program "
                    f"using this data folder). **{label}** resumes at {at} (in {wait}); {job.done:,} / "
                    f"{job.total:,} filings so far.")  # fmt: skip
        return
    text = (
        f"Pulling **{label}** from EDGAR: {job.done:,} / {job.total:,} filings · {job.requests:,} requests · "
        f"{job.elapsed:,.0f} s"
        if job.total
        else f"Pulling **{label}** from EDGAR: listing filings… ({job.elapsed:,.0f} s)"
    )
    st.progress(min(pct, 1.0), text=text)


def follow(jobs: list[PullJob]) -> bool:
    """Show progress until the jobs finish (rerunning the page then); True when all succeeded with filings."""
    if not all(j.finished for j in jobs):
        _progress_panel(jobs)
        return False
    ok = True
    for job in jobs:
        if job.error is not None:
            ok = False
            show_error(job.label, job.error, has_data=False)
        elif job.report is not None:
            show_report(job.report)
            if job.report.new == 0 and job.report.cached == 0:
                ok = False
                st.warning(f"EDGAR lists no Forms 3, 4 or 5 for {plain(job.label)}.")
    return ok


def show_report(report: PullReport) -> None:
    if report.failed:
        with st.expander(
            f"{len(report.failed)} filing(s) of {plain(report.target)} could not be read", expanded=False
        ):
            st.text("\n".join(f"{acc}: {public(reason)}" for acc, reason in report.failed))


_URL = re.compile(r"\s*(?:\b(?:at|for|from)\s+)?https?://\S+")
_HOST = re.compile(r"\s+at\s+(?:\d{1,3}(?:\.\d{1,3}){3}|[\w-]+(?:\.[\w-]+)+)(?::\d+)?(?=[:\s.,;)]|$)")


def public(message: str) -> str:
    """A loader message without the server addresses in it (they may be internal hosts)."""
    return _HOST.sub("", _URL.sub("", str(message))).strip()


def _why(reason: str) -> str:
    """A failure reason in a few plain words (the full text is in the expander)."""
    text = reason.lower()
    if "unreachable" in text or "cannot connect" in text or "kept failing" in text:
        return "EDGAR could not be reached"
    if "rate" in text and ("limit" in text or "block" in text):
        return "EDGAR was rate-limiting us"
    if "could not be read" in text or "not a well-formed" in text or "corrupt" in text:
        return "EDGAR's copy could not be read"
    return public(reason).split(". ")[0][:120]


def _detail(error: LoaderError) -> str:
    """The loader's own words after the page's sentence, as a sentence, without repeating its opening ("EDGAR is
    unreachable: cannot connect" after "EDGAR is unreachable, so TEAM could not be pulled.")."""
    text = public(str(error))
    text = re.sub(r"^EDGAR is (unreachable|rate-limiting us)\s*[:.]?\s*", "", text).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return plain(text if text.endswith((".", "!", "?")) else text + ".")


def show_error(label: str, error: LoaderError, has_data: bool) -> None:
    name = plain(label)
    tail = " Showing what is stored." if has_data else ""
    if isinstance(error, IdentityMissing):
        st.warning(f"Cannot pull {name}: {plain(error)}{tail}")
    elif isinstance(error, UnknownTicker):
        st.error(plain(error))
    elif isinstance(error, EdgarNotFound):
        st.error(f"EDGAR has no filings listed for {name}.{tail}")
    elif isinstance(error, EdgarBlocked | EdgarUnavailable):
        # an outage with the issuer's filings stored is a notice (the page shows them), not an error
        box = st.warning if has_data else st.error
        what = (
            "EDGAR is rate-limiting us, so {} could not be pulled now."
            if isinstance(error, EdgarBlocked)
            else "EDGAR is unreachable, so {} could not be pulled."
        )
        box(f"{what.format(name)} {_detail(error)}{tail}")
    else:
        st.error(f"{name} could not be pulled: {plain(public(str(error)))}{tail}")
