"""Command line: python -m loaders pull NLY | pull-insider CIK | ingest DIR | sync | status [--json] | export | compact."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from loaders.config import Settings
from loaders.errors import LoaderError
from loaders.frames import loaded_insiders, loaded_issuers
from loaders.store import Store


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loaders", description="Pull and store SEC ownership filings."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pull", help="pull every Form 3/4/5 of issuers (ticker or CIK)")
    p.add_argument("targets", nargs="+")
    p = sub.add_parser("pull-insider", help="pull every filing of reporting owners (CIK)")
    p.add_argument("ciks", nargs="+", type=int)
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
    p = sub.add_parser("export", help="write the live (not superseded) rows of a table to Parquet or CSV")
    p.add_argument("table", choices=["transactions", "holdings", "filings"])
    p.add_argument("--out", required=True, help="FILE.parquet or FILE.csv")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    store = Store(settings.data_dir)
    try:
        if args.cmd in ("pull", "pull-insider", "ingest", "sync", "compact"):
            store.open()  # a writer: first remove what a killed writer left behind (orphan parts, temp files)
        return _run(args, settings, store)
    except LoaderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything stored so far is kept", file=sys.stderr)
        return 130


def _run(args, settings: Settings, store: Store) -> int:
    from loaders import pipeline
    from loaders.ingest import ingest_dir

    failed = 0
    if args.cmd in ("pull", "pull-insider"):
        from loaders.edgar import EdgarClient

        client = EdgarClient(settings, store)
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
            for acc, reason in report.failed:
                print(f"  failed {acc}: {reason}")
            failed += len(report.failed)
        return 1 if failed else 0
    if args.cmd == "ingest":
        bar = _Bar(args.folder)
        try:
            report = ingest_dir(args.folder, store, progress=bar)
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        finally:
            bar.close()
        print(report.summary())
        for name, reason in report.failed[:50]:
            print(f"  failed {name}: {reason}")
        return 0
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
    return 0


def _sync(args, settings: Settings, store: Store) -> int:
    from loaders.sync import sync

    bar = _Bar("sync")
    bar.bar.unit = "step"
    try:
        report = sync(
            settings=settings, store=store, first=args.first, last=args.last, tail=args.tail, progress=bar
        )
    finally:
        bar.close()
    print(report.summary())
    for name, reason in report.failed[:100]:
        print(f"  failed {name}: {reason}")
    if len(report.failed) > 100:
        print(f"  ... and {len(report.failed) - 100} more")
    if report.missing:
        print(f"  not published on EDGAR's data sets page: {', '.join(report.missing)}")
    for problem in report.problems[:20]:
        print(f"  note {problem}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
