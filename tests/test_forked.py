"""loaders/forked.py: a job's shares run in forked children at once, and whatever a child does (fail, hang, be
killed), the caller gets every share's rows exactly once, in share order, and no file or process is left behind."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from loaders import forked

pytestmark = pytest.mark.skipif(not forked.available(), reason="shares are forked on Linux only")


def _work(lo: int, hi: int, marks: str = "", parent: int = 0, trace: str = "") -> dict[str, pa.Table]:
    """Two tables of the share [lo, hi), with the pid of the process that made them. `marks` says what a child
    (a process other than `parent`) or the parent does: 'child-fails', 'child-hangs', 'child-talks' (writes
    to stdout and stderr), 'parent-fails'; a child writes its pid to the file `trace` first. Each row also says
    whether Ctrl-C had its default action (end the process) where it was made."""
    child = os.getpid() != parent
    if child and trace:
        Path(trace).write_text(str(os.getpid()))
    if child and "child-fails" in marks:
        raise RuntimeError("a child's error")
    if child and "child-hangs" in marks:
        time.sleep(3600)
    if not child and "parent-fails" in marks:
        raise RuntimeError("the parent's error")
    if child and "child-talks" in marks:
        print("a child's warning", file=sys.stderr, flush=True)
        os.write(1, b"a child's output\n")
    n = hi - lo
    default_int = signal.getsignal(signal.SIGINT) == signal.SIG_DFL
    return {
        "rows": pa.table(
            {
                "i": pa.array(range(lo, hi), pa.int64()),
                "pid": pa.array([os.getpid()] * n, pa.int64()),
                "sigint_default": pa.array([default_int] * n, pa.bool_()),
            }
        ),
        "text": pa.table({"s": pa.array([f"row {i}" for i in range(lo, hi)], pa.string())}),
    }


def _gone(pid: int) -> bool:
    """The process no longer exists (killed and reaped, not a zombie)."""
    return not Path(f"/proc/{pid}").exists() if Path("/proc").is_dir() else not forked._alive(pid)


def test_shares_run_in_other_processes_and_come_back_whole_and_in_order(tmp_path):
    """Guards against a share lost, doubled or out of order when the tables come back from the children, and
    against every share quietly running in this process (no second core used)."""
    me = os.getpid()
    args = [(0, 5, "", me), (5, 12, "", me), (12, 20, "", me)]
    got = forked.shares(_work, args, where=tmp_path)
    assert got["rows"].column("i").to_pylist() == list(range(20))
    assert got["text"].column("s").to_pylist() == [f"row {i}" for i in range(20)]
    pids = got["rows"].column("pid").to_pylist()
    assert set(pids[:5]) == {me} and me not in pids[5:] and len(set(pids[5:12]) | set(pids[12:])) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_failing_child_costs_time_not_rows(tmp_path):
    """Guards against a child's crash losing its share (or the whole quarter): the share is redone here."""
    me = os.getpid()
    got = forked.shares(_work, [(0, 3, "child-fails", me), (3, 7, "child-fails", me)], where=tmp_path)
    assert got["rows"].column("i").to_pylist() == list(range(7))
    assert set(got["rows"].column("pid").to_pylist()) == {me}
    assert list(tmp_path.iterdir()) == []


def test_a_child_that_hangs_is_killed_after_patience_and_its_share_done_here(tmp_path):
    """Guards against a hung child (a lock it inherited mid-use) hanging the sync forever: once `patience` has
    passed (on an injected clock) the child is killed, reaped, and its share done here."""
    me = os.getpid()
    trace = tmp_path / "child.pid"
    work = tmp_path / "work"
    work.mkdir()
    clock = itertools.count(0, 10).__next__  # 0, 10, 20 ...: past a patience of 15 at the second look
    got = forked.shares(
        _work, [(0, 2, "", me), (2, 4, "child-hangs", me, str(trace))], where=work, patience=15, clock=clock
    )
    assert got["rows"].column("i").to_pylist() == [0, 1, 2, 3]
    assert set(got["rows"].column("pid").to_pylist()) == {me}
    assert trace.exists() and _gone(int(trace.read_text()))
    assert list(work.iterdir()) == []


def test_an_error_here_kills_the_children_and_removes_their_files(tmp_path, monkeypatch):
    """Guards against children and their files outliving an error (or Ctrl-C) in this process, and against this
    process waiting for a child that will not finish."""
    me = os.getpid()
    pids: list[int] = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: (pid := real_fork()) and (pids.append(pid) or pid))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="the parent's error"):
        forked.shares(_work, [(0, 2, "parent-fails", me), (2, 4, "child-hangs", me)], where=tmp_path)
    assert time.monotonic() - start < 30
    assert len(pids) == 1 and _gone(pids[0])
    assert list(tmp_path.iterdir()) == []


def test_files_of_dead_processes_are_swept_and_live_ones_kept(tmp_path):
    """Guards against /dev/shm filling up with the tables of processes killed before they cleaned up, and
    against removing the files of a sync that is still running."""
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f"{forked.PREFIX}{dead}-abc.0.arrow"
    live = tmp_path / f"{forked.PREFIX}{os.getpid()}-def.0.arrow"
    other = tmp_path / "someone-elses.arrow"
    for f in (stale, live, other):
        f.write_bytes(b"x")
    got = forked.shares(_work, [(0, 1, "", os.getpid()), (1, 2, "", os.getpid())], where=tmp_path)
    assert got["rows"].num_rows == 2
    assert not stale.exists() and live.exists() and other.exists()


@pytest.mark.parametrize("system", ["win32", "darwin"])
def test_without_a_safe_fork_every_share_runs_here(tmp_path, monkeypatch, system):
    """Guards against a crash on Windows (no os.fork) and against forking on macOS, whose system libraries are not
    safe in a forked child: the shares run one after another here."""
    monkeypatch.setattr(sys, "platform", system)
    if system == "win32":
        monkeypatch.delattr(os, "fork")
    me = os.getpid()
    got = forked.shares(_work, [(0, 2, "", me), (2, 3, "", me)], where=tmp_path)
    assert got["rows"].column("i").to_pylist() == [0, 1, 2]
    assert set(got["rows"].column("pid").to_pylist()) == {me}


def test_in_a_child_ctrl_c_ends_it_instead_of_raising_into_the_callers_code(tmp_path):
    """Guards against Ctrl-C raising KeyboardInterrupt inside a child, whose unwinding would run the caller's code
    (the sync's interrupt handling, exit handlers) a second time in another process: a child takes the default
    action (it ends), while this process keeps its own handler."""
    me = os.getpid()
    got = forked.shares(_work, [(0, 1, "", me), (1, 2, "", me)], where=tmp_path)
    assert got["rows"].column("sigint_default").to_pylist() == [False, True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_child_prints_nothing(tmp_path, capfd):
    """Guards against a child's warnings (or buffered output it inherited) landing in the sync's terminal output."""
    me = os.getpid()
    got = forked.shares(_work, [(0, 1, "", me), (1, 2, "child-talks", me)], where=tmp_path)
    assert got["rows"].num_rows == 2 and me not in got["rows"].column("pid").to_pylist()[1:]
    out, err = capfd.readouterr()
    assert "a child's" not in out + err


def test_a_stale_file_that_cannot_be_removed_does_not_stop_the_job(tmp_path, monkeypatch):
    """Guards against another user's left-over file in a shared /dev/shm (not ours to remove) failing the sync."""
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f"{forked.PREFIX}{dead}-abc.0.arrow"
    stale.write_bytes(b"x")
    real = Path.unlink

    def unlink(self, missing_ok=False):
        if self == stale:
            raise PermissionError(13, "Operation not permitted", str(self))
        return real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    got = forked.shares(_work, [(0, 1, "", os.getpid()), (1, 2, "", os.getpid())], where=tmp_path)
    assert got["rows"].column("i").to_pylist() == [0, 1] and stale.exists()


def _frozen(lo: int, hi: int, parent: int = 0, where: str = "") -> dict[str, pa.Table]:
    """How many objects are out of garbage collection where the share runs; with `where`, this process's share
    first runs shares of its own (in `where`) and counts after they are done."""
    import gc

    if where and os.getpid() == parent:
        forked.shares(_frozen, [(0, 1), (1, 2)], where=Path(where))
    return {"frozen": pa.table({"n": pa.array([gc.get_freeze_count()] * (hi - lo), pa.int64())})}


def test_objects_are_out_of_garbage_collection_only_while_the_shares_run(tmp_path):
    """Guards against collections during the shares walking (and so copying) every page shared with the children
    (the objects made before the fork are frozen there), and against those objects staying frozen (their cycles
    never freed) after the shares or after an error in this process's share."""
    import gc

    before = gc.get_freeze_count()
    got = forked.shares(_frozen, [(0, 2), (2, 4)], where=tmp_path)["frozen"].column("n").to_pylist()
    assert len(got) == 4 and min(got) > before + 1000
    assert gc.get_freeze_count() == before
    with pytest.raises(RuntimeError, match="the parent's error"):
        forked.shares(_work, [(0, 4, "parent-fails", os.getpid()), (4, 8, "", os.getpid())], where=tmp_path)
    assert gc.get_freeze_count() == before


def test_shares_within_shares_leave_the_outer_freeze_and_the_callers_own(tmp_path):
    """Guards against gc.unfreeze (process-wide, not nested) thawing what it did not freeze: shares run inside a
    share must leave the outer call's freeze in place until the outer call ends, and a freeze the caller made
    itself must survive the shares."""
    import gc

    assert gc.get_freeze_count() == 0
    inner = tmp_path / "inner"
    inner.mkdir()
    args = [(0, 1, os.getpid(), str(inner)), (1, 2, os.getpid(), "")]
    got = forked.shares(_frozen, args, where=tmp_path)["frozen"].column("n").to_pylist()
    assert got[0] > 1000  # counted here after the inner shares had ended: the outer freeze still holds
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        forked.shares(_frozen, [(0, 1), (1, 2)], where=tmp_path)
        assert gc.get_freeze_count() >= mine > 1000
    finally:
        gc.unfreeze()
