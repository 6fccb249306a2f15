"""Server-side time of each market page (Latest, Screener, Cluster buys, Market flow) and of a filter change on
each, on the synthetic 1 M and 10 M transaction-row stores of bench/bench_market.py (issue 9's builder: the
generated quarters copied with new accessions, shifted back in time, with more issuers and insiders past 48
copies). Goals: a page's build < 1.5 s, a filter change < 0.5 s.

A page's build = every analytics call the page makes + the tables it shows (and the figures it draws), without
Streamlit's cache (each call is cold; Streamlit would cache repeats). The signal index (once per store snapshot,
built by the first market page after a sync) is timed on its own. Each store is measured in a fresh process, so
its peak RSS is what an app process would hold.

Usage: .venv/bin/python bench/bench_market_pages.py [--rows 1000000,10000000] [--dir DIR] [--keep]
       (DIR/synthetic-<rows> from an earlier `bench/bench_market.py --dir DIR --keep` is reused)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from peak import peak_rss_mb  # noqa: E402  (bench/ is this script's own folder)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return round(time.perf_counter() - t, 3)


def measure(root: str) -> dict:
    """Run in a fresh process: index build, each page's build and a filter change on each."""
    from analytics import market, signals
    from analytics.filters import two_years_to
    from analytics.market_filters import MarketFilters as M
    from charts import figures
    from loaders.store import Store

    store = Store(root)
    out: dict = {"transactions": int(store.query("SELECT count(*) AS n FROM transactions")["n"].iloc[0])}
    out["signal_index_s"] = _timed(lambda: signals.ensure_index(store))
    newest = market.newest_filing_date(store)
    start, end = two_years_to(newest)

    def latest(preset: str, page: int = 1) -> None:
        market.latest_table(market.latest_preset(store, preset, page=page))

    def screen(f: M) -> None:
        open_market = bool(f.codes) and set(f.codes) <= {"P", "S"}
        market.screen_table(market.screen(store, f.base_where(), signal_where=f.signal_where(), sort=f.sort,
                                          descending=f.order == "desc", page=f.page, first_buy_years=f.years,
                                          open_market=open_market))  # fmt: skip

    def clusters(f: M) -> None:
        found = market.cluster_buys(store, f.start, f.end, window_days=f.window, min_insiders=f.buyers,
                                    where=f.replace(codes=("P",), start=None, end=None).base_where())  # fmt: skip
        market.clusters_table(found)
        if len(found):
            c = found.iloc[0]
            trades = market.cluster_trades(
                store, int(c["issuer_cik"]), c["start"].date(), c["window_end"].date()
            )
            figures.cluster_figure(trades, "cluster", (c["start"], c["window_end"]))
            market.cluster_trades_table(trades)

    def flow(f: M) -> None:
        where = f.replace(codes=("P", "S")).base_where()
        figures.market_flow_figure(market.market_flow(store, where, f.per), f.per)
        figures.buy_sell_ratio_figure(market.buy_sell_ratio(store, where, f.per), f.per)
        top = market.top_issuers(store, where)
        figures.top_issuers_figure(top)
        market.top_issuers_table(top)

    two = M(start=start, end=end)
    cases = {
        "latest_page_s": lambda: latest("latest"),
        "latest_change_preset_s": lambda: latest("ceo-cfo-purchases"),
        "latest_next_page_s": lambda: latest("purchases", page=2),
        "screener_page_s": lambda: screen(M()),
        "screener_change_min_value_s": lambda: screen(M(min_value=1_000_000)),
        "screener_change_sort_s": lambda: screen(M(sort="value")),
        "screener_change_page_s": lambda: screen(M(sort="value", page=3)),
        "screener_change_role_ceo_s": lambda: screen(M(roles=("ceo",), codes=("P",))),
        "screener_signal_filter_s": lambda: screen(M(cmp=("opportunistic",), codes=("P",))),
        "screener_other_codes_s": lambda: screen(M(codes=("A", "M"), sort="value")),
        "clusters_page_s": lambda: clusters(two),
        "clusters_change_window_s": lambda: clusters(two.replace(window=14)),
        "market_page_s": lambda: flow(two),
        "market_change_weekly_s": lambda: flow(two.replace(per="W")),
        "market_weekly_5y_s": lambda: flow(M(start=newest - dt.timedelta(days=5 * 365), end=newest, per="W")),
    }
    for key, fn in cases.items():
        out[key] = _timed(fn)
    out["peak_rss_mb"] = peak_rss_mb()  # VmHWM: this process alone (bench/peak.py)
    return out


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2])))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default="1000000,10000000", help="transaction-row targets, comma-separated")
    p.add_argument("--dir", help="work folder (default: a temporary one); DIR/synthetic-<rows> is reused")
    p.add_argument("--keep", action="store_true", help="keep the synthetic stores it builds")
    a = p.parse_args()
    from bench import bench_market  # issue 9's synthetic-store builder

    work = Path(a.dir or tempfile.mkdtemp(prefix="bench-market-pages-"))
    work.mkdir(parents=True, exist_ok=True)
    base = None
    results = []
    for target in (int(x) for x in a.rows.split(",")):
        root = work / f"synthetic-{target}"
        built = (root / "store").is_dir()
        if not built:
            if base is None:
                base = bench_market.base_store(bench_market.build_zips(work / "zips"), work / "base")
            base_tx = int(base.query("SELECT count(*) AS n FROM transactions")["n"].iloc[0])
            print(
                "built:",
                json.dumps(bench_market.synthesize(base, root, max(1, round(target / base_tx)))),
                flush=True,
            )
        got = subprocess.run([sys.executable, __file__, "--measure", str(root)], capture_output=True, text=True,
                             check=True)  # fmt: skip
        timing = json.loads(got.stdout.strip().splitlines()[-1])
        print(f"{target:,} rows:", json.dumps(timing), flush=True)
        results.append(timing)
        if not built and not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    if len(results) > 1:
        t1, t2 = results[0], results[-1]
        print(f"growth {t1['transactions']:,} -> {t2['transactions']:,} rows "
              f"(x{t2['transactions'] / t1['transactions']:.1f}):")  # fmt: skip
        for key in t1:
            if key != "transactions" and t1[key]:
                print(f"  {key}: {t1[key]} -> {t2[key]} (x{t2[key] / t1[key]:.2f})")
    if not a.dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
