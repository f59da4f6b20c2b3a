"""The house plan holds: rooms import only downwards (the import contracts in pyproject.toml),
few modules loose at the top, none too long to read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "amber_tesla_sync"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the package found under ``source``, with the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the source tree that a test may break."""
    source = tmp_path_factory.mktemp("src")
    shutil.copytree(PACKAGE, source / "amber_tesla_sync")
    return source


def test_the_contracts_are_kept(copy: Path) -> None:
    result = lint_imports(copy, copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the fold reaching for a store: an upward import, and I/O in the fold
        ("tariff/fold.py", "from amber_tesla_sync.store import state", "Rooms import only"),
        # the pipeline reaching for a view
        ("sync/decide.py", "from amber_tesla_sync.render import envelope", "Rooms import only"),
        # a view reading the history itself
        ("render/chart.py", "from amber_tesla_sync.store import history", "Views receive data"),
        # the sandbox from the pipeline
        ("sync/run.py", "from amber_tesla_sync.sandbox import clock", "Only the sandbox and"),
        # a client in the fold
        ("tariff/slots.py", "import httpx", "The fold does no I/O"),
    ],
)
def test_an_import_against_the_plan_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source / "amber_tesla_sync")
    target = source / "amber_tesla_sync" / module
    target.write_text(f"{line}  # noqa\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    result = lint_imports(source, tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout


def test_few_modules_are_loose_at_the_top() -> None:
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= 6, loose


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, long
