"""The gate over real HTTP against fake EDGAR, with real processes: two CLI pulls into one data folder share one
budget and fetch each filing once; a rate block stops every request until it ends, and the pull then finishes.

These are the tests that must run on real time (processes cannot share a fake clock); the budget keeps a margin
(9/s, at most 9 sends in any 1.05 s) so load on the machine does not push fake EDGAR's count over 10."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.fake_edgar


def _start(args, env) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("EDGAR_", "INSIDER_"))} | env
    return subprocess.Popen(
        [sys.executable, "-m", "loaders", *args],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def _log(path) -> list[dict]:
    """fake EDGAR's request log; read again while its last line is still being written (a JSONDecodeError on a
    half-written line made the two-process test fail once)."""
    for _ in range(100):
        text = path.read_text()
        if text.endswith("\n"):
            break
        time.sleep(0.05)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _archives(log: list[dict]) -> Counter:
    return Counter(e["path"] for e in log if e["path"].startswith("/Archives/"))


@pytest.mark.parametrize(("first", "second", "filings"), [("KEY", "SNV", 73 + 71), ("DHR", "DHR", 88)])
def test_two_processes_share_the_budget_and_fetch_each_filing_once(
    fake_edgar_factory, tmp_path, first, second, filings
):
    """Guards against a per-process limiter (two pulls ran at 12 req/s with 19x429) and against two pulls of the
    same ticker fetching everything twice (102x429): together <= 10 in every second, no 429, each filing once."""
    log = tmp_path / "requests.jsonl"
    server = fake_edgar_factory("--latency-ms", "20", "--log", str(log))
    env = server.env(tmp_path / "data")
    procs = [_start(["pull", first], env), _start(["pull", second], env)]
    results = [_finish(p) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert " 0 failed" in out and "Traceback" not in err
    stats = server.stats()
    assert stats["max_requests_in_1s"] <= 10, stats
    assert "429" not in stats["by_status"], stats
    archives = _archives(_log(log))
    assert len(archives) == filings and set(archives.values()) == {1}, archives.most_common(3)


def test_block_stops_every_request_until_it_ends_then_the_pull_finishes(fake_edgar_factory, tmp_path):
    """Guards against knocking during EDGAR's block (every ~5 s for 6.5 minutes before, which extends it) and
    against giving up: after the first 429 nothing is sent for the block time, the user is told when it resumes,
    and the pull then completes (at a halved rate, under the server's 5/s)."""
    block = 3.0
    log = tmp_path / "requests.jsonl"
    server = fake_edgar_factory("--max-rps", "5", "--block-seconds", str(block), "--log", str(log))
    env = server.env(tmp_path / "data")
    code, out, err = _finish(_start(["pull", "--block-seconds", str(block), "AMD"], env))
    assert code == 0, err
    assert "41 new, 0 cached, 0 failed of 41 filings" in out
    assert "pauses until" in err and "resumes by itself" in err and "Traceback" not in err
    entries = _log(log)
    t0 = min(e["t"] for e in entries if e["status"] == 429)
    # requests already sent when the first 429 came back may still arrive (a few, within half a second on a
    # loaded machine); after that nothing until the block ends
    in_flight = [e for e in entries if t0 < e["t"] <= t0 + 0.5]
    during = [e for e in entries if t0 + 0.5 < e["t"] < t0 + block - 0.05]
    assert len(in_flight) <= 4 and during == [], during
    assert max(e["t"] for e in entries) > t0 + block  # it resumed after the block ...
    assert sum(e["status"] == 429 for e in entries) <= 1 + len(in_flight)  # ... without tripping it again
    assert len(_archives(entries)) == 41
