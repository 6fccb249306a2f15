"""Shared fixtures: where ../shared lives, and a real fake-EDGAR server over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("INSIDER_SHARED_DIR") or ROOT.parent / "shared")
CORPUS = SHARED / "edgar"
FAKE_EDGAR = SHARED / "fake_edgar" / "server.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IDENTITY = "Insider Dashboard Tests tests@example.com"


def need_corpus() -> Path:
    """Skip (with the reason) when the shared real-filing corpus is not beside the project."""
    if not (CORPUS / "form4").is_dir():
        pytest.skip(f"real EDGAR corpus not found at {CORPUS} (../shared is absent on this checkout)")
    return CORPUS


def need_fake_edgar() -> Path:
    if not FAKE_EDGAR.is_file():
        pytest.skip(f"fake EDGAR not found at {FAKE_EDGAR} (../shared is absent on this checkout)")
    return FAKE_EDGAR


class FakeEdgar:
    """A running ../shared/fake_edgar server: .url, .stats(), .reset(), .env(data_dir)."""

    def __init__(self, args: list[str]):
        server = need_fake_edgar()
        self.proc = subprocess.Popen(
            [sys.executable, str(server), "--port", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(server.parent),
        )
        line = self.proc.stdout.readline().strip()
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"fake EDGAR did not start: {line!r}")
        self.url = line[line.index("http://") :].split()[0].rstrip("/")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "/__stats", timeout=10) as r:
            return json.loads(r.read())

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/__reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).read()

    def env(self, data_dir: Path, identity: str | None = IDENTITY) -> dict[str, str]:
        """Environment variables pointing the loaders at this server and `data_dir`."""
        env = {"EDGAR_WWW": self.url, "EDGAR_DATA": self.url, "INSIDER_DATA_DIR": str(data_dir)}
        if identity:
            env["EDGAR_IDENTITY"] = identity
        return env

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def fake_edgar_factory():
    """Start fake EDGAR servers with any flags (e.g. ["--fault-rate", "0.1"]); all stopped at teardown."""
    started: list[FakeEdgar] = []

    def start(*args: str) -> FakeEdgar:
        server = FakeEdgar(list(args))
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def fake_edgar():
    """One plain fake EDGAR (real SEC rules, no faults) shared by a test session; reset it before use."""
    server = FakeEdgar([])
    yield server
    server.stop()
