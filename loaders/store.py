"""The local store under a data folder: raw XML by accession, a TTL'd JSON cache, and the parsed tables.

Layout (see data/README.md):
    raw/{first 10 chars of accession}/{accession}.xml       raw filings, forever; atomic writes
    http/{key}.json                                          listings (submissions, tickers), fresh for a TTL
    datasets/{YYYY}q{N}_form345.zip                          SEC quarterly data sets, forever (sync)
    store/MANIFEST.json                                      the committed snapshot: every live part, per table
    store/{table}/{source}/{quarter}/part-{id}.parquet       table = filings | owners | transactions | ...
                                                             source = xml | dataset; quarter of the filing date
    store/_shadow/, store/_index/                            data-set filings hidden by their XML; derived indexes

Snapshots. A reader reads MANIFEST.json (replaced atomically) and queries exactly the parts it lists, so a half-written
quarter or batch is never visible: parts are written under temporary names, renamed into place and listed in one new
manifest, all under `store/.lock` (an flock shared by every process using the data folder). A data-set quarter
replaces only its own partition; an XML batch adds parts. Every accession is stored once: an XML batch skips
accessions already stored as XML, a data-set quarter skips accessions held as XML, and a data-set filing whose XML
arrives later is hidden (`_shadow`) until compaction drops it: the XML wins.

Compaction merges a partition's parts into one, sorted by issuer, without holding the lock while it works; it commits
only if every part it merged is still listed (writers only add parts), so it is safe beside writers. Orphaned parts
(a writer killed between rename and manifest) and temporary files of dead processes are removed on the next write.
A full disk raises StoreFull and leaves the store as it was.

Amendments are resolved once per snapshot, in one grouped join over the filings (`loaders.amendments.SUPERSEDE_SQL`):
the map is computed at the end of each write command (or by the first reader) and stored as a small Parquet file
named after the manifest version; the views join it, so `superseded_by` and `amends_accession` are filled.

Queries run in an in-memory DuckDB connection over the listed Parquet files (paths are passed as parameters, never
spliced into SQL). Connections are pooled per snapshot (the manifest's exact bytes) and date window: a page's
queries after the first skip creating the views; a new snapshot retires the old one's connections. Views: `filings`, `owners`, `transactions`, `holdings`, `footnotes` (one copy of each filing,
amendments resolved) and `<table>_all` (the same rows; kept for older callers).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loaders.errors import LoaderError
from loaders.parser import ParsedFiling
from loaders.schema import SCHEMAS, SORT_KEYS, STORE_FILLED, arrow_schema, conform, empty, sorted_rows

TABLES = ("filings", "owners", "transactions", "holdings", "footnotes")
SOURCES = ("xml", "dataset")
MANIFEST = "MANIFEST.json"
ROW_GROUP = 8192  # rows per Parquet row group: small enough that a one-issuer query skips most of a quarter
AUTO_COMPACT_PARTS = 8  # an XML partition with more parts than this is compacted after the write that made it
_LOCAL = threading.local()
# idle query connections, by (store folder, manifest digest, window): see Store._connection
_POOL: dict[tuple[str, bytes, str | None], list[duckdb.DuckDBPyConnection]] = {}
_POOL_LOCK = threading.Lock()
POOL_PER_KEY = 2  # idle connections kept per snapshot and window (two page scripts at once)
# snapshot x window combinations kept idle over all stores of the process, least recently used out
POOL_KEYS = 8


class StoreFull(LoaderError):
    """The disk holding the data folder is full: nothing of the write was stored; the store is as it was."""

    def __init__(self, where: Path | str) -> None:
        self.where = str(where)
        super().__init__(
            f"The disk holding {where} is full: nothing of this write was stored and the store is unchanged. "
            "Free some space and run the command again (it continues where it stopped)."
        )


def _tmp_name(folder: Path) -> Path:
    return folder / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _full(e: OSError) -> bool:
    return e.errno in (errno.ENOSPC, errno.EDQUOT)


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write bytes to path so that readers see the old file or the whole new one, never a part.

    The temporary file is named `.tmp-{pid}-...` so that a later open can tell a dead writer's leftovers from a live
    one's. durable=False skips the fsync (still atomic for readers and against a killed process; only a power cut may
    lose the file): for copies of files that stay on disk elsewhere, such as a local ingest. A full disk raises
    StoreFull and leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path.parent)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and _full(e):
            raise StoreFull(path.parent) from None
        raise


def new_batch_id() -> str:
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def quarter_of(day) -> str:
    """'2023-02-14' (or a date/Timestamp) -> '2023q1'; 'undated' for a missing date."""
    if day is None or (not isinstance(day, str) and pd.isna(day)):
        return "undated"
    ts = pd.Timestamp(day)
    return f"{ts.year:04d}q{(ts.month - 1) // 3 + 1}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _arrow(result) -> pa.Table:
    """DuckDB's .arrow() gives a Table (1.1-1.3) or a RecordBatchReader (1.4+): always a Table."""
    return result.read_all() if hasattr(result, "read_all") else result


def _schema_fingerprint(table: pa.Table) -> str:
    return ",".join(f"{f.name}:{f.type}" for f in table.schema)


class Store:
    """Raw cache, JSON cache and Parquet tables under `root` (settings.data_dir)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.raw_dir = self.root / "raw"
        self.http_dir = self.root / "http"
        self.dataset_dir = self.root / "datasets"
        self.table_dir = self.root / "store"
        self._cleaned = False

    # ------------------------------------------------------------------ raw XML
    def raw_path(self, accession: str) -> Path:
        return self.raw_dir / accession[:10] / f"{accession}.xml"

    def read_raw(self, accession: str) -> bytes | None:
        try:
            return self.raw_path(accession).read_bytes()
        except FileNotFoundError:
            return None

    def has_raw(self, accession: str) -> bool:
        return self.raw_path(accession).is_file()

    def write_raw(self, accession: str, data: bytes, durable: bool = True) -> None:
        atomic_write(self.raw_path(accession), data, durable)

    # ------------------------------------------------------------------ JSON cache
    def _json_path(self, key: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
        return self.http_dir / f"{safe}.json"

    def read_json_cache(self, key: str, ttl: float | None) -> bytes | None:
        """Cached bytes for key if younger than ttl seconds (any age when ttl is None), else None."""
        path = self._json_path(key)
        try:
            if ttl is not None and time.time() - path.stat().st_mtime > ttl:
                return None
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def write_json_cache(self, key: str, data: bytes) -> None:
        atomic_write(self._json_path(key), data)

    # ------------------------------------------------------------------ manifest and lock
    def manifest(self) -> dict:
        """The committed snapshot: {"version", "parts": {table: [part, ...]}, "shadow", "quarters", "tail"}."""
        return self._snapshot()[1]

    def _manifest_bytes(self) -> bytes | None:
        """The manifest file as stored (None before the first write): its bytes name the snapshot exactly."""
        try:
            return (self.table_dir / MANIFEST).read_bytes()
        except FileNotFoundError:
            return None

    def _snapshot(self) -> tuple[bytes | None, dict]:
        """(the manifest file's bytes, the manifest)."""
        raw = self._manifest_bytes()
        if raw is not None:
            return raw, json.loads(raw)
        return raw, {
            "version": 0,
            "parts": {t: [] for t in TABLES},
            "shadow": None,
            "quarters": {},
            "tail": {},
        }

    def version(self) -> int:
        """Changes whenever a write commits: cached frames keyed by it refresh by themselves."""
        return int(self.manifest().get("version", 0))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's write lock: one flock on store/.lock shared by every thread and process."""
        self.table_dir.mkdir(parents=True, exist_ok=True)
        held: set[str] = getattr(_LOCAL, "held", set())
        key = str(self.table_dir.resolve())
        if key in held:  # re-entrant within a thread
            yield
            return
        with open(self.table_dir / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            held.add(key)
            _LOCAL.held = held
            try:
                if not self._cleaned:
                    self._clean_locked()
                    self._cleaned = True
                yield
            finally:
                held.discard(key)
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_manifest(self, man: dict) -> None:
        man["version"] = int(man.get("version", 0)) + 1
        atomic_write(self.table_dir / MANIFEST, json.dumps(man, indent=1, sort_keys=True).encode())

    def open(self) -> Store:
        """Migrate an old-layout store and remove what dead writers left behind (orphans, temporary files)."""
        if self.table_dir.is_dir() or self.root.joinpath(".tmp").exists():
            with self._locked():
                pass
        return self

    def _clean_locked(self) -> None:
        """Under the lock: migrate the old layout, drop parts no manifest lists and dead processes' temp files."""
        self._migrate_legacy_locked()
        man = self.manifest()
        listed = {p["path"] for t in TABLES for p in man["parts"].get(t, [])}
        if man.get("shadow"):
            listed.add(man["shadow"])
        for path in self.table_dir.rglob("*"):
            name = path.name
            if name.startswith(".tmp-"):
                try:
                    pid = int(name.split("-")[1])
                except (IndexError, ValueError):
                    pid = -1
                if pid != os.getpid() and not _pid_alive(pid):
                    path.unlink(missing_ok=True)
            elif name.endswith(".parquet") and path.is_file():
                rel = path.relative_to(self.table_dir).as_posix()
                if rel.startswith("_index/"):
                    if not rel.endswith(f"-v{man['version']}.parquet"):
                        path.unlink(missing_ok=True)
                elif rel not in listed:
                    path.unlink(missing_ok=True)
        for folder in (self.root / ".tmp", self.dataset_dir):
            if folder.is_dir():
                for path in folder.glob(".tmp-*"):
                    try:
                        pid = int(path.name.split("-")[1])
                    except (IndexError, ValueError):
                        pid = -1
                    if not _pid_alive(pid):
                        path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing
    def has_data(self) -> bool:
        return bool(self.manifest()["parts"].get("filings"))

    def write(self, parsed: Iterable[ParsedFiling]) -> int:
        """Store parsed XML filings (source "xml"); returns how many were new. Accessions already stored as XML are
        skipped; a data-set copy of the same filing is hidden from then on (the XML wins)."""
        parsed = [p for p in parsed if p.accession]
        if not parsed:
            return 0
        rows = {
            "filings": [p.filing for p in parsed],
            "owners": [o for p in parsed for o in p.owners],
            "transactions": [t for p in parsed for t in p.transactions],
            "holdings": [h for p in parsed for h in p.holdings],
            "footnotes": [f for p in parsed for f in p.footnotes],
        }
        frames = enrich({t: conform(rows[t], t) if rows[t] else empty(t) for t in TABLES}, "xml")
        return self._commit_xml(frames)

    def _commit_xml(self, frames: dict[str, pd.DataFrame]) -> int:
        filings = frames["filings"].drop_duplicates("accession")
        quarters = filings["filing_date"].map(quarter_of)
        accs = list(filings["accession"])
        with self._locked():
            man = self.manifest()
            stored = self._accessions(man, "xml", accs)
            keep = [a for a in accs if a not in stored]
            if not keep:
                return 0
            keep_set = set(keep)
            by_q = dict(zip(filings["accession"], quarters, strict=True))
            staged = []
            try:
                for table in TABLES:
                    frame = frames[table]
                    frame = frame[frame["accession"].isin(keep_set)]
                    if table == "filings":
                        frame = frame.drop_duplicates("accession")
                    for q, part in frame.groupby(frame["accession"].map(by_q), sort=True):
                        staged.append(self._stage(table, "xml", str(q), part))
                shadow_add = self._accessions(man, "dataset", keep)
                self._publish(man, staged, shadow_add=shadow_add)
            except BaseException:
                for item in staged:
                    Path(item["tmp"]).unlink(missing_ok=True)
                raise
        self._auto_compact()
        return len(keep)

    def write_quarter(
        self, quarter: str, frames: Mapping, info: dict | None = None, prepared: bool = False
    ) -> int:
        """Replace the data-set partition of `quarter` with these frames (source "dataset") in one commit.

        Filings already held as XML are left out (the XML wins, row for row). Returns the filings stored.
        frames: pandas frames (conformed here), or datasets.ArrowFrames, whose Arrow tables are written as they are.
        prepared=True: the frames are Arrow tables already in the stored shape, sorted (bench/bench_market.py)."""
        if prepared:
            n = frames["filings"].num_rows
            self._replace_quarter(
                quarter, [(t, "dataset", quarter, frames[t], True) for t in TABLES], info, n
            )
            return n
        # datasets.ArrowFrames: the reader's Arrow tables, written as they are
        tables = getattr(frames, "tables", None)
        if tables is not None:
            frames = enrich_arrow(tables, "dataset")
        else:
            frames = enrich({t: conform(frames.get(t, empty(t)), t) for t in TABLES}, "dataset")
        accessions = _accession_column(frames["filings"])
        xml = self._retry(lambda: self._accessions(self.manifest(), "xml", accessions))
        if xml:
            frames = {t: _without(f, xml) for t, f in frames.items()}
            accessions = _accession_column(frames["filings"])
        parts = [(t, "dataset", quarter, frames[t]) for t in TABLES]
        self._replace_quarter(quarter, parts, info, len(accessions), accessions)
        return len(accessions)

    def _replace_quarter(
        self,
        quarter: str,
        parts: list[tuple],
        info: dict | None,
        filings: int,
        accessions: Sequence[str] | pa.ChunkedArray = (),
    ) -> None:
        """Stage `parts` (_stage arguments), then in one commit drop the quarter's data-set parts, publish the new
        ones and shadow those of `accessions` that an XML write stored meanwhile. Nothing staged survives a
        failure."""
        staged = []
        try:
            staged = self._stage_all(parts)
            with self._locked():
                man = self.manifest()
                late = self._accessions(man, "xml", accessions)
                drop = [
                    p
                    for t in TABLES
                    for p in man["parts"].get(t, [])
                    if p["src"] == "dataset" and p["q"] == quarter
                ]
                man.setdefault("quarters", {})[quarter] = {**(info or {}), "filings": filings}
                self._publish(man, staged, drop=drop, shadow_add=late)
        except BaseException:
            for item in staged:
                Path(item["tmp"]).unlink(missing_ok=True)
            raise

    def record(self, key: str, value) -> None:
        """Store a small JSON value in the manifest (sync bookkeeping: the tail's progress)."""
        with self._locked():
            man = self.manifest()
            man[key] = value
            self._write_manifest(man)

    def _stage_all(self, parts: list[tuple]) -> list[dict]:
        """_stage of each (table, src, quarter, frame), two at a time: Arrow sorts and writes Parquet without the
        GIL, so a quarter's five tables overlap on two cores. When one fails (or the wait is interrupted), the
        tables not started are cancelled, the running ones finish, and every part written is removed."""
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        pool = ThreadPoolExecutor(max_workers=2)
        # the largest table first: it runs the whole time on one thread while the other writes the rest
        first = sorted(range(len(parts)), key=lambda i: -_size(parts[i][3]))
        submitted = {i: pool.submit(self._stage, *parts[i]) for i in first}
        futures = [submitted[i] for i in range(len(parts))]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f.exception() for f in futures if f.done() and f.exception() is not None), None)
            if failed is not None:
                raise failed
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            for f in futures:
                if f.done() and not f.cancelled() and f.exception() is None:
                    Path(f.result()["tmp"]).unlink(missing_ok=True)
            raise
        pool.shutdown(wait=True)
        return [f.result() for f in futures]

    def _stage(self, table: str, src: str, quarter: str, frame, presorted: bool = False) -> dict:
        """Write one part under a temporary name in its partition folder (outside the lock)."""
        arrow = frame
        if isinstance(frame, pd.DataFrame):
            # one thread: on a busy machine the conversion's thread pool costs more than it saves
            arrow = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False, nthreads=1)
        if not presorted:
            # rows already in order (the data-set reader's) are not copied again here
            arrow = sorted_rows(arrow, arrow.select(SORT_KEYS[table]))
        folder = self.table_dir / table / src / quarter
        folder.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_name(folder)
        try:
            pq.write_table(arrow, tmp, compression="zstd", row_group_size=ROW_GROUP)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            if _full(e):
                raise StoreFull(folder) from None
            raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        rel = f"{table}/{src}/{quarter}/part-{new_batch_id()}.parquet"
        return {
            "tmp": str(tmp),
            "path": rel,
            "table": table,
            "src": src,
            "q": quarter,
            "rows": arrow.num_rows,
            "bytes": tmp.stat().st_size,
            "schema": _schema_fingerprint(arrow),
        }

    def _publish(self, man: dict, staged: list[dict], drop: Sequence[dict] = (), shadow_add=()) -> None:
        """Under the lock: rename staged parts into place and commit one new manifest listing them."""
        dropped = {p["path"] for p in drop}
        for table in TABLES:
            man["parts"][table] = [p for p in man["parts"].get(table, []) if p["path"] not in dropped]
        shadow_add = set(shadow_add)
        if shadow_add:
            old = set(self._shadowed(man))
            man["shadow"] = self._write_small(
                "_shadow", pd.DataFrame({"accession": sorted(old | shadow_add)})
            )
        renamed = []
        try:
            for item in staged:
                final = self.table_dir / item["path"]
                os.replace(item["tmp"], final)
                renamed.append(final)
                man["parts"][item["table"]].append(
                    {k: v for k, v in item.items() if k not in ("tmp", "table")}
                )
            self._write_manifest(man)
        except BaseException:
            for path in renamed:
                path.unlink(missing_ok=True)
            raise
        for part in drop:
            (self.table_dir / part["path"]).unlink(missing_ok=True)

    def _write_small(self, folder: str, frame: pd.DataFrame) -> str:
        rel = f"{folder}/part-{new_batch_id()}.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd")
        atomic_write(self.table_dir / rel, sink.getvalue().to_pybytes())
        return rel

    def _shadowed(self, man: dict) -> list[str]:
        if not man.get("shadow"):
            return []
        return list(pq.read_table(self.table_dir / man["shadow"]).column("accession").to_pylist())

    def _paths(self, man: dict, table: str, src: str | None = None) -> list[str]:
        return [
            (self.table_dir / p["path"]).as_posix()
            for p in man["parts"].get(table, [])
            if src is None or p["src"] == src
        ]

    def _accessions(self, man: dict, src: str, among: Sequence[str] | pa.ChunkedArray) -> set[str]:
        """Which of `among` (accession numbers: a list, or an Arrow column) are stored (filings table) with source
        `src`."""
        paths = self._paths(man, "filings", src)
        if not paths or not len(among):
            return set()
        if not isinstance(among, pa.ChunkedArray):
            among = pa.array(list(among), pa.string())
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 2")
            con.execute("SET enable_progress_bar = false")
            con.execute("SET VARIABLE files = ?", [paths])
            con.register("wanted", pa.table({"accession": among}))
            rows = con.execute(
                "SELECT DISTINCT f.accession FROM read_parquet(getvariable('files'), union_by_name = true) f "
                "SEMI JOIN wanted w ON f.accession = w.accession"
            ).fetchall()
        finally:
            con.close()
        return {r[0] for r in rows}

    @staticmethod
    def _retry(fn):
        for attempt in range(8):
            try:
                return fn()
            except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError):
                if attempt == 7:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def known_accessions(self) -> set[str]:
        """Accessions whose parsed rows are committed in the store (either source)."""
        if not self.has_data():
            return set()
        df = self.query("SELECT DISTINCT accession FROM filings")
        return set(df["accession"].dropna())

    def xml_accessions(self) -> set[str]:
        """Accessions stored from their own XML (a data-set copy does not count)."""
        if not self.has_data():
            return set()
        df = self.query("SELECT DISTINCT accession FROM filings WHERE source = 'xml'")
        return set(df["accession"].dropna())

    def loaded_quarters(self) -> dict[str, dict]:
        """Data-set quarters in the store: {"2023q1": {"sha256": ..., "filings": n, ...}}."""
        return dict(self.manifest().get("quarters", {}))

    # ------------------------------------------------------------------ compaction
    def compact(self, only_src: str | None = None, min_parts: int = 2) -> int:
        """Merge each partition's parts into one sorted by issuer (dropping hidden data-set copies); returns the
        number of parts removed. Safe beside writers: it commits only if every merged part is still listed."""
        removed = 0
        man = self.manifest()
        groups: dict[tuple[str, str], dict[str, list[dict]]] = {}
        for table in TABLES:
            for p in man["parts"].get(table, []):
                groups.setdefault((p["src"], p["q"]), {}).setdefault(table, []).append(p)
        shadow = set(self._shadowed(man))
        for (src, q), tables in sorted(groups.items()):
            if only_src and src != only_src:
                continue
            hidden = shadow if src == "dataset" else set()
            if max(len(v) for v in tables.values()) < min_parts and not hidden:
                continue
            removed += self._compact_partition(src, q, tables, hidden)
        return removed

    def _compact_partition(self, src: str, q: str, tables: dict[str, list[dict]], hidden: set[str]) -> int:
        if hidden:
            try:
                accs = self._read_accessions(
                    [(self.table_dir / p["path"]).as_posix() for p in tables.get("filings", [])]
                )
            except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError):
                return 0
            hidden = hidden & accs
            if not hidden and max(len(v) for v in tables.values()) < 2:
                return 0
        staged = []
        try:
            try:
                merged_parts = {
                    table: self._read_parts(
                        [(self.table_dir / p["path"]).as_posix() for p in parts], table, hidden
                    )
                    for table, parts in tables.items()
                }
            except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError):
                return 0  # another compaction merged (and removed) these parts meanwhile
            for table, merged in merged_parts.items():
                staged.append(self._stage(table, src, q, merged, presorted=True))
            with self._locked():
                man = self.manifest()
                listed = {p["path"] for t in TABLES for p in man["parts"].get(t, [])}
                merged = [p for parts in tables.values() for p in parts]
                if not all(p["path"] in listed for p in merged):  # another compaction got there first
                    for item in staged:
                        Path(item["tmp"]).unlink(missing_ok=True)
                    return 0
                if hidden:
                    rest = [a for a in self._shadowed(man) if a not in hidden]
                    man["shadow"] = (
                        self._write_small("_shadow", pd.DataFrame({"accession": rest})) if rest else None
                    )
                self._publish(man, staged, drop=merged)
        except BaseException:
            for item in staged:
                Path(item["tmp"]).unlink(missing_ok=True)
            raise
        return sum(len(v) for v in tables.values()) - len(staged)

    def _auto_compact(self) -> None:
        man = self.manifest()
        counts: dict[tuple[str, str], int] = {}
        for p in man["parts"].get("filings", []):
            counts[(p["src"], p["q"])] = counts.get((p["src"], p["q"]), 0) + 1
        for (src, q), n in counts.items():
            if n > AUTO_COMPACT_PARTS:
                parts = {
                    t: [p for p in man["parts"].get(t, []) if p["src"] == src and p["q"] == q] for t in TABLES
                }
                self._compact_partition(src, q, {t: v for t, v in parts.items() if v}, set())

    def _read_parts(self, paths: list[str], table: str, hidden: AbstractSet[str] = frozenset()) -> pa.Table:
        """Rows of some parts as one Arrow table sorted like a part (without the hidden accessions)."""
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 2")
            con.execute("SET enable_progress_bar = false")
            con.execute("SET VARIABLE files = ?", [paths])
            con.register("hidden", pa.table({"accession": pa.array(sorted(hidden), pa.string())}))
            keys = ", ".join(f'"{k}" NULLS LAST' for k in SORT_KEYS[table])
            return _arrow(
                con.execute(
                    "SELECT * FROM read_parquet(getvariable('files'), union_by_name = true) "
                    f"WHERE accession NOT IN (SELECT accession FROM hidden) ORDER BY {keys}"
                ).arrow()
            )
        finally:
            con.close()

    def _read_accessions(self, paths: list[str]) -> set[str]:
        if not paths:
            return set()
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET VARIABLE files = ?", [paths])
            rows = con.execute("SELECT DISTINCT accession FROM read_parquet(getvariable('files'))").fetchall()
        finally:
            con.close()
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ queries
    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run SQL over the views `filings`, `owners`, `transactions`, `holdings`, `footnotes` (see module doc)."""
        return self.query_many([sql], params)[0]

    def query_many(
        self, sqls: list[str], params: list | None = None, *, filed_since: str | None = None
    ) -> list[pd.DataFrame]:
        """Several queries over one consistent snapshot (same params for each). `filed_since` ("2023q1"): the views
        read only the partitions of filings filed in that quarter or later (a page's date window reads its quarters,
        not the store's whole history); the queries must then only ask for rows filed since then."""
        return self._query_retrying(sqls, params, filed_since, arrow=False)

    def query_arrow(
        self, sqls: list[str], params: list | None = None, *, filed_since: str | None = None
    ) -> list[pa.Table]:
        """query_many's results as Arrow tables (frames.load converts them straight to the schema's dtypes)."""
        return self._query_retrying(sqls, params, filed_since, arrow=True)

    def _query_retrying(
        self, sqls: list[str], params: list | None, filed_since: str | None, arrow: bool
    ) -> list:
        for attempt in range(8):  # a part removed by a compaction after we read the manifest: read it again
            try:
                return self._query_once(sqls, params, filed_since, arrow)
            except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError):
                if attempt == 7:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def _query_once(
        self, sqls: list[str], params: list | None, filed_since: str | None = None, arrow: bool = False
    ) -> list:
        # a batch that changes settings (the market index build's memory limit and spill folder) gets a connection
        # of its own: settings stay with a connection, and a pooled one would hand them to the next query
        settings = any(sql.lstrip().upper().startswith(("SET ", "PRAGMA ", "RESET ")) for sql in sqls)
        with self._connection(filed_since, pooled=not settings) as con:
            if arrow:
                return [_arrow(con.execute(sql, params or []).arrow()) for sql in sqls]
            return [con.execute(sql, params or []).df() for sql in sqls]

    @contextlib.contextmanager
    def _connection(
        self, filed_since: str | None, pooled: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with the views of the current snapshot. Connections are pooled per snapshot (the
        manifest's exact bytes) and window, so a page's second query skips connecting and creating ~30 views; one
        that raised is closed, never reused; a new snapshot closes the pooled connections of older ones."""
        raw, man = self._snapshot()
        snapshot = hashlib.blake2b(raw or b"", digest_size=16).digest()
        key = (str(self.table_dir), snapshot, filed_since)
        with _POOL_LOCK:
            idle = _POOL.get(key) if pooled else None
            con = idle.pop() if idle else None
            if idle == []:
                del _POOL[key]
        if con is None:
            con = duckdb.connect(":memory:")
            try:
                con.execute("SET threads TO 2")
                con.execute("SET enable_progress_bar = false")
                self._create_views(con, man, filed_since)
            except BaseException:
                con.close()
                raise
        try:
            yield con
        except BaseException:
            con.close()
            raise
        # a write that committed meanwhile made this snapshot old: nobody asks for it again
        if not pooled or self._manifest_bytes() != raw:
            con.close()
            return
        closing = [con]
        with _POOL_LOCK:
            # an older snapshot of this store: its views name parts that may be gone
            for k in [k for k in _POOL if k[0] == key[0] and k[1] != snapshot]:
                closing += _POOL.pop(k)
            idle = _POOL.pop(key, [])
            if len(idle) < POOL_PER_KEY:
                idle.append(con)
                closing.remove(con)
            _POOL[key] = idle  # the most recently used key last
            while len(_POOL) > POOL_KEYS:  # the least recently used key goes
                closing += _POOL.pop(next(iter(_POOL)))
        for old in closing:
            old.close()

    def _create_views(
        self, con: duckdb.DuckDBPyConnection, man: dict, filed_since: str | None = None
    ) -> None:
        for table in TABLES:
            parts = man["parts"].get(table, [])
            if (
                filed_since
            ):  # partitions are by the quarter of the filing date ("undated" sorts after every year)
                parts = [p for p in parts if p.get("q") is None or p["q"] >= filed_since]
            if parts:
                paths = [(self.table_dir / p["path"]).as_posix() for p in parts]
                con.execute(f"SET VARIABLE {table}_files = ?", [paths])
                union = len({p.get("schema") for p in parts}) > 1
                con.execute(
                    f"CREATE VIEW {table}_parts AS SELECT * FROM read_parquet(getvariable('{table}_files')"
                    f"{', union_by_name = true' if union else ''})"
                )
            else:
                con.register(f"{table}_empty", empty(table))
                con.execute(f"CREATE VIEW {table}_parts AS SELECT * FROM {table}_empty")
        shadow = man.get("shadow")
        if shadow:
            con.execute("SET VARIABLE shadow_file = ?", [(self.table_dir / shadow).as_posix()])
        for table in TABLES:
            where = ""
            if shadow:
                where = (
                    " WHERE source = 'xml' OR accession NOT IN "
                    "(SELECT accession FROM read_parquet(getvariable('shadow_file')))"
                )
            con.execute(f"CREATE VIEW {table}_base AS SELECT * FROM {table}_parts{where}")
        index = self._amendment_index(con, man)
        con.execute("SET VARIABLE index_file = ?", [index.as_posix()])
        con.execute("CREATE VIEW _amend AS SELECT * FROM read_parquet(getvariable('index_file'))")
        con.execute(
            "CREATE VIEW filings AS SELECT f.* REPLACE (coalesce(a.other, f.amends_accession) "
            "AS amends_accession) FROM filings_base f LEFT JOIN _amend a "
            "ON a.accession = f.accession AND a.kind = 'A'"
        )
        for table, kind in (("transactions", "T"), ("holdings", "H")):
            con.execute(
                f"CREATE VIEW {table} AS SELECT t.* REPLACE (a.other AS superseded_by) "
                f"FROM {table}_base t LEFT JOIN _amend a "
                f"ON a.accession = t.accession AND a.tbl = t.\"table\" AND a.kind = '{kind}'"
            )
        for table in ("owners", "footnotes"):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {table}_base")
        for table in TABLES:
            con.execute(f"CREATE VIEW {table}_all AS SELECT * FROM {table}")

    def batches(self, sql: str, params: list | None = None, rows: int = 200_000) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as Arrow record batches (exports of a market-wide store)."""
        man = self.manifest()
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 2")
            con.execute("SET enable_progress_bar = false")
            self._create_views(con, man)
            result = con.execute(sql, params or [])
            reader = result.to_arrow_reader(rows) if hasattr(result, "to_arrow_reader") else None
            yield from reader if reader is not None else result.fetch_record_batch(rows)
        finally:
            con.close()

    def _amendment_index(self, con: duckdb.DuckDBPyConnection, man: dict) -> Path:
        """The snapshot's amendment map (computed once per manifest version, in one grouped join)."""
        from loaders.amendments import SUPERSEDE_SQL

        path = self.table_dir / "_index" / f"amend-v{man.get('version', 0)}.parquet"
        if not path.is_file():
            frame = _arrow(con.execute(SUPERSEDE_SQL).arrow())
            sink = pa.BufferOutputStream()
            pq.write_table(frame, sink, compression="zstd")
            try:
                atomic_write(path, sink.getvalue().to_pybytes(), durable=False)
            except StoreFull:
                con.register("_amend_mem", frame)  # read-only use still works on a full disk
                raise
        return path

    def refresh_indexes(self) -> None:
        """Compute the current snapshot's amendment map now (end of a write command), so readers do not pay it."""
        if self.has_data():
            self.query("SELECT count(*) FROM filings")

    def stats(self) -> dict:
        man = self.manifest()
        parts = [p for t in TABLES for p in man["parts"].get(t, [])]
        raw = sum(1 for _ in self.raw_dir.rglob("*.xml")) if self.raw_dir.is_dir() else 0
        zips = (
            sum(p.stat().st_size for p in self.dataset_dir.glob("*.zip")) if self.dataset_dir.is_dir() else 0
        )
        return {
            "parts": len(parts),
            "store_bytes": sum(p.get("bytes", 0) for p in parts),
            "raw_files": raw,
            "dataset_zip_bytes": zips,
            "version": man.get("version", 0),
        }

    # ------------------------------------------------------------------ old layout
    def _migrate_legacy_locked(self) -> None:
        """Stores written before the manifest (store/{table}/part-*.parquet) become XML parts of the new layout."""
        legacy = {t: sorted((self.table_dir / t).glob("part-*.parquet")) for t in TABLES}
        if not legacy["filings"] or (self.table_dir / MANIFEST).exists():
            return
        con = duckdb.connect(":memory:")
        frames = {}
        try:
            for table in TABLES:
                files = [p.as_posix() for p in legacy[table]]
                if not files:
                    frames[table] = empty(table)
                    continue
                con.execute(f"SET VARIABLE {table}_files = ?", [files])
                con.execute(
                    f"CREATE VIEW {table}_old AS SELECT * FROM read_parquet(getvariable('{table}_files'), "
                    "union_by_name = true)"
                )
            con.execute(
                "CREATE VIEW live AS SELECT accession, max(_batch) AS _batch FROM filings_old GROUP BY 1"
            )
            for table in TABLES:
                if table not in frames:
                    frames[table] = conform(
                        con.execute(
                            f"SELECT t.* EXCLUDE (_batch) FROM {table}_old t JOIN live USING (accession, _batch)"
                        ).df(),
                        table,
                    )
        finally:
            con.close()
        frames = enrich(frames, "xml")
        quarters = dict(
            zip(frames["filings"]["accession"], frames["filings"]["filing_date"].map(quarter_of), strict=True)
        )
        staged = []
        for table in TABLES:
            frame = frames[table]
            for q, part in frame.groupby(frame["accession"].map(quarters).fillna("undated")):
                staged.append(self._stage(table, "xml", str(q), part))
        self._publish(self.manifest(), staged)
        for table in TABLES:
            for p in legacy[table]:
                p.unlink(missing_ok=True)


def _size(frame: pd.DataFrame | pa.Table) -> int:
    """Bytes a table holds in memory (a frame's text counted by reference)."""
    if isinstance(frame, pa.Table):
        return frame.nbytes
    return int(frame.memory_usage(index=False).sum())


def _accession_column(filings: pd.DataFrame | pa.Table) -> list[str] | pa.ChunkedArray:
    """The accession numbers of a filings table: its Arrow column (no Python string each), or a frame's as a list."""
    if isinstance(filings, pa.Table):
        return filings.column("accession")
    return list(filings["accession"])


def _without(frame: pd.DataFrame | pa.Table, accessions: AbstractSet[str]) -> pd.DataFrame | pa.Table:
    """The rows of `frame` whose accession is not in `accessions`."""
    if isinstance(frame, pa.Table):
        drop = pc.is_in(frame.column("accession"), value_set=pa.array(sorted(accessions), pa.string()))
        return frame.filter(pc.invert(drop))
    return frame[~frame["accession"].isin(accessions)]


def enrich_arrow(tables: dict[str, pa.Table], source: str) -> dict[str, pa.Table]:
    """enrich() of Arrow tables in the schema's Arrow types (datasets.ArrowFrames), in Arrow: the same columns and
    values, without a pass through pandas."""
    filled = {t: STORE_FILLED[t] - {"unverified"} for t in TABLES}  # what enrich sets; the rest is kept
    out = {t: tables[t].select([c for c in tables[t].column_names if c not in filled[t]]) for t in TABLES}
    filings, owners = out["filings"], out["owners"]
    f_acc = filings.column("accession")
    # first_owner_cik: the CIK of the first owner (position 0) listed for the accession
    lead = owners.filter(pc.equal(owners.column("position"), 0))
    # index_in gives the first match, as pandas' drop_duplicates keeps
    at = pc.index_in(f_acc, value_set=lead.column("accession"))
    first_owner = pc.take(lead.column("owner_cik"), at)
    # row_kinds: the kinds of rows a filing holds ("table:T" / "table:H"), sorted, comma-joined
    kinds: dict[str, pa.ChunkedArray] = {}
    for t, kind in (("transactions", "T"), ("holdings", "H")):
        rows = out[t].select(["accession", "table"])
        rows = rows.filter(pc.and_(pc.is_valid(rows.column("table")), pc.is_valid(rows.column("accession"))))
        for name in pc.unique(rows.column("table")).to_pylist():
            got = rows.filter(pc.equal(rows.column("table"), name)).column("accession")
            kinds[f"{name}:{kind}"] = pc.is_in(f_acc, value_set=pc.unique(got))
    names = sorted(kinds)
    mask = np.zeros(filings.num_rows, dtype=np.int64)
    for i, k in enumerate(names):
        mask |= kinds[k].to_numpy(zero_copy_only=False).astype(np.int64) << i
    spelled = np.array(
        [",".join(k for i, k in enumerate(names) if m >> i & 1) or None for m in range(1 << len(names))]
    )
    row_kinds = pa.array(spelled[mask], pa.string(), from_pandas=True)
    filings = filings.append_column("first_owner_cik", first_owner).append_column("row_kinds", row_kinds)
    out["filings"] = filings
    issuer = filings.column("issuer_cik")
    for t in ("owners", "footnotes"):
        where = pc.index_in(out[t].column("accession"), value_set=f_acc)
        out[t] = out[t].append_column("issuer_cik", pc.take(issuer, where))
    for t in TABLES:
        n = out[t].num_rows
        out[t] = out[t].append_column("source", pa.repeat(pa.scalar(source, pa.string()), n))
        have = set(out[t].column_names)
        missing = [c for c in SCHEMAS[t] if c not in have]
        for c in missing:
            out[t] = out[t].append_column(c, pa.nulls(n, arrow_schema(t).field(c).type))
        out[t] = out[t].select(list(SCHEMAS[t])).cast(arrow_schema(t))
    return out


def enrich(frames: dict[str, pd.DataFrame], source: str) -> dict[str, pd.DataFrame]:
    """Fill the store's own columns: source, first_owner_cik and row_kinds on filings, issuer_cik on owners and
    footnotes (so every table can be pruned by issuer)."""
    # shallow copies: enrich only adds columns, and conform below copies the data
    out = {t: f.copy(deep=False) for t, f in frames.items()}
    for t in TABLES:
        out[t]["source"] = pd.Series(source, index=out[t].index, dtype="string")
    filings, owners = out["filings"], out["owners"]
    first = owners[owners["position"] == 0].drop_duplicates("accession").set_index("accession")["owner_cik"]
    filings["first_owner_cik"] = filings["accession"].map(first).astype("Int64")
    pairs = (
        pd.concat(
            [
                out[t][["accession"]].assign(k=out[t]["table"] + f":{kind}")
                for t, kind in (("transactions", "T"), ("holdings", "H"))
            ]
        )
        .dropna()
        .drop_duplicates()
    )
    # each kind one bit (there are a few), summed per filing; each distinct sum is spelled once, kinds sorted
    names = sorted(pairs["k"].unique())
    bits = pairs["k"].map({k: 1 << i for i, k in enumerate(names)})
    mask = bits.groupby(pairs["accession"].to_numpy()).sum()
    spelled = {m: ",".join(k for i, k in enumerate(names) if m >> i & 1) for m in set(mask.tolist())}
    filings["row_kinds"] = filings["accession"].map(mask.map(spelled)).astype("string")
    issuer = filings.drop_duplicates("accession").set_index("accession")["issuer_cik"]
    for t in ("owners", "footnotes"):
        out[t]["issuer_cik"] = out[t]["accession"].map(issuer).astype("Int64")
    return {t: conform(out[t], t) for t in TABLES}


__all__ = ["Store", "StoreFull", "atomic_write", "enrich", "enrich_arrow", "quarter_of"]
