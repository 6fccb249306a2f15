"""Cold pull of the largest issuer from fake EDGAR with 100 ms latency, then a warm reopen.

Prints requests, elapsed, sustained requests/s and the server's max requests in any 1 s window (goal >= 8/s,
never > 10), then the warm reopen's requests (goal 0) and seconds (goal < 1).
Usage: .venv/bin/python bench/bench_pull.py [TICKER] [LATENCY_MS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.config import Settings  # noqa: E402
from loaders.frames import load  # noqa: E402
from loaders.pipeline import pull_issuer  # noqa: E402
from loaders.store import Store  # noqa: E402
from tests.conftest import FakeEdgar  # noqa: E402


def main() -> None:
    ticker = sys.argv[1] if len(sys.argv) > 1 else "TEAM"
    latency = sys.argv[2] if len(sys.argv) > 2 else "100"
    server = FakeEdgar(["--latency-ms", latency])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                identity="Bench bench@example.com", www=server.url, data=server.url, data_dir=Path(tmp)
            )
            cold = pull_issuer(ticker, settings=settings)
            stats = server.stats()
            print(f"cold pull {ticker}: {cold.summary()}")
            print(f"  sustained   {cold.requests / cold.elapsed:.2f} requests/s over {cold.elapsed:.1f} s "
                  f"(goal >= 8)")  # fmt: skip
            print(f"  max in 1 s  {stats['max_requests_in_1s']} (goal <= 10); statuses {stats['by_status']}")
            server.reset()
            t0 = time.perf_counter()
            warm = pull_issuer(ticker, settings=settings)
            frames = load(Store(tmp), tickers=[ticker])
            took = time.perf_counter() - t0
            print(f"warm reopen: {warm.requests} requests (goal 0), {took:.2f} s incl. loading "
                  f"{len(frames.transactions):,} transactions (goal < 1 s); server saw {server.stats()['total']}")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
