"""Filings that could not be parsed or stored: recorded with their reason, and left alone until their bytes change.

A filing lands in quarantine when its body is not an ownership document (CorruptFiling), when the parser or the
store fails on it in any other way, or when `problems()` finds it cannot be placed (an issuer or owner CIK that is
not a CIK, a signature date or period of report outside 1900-2261: see schema.FILING_FLAGS). Its neighbours in the
same batch are stored as usual. `python -m loaders status` lists the quarantine.

One small JSON file per filing, `{data_dir}/quarantine/{key}.json` (key = accession, or the file name of a local
ingest), written atomically, so concurrent pulls and ingests never corrupt the list. Each entry keeps the SHA-256
of the bytes that failed: a later run skips a filing whose bytes are the same (no re-parse, and no request when
the raw XML is cached) and retries it when they differ; a filing that then succeeds leaves the quarantine.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from loaders import ids
from loaders.errors import LoaderError
from loaders.parser import ParsedFiling
from loaders.schema import FILING_FLAGS
from loaders.store import Store, atomic_write

QUARANTINING = tuple(f for f in FILING_FLAGS if f != "original_date_out_of_range")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class Entry:
    key: str  # accession (or file name of a local ingest)
    reason: str
    sha256: str | None  # of the bytes that failed; None when there were none (the fetch itself was refused)
    size: int | None
    source: str  # URL or local path
    when: str  # ISO time (UTC) it was recorded


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def problems(parsed: ParsedFiling) -> str | None:
    """Why a parsed filing cannot be stored (a sentence), or None when it can."""
    flags = set((parsed.filing.get("flags") or "").split(","))
    reasons = [FILING_FLAGS[f] for f in QUARANTINING if f in flags]
    if parsed.filing.get("filing_date") is None and "signature_date_out_of_range" not in flags:
        reasons.append("it has no usable filing date")
    return "; ".join(reasons) or None


class Quarantine:
    """The quarantine of one data folder."""

    def __init__(self, root: Path | str):
        self.dir = Path(root) / "quarantine"

    def _path(self, key: str) -> Path:
        name = key if ids.is_file_name(key) else "h-" + digest(key.encode())[:32]
        return self.dir / f"{name}.json"

    def add(self, key: str, reason: str, data: bytes | None = None, source: str = "") -> Entry:
        entry = Entry(
            key=key,
            reason=reason,
            sha256=digest(data) if data is not None else None,
            size=len(data) if data is not None else None,
            source=source,
            when=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        atomic_write(self._path(key), json.dumps(asdict(entry)).encode())
        return entry

    def get(self, key: str) -> Entry | None:
        try:
            return Entry(**json.loads(self._path(key).read_bytes()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def holds(self, key: str, data: bytes) -> Entry | None:
        """The entry when `key` is quarantined with exactly these bytes (skip it), else None (try it)."""
        entry = self.get(key)
        return entry if entry is not None and entry.sha256 == digest(data) else None

    def release(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def entries(self) -> list[Entry]:
        """Every quarantined filing, oldest first."""
        out = []
        for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                out.append(Entry(**json.loads(path.read_bytes())))
            except (ValueError, TypeError, OSError):
                continue
        return sorted(out, key=lambda e: (e.when, e.key))


def write_isolating(
    store: Store, batch: list[ParsedFiling], failed: list[tuple[str, str]], quarantine: Quarantine
) -> int:
    """Write a batch; when the store refuses it, find the filings it refuses (halving the batch), quarantine them
    with the reason and write the rest. Returns the number written. A full disk is not a filing's fault: raised."""
    if not batch:
        return 0
    try:
        store.write(batch)
        for parsed in batch:
            quarantine.release(parsed.accession)
        return len(batch)
    except OSError as e:
        if e.errno in _DISK_FULL:
            raise
        error: Exception = e
    except LoaderError:
        raise
    except Exception as e:  # noqa: BLE001 - one filing's values must not lose the batch
        error = e
    if len(batch) > 1:
        half = len(batch) // 2
        return write_isolating(store, batch[:half], failed, quarantine) + write_isolating(
            store, batch[half:], failed, quarantine
        )
    parsed = batch[0]
    reason = f"the store could not write it ({type(error).__name__}: {error})"
    quarantine.add(parsed.accession, reason, store.read_raw(parsed.accession), "store")
    failed.append((parsed.accession, reason))
    return 0
