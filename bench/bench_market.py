"""Market-scale benchmark (issue 9): data-set load rate, and page/aggregation times on synthetic 1 M and 10 M
transaction-row stores, with the app process's peak memory.

1. Load rate: the largest generated quarter (fake EDGAR's 2023q1 zip, built offline by ../shared/fake_edgar/datasets.py)
   read by loaders.datasets.read_quarter (zip -> frames, the shared derivation included) and committed with
   Store.write_quarter: filings per second for the read alone and for read + commit, best of 3; the same for that
   zip replicated 6x (51,216 filings, the size of a real quarter; see `replicated`), and for every generated
   quarter merged into one zip (17,159 different real filings, see `merged`) replicated 3x (51,477 filings): a
   real quarter's filings are all different, so its per-value work (a rule runs once per distinct value) is
   larger than the 6x copy's; the merged 3x copy has twice the distinct values of the 6x one.
2. Synthetic stores: the generated quarters 2020q1..2023q3 are loaded once (the base: ~17,000 filings, ~37,000
   transactions). Copy k of the base (k = 0..K-1) gets new accession numbers (prefix 10000000kk, the base's filings
   numbered 1..n), is moved back (k mod 48) quarters in time (every date column shifted by 3 x that many months), and
   for k >= 48 gets its own issuers and insiders (CIK + (k // 48) x 10^8, ticker suffixed ".g"). So the store spans
   12 years with a real quarter's mix of forms, codes, amendments and footnotes in every quarter, and the largest
   issuer has 48 quarters of history. Each synthetic quarter is one Store.write_quarter commit (DuckDB SQL builds
   the copies; no pandas). K is chosen to reach the row target.
3. Per store size (a fresh subprocess, so its peak RSS is what an app process would hold):
   - issuer page of the largest issuer: its default range by SQL, frames.load of that range (since=), then every
     number and figure the issuer page builds;
   - market-wide net $ flow per week, all issuers, 5 years (analytics.market.market_flow, the market page's chart,
     over the market index; the index build, once per store snapshot, is reported apart);
   - the issuer list, an insider search, status; the amendment map (once per store version).

Usage: .venv/bin/python bench/bench_market.py [--rows 1000000,10000000] [--dir DIR] [--keep] [--reuse]
       [--skip-load | --load-only]   (--reuse measures the stores kept in DIR by an earlier --keep run)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from peak import peak_rss_mb  # noqa: E402  (bench/ is this script's own folder)

SHARED = Path(os.environ.get("INSIDER_SHARED_DIR") or ROOT.parent / "shared")
SHIFTS = 48  # quarters of history in the synthetic store


def build_zips(out: Path) -> Path:
    """The generated quarters 2020q1..2023q3 as zips (fake EDGAR's own generator, offline)."""
    out.mkdir(parents=True, exist_ok=True)
    quarters = [f"{y}q{q}" for y in (2020, 2021, 2022, 2023) for q in (1, 2, 3, 4) if f"{y}q{q}" <= "2023q3"]
    missing = [q for q in quarters if not (out / f"{q}_form345.zip").exists()]
    if missing:
        args = [sys.executable, str(SHARED / "fake_edgar" / "datasets.py"), "--out", str(out)]
        for q in missing:
            args += ["--quarter", q]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=SHARED / "fake_edgar")
    return out


def load_rate(zips: Path, repeats: int = 3) -> dict:
    """Read and commit of the 2023q1 zip, and of that zip replicated 6x (51,216 filings: a real quarter's size):
    best of `repeats` for each step (the machine is shared; the best run is the least disturbed)."""
    from loaders import datasets
    from loaders.store import Store

    data = (zips / "2023q1_form345.zip").read_bytes()
    out = {}
    runs = (("2023q1", data), ("2023q1_x6", replicated(data, 6)), ("corpus_x3", replicated(merged(zips), 3)))
    for label, blob in runs:
        read = commit = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            q = datasets.read_quarter(blob, "2023q1")
            read = min(read, time.perf_counter() - t)
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(tmp)
                t = time.perf_counter()
                store.write_quarter("2023q1", q.frames, {"sha256": "bench"})
                commit = min(commit, time.perf_counter() - t)
        out[label] = {
            "filings": q.filings,
            "rows": q.rows["transactions"] + q.rows["holdings"],
            "read_s": round(read, 3),
            "commit_s": round(commit, 3),
            "read_filings_per_s": round(q.filings / read),
            "total_filings_per_s": round(q.filings / (read + commit)),
        }
    return out


def merged(zips: Path) -> bytes:
    """Every generated quarter's zip as one: each table's rows one after another under the union of their headers
    (a column a quarter lacks, AFF10B5ONE before 2023q2, is empty in its rows)."""
    import io
    import zipfile

    heads: dict[str, list[str]] = {}
    rows: dict[str, list[dict[str, str]]] = {}
    for path in sorted(zips.glob("*_form345.zip")):
        src = zipfile.ZipFile(path)
        for name in src.namelist():
            if not name.endswith(".tsv"):
                continue
            head, *lines = src.read(name).decode("utf-8").rstrip("\n").split("\n")
            cols = head.split("\t")
            heads.setdefault(name, [])
            heads[name] += [c for c in cols if c not in heads[name]]
            # a ragged row (fewer fields than the header) keeps the fields it has, as the readers do
            rows.setdefault(name, []).extend(dict(zip(cols, ln.split("\t"), strict=False)) for ln in lines)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, cols in heads.items():
            lines = ["\t".join(cols), *("\t".join(r.get(c, "") for c in cols) for r in rows[name])]
            out.writestr(name, "\n".join(lines) + "\n")
    return buf.getvalue()


def replicated(data: bytes, copies: int) -> bytes:
    """The zip with every table's rows repeated `copies` times; copy k (k >= 1) has k for the first digit of its
    accession numbers (the generator's all start with 0) and its row keys (*_SK) raised by k x 10^7."""
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            text = src.read(name).decode("utf-8")
            head, *rows = text.rstrip("\n").split("\n")
            cols = head.split("\t")
            acc = cols.index("ACCESSION_NUMBER") if "ACCESSION_NUMBER" in cols else None
            sk = next((i for i, c in enumerate(cols) if c.endswith("_SK")), None)
            lines = [head]
            for k in range(copies):
                for row in rows:
                    f = row.split("\t")
                    if k and acc is not None and len(f) > acc:
                        f[acc] = f"{k}{f[acc][1:]}"
                    if k and sk is not None and len(f) > sk and f[sk].isdigit():
                        f[sk] = str(int(f[sk]) + k * 10**7)
                    lines.append("\t".join(f))
            out.writestr(name, "\n".join(lines) + "\n")
    return buf.getvalue()


def base_store(zips: Path, root: Path):
    from loaders import datasets
    from loaders.store import Store

    store = Store(root)
    if not store.has_data():
        for z in sorted(zips.glob("*_form345.zip")):
            quarter = z.name[:6]
            if quarter > "2023q3":
                continue
            q = datasets.read_quarter(z.read_bytes(), quarter)
            store.write_quarter(quarter, q.frames, {"sha256": "base"})
    return store


_DATES = {
    "filings": ["period_of_report", "filing_date", "date_of_original_submission", "signature_date"],
    "transactions": [
        "filing_date",
        "period_of_report",
        "transaction_date",
        "deemed_execution_date",
        "exercise_date",
        "expiration_date",
        "plan_adoption_date",
    ],
    "holdings": ["filing_date", "period_of_report", "exercise_date", "expiration_date"],
    "owners": [],
    "footnotes": [],
}


def synthesize(base, root: Path, copies: int) -> dict:
    """Write the synthetic store (see the module doc); returns its counts and build time."""
    import duckdb

    from loaders.schema import SCHEMAS
    from loaders.store import TABLES, Store, _arrow

    out = Store(root)
    con = duckdb.connect(":memory:")
    con.execute("SET threads TO 2")
    man = base.manifest()
    for table in TABLES:
        con.execute("SET VARIABLE f = ?", [base._paths(man, table)])
        con.execute(
            f"CREATE TABLE b_{table} AS SELECT * FROM read_parquet(getvariable('f'), union_by_name = true)"
        )
    con.execute(
        "CREATE TABLE accmap AS SELECT accession, row_number() OVER (ORDER BY accession) AS idx FROM b_filings"
    )
    con.execute(
        f"CREATE TABLE copies AS SELECT k, k % {SHIFTS} AS s, k // {SHIFTS} AS g FROM range({copies}) t(k)"
    )
    con.execute("CREATE MACRO qidx(d) AS year(d) * 4 + (month(d) - 1) // 3")
    con.execute("CREATE TABLE bq AS SELECT accession, qidx(filing_date) AS qi FROM b_filings")
    targets = con.execute("SELECT DISTINCT b.qi - c.s AS qi FROM bq b, copies c ORDER BY 1").fetchall()
    t = time.perf_counter()
    for (qi,) in targets:
        quarter = f"{qi // 4:04d}q{qi % 4 + 1}"
        tables = {}
        for table in TABLES:
            cols = []
            have = {r[0] for r in con.execute(f"DESCRIBE b_{table}").fetchall()}
            for col in SCHEMAS[table]:
                c = f'b."{col}"' if col in have else "NULL"
                if col not in have:
                    pass
                elif col == "accession":
                    c = "printf('%010d-%02d-%06d', 1000000000 + c.k, m.idx // 1000000, m.idx % 1000000)"
                elif col == "row_id":
                    c = "printf('%010d-%02d-%06d', 1000000000 + c.k, m.idx // 1000000, m.idx % 1000000) || substr(b.row_id, 21)"
                elif col in _DATES[table]:
                    c = f'b."{col}" - to_months(3 * c.s)'
                elif col in ("issuer_cik", "owner_cik", "first_owner_cik"):
                    c = f'b."{col}" + c.g * 100000000'
                elif col == "ticker":
                    c = "CASE WHEN c.g = 0 THEN b.ticker ELSE b.ticker || '.' || c.g END"
                elif col == "owner_ciks":
                    c = (
                        "array_to_string(list_transform(string_split(b.owner_ciks, '|'), "
                        "x -> CAST(TRY_CAST(x AS BIGINT) + c.g * 100000000 AS VARCHAR)), '|')"
                    )
                cols.append(f'{c} AS "{col}"')
            from loaders.store import SORT_KEYS

            order = ", ".join(f'"{k}"' for k in SORT_KEYS[table])
            sql = (
                f"SELECT {', '.join(cols)} FROM b_{table} b JOIN accmap m USING (accession) "
                f"JOIN bq USING (accession) JOIN copies c ON bq.qi - c.s = {int(qi)} ORDER BY {order}"
            )
            tables[table] = _arrow(con.execute(sql).arrow())
        out.write_quarter(quarter, tables, {"sha256": "synthetic"}, prepared=True)
    con.close()
    build = time.perf_counter() - t
    t = time.perf_counter()
    out.refresh_indexes()
    index = time.perf_counter() - t
    n = out.query("SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM filings) AS f")
    return {
        "copies": copies,
        "quarters": len(targets),
        "transactions": int(n["tx"].iloc[0]),
        "filings": int(n["f"].iloc[0]),
        "build_s": round(build, 1),
        "amendment_map_s": round(index, 2),
        "store_mb": round(out.stats()["store_bytes"] / 1e6, 1),
    }


def kept(root: Path, copies: int) -> dict:
    """The counts of a synthetic store kept from an earlier run (--reuse)."""
    from loaders.store import Store

    out = Store(root)
    n = out.query("SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM filings) AS f")
    return {
        "copies": copies,
        "transactions": int(n["tx"].iloc[0]),
        "filings": int(n["f"].iloc[0]),
        "store_mb": round(out.stats()["store_bytes"] / 1e6, 1),
        "reused": True,
    }


def measure(root: str) -> dict:
    """Run in a fresh process: the page and aggregation timings and this process's peak RSS."""
    from analytics import market, signals
    from analytics.filters import Filters, two_years_to
    from analytics.market_filters import MarketFilters
    from bench.bench_pages import issuer_page
    from loaders import frames
    from loaders.export import status
    from loaders.store import Store

    store = Store(root)
    out = {}
    big = store.query(
        "SELECT issuer_cik, count(*) AS n FROM transactions GROUP BY 1 ORDER BY n DESC LIMIT 1"
    ).iloc[0]
    out["largest_issuer_rows"] = int(big["n"])
    cik = int(big["issuer_cik"])
    for label in ("cold", "warm"):  # what the issuer page does: its range by SQL, then only that range's rows
        t = time.perf_counter()
        start, end_ = two_years_to(frames.latest_plausible_filing_date(store, issuer_ciks=[cik]))
        fr = frames.load(store, issuer_ciks=[cik], since=start, footnotes=False)  # as ui.data.load
        loaded = time.perf_counter() - t
        issuer_page(fr, Filters(start=start, end=end_))
        out[f"issuer_page_{label}_s"] = round(time.perf_counter() - t, 3)
        out[f"issuer_load_{label}_s"] = round(loaded, 3)
    out["issuer_rows_loaded"] = len(fr.transactions)
    end = store.query("SELECT max(transaction_date) AS d FROM transactions")["d"].iloc[0].date()
    t = (
        time.perf_counter()
    )  # the market index, built once per store snapshot (what the first market page waits)
    signals.ensure_index(store)
    out["market_index_build_s"] = round(time.perf_counter() - t, 3)
    five_years = MarketFilters(
        start=end - dt.timedelta(days=5 * 365), end=end, per="W", codes=("P", "S")
    ).base_where()
    for label in ("cold", "warm"):  # the one function behind the market page's flow chart
        t = time.perf_counter()
        weekly = market.market_flow(store, five_years, "W")
        out[f"market_weekly_5y_{label}_s"] = round(time.perf_counter() - t, 3)
    out["weeks"] = int(weekly["period"].nunique())
    t = time.perf_counter()
    frames.loaded_issuers(store)
    out["issuer_list_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    frames.search_insiders("smith john", store)
    out["insider_search_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    status(store)
    out["status_s"] = round(time.perf_counter() - t, 3)
    out["peak_rss_mb"] = peak_rss_mb()  # VmHWM: this process alone (bench/peak.py)
    return out


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2])))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default="1000000,10000000", help="transaction-row targets, comma-separated")
    p.add_argument("--dir", help="work folder (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the synthetic stores")
    p.add_argument(
        "--reuse", action="store_true", help="measure synthetic stores kept in --dir, do not rebuild"
    )
    p.add_argument("--skip-load", action="store_true", help="skip the data-set load rate")
    p.add_argument("--load-only", action="store_true", help="measure the data-set load rate only")
    a = p.parse_args()
    work = Path(a.dir or tempfile.mkdtemp(prefix="bench-market-"))
    work.mkdir(parents=True, exist_ok=True)
    zips = build_zips(work / "zips")
    if not a.skip_load:
        print("load of the largest generated quarter (2023q1):", json.dumps(load_rate(zips)), flush=True)
    if a.load_only:
        return
    base = base_store(zips, work / "base")
    base_tx = int(base.query("SELECT count(*) AS n FROM transactions")["n"].iloc[0])
    print(f"base store: {base_tx:,} transactions", flush=True)
    results = []
    for target in (int(x) for x in a.rows.split(",")):
        copies = max(1, round(target / base_tx))
        root = work / f"synthetic-{target}"
        if a.reuse and (root / "store" / "MANIFEST.json").is_file():
            built = kept(root, copies)
        else:
            shutil.rmtree(root, ignore_errors=True)
            built = synthesize(base, root, copies)
        print("built:", json.dumps(built), flush=True)
        got = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)], capture_output=True, text=True, check=True
        )
        timing = json.loads(got.stdout.strip().splitlines()[-1])
        print("measured:", json.dumps(timing), flush=True)
        results.append((built, timing))
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    if len(results) > 1:
        (b1, t1), (b2, t2) = results[0], results[-1]
        ratio = b2["transactions"] / b1["transactions"]
        print(f"growth {b1['transactions']:,} -> {b2['transactions']:,} rows (x{ratio:.1f}):")
        for key in t1:
            if isinstance(t1[key], float | int) and t1[key]:
                print(f"  {key}: {t1[key]} -> {t2[key]} (x{t2[key] / t1[key]:.2f})")
    if not a.dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
