"""One pure function over several shares of a job at once: the first share in this process, each other share in a
forked child at the same time. The children hand their Arrow tables back through Arrow IPC files that this
process memory-maps (no copy, no pickling). PURE for its callers: same arguments, same tables as running the
shares one after the other here.

Why fork: the shares are Arrow tables already in memory. A forked child sees them without a copy and starts in a
few milliseconds; a fresh interpreter would import pandas and pyarrow and receive the tables through a pipe,
which cost more than the second core saved (measured on a real-size data-set quarter).

What keeps it safe:
- a child runs only the function and writes its files, then leaves through os._exit: it never returns into the
  caller's code, runs no exit handler and flushes no buffer it inherited;
- Ctrl-C and SIGTERM are held back across fork() until the child has restored their default actions: an interrupt
  ends a child outright, never raising KeyboardInterrupt into the caller's code there; the child writes nothing to
  the terminal (its stdout and stderr go to /dev/null);
- a child's tables count only when its index file (written last, renamed into place) is there; otherwise, or when a
  child outlives its patience (3x the time of this process's own share, at least 30 s), the child is killed and its
  share is done here, so
  a failing child costs time, never rows (and an error in the function surfaces from this process);
- an error or interrupt here kills and reaps every child and removes their files; files left by a process that
  died without cleaning up are removed by the next call;
- forking is used on Linux only: macOS's system libraries are not safe to use in a forked child (Python itself
  stopped forking there by default) and Windows has no fork; elsewhere every share runs here, one after another.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

PREFIX = "insider-dashboard-share-"
# a child is given up once it has run, after this process finished its own share, PATIENCE seconds or SLOWER times
# as long as that share took, whichever is longer (a hung child then costs about one share's time, not a sync's)
PATIENCE = 30.0
SLOWER = 3.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def available() -> bool:
    """True where shares run in forked children (Linux)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def folder() -> Path:
    """Where children write their tables: /dev/shm (memory) when it has room for a real-size quarter, else the
    temporary directory."""
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 1 << 30:
            return shm
    return Path(tempfile.gettempdir())


def shares(
    fn: Callable[..., dict[str, pa.Table]],
    args: Sequence[tuple],
    *,
    where: Path | None = None,
    patience: float = PATIENCE,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, pa.Table]:
    """fn(*args[0]) here and fn(*a) for every other share in a forked child, at the same time; the results (dicts
    of Arrow tables, the same names and schemas in every share) put together in share order."""
    if len(args) <= 1 or not available():
        return _concat([fn(*a) for a in args])
    where = where or folder()
    _sweep(where)
    kids: list[tuple[int, Path]] = []  # (pid, file prefix) of each child started
    reaped: set[int] = set()
    _freeze()
    try:
        for a in args[1:]:
            prefix = where / f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
            pid = _fork()
            if pid is None:  # no process to be had: the rest is done here
                break
            if pid == 0:
                _child(fn, a, prefix)  # never returns
            kids.append((pid, prefix))
        start = clock()
        results = [fn(*args[0])]
        took = clock() - start
        deadline = start + took + max(patience, SLOWER * took)
        for i, a in enumerate(args[1:]):
            got = _collect(*kids[i], deadline, clock, reaped) if i < len(kids) else None
            results.append(got if got is not None else fn(*a))
        return _concat(results)
    finally:
        _thaw()
        for pid, prefix in kids:
            if pid not in reaped:
                _end(pid)
            _remove(prefix)


# the objects made before the shares are left out of garbage collection until the children are done: a collection
# walks every object it tracks and writes to it, and each page so written is copied (fork shares pages until either
# process writes to one). gc.freeze and gc.unfreeze act on the whole process and do not nest, so the calls under way
# (nested, or in other threads) are counted, the last one thaws, and a freeze the caller made is left alone.
_GC = threading.Lock()
_gc_calls = 0  # shares() calls under way
_gc_ours = False  # the freeze is theirs to undo (nothing was frozen when the first of them began)


def _freeze() -> None:
    global _gc_calls, _gc_ours
    with _GC:
        if _gc_calls == 0:
            _gc_ours = gc.get_freeze_count() == 0
        if _gc_ours:
            gc.freeze()
        _gc_calls += 1


def _thaw() -> None:
    global _gc_calls
    with _GC:
        _gc_calls -= 1
        if _gc_calls == 0 and _gc_ours:
            gc.unfreeze()


def _fork() -> int | None:
    """os.fork() with Ctrl-C and SIGTERM held back until the child has put back their default actions (so that an
    interrupt can never raise KeyboardInterrupt in the child and run the caller's code there); None when no
    process can be had."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return None
    if pid == 0:
        try:
            # an interrupt just ends the child; the parent redoes its share if it goes on
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        except BaseException:  # noqa: BLE001 - never return into the caller's code
            os._exit(1)
        return 0
    signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return pid


def _child(fn: Callable[..., dict[str, pa.Table]], a: tuple, prefix: Path) -> None:
    code = 1
    try:
        # what the child would print (a warning) goes nowhere: it must not repeat or interleave the parent's output
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - open until os._exit
        tables = fn(*a)
        names = list(tables)
        for i, name in enumerate(names):
            with (
                pa.OSFile(str(prefix) + f".{i}.arrow", "wb") as sink,
                ipc.new_file(sink, tables[name].schema) as w,
            ):
                w.write_table(tables[name])
        part = Path(str(prefix) + ".json.part")
        part.write_text(json.dumps(names))
        os.replace(part, str(prefix) + ".json")
        code = 0
    except BaseException:  # noqa: BLE001 - whatever happens, the share is redone by the parent
        pass
    finally:
        os._exit(code)


def _collect(
    pid: int, prefix: Path, deadline: float, clock: Callable[[], float], reaped: set[int]
) -> dict[str, pa.Table] | None:
    """The child's tables once it has exited 0 with its index written; None when it failed or ran past the
    deadline (it is then killed). Either way the child is reaped (added to `reaped`)."""
    while True:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            reaped.add(pid)
            break
        if clock() > deadline:
            _end(pid)
            reaped.add(pid)
            return None
        time.sleep(0.002)
    index = Path(str(prefix) + ".json")
    if not index.exists():  # written last: the child failed before the end
        return None
    try:
        names = json.loads(index.read_text())
        return {
            n: ipc.open_file(pa.memory_map(str(prefix) + f".{i}.arrow")).read_all()
            for i, n in enumerate(names)
        }
    except (OSError, ValueError, pa.ArrowException):
        return None


def _end(pid: int) -> None:
    """Kill the child if it still runs, and reap it."""
    with contextlib.suppress(ChildProcessError, ProcessLookupError):
        if os.waitpid(pid, os.WNOHANG)[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _remove(prefix: Path) -> None:
    """Remove a child's files (a memory-mapped table stays readable: the mapping keeps its pages)."""
    for path in prefix.parent.glob(prefix.name + ".*"):
        path.unlink(missing_ok=True)


def _sweep(where: Path) -> None:
    """Remove the files of processes that died without removing them."""
    for path in where.glob(PREFIX + "*"):
        pid = path.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):  # another user's file (a shared /dev/shm): not ours to remove
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _concat(results: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    return {name: pa.concat_tables([r[name] for r in results]) for name in results[0]}
