"""`doctor` checks the tool's own files: damage and loose modes are reported; modes are tightened
only with --fix; nothing is claimed that is not so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from amber_tesla_sync.errors import ExitCode
from synckit import Synced


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _lines(out: str, name: str) -> list[str]:
    return [line for line in out.splitlines() if f" {name}:" in line]


def test_doctor_reports_a_loose_secrets_file_and_fixes_it_only_when_asked(synced: Synced) -> None:
    assert synced.sync().code == 0
    secrets = synced.site.secrets_file
    state = synced.site.state
    secrets.chmod(0o644)
    (state / "state.json").chmod(0o644)
    state.chmod(0o755)

    result = synced.run("doctor")
    assert result.code == ExitCode.CHECKS_FAILED
    (line,) = _lines(result.stdout, "secrets file")
    assert line.startswith("✗") and "mode 0644" in line
    assert "(mode 0600)" not in result.stdout
    assert "doctor --fix" in result.stdout
    assert any(line.startswith("✗") for line in _lines(result.stdout, "state file"))
    assert any(line.startswith("✗") for line in _lines(result.stdout, "state directory"))
    assert _mode(secrets) == 0o644  # reported, not changed
    assert _mode(state / "state.json") == 0o644
    assert _mode(state) == 0o755

    fixed = synced.run("doctor", "--fix")
    (line,) = _lines(fixed.stdout, "secrets file")
    assert line.startswith("✓") and "was mode 0644; now 0600" in line
    assert _mode(secrets) == 0o600
    assert _mode(state / "state.json") == 0o600
    assert _mode(state) == 0o700
    again = synced.run("doctor")
    (line,) = _lines(again.stdout, "secrets file")
    assert line.startswith("✓") and "(mode 0600)" in line


def test_doctor_reports_damaged_files_without_touching_them(synced: Synced) -> None:
    assert synced.sync().code == 0
    state_file = synced.site.state / "state.json"
    history = synced.site.state / "history.sqlite3"
    state_file.write_bytes(b"\x00\x01garbage")
    with sqlite3.connect(history) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    history.write_bytes(history.read_bytes()[:100])  # cut short
    synced.site.secrets_file.write_text('{"amber_token": ')

    result = synced.run("doctor")
    assert result.code == ExitCode.CHECKS_FAILED
    out = result.stdout
    assert any("✗" in line and "damaged" in line for line in _lines(out, "state file"))
    assert any("✗" in line and "damaged" in line for line in _lines(out, "history database"))
    assert any("✗" in line and "not valid JSON" in line for line in _lines(out, "secrets file"))
    assert "the next sync moves it aside" in out
    assert state_file.read_bytes() == b"\x00\x01garbage"
    assert len(history.read_bytes()) == 100
    assert "Traceback" not in out + result.stderr


def test_a_damaged_config_stops_with_its_path(synced: Synced) -> None:
    synced.site.config.write_bytes(b"\xff\xfe[amber\x00")
    result = synced.sync()
    assert result.code == ExitCode.CONFIG
    assert str(synced.site.config) in result.stderr
    assert "what to do:" in result.stderr
    doctor = synced.run("doctor")  # the config was named explicitly: it must load
    assert doctor.code == ExitCode.CONFIG
    assert str(synced.site.config) in doctor.stderr
