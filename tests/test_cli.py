"""The command line, end to end in a subprocess against fake EDGAR."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.fake_edgar


def _cli(args, env):
    full = {k: v for k, v in os.environ.items() if k != "EDGAR_IDENTITY"} | env
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pull_status_and_messages(fake_edgar, tmp_path):
    """Guards against a CLI that tracebacks on bad input or hides what it did."""
    env = fake_edgar.env(tmp_path / "data")
    out = _cli(["pull", "NLY"], env)
    assert out.returncode == 0, out.stderr
    assert "19 new, 0 cached, 0 failed of 19 filings" in out.stdout
    again = _cli(["pull", "NLY"], env)
    assert "0 new, 19 cached" in again.stdout and "0 requests" in again.stdout
    status = _cli(["status"], env)
    assert "1 issuers, 19 filings" in status.stdout and "NLY" in status.stdout
    bad = _cli(["pull", "NLYY"], env)
    assert bad.returncode == 2 and "Did you mean: NLY" in bad.stderr and "Traceback" not in bad.stderr
    anon = _cli(["pull", "NLY"], fake_edgar.env(tmp_path / "other", identity=None))
    assert anon.returncode == 2 and "EDGAR_IDENTITY" in anon.stderr and "Traceback" not in anon.stderr


def test_ingest_folder(tmp_path):
    """Guards against the offline ingest path breaking (no network needed)."""
    from tests.fixtures.builder import write_fixture_corpus

    write_fixture_corpus(tmp_path / "xml")
    out = _cli(["ingest", str(tmp_path / "xml")], {"INSIDER_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 0 and "19 new, 0 already stored, 0 failed of 19 files" in out.stdout
    missing = _cli(["ingest", str(tmp_path / "nope")], {"INSIDER_DATA_DIR": str(tmp_path / "data")})
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_ingest_with_failures_exits_1_after_the_summary_and_status_lists_the_quarantine(tmp_path):
    """Guards against `ingest` exiting 0 when files failed, and against quarantined filings being invisible."""
    from tests.fixtures.builder import write_fixture_corpus
    from tests.test_quarantine import SIGNED_9999, _hostile

    write_fixture_corpus(tmp_path / "xml")
    (tmp_path / "xml" / f"{SIGNED_9999}.xml").write_bytes(_hostile()[SIGNED_9999])
    env = {"INSIDER_DATA_DIR": str(tmp_path / "data")}
    out = _cli(["ingest", str(tmp_path / "xml")], env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "19 new, 0 already stored, 1 failed of 20 files" in out.stdout
    assert f"failed {SIGNED_9999}.xml: the signature date is outside" in out.stdout
    status = _cli(["status"], env)
    assert (
        status.returncode == 0 and "quarantine: 1 filing(s)" in status.stdout and SIGNED_9999 in status.stdout
    )


def test_identity_not_of_the_form_name_email(fake_edgar, tmp_path):
    """Guards against telling someone who set EDGAR_IDENTITY=foo that no identity is configured."""
    out = _cli(["pull", "NLY"], fake_edgar.env(tmp_path / "data", identity="foo"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert 'EDGAR_IDENTITY is set to "foo", which is not of the form "Name email"' in out.stderr
    assert "No EDGAR identity is configured" not in out.stderr


def test_unwritable_data_folder_is_a_message_not_a_traceback(tmp_path):
    """Guards against an OSError traceback when the data folder cannot be written (full disk, read-only)."""
    from tests.fixtures.builder import write_fixture_corpus

    write_fixture_corpus(tmp_path / "xml")
    (tmp_path / "data").write_text("a file where the data folder should be")
    out = _cli(["ingest", str(tmp_path / "xml")], {"INSIDER_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "cannot use the data folder" in out.stderr
