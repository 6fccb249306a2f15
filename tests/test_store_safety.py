"""Store safety (issue 6): compaction beside writers, killed writers, a full disk, byte-bounded batches, quotes in
the data folder's path, and one copy per filing when the XML and a data set both hold it."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from loaders.frames import load
from loaders.parser import parse_ownership
from loaders.store import Store, StoreFull
from tests.conftest import CORPUS, need_corpus
from tests.fixtures.builder import fixture_filings


def _corpus_sample(n: int) -> list[Path]:
    need_corpus()
    return sorted((CORPUS / "form4").glob("*-23-*.xml"))[:n]


def _ingest_many(root: str, folders: list[str]) -> None:
    from loaders.ingest import ingest_dir

    for folder in folders:
        report = ingest_dir(folder, Store(root))
        assert not report.failed


def _compactor(root: str, stop_file: str) -> None:
    store = Store(root)
    while not os.path.exists(stop_file):
        store.compact()
        time.sleep(0.02)
    store.compact()


def test_compact_beside_40_ingests_loses_nothing(tmp_path):
    """Guards against the issue-6 loss: owner rows of hundreds of filings vanished when compact ran beside writers."""
    files = _corpus_sample(400)
    folders = []
    for i in range(40):
        folder = tmp_path / "in" / f"{i:02d}"
        folder.mkdir(parents=True)
        for f in files[i * 10 : (i + 1) * 10]:
            shutil.copy(f, folder / f.name)
        folders.append(str(folder))
    want_tx = want_owners = 0
    for f in files:
        parsed = parse_ownership(f.read_bytes(), f.stem)
        want_tx += len(parsed.transactions)
        want_owners += len(parsed.owners)
    root = str(tmp_path / "data")
    ctx = mp.get_context("spawn")
    stop = str(tmp_path / "stop")
    compactor = ctx.Process(target=_compactor, args=(root, stop))
    writers = [ctx.Process(target=_ingest_many, args=(root, folders[i::4])) for i in range(4)]
    compactor.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(300)
        assert w.exitcode == 0
    Path(stop).touch()
    compactor.join(120)
    assert compactor.exitcode == 0
    store = Store(root)
    counts = store.query_many(
        [
            "SELECT count(*) AS n, count(DISTINCT accession) AS d FROM filings",
            "SELECT count(*) AS n FROM owners",
            "SELECT count(*) AS n, count(DISTINCT row_id) AS d FROM transactions",
        ]
    )
    assert (counts[0]["n"].iloc[0], counts[0]["d"].iloc[0]) == (400, 400)
    assert counts[1]["n"].iloc[0] == want_owners
    assert (counts[2]["n"].iloc[0], counts[2]["d"].iloc[0]) == (want_tx, want_tx)
    assert store.stats()["parts"] <= 5 * 3  # compacted: a few parts per table, not one per ingest


def _die_at(root: str, where: str) -> None:
    import loaders.store as st

    def die(*a, **k):
        os._exit(3)

    if where == "rename":
        st.os.replace = die  # killed after staging its parts, before renaming them into place
    else:
        st.Store._write_manifest = die  # killed after the renames, before the manifest lists them
    parsed = [parse_ownership(x, a, d) for a, d, x in fixture_filings()[10:]]
    Store(root).write(parsed)


@pytest.mark.parametrize("where", ["rename", "manifest"])
def test_killed_writer_leaves_nothing_after_next_open(tmp_path, where):
    """Guards against orphaned parts or temp files of a killed writer piling up or becoming visible."""
    root = tmp_path / "data"
    store = Store(root)
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()[:10]])
    proc = mp.get_context("spawn").Process(target=_die_at, args=(str(root), where))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    leftovers = [
        p for p in (root / "store").rglob("*") if p.is_file() and p.name.startswith((".tmp-", "part-"))
    ]
    listed = {p["path"] for t in store.manifest()["parts"].values() for p in t}
    stray = [p for p in leftovers if p.relative_to(root / "store").as_posix() not in listed]
    assert stray  # the kill really left something behind
    assert int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0]) == 10  # never visible
    Store(root).open()
    files = [p for p in (root / "store").rglob("*") if p.is_file() and p.name.startswith((".tmp-", "part-"))]
    assert all(p.relative_to(root / "store").as_posix() in listed for p in files)
    again = Store(root)
    assert again.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()[10:]]) == 9
    assert int(again.query("SELECT count(*) AS n FROM filings")["n"].iloc[0]) == 19


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs: a real full disk (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or 'not root'})")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_is_a_named_error_and_leaves_the_store_as_it_was(small_disk):
    """Guards against an OSError traceback and orphans when the disk fills up mid-write."""
    store = Store(small_disk / "data")
    filings = [parse_ownership(x, a, d) for a, d, x in fixture_filings()]
    store.write(filings[:5])
    before = store.manifest()
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    with pytest.raises(StoreFull, match="full"):
        store.write(filings[5:])
    assert store.manifest() == before
    assert not [p for p in (small_disk / "data").rglob(".tmp-*")]
    filler.unlink()
    assert int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0]) == 5
    assert store.write(filings[5:]) == 14


def test_ingest_batches_are_bounded_by_bytes(tmp_path, monkeypatch):
    """Guards against a batch of a few huge filings holding gigabytes (batches were counted in files only)."""
    import loaders.ingest as ingest

    src = tmp_path / "xml"
    src.mkdir()
    for acc, _day, xml in fixture_filings():
        (src / f"{acc}.xml").write_bytes(xml)
    small = Store(tmp_path / "default")
    assert ingest.ingest_dir(src, small).new == 19 and small.version() == 1  # 19 small files: one commit
    monkeypatch.setattr(ingest, "BATCH_BYTES", 1)  # every file is over the byte budget on its own
    store = Store(tmp_path / "data")
    assert ingest.ingest_dir(src, store).new == 19
    assert store.version() == 19  # one commit per file although the file count limit (2,000) was far away


def test_data_dir_with_a_quote_works(tmp_path):
    """Guards against paths spliced into SQL: a data folder named it's broke every query."""
    store = Store(tmp_path / "it's" / "d'ata")
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()])
    assert len(load(store).filings) == 19 and store.compact() >= 0


def test_xml_wins_over_the_data_set_copy_and_compaction_drops_it(tmp_path):
    """Guards against a filing counted twice when a data set and its XML both hold it, or the data set winning."""
    from loaders.datasets import read_quarter
    from tests.test_datasets import _tiny_zip

    sub = [
        "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDATE_OF_ORIG_SUB\tNO_SECURITIES_OWNED\tNOT_SUBJECT_SEC16\t"
        "FORM3_HOLDINGS_REPORTED\tFORM4_TRANS_REPORTED\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL\t"
        "REMARKS",
        *(
            f"0000000001-23-00000{i}\t05-MAY-2023\t03-MAY-2023\t\t\t0\t\t\t4\t42\tWiley\tWLY\t"
            for i in (1, 2, 3)
        ),
    ]
    store = Store(tmp_path)
    store.write_quarter("2023q2", read_quarter(_tiny_zip(sub)).frames, {"sha256": "x"})
    xml = parse_ownership(fixture_filings()[0][2], "0000000001-23-000002", "2023-05-05")
    assert store.write([xml]) == 1
    f = store.query("SELECT accession, source FROM filings ORDER BY accession")
    assert list(f["accession"]).count("0000000001-23-000002") == 1
    assert f.set_index("accession").loc["0000000001-23-000002", "source"] == "xml"
    assert store.manifest()["shadow"]
    store.compact()
    assert not store.manifest()["shadow"]
    again = store.query("SELECT source, count(*) AS n FROM filings GROUP BY 1 ORDER BY 1")
    assert dict(zip(again["source"], again["n"], strict=True)) == {"dataset": 2, "xml": 1}
    # and a data set loaded after the XML leaves it alone
    store.write_quarter("2023q2", read_quarter(_tiny_zip(sub)).frames, {"sha256": "y"})
    again = store.query("SELECT source, count(*) AS n FROM filings GROUP BY 1 ORDER BY 1")
    assert dict(zip(again["source"], again["n"], strict=True)) == {"dataset": 2, "xml": 1}


def _three_filing_quarter(root):
    """A three-filing data-set quarter as the reader gives it, a store at `root` with a manifest, and that
    manifest (what a failed write must leave unchanged)."""
    from loaders.datasets import read_quarter
    from tests.test_datasets import _tiny_zip

    sub = [
        "ACCESSION_NUMBER\tFILING_DATE\tPERIOD_OF_REPORT\tDOCUMENT_TYPE\tISSUERCIK\tISSUERNAME\tISSUERTRADINGSYMBOL",
        *(f"0000000001-23-00000{i}\t05-MAY-2023\t03-MAY-2023\t4\t42\tWiley\tWLY" for i in (1, 2, 3)),
    ]
    store = Store(root)
    store.record("started", True)
    return read_quarter(_tiny_zip(sub)).frames, store, store.manifest()


def test_a_quarter_that_fills_the_disk_leaves_no_part_behind(small_disk):
    """Guards against orphaned parts when a quarter's tables, written two at a time, run out of disk part-way: the
    tables already written are removed with the one that failed, the manifest is unchanged, and the quarter loads
    once there is room."""
    frames, store, before = _three_filing_quarter(small_disk / "data")
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    orphans: list[str] = []
    real = store._stage

    def stage(*args, **kwargs):  # what each table's write left on disk when the next one failed
        item = real(*args, **kwargs)
        orphans.append(item["tmp"])
        return item

    store._stage = stage  # type: ignore[method-assign]
    os.truncate(filler, filler.stat().st_size - 24 * 1024)  # room for a part or two, not for five
    with pytest.raises(StoreFull, match="full"):
        store.write_quarter("2023q2", frames, {"sha256": "x"})
    assert orphans, "no table was written before the disk filled: the test proves nothing"
    assert store.manifest() == before
    assert not [p for p in (small_disk / "data").rglob(".tmp-*")]
    filler.unlink()
    assert store.write_quarter("2023q2", frames, {"sha256": "x"}) == 3


def test_an_interrupted_quarter_write_leaves_no_part_behind(tmp_path):
    """Guards against the parallel staging of a quarter's tables leaving written parts on disk when another table's
    write is interrupted (Ctrl-C or any BaseException): the tables not yet started are not written, those written
    are removed, the manifest is unchanged, and the store still loads the quarter afterwards."""
    import threading

    frames, store, before = _three_filing_quarter(tmp_path / "data")
    real = store._stage
    filings_written = threading.Event()
    written: list[str] = []

    def stage(table, *args, **kwargs):
        if table == "owners":  # interrupted once the filings part is on disk
            assert filings_written.wait(10)
            raise KeyboardInterrupt
        item = real(table, *args, **kwargs)
        written.append(table)
        if table == "filings":
            filings_written.set()
        return item

    store._stage = stage  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        store.write_quarter("2023q2", frames, {"sha256": "x"})
    assert "filings" in written
    assert store.manifest() == before
    assert not [p for p in (tmp_path / "data").rglob(".tmp-*")]
    store._stage = real  # type: ignore[method-assign]
    assert store.write_quarter("2023q2", frames, {"sha256": "x"}) == 3
