"""Mutation run (a dev tool, not in CI): does a test fail when the code is subtly wrong?

For each module listed in TARGETS, every mutable spot is changed one at a time (comparison flipped, `<` for `<=`,
`and` for `or`, `&` for `|`, `+` for `-`, `*` for `/`, a `not`/`~` dropped, True/False swapped, an integer
constant off by one, a `return <expr>` returning None), and the module's own tests run against the mutated copy.
A mutant is KILLED when a test fails (or errors, or times out), SURVIVED when every test still passes. The score
is killed / all. The project is copied to a temporary folder first; the working tree is never touched.

    bin/mutants                      # every target, summary + survivors (also written to artifacts/mutants.txt)
    bin/mutants loaders/notes.py     # one module
    bin/mutants --list               # count mutants per module without running anything
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-m", "not corpus and not browser and not fake_edgar"]
# module -> the tests that own it (run with FAST markers: the mutation run must stay within minutes per module)
TARGETS: dict[str, list[str]] = {
    "loaders/notes.py": ["tests/test_notes.py", "tests/test_derive.py", "tests/test_parser.py"],
    "loaders/derive.py": ["tests/test_derive.py", "tests/test_parser.py", "tests/test_notes.py"],
    "loaders/amendments.py": ["tests/test_amendments.py", "tests/test_frames.py"],
    "loaders/gate.py": ["tests/test_gate.py", "tests/test_edgar.py"],
    "analytics/flow.py": ["tests/test_joint_filings.py", "tests/test_analytics_numbers.py"],
    "analytics/plans.py": ["tests/test_cooling_off.py", "tests/test_analytics_numbers.py"],
    "analytics/quality.py": ["tests/test_quality.py", "tests/test_joint_filings.py"],
    "analytics/holdings.py": [
        "tests/test_holdings.py",
        "tests/test_analytics_numbers.py",
        "tests/test_quality.py",
    ],
    "analytics/insiders.py": [
        "tests/test_insiders.py",
        "tests/test_analytics_numbers.py",
        "tests/test_joint_filings.py",
    ],
    "analytics/filters.py": ["tests/test_analytics_filters.py"],
}
TIMEOUT = 300

_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}  # fmt: skip
_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.BitAnd: ast.BitOr,
          ast.BitOr: ast.BitAnd, ast.FloorDiv: ast.Mult}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    path: str
    index: int  # n-th mutable spot of the module, in ast.walk order
    line: int
    what: str


def _spots(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every (node, description) that can be mutated, in a stable order. Docstrings and type hints are left."""
    hints: set[int] = set()  # type hints and decorator arguments (lru_cache sizes, frozen=True) are not logic
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for deco in node.decorator_list:
                hints.update(id(n) for n in ast.walk(deco))
        if isinstance(node, ast.AnnAssign) and node.annotation is not None:
            hints.update(id(n) for n in ast.walk(node.annotation))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                if a.annotation is not None:
                    hints.update(id(n) for n in ast.walk(a.annotation))
            if node.returns is not None:
                hints.update(id(n) for n in ast.walk(node.returns))
    out: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _COMPARE:
                    out.append((node, f"cmp{i}:{type(op).__name__}->{_COMPARE[type(op)].__name__}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
            out.append((node, f"binop:{type(node.op).__name__}->{_BINOP[type(node.op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            out.append(
                (node, f"boolop:{type(node.op).__name__}->{'Or' if isinstance(node.op, ast.And) else 'And'}")
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
            out.append((node, f"drop:{type(node.op).__name__}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            out.append((node, f"const:{node.value}->{not node.value}"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            number: float = node.value  # type: ignore[assignment]
            out.append((node, f"const:{number!r}->{number + 1!r}"))
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            out.append((node, "return->None"))
    return out


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, what: str):
        self.target, self.what = target, what

    def visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return self.generic_visit(node)
        kind = self.what.split(":", 1)[0]
        if kind.startswith("cmp") and isinstance(node, ast.Compare):
            i = int(kind[3:])
            node.ops[i] = _COMPARE[type(node.ops[i])]()
        elif kind == "binop" and isinstance(node, ast.BinOp):
            node.op = _BINOP[type(node.op)]()
        elif kind == "boolop" and isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "drop" and isinstance(node, ast.UnaryOp):
            return node.operand
        elif kind == "const" and isinstance(node, ast.Constant):
            value = node.value
            node.value = (not value) if isinstance(value, bool) else value + 1  # type: ignore[operator]
        elif kind == "return->None" and isinstance(node, ast.Return):
            node.value = ast.Constant(None)
        return node


def mutants_of(path: str, root: Path = ROOT) -> list[Mutant]:
    tree = ast.parse((root / path).read_text())
    return [Mutant(path, i, getattr(n, "lineno", 0), w) for i, (n, w) in enumerate(_spots(tree))]


def mutated_source(path: str, index: int, root: Path = ROOT) -> str:
    tree = ast.parse((root / path).read_text())
    node, what = _spots(tree)[index]
    mutated = _Apply(node, what).visit(tree)
    return ast.unparse(ast.fix_missing_locations(mutated))


def _run_tests(workdir: Path, tests: list[str]) -> str:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *FAST,
        *tests,
    ]
    shared = os.environ.get("INSIDER_SHARED_DIR") or str(ROOT.parent / "shared")  # the copy has no ../shared
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "INSIDER_SHARED_DIR": shared}
    try:
        done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    if done.returncode == 0:
        return "survived"
    if done.returncode == 5:
        return "no tests"
    return "killed"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: every target that exists)")
    ap.add_argument("--list", action="store_true", help="count mutants only")
    ap.add_argument(
        "--out", default="artifacts/mutants.txt", help="where the summary and survivors are written"
    )
    args = ap.parse_args(argv)
    modules = args.modules or [m for m in TARGETS if (ROOT / m).is_file()]
    plan = {m: mutants_of(m) for m in modules}
    if args.list:
        for m, ms in plan.items():
            print(f"{m}: {len(ms)} mutants")
        print(f"total: {sum(len(v) for v in plan.values())}")
        return 0
    lines, killed, total = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(ROOT, work, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "data", "artifacts", "__pycache__", ".ruff_cache"))  # fmt: skip
        for module, ms in plan.items():
            tests = [t for t in TARGETS.get(module, ["tests"]) if (ROOT / t).exists()]
            original = (work / module).read_text()
            ms = mutants_of(
                module, work
            )  # from the copy: edits to the working tree during a run change nothing
            if _run_tests(work, tests) != "survived":
                print(f"{module}: its tests fail before any mutation; skipped", flush=True)
                continue
            started, k = time.perf_counter(), 0
            for mutant in ms:
                (work / module).write_text(mutated_source(module, mutant.index, work))
                try:
                    outcome = _run_tests(work, tests)
                finally:
                    (work / module).write_text(original)
                if outcome.startswith("killed"):
                    k += 1
                else:
                    lines.append(f"SURVIVED {module}:{mutant.line} {mutant.what}")
                    print(lines[-1], flush=True)
            killed, total = killed + k, total + len(ms)
            secs = time.perf_counter() - started
            summary = f"{module}: {k}/{len(ms)} killed ({k / max(1, len(ms)):.0%}) in {secs:.0f} s"
            lines.append(summary)
            print(summary, flush=True)
    score = f"TOTAL: {killed}/{total} killed ({killed / max(1, total):.1%})"
    lines.append(score)
    print(score)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
