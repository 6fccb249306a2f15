"""Helpers for store tests: a store filled from the fixture corpus."""

from __future__ import annotations

from pathlib import Path

from loaders.ingest import ingest_dir
from loaders.store import Store
from tests.fixtures.builder import write_fixture_corpus


def fixture_store(tmp: Path) -> Store:
    """A Store under tmp/data holding the whole fixture corpus (ACME + BETA)."""
    src = tmp / "fixture-xml"
    write_fixture_corpus(src)
    store = Store(tmp / "data")
    report = ingest_dir(src, store)
    assert report.new == 19 and not report.failed
    return store
