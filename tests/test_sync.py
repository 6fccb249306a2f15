"""`python -m loaders sync` against fake EDGAR over real HTTP: data-set quarters, the daily tail, re-runs, faults."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import io
import json
import threading
import zipfile

import pytest

from loaders.__main__ import main
from loaders.store import Store
from tests.conftest import FAKE_EDGAR, IDENTITY, need_fake_edgar
from tests.test_datasets import _tiny_zip

TODAY = dt.date.today()


def _corpus_index() -> list[dict]:
    with gzip.open(FAKE_EDGAR.parent / "index.tsv.gz", "rt") as fh:
        head, *rows = [line.rstrip("\n").split("\t") for line in fh]
    return [dict(zip(head, r, strict=True)) for r in rows]


_GOT: dict[str, bytes] = {}


def _get(url: str) -> bytes:
    """GET with the identity, paced under fake EDGAR's 10/s (the test's own look-ups, not the code under test)."""
    import time
    import urllib.request

    if url not in _GOT:
        time.sleep(0.15)
        req = urllib.request.Request(url, headers={"User-Agent": IDENTITY})
        with urllib.request.urlopen(req, timeout=120) as r:
            _GOT[url] = r.read()
    return _GOT[url]


def _zip_counts(server, quarter: str) -> int:
    data = _zip_bytes(server, quarter)
    sub = zipfile.ZipFile(io.BytesIO(data)).read("SUBMISSION.tsv").decode()
    return len([line for line in sub.split("\n")[1:] if line])


def _run(monkeypatch, server, data_dir, *args) -> int:
    for k, v in server.env(data_dir).items():
        monkeypatch.setenv(k, v)
    return main(list(args))


def _status(monkeypatch, server, data_dir, capsys) -> dict:
    capsys.readouterr()
    assert _run(monkeypatch, server, data_dir, "status", "--json") == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def synced(tmp_path_factory, fake_edgar):
    """One sync --from 2020q1 --to 2023q3 (tail on) into a data dir whose path holds a quote."""
    need_fake_edgar()
    fake_edgar.reset()
    data = tmp_path_factory.mktemp("sync") / "it's data"
    mp = pytest.MonkeyPatch()
    try:
        code = _run(mp, fake_edgar, data, "sync", "--from", "2020q1", "--to", "2023q3")
    finally:
        mp.undo()
    return data, code, fake_edgar.stats()


def test_sync_loads_every_generated_quarter(synced, fake_edgar, monkeypatch, capsys):
    """Guards against a quarter left out, a filing counted twice, or a data dir with a quote breaking SQL."""
    data, code, _ = synced
    assert code == 0
    status = _status(monkeypatch, fake_edgar, data, capsys)
    listed = {q for q in _published(fake_edgar) if "2020q1" <= q <= "2023q3"}
    assert set(status["quarters"]) == listed and len(listed) >= 10
    expected = sum(_zip_counts(fake_edgar, q) for q in listed)
    assert status["by_source"]["dataset"]["filings"] == expected
    store = Store(data)
    dup = store.query("SELECT accession, count(*) AS n FROM filings GROUP BY 1 HAVING n > 1")
    assert dup.empty
    tx = store.query("SELECT row_id, count(*) AS n FROM transactions GROUP BY 1 HAVING n > 1")
    assert tx.empty
    for key in ("filings", "transactions", "holdings", "issuers", "insiders", "quarters", "by_source"):
        assert key in status


def test_sync_builds_the_market_index_of_its_snapshot(synced):
    """Guards against the first market page after a sync waiting a minute and more for the index: sync builds the
    index of the snapshot it leaves (ensure_index then finds every file and writes nothing)."""
    from analytics import signals

    data, _, _ = synced
    store = Store(data)
    folder = data / "cache" / "signals"
    tag = signals.snapshot_tag(store)
    built = sorted(p.name for p in folder.glob(f"*-{tag}.parquet"))
    assert any(n.startswith("trades-") for n in built) and any(n.startswith("rows0-") for n in built), built
    stamps = {p: p.stat().st_mtime_ns for p in folder.glob(f"*-{tag}.parquet")}
    signals.ensure_index(store)
    assert {p: p.stat().st_mtime_ns for p in folder.glob(f"*-{tag}.parquet")} == stamps


def _published(server) -> list[str]:
    import re

    page = _get(f"{server.url}/data-research/sec-markets-data/insider-transactions-data-sets").decode()
    return sorted(set(re.findall(r"(\d{4}q[1-4])_form345\.zip", page)))


def test_tail_pulls_exactly_the_filings_after_the_last_quarter(synced):
    """Guards against a tail that misses days, re-pulls quarter filings, or takes filings dated in the future."""
    data, _, _ = synced
    expected = {r["accession"] for r in _corpus_index() if "2023-09-30" < r["filed"] <= TODAY.isoformat()}
    store = Store(data)
    got = set(store.query("SELECT accession FROM filings WHERE source = 'xml'")["accession"])
    assert got == expected and len(expected) > 5
    ds = set(store.query("SELECT accession FROM filings WHERE source = 'dataset'")["accession"])
    assert not (ds & got)
    assert store.manifest()["tail"]["through"] == (TODAY - dt.timedelta(days=1)).isoformat()


def test_rerun_is_incremental(synced, fake_edgar, monkeypatch, capsys):
    """Guards against a re-run downloading zips or XML again, or storing anything twice."""
    data, _, _ = synced
    before = _status(monkeypatch, fake_edgar, data, capsys)
    fake_edgar.reset()
    assert _run(monkeypatch, fake_edgar, data, "sync", "--from", "2020q1", "--to", "2023q3") == 0
    out = capsys.readouterr().out
    assert "0 loaded" in out and "0 new" in out
    stats = fake_edgar.stats()
    prefixes = stats["by_prefix"]
    assert not any("insider-transactions-data-sets/" in p and p.endswith(".zip") for p in prefixes)
    assert prefixes.get("/Archives/edgar/data", 0) == 0
    assert stats["total"] <= 4  # the data sets page and today's daily index (plus yesterday's at most)
    after = _status(monkeypatch, fake_edgar, data, capsys)
    assert after["filings"] == before["filings"] and after["transactions"] == before["transactions"]


def test_export_and_status(synced, fake_edgar, monkeypatch, capsys, tmp_path):
    """Guards against an export holding superseded rows or missing schema columns."""
    import pandas as pd

    from loaders.schema import SCHEMAS

    data, _, _ = synced
    status = _status(monkeypatch, fake_edgar, data, capsys)
    out = tmp_path / "tx.parquet"
    assert _run(monkeypatch, fake_edgar, data, "export", "transactions", "--out", str(out)) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns) == list(SCHEMAS["transactions"])
    assert len(frame) == status["transactions"] and frame["superseded_by"].isna().all()
    csv = tmp_path / "filings.csv"
    assert _run(monkeypatch, fake_edgar, data, "export", "filings", "--out", str(csv)) == 0
    assert len(pd.read_csv(csv)) == status["filings"]


def test_fault_mix_on_the_zips_completes_without_duplicates(
    fake_edgar_factory, fake_edgar, tmp_path, monkeypatch, capsys
):
    """Guards against a 503, a reset or a truncated zip losing a quarter or storing it twice (or half of it)."""
    server = fake_edgar_factory(
        "--fault-rate", "0.3", "--dataset-faults", "--faults", "503,reset,truncate", "--seed", "7"
    )
    data = tmp_path / "data"
    code = _run(monkeypatch, server, data, "sync", "--from", "2022q1", "--to", "2023q2", "--no-tail")
    out = capsys.readouterr().out
    assert code == 0, out
    stats = server.stats()
    assert sum(stats["by_fault"].values()) > 0
    store = Store(data)
    assert sorted(store.loaded_quarters()) == ["2022q1", "2022q2", "2022q3", "2022q4", "2023q1", "2023q2"]
    assert store.query("SELECT accession FROM filings GROUP BY 1 HAVING count(*) > 1").empty
    assert store.query("SELECT row_id FROM transactions GROUP BY 1 HAVING count(*) > 1").empty
    assert int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0]) == sum(
        _zip_counts(fake_edgar, q)
        for q in store.loaded_quarters()  # the same corpus, served without faults
    )
    for q in store.loaded_quarters():  # the cached zips are whole: byte for byte what a clean server sends
        assert (data / "datasets" / f"{q}_form345.zip").read_bytes() == _zip_bytes(fake_edgar, q)


class _Site(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = self.files.get(self.path.split("?")[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *a):
        pass


def test_corrupt_zip_is_named_and_nothing_of_it_stored(fake_edgar, tmp_path, monkeypatch, capsys):
    """Guards against a corrupt quarter (served 200 OK) being stored in part, cached, or failing silently."""
    good = _zip_bytes(fake_edgar, "2022q4")
    bad = _zip_bytes(fake_edgar, "2022q3")
    bad = bad[: len(bad) // 2] + bytes(
        len(bad) - len(bad) // 2
    )  # second half zeroed: CRC and directory broken
    prefix = "/files/structureddata/data/insider-transactions-data-sets/"
    _Site.files = {
        "/data-research/sec-markets-data/insider-transactions-data-sets": (
            f'<a href="{prefix}2022q4_form345.zip">4</a><a href="{prefix}2022q3_form345.zip">3</a>'
        ).encode(),
        prefix + "2022q4_form345.zip": good,
        prefix + "2022q3_form345.zip": bad,
    }
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{site.server_address[1]}"
        for k, v in {"EDGAR_WWW": url, "EDGAR_DATA": url, "INSIDER_DATA_DIR": str(tmp_path / "d")}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("EDGAR_IDENTITY", "Tests tests@example.com")
        code = main(["sync", "--from", "2022q3", "--to", "2022q4", "--no-tail"])
    finally:
        site.shutdown()
    out = capsys.readouterr().out
    assert code == 1
    assert "failed 2022q3" in out
    store = Store(tmp_path / "d")
    assert sorted(store.loaded_quarters()) == ["2022q4"]
    assert not (tmp_path / "d" / "datasets" / "2022q3_form345.zip").exists()
    n = int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0])
    assert n == len(
        [x for x in zipfile.ZipFile(io.BytesIO(good)).read("SUBMISSION.tsv").split(b"\n")[1:] if x]
    )


def _zip_bytes(server, quarter: str) -> bytes:
    return _get(
        f"{server.url}/files/structureddata/data/insider-transactions-data-sets/{quarter}_form345.zip"
    )


def test_incomplete_quarter_2024q3_is_skipped_and_the_others_load(fake_edgar, tmp_path, monkeypatch, capsys):
    """Guards against the real partial data set 2024q3 (no REPORTINGOWNER, NONDERIV_TRANS, FOOTNOTES) failing the
    whole sync, being retried, cached or stored in part: it is skipped with a line naming the missing tables, the
    next quarter loads, and the exit code says "partial" (3), not "failed" (1)."""
    data = tmp_path / "data"
    code = _run(monkeypatch, fake_edgar, data, "sync", "--from", "2024q3", "--to", "2024q4", "--no-tail")
    out = capsys.readouterr().out
    assert code == 3, out
    assert (
        "skipped 2024q3" in out and "REPORTINGOWNER.tsv, NONDERIV_TRANS.tsv" in out and "FOOTNOTES.tsv" in out
    )
    assert "0 failed" in out and "1 skipped as incomplete" in out
    store = Store(data)
    assert sorted(store.loaded_quarters()) == ["2024q4"]
    assert not (data / "datasets" / "2024q3_form345.zip").exists()
    n = int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0])
    assert n == _zip_counts(fake_edgar, "2024q4")


def _without(zip_bytes: bytes, *tables: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(zip_bytes))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for m in src.infolist():
            if m.filename.removesuffix(".tsv") not in tables:
                out.writestr(m.filename, src.read(m))
    return buf.getvalue()


def test_partial_quarter_loads_without_its_missing_tables(fake_edgar, tmp_path, monkeypatch, capsys):
    """Guards against a quarter the SEC published without its footnotes and derivative trades being refused (or
    taken as whole): its filings and other rows load, the summary names the missing tables, the 10b5-1 columns
    (read from footnotes) are marked unverified, the zip is not cached as final, exit code 3 on every run."""
    whole = _zip_bytes(fake_edgar, "2023q2")
    prefix = "/files/structureddata/data/insider-transactions-data-sets/"
    _Site.files = {
        "/data-research/sec-markets-data/insider-transactions-data-sets": (
            f'<a href="{prefix}2023q2_form345.zip">2</a>'
        ).encode(),
        prefix + "2023q2_form345.zip": _without(whole, "FOOTNOTES", "DERIV_TRANS"),
    }
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{site.server_address[1]}"
        for k, v in {"EDGAR_WWW": url, "EDGAR_DATA": url, "INSIDER_DATA_DIR": str(tmp_path / "d")}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("EDGAR_IDENTITY", "Tests tests@example.com")
        code = main(["sync", "--from", "2023q2", "--to", "2023q2", "--no-tail"])
        out = capsys.readouterr().out
        again = main(["sync", "--from", "2023q2", "--to", "2023q2", "--no-tail"])
        out_again = capsys.readouterr().out
    finally:
        site.shutdown()
    assert code == 3 and again == 3, out + out_again
    assert "partial 2023q2" in out and "DERIV_TRANS.tsv, FOOTNOTES.tsv" in out
    assert "partial 2023q2" in out_again and "1 already stored" in out_again
    store = Store(tmp_path / "d")
    assert sorted(store.loaded_quarters()) == ["2023q2"]
    n = int(store.query("SELECT count(*) AS n FROM filings")["n"].iloc[0])
    assert n == _zip_counts(fake_edgar, "2023q2")
    tx = store.query('SELECT "table", unverified, footnotes FROM transactions')
    assert len(tx) > 0 and set(tx["table"]) == {"nonDerivative"}
    assert tx["unverified"].str.contains("is_10b5_1").all() and tx["footnotes"].isna().all()
    assert not (tmp_path / "d" / "datasets" / "2023q2_form345.zip").exists()


def test_the_progress_bar_counts_the_requests_of_the_quarters(tmp_path, monkeypatch):
    """Guards against the bar showing "requests 0" while the data-set quarters download (only the tail used to
    update the count): every step shows this sync's requests so far, never more than the summary's total."""
    from loaders import sync as sync_module
    from loaders.config import Settings

    prefix = "/files/structureddata/data/insider-transactions-data-sets/"
    zips = {
        q: _tiny_zip(["ACCESSION_NUMBER\tFILING_DATE\tDOCUMENT_TYPE\tISSUERCIK"])
        for q in ("2022q3", "2022q4")
    }
    _Site.files = {
        "/data-research/sec-markets-data/insider-transactions-data-sets": "".join(
            f'<a href="{prefix}{q}_form345.zip">{q}</a>' for q in zips
        ).encode(),
        **{f"{prefix}{q}_form345.zip": z for q, z in zips.items()},
    }
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    steps: list[tuple[int, int, int]] = []
    try:
        url = f"http://127.0.0.1:{site.server_address[1]}"
        for k, v in {"EDGAR_WWW": url, "EDGAR_DATA": url, "INSIDER_DATA_DIR": str(tmp_path / "d")}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("EDGAR_IDENTITY", "Tests tests@example.com")
        report = sync_module.sync(
            settings=Settings.from_env(),
            first="2022q3",
            last="2022q4",
            tail=False,
            progress=lambda done, total, r: steps.append((done, total, r.requests)),
            today=dt.date(2026, 11, 26),
        )
    finally:
        site.shutdown()
    assert report.loaded == ["2022q3", "2022q4"] and report.requests == 3  # the list page and two zips
    assert steps == [(0, 2, 1), (1, 2, 2), (2, 2, 3)]
