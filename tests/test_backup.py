"""``backup DIR``: a consistent copy of the history database (SQLite's online backup API), also
while another process writes runs into it, and a copy of the state file; what it does not copy
is said. Restoring is copying both back."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from amber_tesla_sync.errors import ExitCode
from synckit import Synced

WRITER = """
import datetime as dt, sys
from pathlib import Path
from amber_tesla_sync.store.history import History, RunRecord

path, stop = Path(sys.argv[1]), Path(sys.argv[2])
history = History(path)
moment = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
number = 0
while not stop.exists():
    number += 1
    moment += dt.timedelta(minutes=5)
    history.record_run(
        RunRecord(moment, "writer", "unchanged", False, f"run {number}", None, None, 0)
    )
"""


def _rows(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, reason FROM runs WHERE site = 'writer' ORDER BY id")
        return [(int(row[0]), str(row[1])) for row in rows]


def test_a_backup_while_runs_are_written_is_whole(synced: Synced, tmp_path: Path) -> None:
    assert synced.sync().code == 0  # the database exists, in WAL mode, as every sync leaves it
    database = synced.site.state / "history.sqlite3"
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(stop)])
    try:
        deadline = time.monotonic() + 60
        while len(_rows(database)) < 50:
            assert writer.poll() is None, "the writer stopped"
            assert time.monotonic() < deadline, "the writer wrote nothing"
            time.sleep(0.05)
        for attempt in range(3):
            before = _rows(database)  # committed before the backup starts
            target = tmp_path / f"backup-{attempt}"
            result = synced.run("backup", str(target))
            assert result.code == 0, result.stdout + result.stderr
            copy = target / "history.sqlite3"
            with sqlite3.connect(copy) as db:
                assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            copied = _rows(copy)
            assert copied[: len(before)] == before
            assert [reason for _, reason in copied] == [
                f"run {n}" for n in range(1, len(copied) + 1)
            ]
        assert writer.poll() is None  # it was writing all along
        assert len(_rows(database)) > len(before)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert writer.returncode == 0


def test_backup_copies_both_files_says_what_it_left_and_restores(
    synced: Synced, tmp_path: Path
) -> None:
    assert synced.sync().code == 0
    folder = synced.site.state
    target = tmp_path / "backup"
    result = synced.run("backup", str(target))
    assert result.code == 0, result.stderr
    out = result.stdout.replace("\n", " ")
    assert f"copied the history database {folder / 'history.sqlite3'}" in out
    assert f"copied the state file {folder / 'state.json'}" in out
    assert "not copied: the secrets file" in out and str(synced.site.config) in out
    assert "to restore: stop the timer" in out and "doctor" in out
    assert (target / "state.json").read_bytes() == (folder / "state.json").read_bytes()
    assert (target / "history.sqlite3").stat().st_mode & 0o077 == 0
    assert not list(target.glob("*-wal")) and not list(target.glob(".*"))
    runs = synced.run(
        "history", "--now", synced.now.isoformat(), "--format", "csv", "--records", "runs"
    )

    again = synced.run("backup", str(target))
    assert again.code == ExitCode.USAGE and "--force" in again.stderr
    assert synced.run("backup", str(target), "--force").code == 0
    assert synced.run("backup", str(folder)).code == ExitCode.USAGE

    shutil.rmtree(folder)  # lost, then restored from the copies
    folder.mkdir()
    for name in ("history.sqlite3", "state.json"):
        shutil.copy2(target / name, folder / name)
    restored = synced.run(
        "history", "--now", synced.now.isoformat(), "--format", "csv", "--records", "runs"
    )
    assert restored.stdout == runs.stdout and "verified" in restored.stdout
    synced.advance(5)
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"  # the last push is known


def test_backup_without_files_says_there_was_nothing(synced: Synced, tmp_path: Path) -> None:
    shutil.rmtree(synced.site.state, ignore_errors=True)
    result = synced.run("backup", str(tmp_path / "empty"))
    assert result.code == 0, result.stderr
    assert "no history database yet" in result.stdout and "no state file yet" in result.stdout


def test_backup_needs_a_directory(synced: Synced) -> None:
    result = synced.run("backup")
    assert result.code == ExitCode.USAGE and "DIR" in result.stderr
