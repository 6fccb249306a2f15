"""Ingest of a local folder of ownership XMLs."""

from __future__ import annotations

import pytest

from loaders.frames import load
from loaders.ingest import ingest_dir, read_filing_dates
from loaders.store import Store
from tests.conftest import need_corpus
from tests.fixtures.builder import write_fixture_corpus


def test_ingest_is_incremental_and_uses_filing_dates(tmp_path):
    """Guards against re-ingesting (doubling) filings and against losing EDGAR's filing dates."""
    dates = write_fixture_corpus(tmp_path / "xml")
    store = Store(tmp_path / "data")
    first = ingest_dir(tmp_path / "xml", store)
    again = ingest_dir(tmp_path / "xml", store)
    assert (first.new, first.cached, again.new, again.cached) == (19, 0, 0, 19)
    filings = load(store, include_superseded=True).filings.set_index("accession")
    assert all(str(filings.loc[a, "filing_date"].date()) == d for a, d in dates.items())
    assert set(filings["filing_date_source"]) == {"index"}
    assert store.read_raw(next(iter(dates))) is not None


def test_corrupt_file_reported_and_not_stored(tmp_path):
    """Guards against a broken file aborting the ingest or landing in the store."""
    write_fixture_corpus(tmp_path / "xml")
    (tmp_path / "xml" / "0009999999-24-000001.xml").write_bytes(b"<html><body>blocked</body></html>")
    store = Store(tmp_path / "data")
    report = ingest_dir(tmp_path / "xml", store)
    assert report.new == 19 and [f for f, _ in report.failed] == ["0009999999-24-000001.xml"]
    assert "0009999999-24-000001" not in store.known_accessions()
    assert store.read_raw("0009999999-24-000001") is None


@pytest.mark.corpus
def test_manifest_filing_dates_from_real_corpus():
    """Guards against ingesting the shared corpus with signature dates instead of EDGAR's filing dates."""
    corpus = need_corpus()
    dates = read_filing_dates(corpus / "form4")
    assert len(dates) > 16000
    assert dates["0000002488-23-000014"] == "2023-02-08"
