"""Settings, read from the environment (never constants in code).

| variable | default | meaning |
|---|---|---|
| EDGAR_IDENTITY | (required for network) | User-Agent "Name email" the SEC requires |
| EDGAR_WWW | https://www.sec.gov | base URL for /files and /Archives |
| EDGAR_DATA | https://data.sec.gov | base URL for /submissions |
| EDGAR_MAX_RPS | 9 | request rate for every process sharing the data dir; at most 10 (the SEC's limit), whatever is set |
| EDGAR_BLOCK_SECONDS | 600 | how long every request pauses after a 429 without a usable Retry-After |
| EDGAR_WORKERS | 12 | concurrent requests in flight |
| INSIDER_DATA_DIR | ./data next to app.py | cache and store folder |
| EDGAR_SUBMISSIONS_TTL | 3600 | seconds a submissions JSON stays fresh |
| EDGAR_TICKERS_TTL | 86400 | seconds company_tickers.json stays fresh |
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import IdentityMissing

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_IDENTITY_RE = re.compile(r"\S+.*\s\S+@\S+\.\S+")


def _env_float(name: str, default: float) -> float:
    """The variable as a number; the default when it is unset or not a number (the gate clamps the rest)."""
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def _workers(value: float) -> int:
    return int(value) if math.isfinite(value) and 1 <= value <= 64 else 12


@dataclass(frozen=True)
class Settings:
    identity: str | None = None
    www: str = "https://www.sec.gov"
    data: str = "https://data.sec.gov"
    max_rps: float = 9.0
    block_seconds: float = 600.0
    workers: int = 12
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data")
    submissions_ttl: float = 3600.0
    tickers_ttl: float = 86400.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            identity=(env.get("EDGAR_IDENTITY") or "").strip() or None,
            www=env.get("EDGAR_WWW", "https://www.sec.gov").rstrip("/"),
            data=env.get("EDGAR_DATA", "https://data.sec.gov").rstrip("/"),
            max_rps=_env_float("EDGAR_MAX_RPS", 9.0),
            block_seconds=_env_float("EDGAR_BLOCK_SECONDS", 600.0),
            workers=_workers(_env_float("EDGAR_WORKERS", 12)),
            data_dir=Path(env.get("INSIDER_DATA_DIR") or PROJECT_ROOT / "data"),
            submissions_ttl=_env_float("EDGAR_SUBMISSIONS_TTL", 3600.0),
            tickers_ttl=_env_float("EDGAR_TICKERS_TTL", 86400.0),
        )

    def require_identity(self) -> str:
        """The declared User-Agent; IdentityMissing (saying how to set it) when absent or not 'Name email'."""
        if not self.identity:
            raise IdentityMissing()
        if not _IDENTITY_RE.fullmatch(self.identity) or any(
            ord(ch) < 32 or ord(ch) == 127 for ch in self.identity
        ):
            raise IdentityMissing(self.identity)
        return self.identity
