"""Settings, read from the environment (never constants in code).

| variable | default | meaning |
|---|---|---|
| EDGAR_IDENTITY | (required for network) | User-Agent "Name email" the SEC requires |
| EDGAR_WWW | https://www.sec.gov | base URL for /files and /Archives |
| EDGAR_DATA | https://data.sec.gov | base URL for /submissions |
| EDGAR_MAX_RPS | 9 | process-wide request rate limit |
| EDGAR_WORKERS | 12 | concurrent requests in flight |
| INSIDER_DATA_DIR | ./data next to app.py | cache and store folder |
| EDGAR_SUBMISSIONS_TTL | 3600 | seconds a submissions JSON stays fresh |
| EDGAR_TICKERS_TTL | 86400 | seconds company_tickers.json stays fresh |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import IdentityMissing

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_IDENTITY_RE = re.compile(r"\S+.*\s\S+@\S+\.\S+")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    identity: str | None = None
    www: str = "https://www.sec.gov"
    data: str = "https://data.sec.gov"
    max_rps: float = 9.0
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
            workers=int(_env_float("EDGAR_WORKERS", 12)),
            data_dir=Path(env.get("INSIDER_DATA_DIR") or PROJECT_ROOT / "data"),
            submissions_ttl=_env_float("EDGAR_SUBMISSIONS_TTL", 3600.0),
            tickers_ttl=_env_float("EDGAR_TICKERS_TTL", 86400.0),
        )

    def require_identity(self) -> str:
        """The declared User-Agent; IdentityMissing (saying how to set it) when absent or not 'Name email'."""
        if not self.identity or not _IDENTITY_RE.fullmatch(self.identity):
            raise IdentityMissing()
        return self.identity
