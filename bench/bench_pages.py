"""Server-side time to build each page's frames and figures, for the largest issuer and for all loaded issuers,
and per filter change (frames already loaded, as st.cache_data keeps them). Goals: < 1.5 s per page,
< 0.5 s per filter change.

Ingests ../shared/edgar into a temporary store first (or uses INSIDER_DATA_DIR when it is set and non-empty).
Usage: .venv/bin/python bench/bench_pages.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import flow, holdings, insiders, plans, quality  # noqa: E402
from analytics.filters import Filters, apply_filters, default_range  # noqa: E402
from charts import figures  # noqa: E402
from loaders.frames import load, loaded_insiders  # noqa: E402
from loaders.ingest import ingest_dir, read_filing_dates  # noqa: E402
from loaders.store import Store  # noqa: E402


def issuer_page(frames, f: Filters) -> None:  # frames hold the chosen issuers: pages skip the ticker filter
    tx = apply_filters(frames.transactions, f, skip=("tickers",))
    scope = apply_filters(frames.transactions, f, skip=("tickers", "codes", "plan", "min_value"))
    checked = quality.with_quality(tx)
    flow.headline(tx, False, checked)
    figures.flow_figure(flow.net_flow(tx, f.freq, False, checked), f.unit, f.freq)
    points = holdings.holdings_series(
        scope, frames.holdings[frames.holdings["accession"].isin(scope["accession"])]
    )
    figures.holdings_figure(points)
    insiders.roster(tx, frames.owners, frames.holdings, scope, points)
    insiders.transactions_table(tx, checked)
    quality.quality_summary(tx, checked)


def plans_page(frames, f: Filters) -> None:
    f = f.replace(codes=("S",))
    tx = apply_filters(frames.transactions, f, skip=("tickers",))
    plans.plan_share(tx)
    figures.plan_activity_figure(plans.plan_activity(tx, f.freq))
    plans.plan_adoptions(
        apply_filters(frames.transactions, f, skip=("tickers", "codes", "start", "plan", "min_value"))
    )
    plans.checkbox_disagreements(
        apply_filters(frames.transactions, f, skip=("tickers", "codes", "plan")), frames.filings
    )


def explorer_page(frames, f: Filters) -> None:
    insiders.transactions_table(apply_filters(frames.transactions, f, skip=("tickers",)))


def insider_page(frames, f: Filters, cik: int) -> None:
    tx = apply_filters(frames.transactions, f)
    scope = apply_filters(frames.transactions, f, skip=("codes", "plan", "min_value"))
    insiders.insider_summary(tx, frames.filings, "x")
    points = holdings.holdings_series(scope, frames.holdings)
    figures.holdings_figure(points[points["owner_cik"] == cik])
    figures.trades_timeline_figure(tx)
    figures.plan_activity_figure(plans.plan_activity(tx, f.freq))
    insiders.late_filings(scope, frames.filings)
    insiders.filings_list(frames.filings)


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    data = os.environ.get("INSIDER_DATA_DIR")
    tmp = None
    if data and Store(data).has_data():
        store = Store(data)
    else:
        tmp = tempfile.TemporaryDirectory()
        store = Store(tmp.name)
        corpus = Path(__file__).resolve().parents[2] / "shared/edgar"
        dates = read_filing_dates(corpus / "form4")
        for sub in ("form3", "form4", "form5"):
            ingest_dir(corpus / sub, store, filing_dates=dates)
        store.compact()
    print(f"{'view':<34}{'load s':>8}{'page s':>8}{'total s':>9}{'filter change s':>17}")
    for label, kw in (("TEAM", {"tickers": ["TEAM"]}), ("all loaded issuers", {})):
        t0 = time.perf_counter()
        frames = load(store, **kw)
        load_s = time.perf_counter() - t0
        f = Filters(tickers=tuple(kw.get("tickers", ()))).with_range(default_range(frames.filings))
        changed = f.replace(codes=(), freq="Q", roles=("officer",))
        for page, fn in (("issuer", issuer_page), ("10b5-1 plans", plans_page), ("explorer", explorer_page)):
            page_s = timed(fn, frames, f)
            change_s = timed(fn, frames, changed)
            print(
                f"{page + ' / ' + label:<34}{load_s:>8.2f}{page_s:>8.2f}{load_s + page_s:>9.2f}{change_s:>17.2f}"
            )
    top = loaded_insiders(store).iloc[0]
    t0 = time.perf_counter()
    frames = load(store, owner_cik=int(top["owner_cik"]))
    load_s = time.perf_counter() - t0
    f = Filters().with_range(default_range(frames.filings))
    page_s = timed(insider_page, frames, f, int(top["owner_cik"]))
    change_s = timed(insider_page, frames, f.replace(codes=()), int(top["owner_cik"]))
    label = f"insider / {top['owner_name'][:18]}"
    print(f"{label:<34}{load_s:>8.2f}{page_s:>8.2f}{load_s + page_s:>9.2f}{change_s:>17.2f}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
