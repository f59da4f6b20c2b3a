"""Shared fixtures: an isolated environment and a way to run the CLI in-process."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from amber_tesla_sync.cli import main

pytest_plugins = ["sandboxkit", "synckit", "receiverkit", "e2ekit", "snapkit"]

# The real OS keyring test runs where .ci/run provides a Secret Service (and sets the variable);
# it is not collected elsewhere, so it can neither pass nor be skipped by accident.
collect_ignore = (
    [] if os.environ.get("AMBER_TESLA_SYNC_TEST_KEYRING") == "1" else ["test_real_keyring.py"]
)

# Property tests are reproducible by default: the same examples on every run and every clone.
# Big random sweeps are run by hand: HYPOTHESIS_PROFILE=sweep python -m pytest tests/test_fuzz_amber.py
settings.register_profile("repeatable", derandomize=True, max_examples=250, print_blob=True)
settings.register_profile("sweep", derandomize=False, max_examples=10_000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test sees the real home, config or terminal: pinned width, no colour."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("AMBER_TESLA_SYNC_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    return home


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    def run(*args: str) -> CliResult:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
