"""One gate for every request to EDGAR, shared by every thread and every process that uses one data folder.

The SEC allows 10 requests per second per user (any 1-second window, all machines together) and answers more with
429 or a 403 "Request Rate Threshold Exceeded" page, then refuses everything for about 10 minutes, longer if
requests continue. So:

- Every send passes `Gate.wait_turn()`, which returns when the caller may send *now* and records that moment in
  the shared record before returning. The record holds the times of actual sends, not reservations: a thread that
  stalls after being let through cannot release a burst later, and the next caller is spaced from the real send.
- A caller may send when (1) no pause is in force, (2) at least 1/rps seconds passed since the last send of anyone,
  and (3) fewer than floor(rps) sends happened in the last WINDOW seconds (a little over 1 s, so jitter between
  here and the server does not put 11 sends into one of its windows).
- The rate is clamped to HARD_MAX_RPS (10) whatever the configuration says; a rate that is not a positive number
  (0, -1, nan) gives DEFAULT_RPS (9), never "no limit".
- `block(seconds)` (after a 429) pauses every caller of every process until then, and halves the rate for an hour
  after the pause (someone else is using the same budget). A waiting caller naps at most NAP seconds at a time
  and re-reads the record, so a pause set while it waits holds it too.

The shared record is a 256-byte file `{data_dir}/locks/edgar.gate`, read and written under an exclusive flock (plus
a thread lock, since flock does not separate threads sharing one file descriptor). Times are wall-clock seconds
(`time.time`), the only clock all processes share and the one a user can be told ("resumes at 14:32"); values
in the future beyond plausibility (the clock went back) are dropped. Without a writable data folder the gate
falls back to in-process state. `clock` and `sleep` are injectable so the logic is tested without waiting.

A library bucket (pyrate-limiter's SQLite bucket with a file lock) would cover (2)-(3) across processes but not
the shared pause or the halved rate, which must be decided under the same lock as the send.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import Cancelled

HARD_MAX_RPS = 10.0
DEFAULT_RPS = 9.0
DEFAULT_BLOCK_SECONDS = 600.0
MAX_BLOCK_SECONDS = (
    3600.0  # a longer pause is a bad header or a bad setting, not the SEC (which blocks ~10 min)
)
WINDOW = 1.05  # seconds: at most floor(rps) sends in any window this long (jitter margin to the server)
SLOW_FOR = 3600.0  # after a block, the halved rate lasts this long past the end of the pause
NAP = 1.0  # longest single sleep: waiting callers re-check the shared record at least this often
SENDS_KEPT = 10
EPSILON = 1e-6  # seconds: wall-clock floats near 1.7e9 carry ~0.2 us; a microsecond early is not early
_MAGIC = b"EDGRGATE"
_FORMAT = struct.Struct(
    f"<8sI4d{SENDS_KEPT}d"
)  # magic, n sends, pause_until, pause_since, slow_rps, slow_until


def effective_rps(rps: float | None) -> float:
    """The rate the gate uses for a configured one: at most 10/s; 9/s when it is not a positive number."""
    try:
        value = float(rps) if rps is not None else DEFAULT_RPS
    except (TypeError, ValueError):
        return DEFAULT_RPS
    if not math.isfinite(value) or value <= 0:
        return DEFAULT_RPS if not (math.isinf(value) and value > 0) else HARD_MAX_RPS
    return min(value, HARD_MAX_RPS)


def block_seconds(value: float | None) -> float:
    """A usable block length: DEFAULT_BLOCK_SECONDS for nonsense, capped at MAX_BLOCK_SECONDS."""
    try:
        v = float(value) if value is not None else DEFAULT_BLOCK_SECONDS
    except (TypeError, ValueError):
        return DEFAULT_BLOCK_SECONDS
    if not math.isfinite(v) or v <= 0:
        return DEFAULT_BLOCK_SECONDS if not (math.isinf(v) and v > 0) else MAX_BLOCK_SECONDS
    return min(v, MAX_BLOCK_SECONDS)


@dataclass
class _State:
    pause_until: float = 0.0
    pause_since: float = 0.0
    slow_rps: float = 0.0
    slow_until: float = 0.0
    sends: list[float] = field(default_factory=list)

    def pack(self) -> bytes:
        sends = self.sends[-SENDS_KEPT:]
        padded = sends + [0.0] * (SENDS_KEPT - len(sends))
        return _FORMAT.pack(
            _MAGIC, len(sends), self.pause_until, self.pause_since, self.slow_rps, self.slow_until, *padded
        )

    @classmethod
    def unpack(cls, raw: bytes) -> _State:
        if len(raw) < _FORMAT.size:
            return cls()
        magic, n, pause_until, pause_since, slow_rps, slow_until, *sends = _FORMAT.unpack(raw[: _FORMAT.size])
        if magic != _MAGIC or n > SENDS_KEPT:
            return cls()
        values = [pause_until, pause_since, slow_rps, slow_until, *sends[:n]]
        if not all(math.isfinite(v) for v in values):
            return cls()
        return cls(pause_until, pause_since, slow_rps, slow_until, list(sends[:n]))

    def sane(self, now: float) -> _State:
        """Drop what the clock cannot have produced (sends in the future, pauses beyond the cap)."""
        self.sends = [t for t in self.sends if t <= now + 1.0]
        if self.pause_until > now + MAX_BLOCK_SECONDS:
            self.pause_until = now + MAX_BLOCK_SECONDS
        if self.slow_until > now + MAX_BLOCK_SECONDS + SLOW_FOR:
            self.slow_until = now + MAX_BLOCK_SECONDS + SLOW_FOR
        return self


@dataclass(frozen=True)
class Pause:
    """A pause in force: every send waits until `until` (clock seconds); `since` is when it began."""

    until: float
    since: float


class Gate:
    """Spacing and pauses for every send to EDGAR from one data folder (see the module docstring)."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.clock = clock
        self.sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._memory = _State()  # used when the file cannot be opened

    # ------------------------------------------------------------------ the shared record
    def _open(self) -> int | None:
        if self._fd is None and self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self.path = None  # read-only or missing folder: in-process state from now on
        return self._fd

    @contextlib.contextmanager
    def _locked(self) -> Iterator[_State]:
        """The shared state, locked across threads and processes; written back when the block exits."""
        with self._lock:
            fd = self._open()
            if fd is None:
                yield self._memory.sane(self.clock())
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                state = _State.unpack(os.pread(fd, _FORMAT.size, 0)).sane(self.clock())
                yield state
                os.pwrite(fd, state.pack(), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ public
    def wait_turn(
        self,
        rps: float,
        on_pause: Callable[[Pause], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> float:
        """Block until this caller may send, record the send, and return its time.

        `on_pause(pause)` is called once per pause this caller waits through; when `cancelled()` turns true the
        wait ends with Cancelled (checked at least every NAP seconds)."""
        announced = None
        while True:
            if cancelled is not None and cancelled():
                raise Cancelled()
            with self._locked() as state:
                now = self.clock()
                delay, pause = _delay(state, now, rps)
                if delay <= EPSILON:
                    state.sends = [*state.sends[-(SENDS_KEPT - 1) :], now]
                    return now
            if pause is not None and on_pause is not None and pause.until != announced:
                announced = pause.until
                on_pause(pause)
            self.sleep(min(delay, NAP))

    def block(self, seconds: float) -> Pause:
        """Pause every caller for `seconds` from now (never shortening a pause in force); halve the rate after."""
        seconds = block_seconds(seconds)
        with self._locked() as state:
            now = self.clock()
            if state.pause_until <= now:  # a new block (not another answer to requests already in flight)
                state.pause_since = now
                current = state.slow_rps if state.slow_until > now and state.slow_rps > 0 else DEFAULT_RPS
                state.slow_rps = max(0.5, min(current, DEFAULT_RPS) / 2)
            state.pause_until = max(state.pause_until, now + seconds)
            state.slow_until = state.pause_until + SLOW_FOR
            return Pause(state.pause_until, state.pause_since)

    def pause(self) -> Pause | None:
        """The pause in force, if any (for pages and progress lines)."""
        with self._locked() as state:
            now = self.clock()
            return Pause(state.pause_until, state.pause_since) if state.pause_until > now else None

    def close(self) -> None:
        """Release the file (the gate reopens it if used again)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _delay(state: _State, now: float, rps: float) -> tuple[float, Pause | None]:
    """Seconds until a send is allowed at `now` (<= 0: allowed), and the pause causing the wait, if any."""
    if state.pause_until > now:
        return state.pause_until - now, Pause(state.pause_until, state.pause_since)
    rate = effective_rps(rps)
    if state.slow_until > now and state.slow_rps > 0:
        rate = min(rate, state.slow_rps)
    wait = 0.0
    if state.sends:
        wait = state.sends[-1] + 1.0 / rate - now
    burst = max(1, int(rate))
    recent = [t for t in state.sends if t > now - WINDOW]
    if len(recent) >= burst:
        wait = max(wait, recent[-burst] + WINDOW - now)
    return wait, None


_GATES: dict[Path, Gate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(data_dir: Path | str) -> Gate:
    """The process's one gate for a data folder (every client of that folder shares it)."""
    path = (Path(data_dir) / "locks" / "edgar.gate").resolve()
    with _GATES_LOCK:
        gate = _GATES.get(path)
        if gate is None:
            gate = _GATES[path] = Gate(path)
        return gate


STRIPES = 256


@contextlib.contextmanager
def claim(data_dir: Path | str, key: str, cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
    """Hold the fetch lock of `key` (one of STRIPES lock files under {data_dir}/locks) across processes, so two
    pulls of the same filing into one data folder fetch it once: the second waits, then finds it cached."""
    stripe = zlib.crc32(key.encode()) % STRIPES
    path = Path(data_dir) / "locks" / f"fetch-{stripe:03d}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield  # no writable data folder: nothing to share it with
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if cancelled is not None and cancelled():
                    raise Cancelled() from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock
