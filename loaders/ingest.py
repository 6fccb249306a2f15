"""Ingest a local folder of ownership XMLs (e.g. ../shared/edgar/form4) into the store, offline.

Files are named ACCESSION.xml (others keep their file stem as a stable pseudo-accession). Filing dates come from, in
order: the `filing_dates` argument; a `filing_dates.tsv` (accession<TAB>date) in the folder; a `MANIFEST.tsv` in the
folder or its parent whose `notes` column carries `filed=YYYYMMDD`; else the parser's fallback (signature date).
Already-stored accessions are skipped; a file that fails to parse or to store is reported, quarantined with its
reason (loaders/quarantine.py) and skipped on later runs until its bytes change, and never blocks the rest of its
batch; parts are written in batches so memory stays bounded.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loaders import ids
from loaders.errors import CorruptFiling
from loaders.parser import ParsedFiling, parse_ownership
from loaders.quarantine import Quarantine, problems, write_isolating
from loaders.store import Store

BATCH = 2000  # filings per store write at most ...
BATCH_BYTES = (
    64 * 1024 * 1024
)  # ... and at most this much raw XML (ten 20 MB filings must not share one batch)
_FILED = re.compile(r"filed=(\d{4})(\d{2})(\d{2})")


@dataclass
class IngestReport:
    folder: str
    total: int = 0
    new: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    quarantined: int = 0  # of `failed`: still quarantined with the same bytes, so not tried again

    def summary(self) -> str:
        still = f" ({self.quarantined:,} still quarantined, unchanged)" if self.quarantined else ""
        return (
            f"{self.folder}: {self.new:,} new, {self.cached:,} already stored, {len(self.failed):,} failed{still} "
            f"of {self.total:,} files in {self.elapsed:.1f} s"
        )


def read_filing_dates(folder: Path) -> dict[str, str]:
    """Accession -> filing date (ISO) from filing_dates.tsv or a MANIFEST.tsv next to or above `folder`."""
    dates: dict[str, str] = {}
    tsv = folder / "filing_dates.tsv"
    if tsv.is_file():
        for line in tsv.read_text().splitlines():
            acc, _, day = line.partition("\t")
            if acc and day:
                dates[acc.strip()] = day.strip()
    for manifest in (folder / "MANIFEST.tsv", folder.parent / "MANIFEST.tsv"):
        if manifest.is_file():
            with manifest.open(newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    m = _FILED.search(row.get("notes") or "")
                    if m and row.get("file"):
                        dates.setdefault(Path(row["file"]).stem, f"{m[1]}-{m[2]}-{m[3]}")
            break
    return dates


def ingest_dir(
    path: Path | str,
    store: Store | None = None,
    filing_dates: dict[str, str] | None = None,
    progress: Callable[[int, int, IngestReport], None] | None = None,
) -> IngestReport:
    """Parse every *.xml under `path` not yet stored and write it to the store (raw XML included)."""
    from loaders.frames import default_store

    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    store = store or default_store()
    started = time.perf_counter()
    files = sorted(folder.rglob("*.xml"))
    report = IngestReport(folder=str(folder), total=len(files))
    dates = filing_dates if filing_dates is not None else read_filing_dates(folder)
    known = store.known_accessions()
    quarantine = Quarantine(store.root)
    batch: list[ParsedFiling] = []
    batch_bytes = 0
    for i, file in enumerate(files, 1):
        accession = file.stem
        if accession in known:
            report.cached += 1
        elif not ids.is_file_name(accession):
            report.failed.append((file.name, "the file name is not a plain accession or name (not stored)"))
        else:
            failure = _ingest_one(file, accession, dates.get(accession), store, quarantine, batch, report)
            if failure is None:
                known.add(accession)
                batch_bytes += file.stat().st_size
            else:
                report.failed.append((file.name, failure))
            if len(batch) >= BATCH or batch_bytes >= BATCH_BYTES:
                report.new += write_isolating(store, batch, report.failed, quarantine)
                batch, batch_bytes = [], 0
        if progress:
            progress(i, len(files), report)
    report.new += write_isolating(store, batch, report.failed, quarantine)
    report.elapsed = time.perf_counter() - started
    return report


def _ingest_one(file: Path, accession: str, day, store, quarantine, batch, report) -> str | None:
    """Parse one file into `batch` (raw copy cached); the reason it cannot be stored, else None."""
    blob = file.read_bytes()
    held = quarantine.holds(accession, blob)
    if held is not None:
        report.quarantined += 1
        return f"still quarantined (unchanged since {held.when}): {held.reason}"
    reason: str | None
    try:
        parsed = parse_ownership(blob, accession, day, "index" if day else "edgar")
    except CorruptFiling as e:
        reason = e.reason
    except Exception as e:  # noqa: BLE001 - a parser bug on one file must not stop the others
        reason = f"the parser failed on it ({type(e).__name__}: {e})"
    else:
        reason = problems(parsed)
        if reason is None:
            store.write_raw(accession, blob, durable=False)  # the source file stays on disk
            batch.append(parsed)
            return None
    quarantine.add(accession, reason, blob, str(file))
    return reason
