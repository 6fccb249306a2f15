"""Parse throughput over the real corpus, one core: filings/s and rows/s (goal >= 3,000 filings/s).

Usage: .venv/bin/python bench/bench_parse.py [FOLDER]   (default ../shared/edgar/form4)
All files are read into memory first, so only parsing is timed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.errors import CorruptFiling  # noqa: E402
from loaders.parser import parse_ownership  # noqa: E402


def main() -> None:
    folder = Path(
        sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/edgar/form4"
    )
    files = sorted(folder.glob("*.xml"))
    if not files:
        sys.exit(f"no XML files in {folder}")
    blobs = [(p.stem, p.read_bytes()) for p in files]
    size = sum(len(b) for _, b in blobs)
    best = None
    for _ in range(3):
        rows = failed = 0
        t0 = time.perf_counter()
        for acc, blob in blobs:
            try:
                p = parse_ownership(blob, acc)
            except CorruptFiling:
                failed += 1
                continue
            rows += len(p.transactions) + len(p.holdings)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    n = len(blobs)
    print(f"files        {n:,} ({size / 1e6:.1f} MB) from {folder}")
    print(f"rows         {rows:,} (transactions + holdings); failed {failed}")
    print(f"best of 3    {best:.2f} s")
    print(
        f"throughput   {n / best:,.0f} filings/s, {rows / best:,.0f} rows/s, {size / best / 1e6:.1f} MB/s (goal >= 3,000 filings/s)"
    )


if __name__ == "__main__":
    main()
