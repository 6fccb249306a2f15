"""What each EDGAR listing had, when it was fetched, and which of its filings the store still lacks.

An issuer counts as loaded when its own listing (the issuer's submissions feed) was fetched, not when some filing of
it happens to be stored: pulling an insider stores a few filings of each issuer they report on, and must not make
those issuers look loaded. One small JSON file per listing, written atomically by the pull (loaders.pipeline):

    data/listings/{kind}-{cik:010d}.json   kind = issuer | insider

    {"kind", "cik", "name", "tickers": names it was asked for, "listed": accessions the listing had,
     "fetched_at": epoch seconds, "finished_at": epoch seconds or null while a pull runs (or was killed),
     "failed": {accession: reason}, "error": why the last pull stopped early, or null}

`missing(listing, stored)` = listed accessions the store lacks: a pull cut short (EDGAR down, process killed)
leaves them, and the next pull fetches only those. `stale()` says when a listing is older than its TTL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loaders.store import atomic_write

KINDS = ("issuer", "insider")


@dataclass
class Listing:
    kind: str
    cik: int
    name: str = ""
    tickers: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    fetched_at: float = 0.0
    finished_at: float | None = None
    failed: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def missing(self, stored: AbstractSet[str]) -> list[str]:
        """Listed accessions that are not in the store, in listing order (newest first)."""
        return [a for a in self.listed if a not in stored]

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)

    def stale(self, ttl: float, now: float | None = None) -> bool:
        return self.age(now) > ttl


def folder(root: Path | str) -> Path:
    return Path(root) / "listings"


def path(root: Path | str, kind: str, cik: int) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown listing kind {kind!r}")
    return folder(root) / f"{kind}-{int(cik):010d}.json"


def read(root: Path | str, kind: str, cik: int) -> Listing | None:
    try:
        raw = json.loads(path(root, kind, cik).read_bytes())
        return Listing(**{k: raw[k] for k in Listing.__dataclass_fields__ if k in raw})
    except (FileNotFoundError, ValueError, TypeError, KeyError):
        return None


def write(root: Path | str, listing: Listing) -> None:
    atomic_write(path(root, listing.kind, listing.cik), json.dumps(asdict(listing)).encode())


def all_listings(root: Path | str, kind: str = "issuer") -> list[Listing]:
    found = []
    for p in sorted(folder(root).glob(f"{kind}-*.json")):
        got = read(root, kind, int(p.stem.split("-", 1)[1]))
        if got is not None:
            found.append(got)
    return found


def started(
    root, kind: str, cik: int, name: str, asked: str, listed: list[str], now: float | None = None
) -> Listing:
    """Record a freshly fetched listing (the pull is running: finished_at is None)."""
    old = read(root, kind, cik)
    tickers = list(old.tickers) if old else []
    if kind == "issuer" and asked and not asked.isdigit() and asked not in tickers:
        tickers.append(asked)
    listing = Listing(kind=kind, cik=int(cik), name=name, tickers=tickers, listed=list(listed),
                      fetched_at=time.time() if now is None else now)  # fmt: skip
    write(root, listing)
    return listing


def finished(root, listing: Listing, failed: list[tuple[str, str]], error: str | None = None,
             now: float | None = None) -> Listing:  # fmt: skip
    """Record the end of a pull: which filings failed and why, or the error that stopped it."""
    listing.failed = {acc: reason[:300] for acc, reason in failed}
    listing.error = error[:500] if error else None
    listing.finished_at = time.time() if now is None else now
    write(root, listing)
    return listing


def for_ticker(root: Path | str, ticker: str) -> Listing | None:
    """The issuer listing fetched for this ticker (as typed), if any."""
    wanted = ticker.strip().upper()
    for listing in all_listings(root, "issuer"):
        if wanted in listing.tickers:
            return listing
    return None


def age_text(seconds: float) -> str:
    """'just now', '1 minute ago', '5 minutes ago', '3 hours ago', '2 days ago'."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"
