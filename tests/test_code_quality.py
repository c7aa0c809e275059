"""The code stays lint-clean, formatted and type-checked (ruff and mypy strict); test modules
share helpers through tests/helpers/ and fixtures through conftest, never by importing each other."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "healthd", "tests", "bench"),
        ("ruff", "format", "--check", "healthd", "tests", "bench"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: tuple[str, ...]) -> None:
    if shutil.which(command[0]) is None and run(command[0], "--version").returncode != 0:
        pytest.fail(f"{command[0]} is not installed: pip install -e '.[test]'")
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


TESTS = ROOT / "tests"


def python_files(top: Path) -> Iterator[Path]:
    """Every .py file below `top`, outside node_modules."""
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = sorted(d for d in subfolders if d != "node_modules")
        yield from (Path(folder) / name for name in sorted(files) if name.endswith(".py"))


def names_of_test_modules(top: Path) -> set[str]:
    """The names a test module or conftest can be imported by: tests.test_x, and test_x as
    pytest's rootdir-relative import makes it importable too."""
    names = set()
    for path in python_files(top):
        if path.name.startswith("test_") or path.name == "conftest.py":
            dotted = ".".join(path.relative_to(top.parent).with_suffix("").parts)
            names |= {dotted, dotted.removeprefix(f"{top.name}.")}
    return names


def imported(path: Path, top: Path) -> set[str]:
    """Every module an import statement in `path` names (`from a import b` names a and a.b)."""
    package = path.relative_to(top.parent).parent.parts
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's own package, `level - 1` folders up
                parent = ".".join(package[: len(package) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def cross_imports(top: Path) -> list[str]:
    """Each file below `top` that imports a test module or conftest, and what it imports."""
    banned = names_of_test_modules(top)
    found = []
    for path in python_files(top):
        names = imported(path, top)
        for module in sorted(
            b for b in banned if any(n == b or n.startswith(f"{b}.") for n in names)
        ):
            found.append(f"{path.relative_to(top.parent)} imports {module}")
    return found


def test_no_test_module_imports_another_test_module_or_conftest() -> None:
    assert cross_imports(TESTS) == [], "move what they share to tests/helpers/ or a fixture"


# Written with {t} for the test module test_b, so that no line here looks like such an import.
@pytest.mark.parametrize(
    "line",
    [
        "from tests.{t} import helper",
        "from tests.conftest import helper",
        "from tests import {t}",
        "from tests import conftest",
        "import tests.{t}",
        "import tests.{t} as b",
        "import conftest",
        "from {t} import helper",
        "from .{t} import helper",
        "from . import conftest",
        "def f():\n    from tests.{t} import helper",
    ],
)
def test_the_import_check_catches_each_form(tmp_path: Path, line: str) -> None:
    top = tmp_path / "tests"
    (top / "helpers").mkdir(parents=True)
    (top / "conftest.py").write_text("")
    (top / "test_b.py").write_text("from tests.helpers.waiting import until\n")
    (top / "helpers" / "waiting.py").write_text("")
    (top / "test_a.py").write_text(line.format(t="test_b") + "\n")
    found = cross_imports(top)
    assert found and all(entry.startswith("tests/test_a.py imports ") for entry in found), found
