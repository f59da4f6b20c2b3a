"""Server text is redacted of known secrets and stripped of control characters before it is
printed, logged or stored in the history."""

from __future__ import annotations

import sqlite3

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.support import redact
from synckit import Synced

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\x07\x00"


def test_clean_removes_secrets_and_escape_sequences() -> None:
    secret = "tok_" + "s3cr3t" * 6
    redact.remember(secret)
    text = f"bad token {secret}{ESCAPES} end\nnext line"
    cleaned = redact.clean(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned
    assert not any(ord(c) < 32 and c not in "\n\t" for c in cleaned)
    assert "\x9b" not in redact.clean("a\x9b31mb")
    assert cleaned.endswith("red end\nnext line")
    assert redact.server_text(text) == "bad token [redacted]red end next line"
    redact.remember("short")  # too short to redact without mangling ordinary words
    assert redact.clean("a short word") == "a short word"


def test_a_token_echoed_by_tesla_reaches_neither_output_nor_history(synced: Synced) -> None:
    token = synced.sandbox.credentials.teslemetry_token
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/site_info"
    body = {"error": f"invalid token {token}{ESCAPES}", "error_description": f"Bearer {token}"}
    synced.sandbox.add_fault(path, "status", status=400, body=body, count=1)
    result = synced.sync("-v")
    assert result.code == ExitCode.SERVICE, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "invalid token [redacted]" in output
    assert token not in output
    assert "\x1b" not in output and "\x07" not in output
    with sqlite3.connect(synced.site.state / "history.sqlite3") as db:
        stored = " ".join(str(row) for row in db.execute("SELECT reason, error FROM runs"))
    assert "invalid token [redacted]" in stored
    assert token not in stored and "\x1b" not in stored

    as_json = synced.sync_json()  # the --json summary too (the fault is spent: a clean run)
    assert token not in str(as_json)
