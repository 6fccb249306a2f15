"""`status --json` and `export`: what the store holds, and its live rows written to a file, straight from DuckDB.

Both stream from SQL (no whole-table pandas copy), so they work on a market-wide store.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loaders.schema import SCHEMAS
from loaders.store import Store, atomic_write

EXPORTABLE = ("transactions", "holdings", "filings")


def status(store: Store) -> dict:
    """One JSON-able object: live counts, issuers, insiders, data-set quarters, counts by source, disk use."""
    stats = store.stats()
    man = store.manifest()
    out = {
        "filings": 0,
        "transactions": 0,
        "holdings": 0,
        "issuers": 0,
        "insiders": 0,
        "quarters": sorted(man.get("quarters", {})),
        "by_source": {},
        "superseded": {"transactions": 0, "holdings": 0},
        "unverified_rows": 0,
        "tail_through": man.get("tail", {}).get("through"),
        "parts": stats["parts"],
        "store_bytes": stats["store_bytes"],
        "dataset_zip_bytes": stats["dataset_zip_bytes"],
        "raw_files": stats["raw_files"],
        "version": stats["version"],
    }
    if not store.has_data():
        return out
    f, t, h, o = store.query_many(
        [
            "SELECT source, count(*) AS n, count(DISTINCT issuer_cik) AS issuers FROM filings GROUP BY source",
            "SELECT source, count(*) FILTER (WHERE superseded_by IS NULL) AS live, "
            "count(*) FILTER (WHERE superseded_by IS NOT NULL) AS sup, "
            "count(*) FILTER (WHERE unverified IS NOT NULL) AS unv FROM transactions GROUP BY source",
            "SELECT source, count(*) FILTER (WHERE superseded_by IS NULL) AS live, "
            "count(*) FILTER (WHERE superseded_by IS NOT NULL) AS sup, "
            "count(*) FILTER (WHERE unverified IS NOT NULL) AS unv FROM holdings GROUP BY source",
            "SELECT (SELECT count(DISTINCT issuer_cik) FROM filings) AS issuers, "
            "(SELECT count(DISTINCT owner_cik) FROM owners) AS insiders",
        ]
    )
    by: dict = {}
    for src, n, _ in f.itertuples(index=False):
        by.setdefault(src, {})["filings"] = int(n)
    for name, frame in (("transactions", t), ("holdings", h)):
        for src, live, sup, unv in frame.itertuples(index=False):
            by.setdefault(src, {})[name] = int(live)
            out[name] += int(live)
            out["superseded"][name] += int(sup)
            out["unverified_rows"] += int(unv)
    out["filings"] = int(f["n"].sum())
    out["issuers"] = int(o["issuers"].iloc[0])
    out["insiders"] = int(o["insiders"].iloc[0])
    out["by_source"] = by
    return out


def export(store: Store, table: str, out: str | Path) -> int:
    """Write the live (not superseded) rows of `table` with the schema's columns to .parquet or .csv; returns rows.
    The file appears whole or not at all (written to a temporary name, then renamed)."""
    if table not in EXPORTABLE:
        raise ValueError(f"export: {table!r} is not one of {', '.join(EXPORTABLE)}")
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".parquet", ".csv"):
        raise ValueError(f"export: {out.name} must end in .parquet or .csv")
    cols = ", ".join(f'"{c}"' for c in SCHEMAS[table])
    live = " WHERE superseded_by IS NULL" if table != "filings" else ""
    order = "filing_date, accession" if table == "filings" else 'filing_date, accession, "table", seq'
    sql = f"SELECT {cols} FROM {table}{live} ORDER BY {order}"
    tmp = out.with_name(f".tmp-export-{out.name}")
    rows = 0
    writer = None
    try:
        for batch in store.batches(sql):
            if writer is None:
                writer = (
                    pq.ParquetWriter(tmp, batch.schema, compression="zstd")
                    if kind == ".parquet"
                    else pacsv.CSVWriter(tmp, batch.schema)
                )
            writer.write_table(pa.Table.from_batches([batch])) if kind == ".parquet" else writer.write_batch(
                batch
            )
            rows += batch.num_rows
        if writer is None:  # no rows: still a file with the header / schema
            writer = None
            empty_table = store.query(sql + " LIMIT 0")
            data = (
                _parquet_bytes(pa.Table.from_pandas(empty_table, preserve_index=False))
                if kind == ".parquet"
                else (",".join(f'"{c}"' for c in SCHEMAS[table]) + "\n").encode()
            )
            atomic_write(out, data)
            return 0
        writer.close()
        writer = None
        tmp.replace(out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return rows


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()
