"""The local store under a data folder: raw XML by accession, a TTL'd JSON cache, and parsed Parquet parts.

Layout (see data/README.md):
    raw/{first 10 chars of accession}/{accession}.xml   raw filings, forever; atomic writes
    http/{key}.json                                      listings (submissions, tickers), fresh for a TTL
    store/{table}/part-{batch}.parquet                   one immutable part per table per write

Concurrency: every file is written to a temporary name in its folder and renamed into place, so readers never see
a partial file. A write puts the same `_batch` id (time-ordered, unique) in all its parts and writes the filings part
LAST. Reads keep, for each accession, only the newest batch whose filings part exists, so a filing written twice by
two concurrent pulls counts once and rows of a half-finished write are invisible. Queries run in a fresh in-memory
DuckDB connection over the Parquet files: there is no database file, hence no lock to contend for. A part removed
by compact() while a query runs makes the query retry with a fresh listing.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loaders.parser import ParsedFiling
from loaders.schema import conform, empty

TABLES = ("owners", "transactions", "holdings", "footnotes", "filings")  # filings last: it commits a batch


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write bytes to path so that readers see the old file or the whole new one, never a part.

    durable=False skips the fsync (still atomic for readers and against a killed process; only a power cut may
    lose the file): for copies of files that stay on disk elsewhere, such as a local ingest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_batch_id() -> str:
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


class Store:
    """Raw cache, JSON cache and Parquet tables under `root` (settings.data_dir)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.raw_dir = self.root / "raw"
        self.http_dir = self.root / "http"
        self.table_dir = self.root / "store"

    # ------------------------------------------------------------------ raw XML
    def raw_path(self, accession: str) -> Path:
        return self.raw_dir / accession[:10] / f"{accession}.xml"

    def read_raw(self, accession: str) -> bytes | None:
        try:
            return self.raw_path(accession).read_bytes()
        except FileNotFoundError:
            return None

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

    # ------------------------------------------------------------------ parsed tables
    def _parts(self, table: str) -> list[Path]:
        folder = self.table_dir / table
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def has_data(self) -> bool:
        return bool(self._parts("filings"))

    def write(self, parsed: Iterable[ParsedFiling]) -> int:
        """Store parsed filings as one new part per table; returns the number of filings written."""
        parsed = list(parsed)
        if not parsed:
            return 0
        batch = new_batch_id()
        rows = {
            "filings": [p.filing for p in parsed],
            "owners": [o for p in parsed for o in p.owners],
            "transactions": [t for p in parsed for t in p.transactions],
            "holdings": [h for p in parsed for h in p.holdings],
            "footnotes": [f for p in parsed for f in p.footnotes],
        }
        for table in TABLES:
            self._write_part(table, conform(rows[table], table) if rows[table] else empty(table), batch)
        return len(parsed)

    def _write_part(self, table: str, frame: pd.DataFrame, batch: str) -> None:
        frame = frame.assign(_batch=batch)
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pq.write_table(arrow, sink, compression="zstd")
        atomic_write(self.table_dir / table / f"part-{batch}.parquet", sink.getvalue().to_pybytes())

    def known_accessions(self) -> set[str]:
        """Accessions whose parsed rows are committed in the store."""
        if not self.has_data():
            return set()
        df = self.query("SELECT DISTINCT accession FROM filings_all")
        return set(df["accession"].dropna())

    # ------------------------------------------------------------------ queries
    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run SQL over views `<table>_all` (every part) and `<table>` (live batch per accession)."""
        return self.query_many([sql], params)[0]

    def query_many(self, sqls: list[str], params: list | None = None) -> list[pd.DataFrame]:
        """Several queries over one consistent listing of parts (same params for each)."""
        for attempt in range(3):
            try:
                return self._query_once(sqls, params)
            except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError):
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _query_once(self, sqls: list[str], params: list | None) -> list[pd.DataFrame]:
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 2")
            files = {t: self._parts(t) for t in TABLES}
            for table in TABLES:
                if files[table]:
                    paths = ", ".join(f"'{p.as_posix()}'" for p in files[table])
                    con.execute(
                        f"CREATE VIEW {table}_all AS SELECT * FROM read_parquet([{paths}], union_by_name = true)"
                    )
                else:
                    con.register(f"{table}_empty", empty(table).assign(_batch=pd.Series(dtype="string")))
                    con.execute(f"CREATE VIEW {table}_all AS SELECT * FROM {table}_empty")
            con.execute(
                "CREATE VIEW live AS SELECT accession, max(_batch) AS _batch FROM filings_all GROUP BY accession"
            )
            for table in TABLES:
                con.execute(
                    f"CREATE VIEW {table} AS SELECT t.* EXCLUDE (_batch) FROM {table}_all t "
                    f"JOIN live USING (accession, _batch)"
                )
            return [con.execute(sql, params or []).df() for sql in sqls]
        finally:
            con.close()

    def compact(self) -> int:
        """Merge every table's parts into one (live rows only); returns the number of parts removed."""
        old = {t: self._parts(t) for t in TABLES}
        if sum(len(v) for v in old.values()) <= len(TABLES):
            return 0
        batch = new_batch_id()
        for table in TABLES:
            frame = self.query(f"SELECT * FROM {table}")
            self._write_part(table, conform(frame, table), batch)
        removed = 0
        for table in TABLES:
            for part in old[table]:
                part.unlink(missing_ok=True)
                removed += 1
        return removed

    def stats(self) -> dict:
        parts = sum(len(self._parts(t)) for t in TABLES)
        size = sum(p.stat().st_size for t in TABLES for p in self._parts(t))
        raw = sum(1 for _ in self.raw_dir.rglob("*.xml")) if self.raw_dir.is_dir() else 0
        return {"parts": parts, "store_bytes": size, "raw_files": raw}
