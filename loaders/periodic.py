"""Issuers' periodic-report dates (10-Q / 10-K), kept for the Rule 10b5-1 cooling-off check.

The amended rule ends a director's or officer's cooling-off 2 business days after the 10-Q/10-K for the quarter
in which the plan was adopted (at least 90, at most 120 days). Those dates come from the issuer's submissions feed
(`EdgarClient.periodic_reports`), read when an issuer is pulled, and are kept as one small JSON file per issuer:

    {data_dir}/periodic/CIK##########.json   [{"form", "report_date", "filing_date", "accession"}, ...]

written atomically (loaders.store.atomic_write), so a reader sees the old list or the new one, never a part.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from loaders.store import Store, atomic_write

COLUMNS = {
    "issuer_cik": "Int64",
    "form": "string",
    "report_date": "datetime64[ns]",
    "filing_date": "datetime64[ns]",
}


def _path(store: Store, cik: int) -> Path:
    return store.root / "periodic" / f"CIK{int(cik):010d}.json"


def write_periodic(store: Store, cik: int, reports: list[dict]) -> None:
    """Replace the stored periodic-report list of one issuer."""
    keep = [{k: r.get(k) for k in ("form", "report_date", "filing_date", "accession")} for r in reports]
    atomic_write(_path(store, cik), json.dumps(keep, indent=0).encode())


def record_periodic(client, store: Store, cik: int) -> int:
    """Read an issuer's 10-Q/10-K dates from its (cached) submissions feed and store them; returns how many."""
    reports = client.periodic_reports(cik)
    write_periodic(store, cik, reports)
    return len(reports)


def load_periodic(store: Store, issuer_ciks: Iterable[int] | None = None) -> pd.DataFrame:
    """Stored periodic reports: issuer_cik, form, report_date, filing_date (empty when none are stored).

    A missing or unreadable file counts as "no dates known" (the cooling-off check then says so)."""
    folder = store.root / "periodic"
    if issuer_ciks is None:
        paths = sorted(folder.glob("CIK*.json")) if folder.is_dir() else []
    else:
        paths = [_path(store, c) for c in {int(c) for c in issuer_ciks if pd.notna(c)}]
    rows = []
    for path in paths:
        try:
            items = json.loads(path.read_bytes())
        except (FileNotFoundError, ValueError):
            continue
        cik = int(path.stem.removeprefix("CIK"))
        rows += [{"issuer_cik": cik, "form": r.get("form"), "report_date": r.get("report_date"),
                  "filing_date": r.get("filing_date")} for r in items if isinstance(r, dict)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col, dtype in COLUMNS.items():
        frame[col] = (
            pd.to_datetime(frame[col], errors="coerce") if dtype.startswith("datetime") else frame[col]
        ).astype(dtype)
    return frame.dropna(subset=["report_date", "filing_date"]).reset_index(drop=True)
