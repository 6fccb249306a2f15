"""The architecture's rules, checked: one module talks to EDGAR, loaders never import Streamlit, the parser is pure."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_edgar_module_uses_httpx():
    """Guards against network I/O creeping into other modules (the parser looking things up, pages fetching)."""
    users = sorted(
        str(p.relative_to(ROOT))
        for folder in ("loaders", "analytics", "charts", "pages", "ui")
        for p in (ROOT / folder).rglob("*.py")
        if "httpx" in _imports(p)
    )
    assert users == ["loaders/edgar.py"]


def test_parser_and_derivation_are_pure():
    """Guards against I/O in the parser or the derivation: no network, file, store or EDGAR-client modules."""
    banned = {"httpx", "urllib", "requests", "socket", "os", "pathlib", "io", "shutil"}
    for name in ("parser.py", "derive.py"):
        path = ROOT / "loaders" / name
        assert not (_imports(path) & banned), name
        tree = ast.parse(path.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not modules & {"loaders.store", "loaders.edgar", "loaders.pipeline", "loaders.config"}, name
        assert "open" not in {
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }


def test_loaders_do_not_import_streamlit():
    """Guards against the data layer depending on the UI (the CLI and tests must run without it)."""
    code = "import sys, loaders.frames, loaders.pipeline, loaders.ingest, loaders.__main__; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
