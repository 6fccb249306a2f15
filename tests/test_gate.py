"""The EDGAR gate's logic (loaders/gate.py) with injected clocks: spacing, the hard ceiling, pauses, processes.

Several Gate objects on one file stand for several processes sharing a data folder (each opens the file and takes
the flock itself, as a separate process would)."""

from __future__ import annotations

import math
import threading

import pytest

from loaders.errors import Cancelled
from loaders.gate import (
    DEFAULT_BLOCK_SECONDS,
    MAX_BLOCK_SECONDS,
    Gate,
    claim,
    effective_rps,
)
from tests.clocks import FakeClock, ManualClock, max_in_window


def _gate(tmp_path, clock, sleep=None) -> Gate:
    return Gate(tmp_path / "locks" / "edgar.gate", clock=clock, sleep=sleep or clock.sleep)


def _sends(gate: Gate, n: int, rps: float) -> list[float]:
    return [gate.wait_turn(rps) for _ in range(n)]


def test_default_rate_spaces_sends_and_keeps_every_window_under_ten(tmp_path):
    """Guards against bursts: at the default 9/s every gap is >= 1/9 s and no 1 s window holds more than 9."""
    clock = FakeClock()
    times = _sends(_gate(tmp_path, clock), 200, 9)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 1 / 9 - 1e-6
    assert max_in_window(times) <= 9
    assert times[-1] - times[0] < 200 / 8  # and still close to 9/s, not crawling


@pytest.mark.parametrize("configured", [10, 11, 50, math.inf, 1e9])
def test_configuration_cannot_lift_the_ceiling(tmp_path, configured):
    """Guards against EDGAR_MAX_RPS=50 (or 11) exceeding the SEC's 10 requests in any second."""
    clock = FakeClock()
    times = _sends(_gate(tmp_path, clock), 120, configured)
    assert max_in_window(times) <= 10
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.1 - 1e-6


@pytest.mark.parametrize("configured", [0, -1, math.nan, None, "fast"])
def test_nonsense_rate_is_the_default_not_unlimited(tmp_path, configured):
    """Guards against EDGAR_MAX_RPS=0 turning the limiter off (18 requests/s seen before)."""
    assert effective_rps(configured) == 9.0
    clock = FakeClock()
    times = _sends(_gate(tmp_path, clock), 50, configured)
    assert max_in_window(times) <= 9


def test_two_processes_share_one_budget(tmp_path):
    """Guards against a per-process limiter: two gates on one data folder, interleaved, stay within 9/s together."""
    clock = FakeClock()
    a, b = _gate(tmp_path, clock), _gate(tmp_path, clock)
    times = []
    for _ in range(60):
        times.append(a.wait_turn(9))
        times.append(b.wait_turn(9))
    assert max_in_window(times) <= 9
    assert min(y - x for x, y in zip(times, times[1:], strict=False)) >= 1 / 9 - 1e-6


def test_sends_after_a_stall_are_spaced_not_burst(tmp_path):
    """Guards against spacing permissions instead of sends: two callers that wake late (a stall) must not send
    together; the second is spaced from the first's actual send."""
    clock = ManualClock()
    gate = _gate(tmp_path, clock)
    t0 = gate.wait_turn(9)
    sent: list[float] = []
    threads = [threading.Thread(target=lambda: sent.append(gate.wait_turn(9))) for _ in range(2)]
    for t in threads:
        t.start()
    clock.settle(2)  # both wait for the slot after t0
    clock.advance_to(t0 + 0.5)  # ... and wake late, together
    clock.settle(1)  # one sent at once, the other waits again
    assert sent == [t0 + 0.5]
    clock.advance_to(t0 + 0.5 + 1 / 9)
    for t in threads:
        t.join(10)
    assert sent == [t0 + 0.5, pytest.approx(t0 + 0.5 + 1 / 9, abs=1e-6)]


def test_a_pause_set_while_waiting_holds_the_waiting_caller(tmp_path):
    """Guards against threads already waiting at the gate ignoring a 429 pause set by another thread or process."""
    clock = FakeClock()
    other = _gate(tmp_path, clock)  # another process sharing the data folder
    blocked = []

    def sleep(seconds: float) -> None:
        if not blocked:  # the other process gets a 429 while this caller waits for its slot
            blocked.append(other.block(30))
        clock.sleep(seconds)

    gate = _gate(tmp_path, clock, sleep)
    t0 = gate.wait_turn(9)
    heard = []
    t1 = gate.wait_turn(9, on_pause=heard.append)
    assert t1 >= t0 + 30
    assert t1 < t0 + 30 + 1.0  # and it resumes as soon as the pause ends
    assert [p.until for p in heard] == [blocked[0].until]  # told once, with the time it resumes


def test_block_lengths_are_bounded_and_the_rate_halves_after(tmp_path):
    """Guards against a nonsense block length (nan, negative, a year) and against resuming at full speed into
    another block when someone else shares the budget."""
    clock = FakeClock()
    gate = _gate(tmp_path, clock)
    t0 = clock()
    assert gate.block(math.nan).until == t0 + DEFAULT_BLOCK_SECONDS
    clock.advance(DEFAULT_BLOCK_SECONDS + 1)
    t1 = clock()
    assert gate.block(-5).until == t1 + DEFAULT_BLOCK_SECONDS
    assert gate.block(1e12).until == t1 + MAX_BLOCK_SECONDS  # extends, capped at an hour
    clock.advance(MAX_BLOCK_SECONDS + 1)
    times = _sends(gate, 30, 9)
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 1 / 4.5 - 1e-6
    assert max_in_window(times) <= 4


def test_pause_is_visible_and_ends(tmp_path):
    """Guards against a page or CLI that cannot say until when requests are paused."""
    clock = FakeClock()
    gate = _gate(tmp_path, clock)
    assert gate.pause() is None
    p = gate.block(120)
    assert _gate(tmp_path, clock).pause() == p  # seen by every process
    clock.advance(121)
    assert gate.pause() is None


def test_garbage_or_future_state_is_not_trusted(tmp_path):
    """Guards against a corrupt gate file (or a clock set back) stopping every request for hours."""
    clock = FakeClock()
    path = tmp_path / "locks" / "edgar.gate"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff" * 300)
    gate = _gate(tmp_path, clock)
    assert gate.wait_turn(9) == clock()
    gate.block(600)
    clock.t -= 10 * 3600  # the clock went back ten hours
    fresh = _gate(tmp_path, clock)
    assert fresh.pause().until <= clock() + MAX_BLOCK_SECONDS


def test_cancel_ends_a_wait(tmp_path):
    """Guards against Ctrl-C hanging for the rest of a 10-minute block."""
    clock = FakeClock()
    naps: list[float] = []
    gate = _gate(tmp_path, clock, lambda s: (naps.append(s), clock.sleep(s)))
    gate.block(600)
    with pytest.raises(Cancelled):
        gate.wait_turn(9, cancelled=lambda: len(naps) >= 3)
    assert naps == [1.0, 1.0, 1.0]  # it naps at most a second at a time, so a cancel is seen quickly


def test_claim_lets_one_holder_fetch_a_filing(tmp_path):
    """Guards against two pulls into one folder fetching the same filing twice: the claim is exclusive."""
    order = []
    entered = threading.Event()

    def second():
        entered.wait(5)
        with claim(tmp_path, "0001-23-456789"):
            order.append("second")

    t = threading.Thread(target=second)
    t.start()
    with claim(tmp_path, "0001-23-456789"):
        entered.set()
        t.join(0.3)
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]


def test_the_sec_numbers_are_the_rules_numbers():
    """Guards against a changed constant quietly changing the rules the SEC sets or the docs promise: a block is
    ten minutes by default and never believed beyond an hour, the halved rate lasts an hour after a block, and
    fetch locks are spread over 256 stripe files."""
    from loaders import gate as g

    assert (g.DEFAULT_BLOCK_SECONDS, g.MAX_BLOCK_SECONDS, g.SLOW_FOR, g.STRIPES) == (
        600.0,
        3600.0,
        3600.0,
        256,
    )
    assert g.block_seconds(None) == 600.0 and g.block_seconds("soon") == 600.0
    assert g.block_seconds(math.inf) == 3600.0 and g.block_seconds(7200) == 3600.0


def test_a_fresh_record_holds_no_pause_and_no_slow_rate(tmp_path):
    """Guards against a new gate file starting with a pause or a slowed rate: a clock near zero (a test clock, or
    a host whose clock is unset) must send at once and at full speed."""
    from loaders.gate import _State

    fresh = _State.unpack(b"")
    assert (fresh.pause_until, fresh.pause_since, fresh.slow_rps, fresh.slow_until, fresh.sends) == (
        0.0,
        0.0,
        0.0,
        0.0,
        [],
    )
    clock = FakeClock(start=0.5)
    times = _sends(_gate(tmp_path, clock), 3, 9)
    assert times[0] == 0.5 and times[1] - times[0] == pytest.approx(1 / 9)


def test_full_speed_returns_when_the_slow_hour_ends(tmp_path):
    """Guards against the halved rate after a block lasting forever (the slow rate is kept in the record after
    its hour) or one send too long (at the very second the hour ends, the full rate applies)."""
    clock = FakeClock()
    gate = _gate(tmp_path, clock)
    p = gate.block(600)
    clock.t = p.until + 3600.0  # exactly when the slow hour ends
    times = _sends(gate, 30, 9)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] == pytest.approx(1 / 9)
    assert max(gaps) < 1 / 4.5 - 1e-3 and max_in_window(times) == 9


@pytest.mark.parametrize("case", ["nan pause", "too many sends"])
def test_a_record_that_cannot_be_right_is_read_as_fresh(tmp_path, case):
    """Guards against a gate file with our magic but impossible content (a NaN time, more sends than it can hold,
    e.g. a torn write) crashing every request or stalling it: it is read as a fresh record."""
    from loaders.gate import _FORMAT, _MAGIC, SENDS_KEPT

    clock = FakeClock()
    now = clock()
    sends = [
        now - 0.01 * i for i in range(SENDS_KEPT)
    ]  # ten sends just now: a real record would make us wait
    if case == "nan pause":
        raw = _FORMAT.pack(_MAGIC, SENDS_KEPT, math.nan, 0.0, 0.0, 0.0, *sends)
    else:
        raw = _FORMAT.pack(_MAGIC, SENDS_KEPT + 1, 0.0, 0.0, 0.0, 0.0, *sends)
    path = tmp_path / "locks" / "edgar.gate"
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    assert _gate(tmp_path, clock).wait_turn(9) == now  # sent at once: nothing of the bad record was believed


def test_the_gate_file_is_opened_once_per_gate(tmp_path):
    """Guards against a descriptor leak: every send reopening the gate file would exhaust the process's file
    descriptors over a long sync (tens of thousands of sends)."""
    clock = FakeClock()
    gate = _gate(tmp_path, clock)
    gate.wait_turn(9)
    first = gate._fd
    _sends(gate, 5, 9)
    gate.pause()
    assert first is not None and gate._fd == first


def test_each_block_in_the_slow_hour_halves_again_down_to_a_floor(tmp_path):
    """Guards against a second 429 during the slow hour resuming at the first halved rate (someone else still
    uses the budget), against an answer to requests already in flight halving again, and against the rate halving
    to nothing: 9/s -> 4.5 -> 2.25 -> ... never under 0.5/s; a block after the slow hour starts again at 4.5/s."""
    from loaders.gate import _State

    clock = FakeClock()
    gate = _gate(tmp_path, clock)

    def slow_rps() -> float:
        return _State.unpack((tmp_path / "locks" / "edgar.gate").read_bytes()).slow_rps

    first = gate.block(600)
    gate.block(600)  # another 429 to a request already in flight: the same block, not a new halving
    assert slow_rps() == 4.5
    clock.t = first.until + 10  # in the slow hour
    gate.block(600)
    assert slow_rps() == 2.25
    for _ in range(6):
        clock.t = gate.pause().until + 10
        gate.block(600)
    assert slow_rps() == 0.5
    clock.t = gate.block(600).until + 3600 + 10  # the slow hour is over
    gate.block(600)
    assert slow_rps() == 4.5
