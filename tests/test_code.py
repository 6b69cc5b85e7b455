"""The code keeps the habits we promise: ruff-clean, formatted, no SPARQL inside Python."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Modules that generate SPARQL (compiled from the shapes, counting a shape's targets) or
# copy the whole union graph out of the store (the pySHACL reference) hold query text.
GENERATES_SPARQL = {"kg/validate/compile.py", "kg/validate/engine.py", "kg/validate/reference.py"}


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the test extra: pip install '.[test]'")
    return subprocess.run(
        [ruff, *args, "--no-cache", "kg", "tests", "tools"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def test_ruff_finds_nothing() -> None:
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_questions_live_in_queries_not_in_python() -> None:
    """A SELECT/CONSTRUCT … WHERE { in a Python string means a query escaped queries/*.rq."""
    sparql = re.compile(r"\b(SELECT|CONSTRUCT|ASK)\b[^\"']*\bWHERE\s*\{", re.S)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "kg").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in GENERATES_SPARQL
        and sparql.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
