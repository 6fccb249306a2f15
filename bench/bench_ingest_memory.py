"""Ingest the whole real corpus (form3, form4, form5) into a temporary store: speed, peak memory, size; then
time load() for the largest issuer and for everything.

Usage: .venv/bin/python bench/bench_ingest_memory.py [EDGAR_DIR]   (default ../shared/edgar)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.frames import load, loaded_issuers  # noqa: E402
from loaders.ingest import ingest_dir, read_filing_dates  # noqa: E402
from loaders.store import Store  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/edgar")
    print(f"baseline peak RSS {rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        dates = read_filing_dates(corpus / "form4")
        total = 0.0
        for sub in ("form3", "form4", "form5"):
            report = ingest_dir(corpus / sub, store, filing_dates=dates)
            total += report.elapsed
            print(f"{report.summary()}  ({report.total / report.elapsed:,.0f} files/s)")
        stats = store.stats()
        print(f"ingest total {total:.1f} s; peak RSS {rss_mb():.0f} MB; {stats['parts']} parts, "
              f"{stats['store_bytes'] / 1e6:.1f} MB Parquet, {stats['raw_files']:,} raw files")  # fmt: skip
        issuers = loaded_issuers(store)
        biggest = issuers.sort_values("n_filings").iloc[-1]
        for label, kw in ((f"{biggest['ticker']} ({biggest['n_filings']} filings)", {"tickers": [biggest["ticker"]]}),
                          ("all issuers", {})):  # fmt: skip
            t0 = time.perf_counter()
            frames = load(store, **kw)
            print(f"load() {label}: {time.perf_counter() - t0:.2f} s, {len(frames.filings):,} filings, "
                  f"{len(frames.transactions):,} transactions")  # fmt: skip
        t0 = time.perf_counter()
        store.compact()
        print(f"compact: {time.perf_counter() - t0:.1f} s -> {store.stats()['parts']} parts")
        t0 = time.perf_counter()
        frames = load(store)
        print(
            f"load() all issuers after compact: {time.perf_counter() - t0:.2f} s; peak RSS {rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
