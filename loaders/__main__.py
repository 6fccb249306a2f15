"""Command line: python -m loaders pull NLY | pull-insider CIK | ingest DIR | sync | status [--json] |
export TABLE --out FILE | compact.

Exit codes: 0 all done; 1 some filings failed or are still quarantined (after the summary); 2 an error stopped
the command (after the summary of what was done); 3 (sync) everything landed, but a data-set quarter the SEC
published without some of its tables was loaded partially or skipped (the summary names it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys

from tqdm import tqdm

from loaders.config import Settings
from loaders.errors import LoaderError
from loaders.frames import loaded_insiders, loaded_issuers
from loaders.store import Store

PARTIAL = 3  # sync: everything landed, but a data-set quarter was partial or skipped as incomplete


class _Bar:
    def __init__(self, desc: str):
        self.bar = tqdm(desc=desc, unit="filing", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, done: int, total: int, report) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        failed = len(report.failed)
        requests = getattr(report, "requests", None)
        self.bar.set_postfix_str(
            f"failed {failed}" + (f", requests {requests}" if requests is not None else "")
        )

    def close(self) -> None:
        self.bar.close()


def _network_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--max-rps",
        type=float,
        default=default,
        help="requests per second to EDGAR, shared by every process using this data folder "
        "(default EDGAR_MAX_RPS or 9; never more than 10)",
    )
    parser.add_argument(
        "--block-seconds",
        type=float,
        default=default,
        help="how long every request pauses after EDGAR answers 429 without a usable Retry-After "
        "(default EDGAR_BLOCK_SECONDS or 600)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loaders", description="Pull and store SEC ownership filings."
    )
    _network_options(parser, None)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pull", help="pull every Form 3/4/5 of issuers (ticker or CIK)")
    p.add_argument("targets", nargs="+")
    _network_options(p, argparse.SUPPRESS)
    p = sub.add_parser("pull-insider", help="pull every filing of reporting owners (CIK)")
    p.add_argument("ciks", nargs="+", type=int)
    _network_options(p, argparse.SUPPRESS)
    p = sub.add_parser("ingest", help="ingest a local folder of ownership XML files")
    p.add_argument("folder")
    p = sub.add_parser("status", help="what the store holds")
    p.add_argument("--json", action="store_true", help="one JSON object (counts, quarters, by_source)")
    sub.add_parser("compact", help="merge the store's Parquet parts")
    p = sub.add_parser("sync", help="the whole market: SEC quarterly insider data sets, then the daily tail")
    p.add_argument("--from", dest="first", help="first quarter, e.g. 2006q1 (default: the last 8 published)")
    p.add_argument("--to", dest="last", help="last quarter (default: the latest published)")
    p.add_argument(
        "--tail", dest="tail", action="store_true", default=True, help="then pull the filings after it"
    )
    p.add_argument("--no-tail", dest="tail", action="store_false", help="data sets only")
    _network_options(p, argparse.SUPPRESS)
    p = sub.add_parser("export", help="write the live (not superseded) rows of a table to Parquet or CSV")
    p.add_argument("table", choices=["transactions", "holdings", "filings"])
    p.add_argument("--out", required=True, help="FILE.parquet or FILE.csv")
    args = parser.parse_args(argv)
    settings = _settings(args)
    store = Store(settings.data_dir)
    try:
        if args.cmd in ("pull", "pull-insider", "ingest", "sync", "compact"):
            store.open()  # a writer: first remove what a killed writer left behind (orphan parts, temp files)
        return _run(args, settings, store)
    except LoaderError as e:
        report = getattr(e, "report", None)
        if report is not None:
            print(report.summary())
            _print_failed(report.failed)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the data folder, not EDGAR: a full disk, a read-only folder
        print(f"error: cannot use the data folder {settings.data_dir}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything stored so far is kept", file=sys.stderr)
        return 130


def _settings(args) -> Settings:
    from loaders.gate import HARD_MAX_RPS

    settings = Settings.from_env()
    changes = {}
    if args.max_rps is not None:
        changes["max_rps"] = args.max_rps
    if args.block_seconds is not None:
        changes["block_seconds"] = args.block_seconds
    settings = dataclasses.replace(settings, **changes)
    if settings.max_rps > HARD_MAX_RPS:
        print(
            f"note: {settings.max_rps:g} requests/s is over the SEC's limit; using {HARD_MAX_RPS:g}",
            file=sys.stderr,
        )
    return settings


def _say_paused(pause) -> None:
    until = dt.datetime.fromtimestamp(pause.until).strftime("%H:%M:%S")
    print(
        f"\nEDGAR is rate-limiting this machine: every request from this data folder pauses until {until} "
        f"({pause.until - pause.since:.0f} s). Everything fetched so far is kept; the pull resumes by itself "
        "(Ctrl-C stops it).",
        file=sys.stderr,
        flush=True,
    )


def _print_failed(failed, limit: int = 50) -> None:
    for acc, reason in failed[:limit]:
        print(f"  failed {acc}: {reason}")
    if len(failed) > limit:
        print(f"  ... and {len(failed) - limit:,} more (python -m loaders status lists the quarantine)")


def _run(args, settings: Settings, store: Store) -> int:
    from loaders import pipeline
    from loaders.ingest import ingest_dir

    failed = 0
    if args.cmd in ("pull", "pull-insider"):
        from loaders.edgar import EdgarClient

        client = EdgarClient(settings, store, on_pause=_say_paused)
        targets = args.targets if args.cmd == "pull" else args.ciks
        for target in targets:
            bar = _Bar(str(target))
            try:
                if args.cmd == "pull":
                    report = pipeline.pull_issuer(
                        target, settings=settings, store=store, progress=bar, client=client
                    )
                else:
                    report = pipeline.pull_insider(
                        target, settings=settings, store=store, progress=bar, client=client
                    )
            finally:
                bar.close()
            print(report.summary())
            _print_failed(report.failed)
            failed += len(report.failed)
        return 1 if failed else 0
    if args.cmd == "ingest":
        bar = _Bar(args.folder)
        try:
            ingested = ingest_dir(args.folder, store, progress=bar)
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        finally:
            bar.close()
        print(ingested.summary())
        _print_failed(ingested.failed)
        return 1 if ingested.failed else 0
    if args.cmd == "sync":
        return _sync(args, settings, store)
    if args.cmd == "export":
        from loaders.export import export

        n = export(store, args.table, args.out)
        print(f"wrote {n:,} {args.table} rows to {args.out}")
        return 0
    if args.cmd == "status" and args.json:
        import json

        from loaders.export import status

        print(json.dumps(status(store), default=str))
        return 0
    if args.cmd == "compact":
        print(f"removed {store.compact()} parts")
        return 0
    issuers = loaded_issuers(store)
    stats = store.stats()
    print(
        f"store: {settings.data_dir}  ({stats['parts']} parts, {stats['store_bytes'] / 1e6:.1f} MB, "
        f"{stats['raw_files']:,} raw filings)"
    )
    print(
        f"{len(issuers):,} issuers, {int(issuers['n_filings'].sum()) if len(issuers) else 0:,} filings, "
        f"{len(loaded_insiders(store)):,} insiders"
    )
    if len(issuers):
        print(issuers.sort_values("n_filings", ascending=False).head(20).to_string(index=False))
    _print_quarantine(store)
    return 0


def _sync(args, settings: Settings, store: Store) -> int:
    from loaders.edgar import EdgarClient
    from loaders.sync import sync

    bar = _Bar("sync")
    bar.bar.unit = "step"
    client = EdgarClient(settings, store, on_pause=_say_paused)
    try:
        report = sync(
            settings=settings,
            store=store,
            first=args.first,
            last=args.last,
            tail=args.tail,
            progress=bar,
            client=client,
        )
    finally:
        bar.close()
    print(report.summary())
    _print_failed(report.failed, 100)
    if report.missing:
        print(f"  not published on EDGAR's data sets page: {', '.join(report.missing)}")
    for problem in report.problems[:20]:
        print(f"  note {problem}")
    return 1 if report.failed else PARTIAL if report.is_partial else 0


def _print_quarantine(store: Store) -> None:
    from loaders.quarantine import Quarantine

    entries = Quarantine(store.root).entries()
    if not entries:
        print("quarantine: empty")
        return
    print(f"quarantine: {len(entries):,} filing(s) not stored (retried when their bytes change):")
    for e in entries[-50:]:
        print(f"  {e.key}  {e.when}  {e.reason}")


if __name__ == "__main__":
    raise SystemExit(main())
