"""Clocks for timing logic under test: no wall-clock sleeps, the same answer on a loaded machine."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """Time that moves only when someone sleeps: sleep(d) advances it by d at once (thread-safe)."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.t = start
        self.lock = threading.Lock()
        self.slept: list[float] = []

    def __call__(self) -> float:
        with self.lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.t += seconds


class ManualClock:
    """Time that moves only when the test says so; sleepers wait until their wake time has come.

    `settle(n)` waits (in real time, briefly) until n threads are asleep, so a test can interleave threads in a
    fixed order: advance, settle, read what happened."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.t = start
        self.cond = threading.Condition()
        self.sleepers: dict[int, float] = {}  # thread id -> wake time

    def __call__(self) -> float:
        with self.cond:
            return self.t

    def sleep(self, seconds: float) -> None:
        me = threading.get_ident()
        with self.cond:
            wake = self.t + max(0.0, seconds)
            self.sleepers[me] = wake
            self.cond.notify_all()
            while self.t < wake:
                self.cond.wait()
            del self.sleepers[me]
            self.cond.notify_all()

    def advance_to(self, t: float) -> None:
        with self.cond:
            self.t = max(self.t, t)
            self.cond.notify_all()

    def settle(self, asleep: int, timeout: float = 10.0) -> None:
        """Wait until exactly `asleep` threads sleep with a wake time still ahead (the others finished)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (len(self.sleepers) == asleep and all(w > self.t for w in self.sleepers.values())):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.sleepers)} threads asleep, expected {asleep}")
                self.cond.wait(left)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most sends in any half-open window (t - window, t], as EDGAR (and fake EDGAR) count them."""
    times = sorted(times)
    return max((sum(1 for u in times if t - window < u <= t) for t in times), default=0)
