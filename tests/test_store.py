"""Store: atomic raw cache, TTL JSON cache, Parquet round-trip, concurrent writers and readers."""

from __future__ import annotations

import multiprocessing as mp
import os
import time

import pytest

from loaders.parser import parse_ownership
from loaders.schema import check
from loaders.store import Store, atomic_write
from tests.fixtures.builder import fixture_filings


def test_atomic_write_leaves_old_file_when_writer_fails(tmp_path):
    """Guards against a half-written cache entry after a crash mid-write."""
    path = tmp_path / "raw" / "x.xml"
    atomic_write(path, b"<old/>")

    with pytest.raises(TypeError):
        atomic_write(path, object())  # type: ignore[arg-type] - fails inside the write
    assert path.read_bytes() == b"<old/>"
    assert [p.name for p in path.parent.iterdir()] == ["x.xml"]  # no temp file left behind


def _killed_writer(path: str) -> None:
    import loaders.store as st

    real = os.replace

    def die(*a, **k):  # simulate a kill between write and rename
        os._exit(1)

    st.os.replace = die
    try:
        st.atomic_write(__import__("pathlib").Path(path), b"x" * 1_000_000)
    finally:
        st.os.replace = real


def test_killed_writer_never_exposes_partial_file(tmp_path):
    """Guards against readers seeing a partial raw filing when the process dies mid-write."""
    target = tmp_path / "raw" / "0000000001-24-000001.xml"
    proc = mp.get_context("spawn").Process(target=_killed_writer, args=(str(target),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 1
    assert not target.exists()
    assert Store(tmp_path).read_raw("0000000001-24-000001") is None


def test_json_cache_ttl(tmp_path):
    """Guards against serving a stale listing forever (or never reusing a fresh one)."""
    store = Store(tmp_path)
    store.write_json_cache("submissions/CIK0000000001", b'{"a": 1}')
    assert store.read_json_cache("submissions/CIK0000000001", ttl=60) == b'{"a": 1}'
    old = time.time() - 120
    path = next((tmp_path / "http").iterdir())
    os.utime(path, (old, old))
    assert store.read_json_cache("submissions/CIK0000000001", ttl=60) is None
    assert store.read_json_cache("submissions/CIK0000000001", ttl=None) == b'{"a": 1}'  # offline fallback


def test_round_trip_keeps_every_schema(tmp_path):
    """Guards against dtypes or columns changing through Parquet (dates as strings, ints as floats...)."""
    store = Store(tmp_path)
    parsed = [parse_ownership(x, a, d) for a, d, x in fixture_filings()]
    assert store.write(parsed) == 19
    from loaders.frames import load

    frames = load(store, include_superseded=True)
    for name in ("filings", "owners", "transactions", "holdings", "footnotes"):
        check(getattr(frames, name), name)
    assert len(frames.filings) == 19 and len(frames.transactions) == sum(len(p.transactions) for p in parsed)
    assert store.known_accessions() == {p.accession for p in parsed}


def _writer(root: str, start: int, stop: int) -> None:
    store = Store(root)
    filings = fixture_filings()
    for acc, day, xml in filings[start:stop]:
        store.write([parse_ownership(xml, acc, day)])


def test_concurrent_writers_and_reader_lose_nothing(tmp_path):
    """Guards against lock errors, lost rows or doubled rows when a CLI pull and app sessions share the store."""
    ctx = mp.get_context("spawn")
    writers = [
        ctx.Process(target=_writer, args=(str(tmp_path), 0, 14)),
        ctx.Process(target=_writer, args=(str(tmp_path), 5, 19)),
    ]
    for w in writers:
        w.start()
    store = Store(tmp_path)
    reads = 0
    while any(w.is_alive() for w in writers):
        if store.has_data():
            n = store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0]
            assert 0 < n <= 19  # never doubled by the overlapping writers
            reads += 1
        time.sleep(0.01)
    for w in writers:
        w.join()
        assert w.exitcode == 0
    from loaders.frames import load

    frames = load(store, include_superseded=True)
    assert len(frames.filings) == 19 and frames.filings["accession"].is_unique
    parsed_rows = sum(len(parse_ownership(x, a, d).transactions) for a, d, x in fixture_filings())
    assert len(frames.transactions) == parsed_rows and frames.transactions["row_id"].is_unique
    assert reads > 0
    removed = store.compact()
    assert removed > 5
    after = load(store, include_superseded=True)
    assert len(after.transactions) == parsed_rows and len(after.filings) == 19


def test_parts_are_written_in_sort_key_order(tmp_path):
    """Guards against a part written out of its sort order (issuer, then accession/date, nulls last): a one-issuer
    query would then read every row group, and the rows' order would differ from pandas' stable sort it replaced."""
    import pyarrow.parquet as pq

    from loaders.store import SORT_KEYS

    store = Store(tmp_path)
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()])
    checked = 0
    for table, parts in store.manifest()["parts"].items():
        for part in parts:
            got = pq.read_table(store.table_dir / part["path"]).to_pandas()
            want = got.sort_values(SORT_KEYS[table], kind="stable", na_position="last")
            assert got.index.tolist() == want.index.tolist(), (table, part["path"])
            checked += got["issuer_cik"].nunique() > 1
    assert checked >= 3  # the order was put to the test: parts with several issuers


def test_row_kinds_name_each_kind_of_row_once_in_sorted_order(tmp_path):
    """Guards against the store's row_kinds (what a 4/A restates) missing a kind of row its filing holds, naming one
    twice, or changing its order (sorted, comma-joined: "derivative:H,nonDerivative:T")."""
    store = Store(tmp_path)
    parsed = [parse_ownership(x, a, d) for a, d, x in fixture_filings()]
    store.write(parsed)
    want = {}
    for p in parsed:
        kinds = {f"{r['table']}:T" for r in p.transactions} | {f"{r['table']}:H" for r in p.holdings}
        want[p.accession] = ",".join(sorted(kinds)) or None
    got = store.query("SELECT accession, row_kinds FROM filings")
    assert {
        a: (k if isinstance(k, str) else None)
        for a, k in zip(got["accession"], got["row_kinds"], strict=True)
    } == want
    assert sum("," in k for k in want.values() if k) >= 2  # filings with several kinds were put to the test


def test_pooled_connection_never_shows_an_older_snapshot(tmp_path):
    """Guards against the query-connection pool serving views of an older manifest: after a write, the same Store
    (and a second Store object on the same folder) must see the new rows at once, and the older snapshot's pooled
    connections must be closed rather than kept."""
    from loaders import store as store_module

    filings = fixture_filings()
    store = Store(tmp_path)
    store.write([parse_ownership(x, a, d) for a, d, x in filings[:5]])
    count = "SELECT count(*) AS n FROM filings"
    assert store.query(count)["n"].iloc[0] == 5
    first = [k for k in store_module._POOL if k[0] == str(store.table_dir)]
    assert len(first) == 1 and len(store_module._POOL[first[0]]) == 1  # kept for the next query
    pooled = store_module._POOL[first[0]][0]
    assert store.query(count)["n"].iloc[0] == 5
    assert store_module._POOL[first[0]] == [pooled]  # the second query reused it
    Store(tmp_path).write([parse_ownership(x, a, d) for a, d, x in filings[5:9]])
    assert store.query(count)["n"].iloc[0] == 9
    keys = [k for k in store_module._POOL if k[0] == str(store.table_dir)]
    assert first[0] not in keys and len(keys) == 1
    with pytest.raises(Exception, match="closed"):
        pooled.execute("SELECT 1")
    with store._connection(None) as busy:  # a write commits while a query runs: its connection is not kept
        Store(tmp_path).write([parse_ownership(x, a, d) for a, d, x in filings[9:10]])
    assert busy not in [
        c for k, idle in store_module._POOL.items() if k[0] == str(store.table_dir) for c in idle
    ]
    with pytest.raises(Exception, match="closed"):
        busy.execute("SELECT 1")
    assert store.query(count)["n"].iloc[0] == 10


def test_failed_query_does_not_poison_the_pool(tmp_path):
    """Guards against a connection left mid-error (or with a half-bound statement) being handed to the next query:
    after bad SQL, the next query on the same snapshot answers correctly."""
    store = Store(tmp_path)
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()[:3]])
    with pytest.raises(Exception, match="no_such_column"):
        store.query("SELECT no_such_column FROM filings")
    assert store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0] == 3


def test_threads_querying_at_once_each_get_their_own_answer(tmp_path):
    """Guards against two page scripts sharing one pooled DuckDB connection (interleaved results or a crash)."""
    from concurrent.futures import ThreadPoolExecutor

    store = Store(tmp_path)
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()])
    truth = store.query("SELECT accession, count(*) AS n FROM transactions GROUP BY 1")
    expected = dict(zip(truth["accession"], truth["n"], strict=True))

    def ask(acc: str) -> tuple[str, int]:
        got = store.query("SELECT count(*) AS n FROM transactions WHERE accession = ?", [acc])
        return acc, int(got["n"].iloc[0])

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, list(expected) * 10))
    assert len(answers) == 10 * len(expected) and all(n == expected[acc] for acc, n in answers)


def test_pool_stays_bounded_and_keeps_the_most_recent_stores(tmp_path):
    """Guards against the connection pool growing with every store or window a process ever queried (each idle
    connection is a DuckDB instance), and against a full pool refusing the store in use now."""
    from loaders import store as store_module

    xml = fixture_filings()[0]
    stores = [Store(tmp_path / f"s{i}") for i in range(store_module.POOL_KEYS + 2)]
    for s in stores:
        s.write([parse_ownership(xml[2], xml[0], xml[1])])
        assert s.query("SELECT count(*) AS n FROM filings")["n"].iloc[0] == 1
    folders = {k[0] for k in store_module._POOL}
    assert len(store_module._POOL) <= store_module.POOL_KEYS
    assert str(stores[-1].table_dir) in folders and str(stores[0].table_dir) not in folders


def test_a_batch_that_changes_settings_never_hands_them_to_the_next_query(tmp_path):
    """Guards against a pooled connection carrying the market index build's `SET memory_limit` / `SET
    temp_directory` into later queries (a page then ran under the build's memory cap, and the next build failed
    with "Cannot switch temporary directory after the current one has been used" on a 10 M-row store)."""
    store = Store(tmp_path / "data")
    store.write([parse_ownership(x, a, d) for a, d, x in fixture_filings()[:2]])
    setting = "SELECT current_setting('memory_limit') AS m"
    default = store.query(setting)["m"].iloc[0]
    spill = (tmp_path / "spill").as_posix()
    for _ in range(2):  # the second build must be able to set its spill folder again
        got = store.query_many(["SET memory_limit = '123MB'", f"SET temp_directory = '{spill}'", setting])[-1]
        assert got["m"].iloc[0] != default
        assert store.query(setting)["m"].iloc[0] == default
