"""The page pulls' queue (ui/pulls.py Registry): bounded, shared, refusing politely. The pulls themselves are held
on an event here (the registry is what is tested; real pulls queue in tests/test_browser_newuser.py)."""

from __future__ import annotations

import threading
import time

import pytest

from loaders.pipeline import PullReport
from ui import pulls


@pytest.fixture
def held(monkeypatch):
    """Pulls that run until released; records which started."""
    release, started = threading.Event(), []

    def fake_pull(target, **kw):
        started.append(target)
        release.wait(10)
        return PullReport(target=target, cik=1, total=1, new=1)

    monkeypatch.setattr(pulls, "pull_issuer", fake_pull)
    yield release, started
    release.set()


def _until(cond, timeout=5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_at_most_two_run_the_rest_wait_and_more_are_refused(held):
    """Guards against issue 7 item 5: 150 tickers in a URL started 150 pulls (724 threads) at once."""
    release, started = held
    reg = pulls.Registry(active=2, waiting=3)
    jobs = [reg.start("issuer", t) for t in ("A", "B", "C", "D", "E")]
    _until(lambda: len(started) == 2)
    time.sleep(0.1)
    assert sorted(started) == ["A", "B"] and reg.active() == 2
    assert [reg.ahead_of(j) for j in jobs[2:]] == [0, 1, 2]
    with pytest.raises(pulls.QueueFull, match="2 pulls are running and 3 are waiting"):
        reg.start("issuer", "F")
    release.set()
    _until(lambda: all(j.finished for j in jobs))
    assert sorted(started) == ["A", "B", "C", "D", "E"] and all(j.report.new == 1 for j in jobs)


def test_two_sessions_asking_for_one_issuer_share_one_pull(held):
    """Guards against the same ticker pulled twice at once (twice the requests) from two browser sessions."""
    release, started = held
    reg = pulls.Registry(active=2, waiting=3)
    first, second = reg.start("issuer", "nly"), reg.start("issuer", "NLY ")
    assert first is second
    release.set()
    _until(lambda: first.finished)
    assert started == ["NLY"]
    assert reg.start("issuer", "NLY") is first  # a finished pull is reused ...
    again = reg.start("issuer", "NLY", again=True)  # ... unless asked again (resume, refresh, TTL)
    _until(lambda: again.finished)
    assert again is not first and started == ["NLY", "NLY"]
    assert reg.latest("issuer", ["123", "NLY"]) is again
