"""The progress line of long commands: on a terminal only, with the step in progress."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from synckit import Synced


def on_a_terminal(synced: Synced, *args: str) -> tuple[int, str, str]:
    """Run the CLI with its standard error on a pseudo-terminal: exit code, stdout, the
    terminal's bytes as text."""
    main, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**synced.site.env, "TERM": "xterm", "COLUMNS": "100"},
    ) as process:
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            seen += chunk
        out = process.stdout.read() if process.stdout else b""
        code = process.wait(timeout=120)
    os.close(main)
    return code, out.decode(), seen.decode(errors="replace")


def test_report_shows_which_day_it_reads(synced: Synced) -> None:
    assert synced.sync().code == 0
    code, out, terminal = on_a_terminal(
        synced, "report", "--now", synced.now.isoformat(), "--days", "3"
    )
    assert code == 0, terminal
    # a spinner line with the elapsed time and the step: here Tesla's energy history reads
    assert "report (" in terminal and "calendar_history" in terminal
    assert "report (" not in out  # the report itself is not littered with it
    assert "What the battery earned" in out or "net" in out.lower()


def test_verbose_logs_each_day_instead(synced: Synced) -> None:
    assert synced.sync().code == 0
    args = ("-v", "report", "--now", synced.now.isoformat(), "--days", "2")
    result = synced.site.run(*args)
    assert result.returncode == 0, result.stderr
    assert "day 1 of 2" in result.stderr and "day 2 of 2" in result.stderr


def test_without_a_terminal_there_is_no_progress_line(synced: Synced) -> None:
    assert synced.sync().code == 0
    result = synced.site.run("report", "--now", synced.now.isoformat(), "--days", "2")
    assert result.returncode == 0, result.stderr
    assert "day 1 of" not in result.stderr + result.stdout
