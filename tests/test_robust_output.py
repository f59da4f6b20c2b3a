"""Output that cannot be written as it is: a closed standard output, a reader that left before
the first line, a terminal whose encoding lacks the tool's characters. None of them is a bug
(exit 1): the run does its work and ends with its own exit code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sandboxkit import SandboxSite


def run_with_stdout(
    site: SandboxSite, stdout: int | None, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """``args`` in a real process whose standard output is ``stdout`` (-1: closed)."""
    done = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        stdout=subprocess.DEVNULL if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        env={**site.env, "COLUMNS": "100", **(env or {})},
        timeout=60,
        check=False,
        close_fds=True,
        preexec_fn=(lambda: os.close(1)) if stdout == -1 else None,
    )
    return done.returncode, done.stderr


@pytest.fixture
def logged_in(site: SandboxSite) -> SandboxSite:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    return site


@pytest.mark.parametrize("command", [("sync",), ("status",), ("tariff", "--sample")])
def test_a_closed_standard_output_is_not_a_bug(
    logged_in: SandboxSite, command: tuple[str, ...]
) -> None:
    """``amber-tesla-sync sync >&-``: nothing can be shown, the work is still done."""
    code, stderr = run_with_stdout(logged_in, -1, *command)
    assert code == 0, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command", [("sync",), ("status",), ("sync", "--json")])
def test_a_reader_gone_before_the_first_line_ends_quietly(
    logged_in: SandboxSite, command: tuple[str, ...]
) -> None:
    """``amber-tesla-sync status | head -0``: the pipe is closed before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        code, stderr = run_with_stdout(logged_in, write_end, *command)
    finally:
        os.close(write_end)
    assert code == 0, stderr
    assert stderr == ""


@pytest.mark.parametrize(
    "command", [("sync",), ("status",), ("history",), ("tariff", "--sample"), ("doctor",)]
)
def test_an_encoding_without_the_tools_characters_degrades(
    logged_in: SandboxSite, command: tuple[str, ...]
) -> None:
    """``PYTHONIOENCODING=latin-1``: "—", "…" and box lines become "?", nothing crashes."""
    done = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *command],
        capture_output=True,
        env={**logged_in.env, "COLUMNS": "100", "PYTHONIOENCODING": "latin-1"},
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode("latin-1")
    assert done.returncode in (0, 12), stderr  # doctor may find the sandbox's host unusual
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert done.stdout  # something was shown, in the terminal's encoding
    done.stdout.decode("latin-1")
