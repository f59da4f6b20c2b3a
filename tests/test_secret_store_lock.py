"""One lock per secret store: under Tesla's strict single-use refresh rule (the sandbox's
``strict_refresh``), many processes sharing one secret file from several state directories, some
refreshing and some rewriting another secret, lose no refresh chain and no update."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amber_tesla_sync.store.secrets import FLEET_TOKENS, TESLEMETRY_TOKEN
from amber_tesla_sync.tesla.oauth import TokenEndpoint, TokenSet
from e2ekit import E2E, TOKEN_PATH, assert_failed
from lockkit import Job, run_jobs

STATE_DIRS = 4


def test_strict_refresh_in_the_sandbox_accepts_only_the_current_token(e2e: E2E) -> None:
    tokens = e2e.seed_fleet()
    endpoint = TokenEndpoint(e2e.sandbox.token_url)
    client_id = e2e.credentials.client_id
    fresh = endpoint.refresh(client_id, tokens.refresh_token)
    endpoint.refresh(client_id, tokens.refresh_token)  # default: the last used one, for 24 h
    e2e.sandbox.set_switches(strict_refresh=True)
    assert e2e.sandbox.switches()["strict_refresh"] is True
    with pytest.raises(Exception, match="login"):
        endpoint.refresh(client_id, tokens.refresh_token)
    with pytest.raises(Exception, match="login"):
        endpoint.refresh(client_id, fresh.refresh_token)  # replaced by the second refresh
    assert len(e2e.sandbox.valid_refresh_tokens()) == 1


def test_many_processes_share_one_store_under_strict_refresh(e2e: E2E, tmp_path: Path) -> None:
    e2e.seed_fleet()
    e2e.sandbox.set_switches(strict_refresh=True)
    e2e.sandbox.clear_requests()
    states = [tmp_path / f"state-{n}" for n in range(STATE_DIRS)]
    jobs = [
        Job(
            "write" if n % 4 == 3 else "refresh",
            str(e2e.site.config),
            str(states[n % STATE_DIRS]),
            str(tmp_path),
            rounds=3,
        )
        for n in range(24)
    ]
    codes, done = run_jobs(jobs, tmp_path)
    refreshers = sum(job.kind == "refresh" for job in jobs)
    writes = sum(job.kind == "write" for job in jobs) * 3
    assert codes == [0] * len(jobs)
    assert done == refreshers * 3 + writes  # 54 refreshes and 18 writes, all done
    statuses = [r["status"] for r in e2e.sandbox.requests() if r["path"] == TOKEN_PATH]
    assert statuses == [200] * (refreshers * 3)  # no refresh was refused: no chain lost
    saved = e2e.fleet_tokens()
    assert e2e.sandbox.valid_refresh_tokens() == [saved.refresh_token]  # the store has it
    assert e2e.stored()[TESLEMETRY_TOKEN].startswith("teslemetry-")  # the writers' updates too
    e2e.set_fleet_expiry(time.time())
    assert e2e.context().fleet_tokens().token() != saved.access_token  # the chain goes on


def test_a_lost_answer_is_rescued_after_invalid_grant(e2e: E2E) -> None:
    """Tesla may answer a spent refresh token with 400 invalid_grant: the saved previous token
    (the answer to an earlier refresh may have been lost) is tried as for login_required."""
    e2e.seed_fleet()
    ctx = e2e.context()
    first = ctx.fleet_tokens()
    first.margin = 10**9
    first.token()
    saved = TokenSet.from_json(ctx.store.get(FLEET_TOKENS) or "")
    # a late duplicate of that refresh request (with the token before) replaces the saved one
    late = saved.previous_refresh_token
    TokenEndpoint(e2e.sandbox.token_url).refresh(e2e.credentials.client_id, late)
    assert saved.refresh_token not in e2e.sandbox.valid_refresh_tokens()
    e2e.sandbox.add_fault(
        TOKEN_PATH,
        "status",
        status=400,
        count=1,
        body={"error": "invalid_grant", "error_description": "refresh token already used"},
    )
    second = e2e.context().fleet_tokens()
    second.margin = 10**9
    assert second.token()
    assert e2e.fleet_tokens().refresh_token in e2e.sandbox.valid_refresh_tokens()
    statuses = [r["status"] for r in e2e.sandbox.requests() if r["path"] == TOKEN_PATH]
    assert statuses[-2:] == [400, 200]  # invalid_grant, then the rescue


def test_a_loose_secret_file_is_warned_about_and_left_alone(e2e: E2E) -> None:
    e2e.seed_amber()
    e2e.configure({"site.timezone": "Australia/Sydney"})
    e2e.site.secrets_file.chmod(0o644)
    result = e2e.run("tariff", "--json")
    assert result.returncode == 0, result.stderr
    assert "can be read by other users (mode 0644)" in result.stderr
    assert "doctor --fix" in result.stderr
    assert e2e.site.secrets_file.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\xff\xfe\x00garbage", "damaged (not UTF-8 text)"),
        (b'{"amber_token": "psk_', "not valid JSON"),
        (b"", "is empty"),
        (b'["a list"]', "not in the expected format"),
    ],
)
def test_a_damaged_secret_file_stops_with_its_path(e2e: E2E, content: bytes, needle: str) -> None:
    e2e.seed_amber()
    e2e.seed_teslemetry()
    e2e.site.secrets_file.write_bytes(content)
    result = e2e.run("sync")
    assert_failed(result, 7, str(e2e.site.secrets_file), needle, "log in again")
    assert e2e.site.secrets_file.read_bytes() == content  # never rewritten


def test_an_unreadable_secret_file_says_so(e2e: E2E) -> None:
    e2e.seed_amber()
    e2e.seed_teslemetry()
    e2e.site.secrets_file.unlink()
    e2e.site.secrets_file.mkdir()  # unreadable as a file, even for root
    assert_failed(e2e.run("sync"), 7, str(e2e.site.secrets_file), "cannot be read")


def test_concurrent_logins_and_syncs_keep_every_update(e2e: E2E, tmp_path: Path) -> None:
    """Real processes: syncs from several state directories (each refreshing an expired Fleet
    token under the strict rule) while `login teslemetry` rewrites the shared secret file."""
    e2e.seed_amber()
    e2e.seed_fleet()
    e2e.configure({"site.timezone": "Australia/Sydney"})
    e2e.sandbox.set_switches(strict_refresh=True)
    e2e.set_fleet_expiry(time.time())
    e2e.sandbox.clear_requests()
    runs = []
    for n in range(5):
        env = {**e2e.env(), "AMBER_TESLA_SYNC_STATE_DIR": str(tmp_path / f"state-{n % 3}")}
        runs.append(
            subprocess.Popen(
                [sys.executable, "-m", "amber_tesla_sync", "sync", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
        login = e2e.popen("login", "teslemetry", "--token-stdin")
        runs.append(login)
        assert login.stdin is not None
        login.stdin.write(e2e.credentials.teslemetry_token + "\n")
        login.stdin.flush()
    outputs = [process.communicate(timeout=120) for process in runs]
    for process, (out, err) in zip(runs, outputs, strict=True):
        e2e.record(out, err)
        assert "login fleet" not in err, err
        assert process.returncode in (0, 10), err  # 10: another sync in that state directory
    syncs = [json.loads(out) for out, _ in outputs[::2] if out.strip()]  # busy runs print none
    assert syncs and all(summary["exit_code"] == 0 for summary in syncs)
    assert e2e.fleet_tokens().refresh_token in e2e.sandbox.valid_refresh_tokens()
    assert e2e.stored()[TESLEMETRY_TOKEN] == e2e.credentials.teslemetry_token
