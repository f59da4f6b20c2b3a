"""A secret echoed back by a server goes nowhere: the notification, the healthcheck's /fail ping,
the history, state.json and what `status` and `history` print all show it redacted, as the log
line does; `status --json` redacts Tesla's site_info; the redaction covers a JSON token set (every
token in it) and a multi-line secret (a PEM key) line by line."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.support import redact
from amber_tesla_sync.support.logs import SafeFormatter
from receiverkit import Receiver
from synckit import Synced


def configure(synced: Synced, receiver: Receiver) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
        + f'healthcheck_url = "{receiver.url("/hc/abc")}"\n'
        + "failure_after_minutes = 0\n"  # told at the first failed run
    )


def assert_nowhere(synced: Synced, receiver: Receiver, secret: str, echoed: str) -> None:
    """``secret`` is in none of the sinks, and ``echoed`` (the redacted words around it) is."""
    messages = receiver.messages()
    assert messages, "no notification was sent"
    sent = json.dumps(messages) + " ".join(r.body.decode() for r in receiver.at("/hc"))
    assert secret not in sent
    assert echoed in json.dumps(messages)
    (fail,) = receiver.at("/hc/abc/fail")
    assert secret not in fail.body.decode() and echoed in fail.body.decode()
    with sqlite3.connect(synced.site.state / "history.sqlite3") as db:
        rows = " ".join(str(row) for row in db.execute("SELECT * FROM runs"))
    assert secret not in rows and echoed in rows
    state = "".join(p.read_text() for p in synced.site.state.rglob("*.json"))
    assert secret not in state
    for args in (("status",), ("status", "--json"), ("history",), ("history", "--json")):
        shown = synced.run(*args)
        assert secret not in shown.stdout + shown.stderr, args


def test_a_token_in_teslas_refusal_reason_is_redacted_everywhere(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    token = synced.sandbox.credentials.teslemetry_token
    synced.sandbox.set_switches(refuse_commands=f"locked for Bearer {token} sorry")
    result = synced.sync("--force")
    assert result.code == ExitCode.SERVICE, result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    assert "locked for Bearer [redacted] sorry" in result.stderr
    assert_nowhere(synced, receiver, token, "locked for Bearer [redacted] sorry")
    state = (synced.site.state / "state.json").read_text()
    assert "[redacted]" in state  # the refusal is remembered, redacted


@pytest.mark.parametrize(
    ("status", "count", "code"),
    [
        (400, 1, ExitCode.SERVICE),  # Amber refused the request: 400 (its message)
        (200, 3, ExitCode.BAD_DATA),  # an error body where prices belong, on every attempt
    ],
)
def test_the_amber_token_in_an_error_body_is_redacted_everywhere(
    synced: Synced, receiver: Receiver, status: int, count: int, code: ExitCode
) -> None:
    configure(synced, receiver)
    token = synced.sandbox.credentials.amber_token
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    body = {"message": f"bad request from key {token}", "detail": token}
    synced.sandbox.add_fault(path, "status", status=status, body=body, count=count)
    result = synced.sync()
    assert result.code == code, result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    assert_nowhere(synced, receiver, token, "bad request from key [redacted]")


def test_status_json_redacts_a_secret_in_site_info(synced: Synced) -> None:
    token = synced.sandbox.credentials.teslemetry_token
    synced.sandbox.app.energy_site.site_name = f"Home {token}"
    assert synced.sync().code == 0
    for args in (("status",), ("status", "--json")):
        shown = synced.run(*args)
        assert shown.code == 0, shown.stderr
        assert token not in shown.stdout + shown.stderr, args
    data = json.loads(synced.run("status", "--json").stdout)
    (site,) = data.get("sites", [data])
    assert site["powerwall"]["site_info"]["site_name"] == "Home [redacted]"


TOKEN_SET = {
    "access_token": "eyJaccess.0123456789abcdefghij",
    "refresh_token": "NA_refresh0123456789abcdefghij",
    "id_token": "eyJidtoken.0123456789abcdefghij",
    "token_type": "Bearer",
    "expires_in": 28800,
}


def log_line(text: str) -> str:
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, text, None, None)
    return SafeFormatter("%(message)s").format(record)


def test_every_token_of_a_json_token_set_is_redacted() -> None:
    redact.remember(json.dumps(TOKEN_SET))
    tokens = [v for k, v in TOKEN_SET.items() if k.endswith("token")]
    text = "server said: " + " / ".join(tokens)
    error = AppError(f"refused ({text})")
    for shown in (redact.clean(text), redact.server_text(text), log_line(text), error.message):
        for token in tokens:
            assert token not in shown
        assert shown.count("[redacted]") == len(tokens), shown
    assert "Bearer" in redact.clean("token_type Bearer")  # only the tokens


PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPemLineOne0123456\n"
    "hRANCAAQPemLineTwo0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n"
    "PemLineThree0123456789\n"
    "-----END PRIVATE KEY-----\n"
)


@pytest.mark.parametrize("separator", ["\n", "\r\n", " "])
def test_a_multi_line_secret_is_redacted_in_full_and_line_by_line(separator: str) -> None:
    redact.remember(PEM)
    lines = [line for line in PEM.splitlines() if "-----" not in line]
    whole = redact.clean(f"the key: {PEM} end")
    assert all(line not in whole for line in lines)
    assert "[redacted]" in whole
    echoed = f"bad key {separator.join(lines)} end"  # a server re-wrapped the key
    for shown in (redact.clean(echoed), redact.server_text(echoed), log_line(echoed)):
        assert all(line not in shown for line in lines), shown
        assert shown.count("[redacted]") == len(lines)
    single = AppError(f"key line {lines[1]} rejected")
    assert lines[1] not in single.message


def test_doctor_fix_makes_the_history_wal_and_shm_files_private(synced: Synced) -> None:
    assert synced.sync().code == 0
    db_path = synced.site.state / "history.sqlite3"
    db_path.chmod(0o644)  # restored from a backup, say: SQLite copies this mode to -wal, -shm
    sides = [db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm")]
    db = sqlite3.connect(db_path)  # an open connection keeps the -wal and -shm files
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS kept (x)")
        db.commit()
        assert all(side.exists() and side.stat().st_mode & 0o777 == 0o644 for side in sides)
        checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
        assert not checks["history database"]["ok"]
        assert all(side.stat().st_mode & 0o777 == 0o644 for side in sides)  # reported only

        fixed = synced.run("doctor", "--fix")
        (line,) = [line for line in fixed.stdout.splitlines() if " history database:" in line]
        assert line.startswith("✓") and "now 0600" in line
        for path in (db_path, *sides):
            assert path.stat().st_mode & 0o777 == 0o600, path
    finally:
        db.close()
