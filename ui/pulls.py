"""Background pulls: one thread per ticker in a process-wide registry, so a pull never blocks other sessions and
two sessions asking for the same ticker share one pull."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from loaders.errors import LoaderError
from loaders.pipeline import PullReport, pull_insider, pull_issuer
from ui.data import settings


@dataclass
class PullJob:
    kind: str  # "issuer" (ticker or CIK) or "insider" (owner CIK)
    target: str
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    requests: int = 0
    finished: bool = False
    report: PullReport | None = None
    error: LoaderError | None = None
    thread: threading.Thread | None = None

    @property
    def label(self) -> str:
        return self.target if self.kind == "issuer" else f"insider CIK {self.target}"

    @property
    def elapsed(self) -> float:
        return self.report.elapsed if self.finished and self.report else time.monotonic() - self.started

    def run(self) -> None:
        def progress(done: int, total: int, report: PullReport) -> None:
            self.done, self.total, self.requests = done, total, report.requests

        pull = pull_issuer if self.kind == "issuer" else pull_insider
        try:
            self.report = pull(self.target, settings=settings(), progress=progress)
        except LoaderError as e:
            self.error = e
        except Exception as e:  # noqa: BLE001 - shown on the page, never a traceback
            self.error = LoaderError(f"The pull of {self.label} failed unexpectedly: {e}")
        finally:
            self.finished = True


class Registry:
    """Process-wide pulls by (kind, target); a failed pull may be retried after 30 s."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[tuple[str, str], PullJob] = {}

    def start(self, kind: str, target: str) -> PullJob:
        """The running or finished job for (kind, target), starting one if there is none (or it failed)."""
        key = (kind, target.strip().upper())
        with self.lock:
            job = self.jobs.get(key)
            if job is None or (
                job.finished and job.error is not None and time.monotonic() - job.started > 30
            ):
                job = PullJob(*key)
                job.thread = threading.Thread(target=job.run, name=f"pull-{kind}-{key[1]}", daemon=True)
                self.jobs[key] = job
                job.thread.start()
            return job

    def get(self, kind: str, target: str) -> PullJob | None:
        return self.jobs.get((kind, target.strip().upper()))


@st.cache_resource
def registry() -> Registry:
    return Registry()


def pulled_ciks(tickers: tuple[str, ...]) -> tuple[int, ...]:
    """Issuer CIKs of finished pulls of these tickers (the XML may spell the ticker differently)."""
    reg = registry()
    jobs = [reg.get("issuer", t) for t in tickers]
    return tuple(j.report.cik for j in jobs if j and j.report and j.report.cik)


def _render_job(job: PullJob) -> None:
    pct = job.done / job.total if job.total else 0.0
    text = (
        f"Pulling **{job.label}** from EDGAR: {job.done:,} / {job.total:,} filings · {job.requests:,} requests · "
        f"{job.elapsed:,.0f} s"
        if job.total
        else f"Pulling **{job.label}** from EDGAR: listing filings… ({job.elapsed:,.0f} s)"
    )
    st.progress(min(pct, 1.0), text=text)


def ensure_loaded(tickers: tuple[str, ...], loaded: set[str]) -> bool:
    """Pull every ticker not in the store, showing progress. True once all are loaded; False while pulling or
    when a pull failed (the failure is shown in plain words, followed by what is cached)."""
    missing = [t for t in tickers if t not in loaded]
    if not missing:
        return True
    return follow([registry().start("issuer", t) for t in missing])


def follow(jobs: list[PullJob]) -> bool:
    """Show progress until the jobs finish (rerunning the page then); True when all succeeded with filings."""

    @st.fragment(run_every=1.0)
    def progress_panel() -> None:
        for job in jobs:
            if not job.finished:
                _render_job(job)
        if all(j.finished for j in jobs):
            st.rerun(scope="app")

    if not all(j.finished for j in jobs):
        progress_panel()
        return False
    ok = True
    for job in jobs:
        if job.error is not None:
            ok = False
            show_error(job.label, job.error)
        elif job.report is not None:
            show_report(job.report)
            if job.report.new == 0 and job.report.cached == 0:
                ok = False
                st.warning(f"EDGAR lists no Forms 3, 4 or 5 for {job.label}.")
    if not ok:
        from ui import welcome

        welcome.cached_issuers()
    return ok


def show_report(report: PullReport) -> None:
    if report.failed:
        with st.expander(
            f"{len(report.failed)} filing(s) of {report.target} could not be read", expanded=False
        ):
            for acc, reason in report.failed:
                st.markdown(f"- `{acc}`: {reason}")


def show_error(ticker: str, error: LoaderError) -> None:
    from loaders.errors import EdgarBlocked, EdgarUnavailable, IdentityMissing, UnknownTicker

    if isinstance(error, IdentityMissing):
        st.warning(f"Cannot pull {ticker}: {error}")
    elif isinstance(error, UnknownTicker):
        st.error(str(error))
    elif isinstance(error, EdgarBlocked):
        st.error(f"EDGAR is rate-limiting us, so {ticker} could not be pulled now. {error}")
    elif isinstance(error, EdgarUnavailable):
        st.error(f"EDGAR is unreachable, so {ticker} could not be pulled. {error} Showing what is cached.")
    else:
        st.error(f"{ticker} could not be pulled: {error}")
