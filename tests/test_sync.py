"""`sync` against the sandbox: push, unchanged, material change, refusal, failures, read-back,
foreign tariffs, mode, curtailment, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import filelock

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.tariff import validate_request_body
from conftest import CliRunner
from sandboxkit import SandboxSite
from synckit import CHECK_DUE, Synced, flat, fleet_login, shifted


def test_first_sync_pushes_exactly_what_tariff_json_shows(synced: Synced) -> None:
    preview = synced.run("tariff", "--json", "--now", synced.now.isoformat())
    assert preview.code == 0, preview.stderr
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary
    site = summary["sites"][0]
    assert site["outcome"] == "verified"
    assert site["reason"] == "first push for this site"
    posts = synced.sandbox.tariff_posts()
    assert len(posts) == 1
    assert posts[0]["body"] == json.loads(preview.stdout)["tesla_request"]
    assert validate_request_body(posts[0]["body"]) == []
    assert synced.sandbox.validation_problems() == []
    assert summary["tesla_requests"] == {"read": 2, "write": 1}  # remote check + read-back


def test_an_immediate_second_sync_makes_no_tesla_request(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.sandbox.clear_requests()
    second = synced.sync_json()
    assert second["_code"] == 0
    assert second["sites"][0]["outcome"] == "unchanged"
    assert synced.tesla_requests() == []
    assert second["tesla_requests"] == {"read": 0, "write": 0}


def test_material_change_pushes_once_and_a_small_one_not_at_all(synced: Synced) -> None:
    body = synced.amber_prices()
    synced.serve_prices(body)
    assert synced.sync().code == 0
    near = dt.datetime(2026, 1, 15, 6, 30, tzinfo=dt.UTC)  # 17:30 local, within 2 h
    small = shifted(body, "general", near, 0.3)  # 0.3 c/kWh < 0.5 c near-term tolerance
    synced.serve_prices(small)
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"
    assert len(synced.sandbox.tariff_posts()) == 1
    big = shifted(body, "general", near, 4.0)
    synced.serve_prices(big, count=2)
    first = synced.sync_json()["sites"][0]
    assert first["outcome"] == "verified"
    assert "17:30 buy" in first["reason"]
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"
    assert len(synced.sandbox.tariff_posts()) == 2
    # sync --json speaks c/kWh; Tesla's tariff holds $/kWh
    assert abs(synced.stored_rates()["PERIOD_17_30"] * 100 - first["rates"]["17:30"]["buy"]) < 1e-6


def test_far_slots_push_only_what_changes_the_powerwalls_choices(synced: Synced) -> None:
    body = flat(synced.amber_prices(), buy=20.0)
    synced.serve_prices(body)
    assert synced.sync().code == 0
    far = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)  # 23:00 local, 6 h ahead
    synced.serve_prices(shifted(body, "feedIn", far, -3.0))  # sells 3 c higher, still below buy
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"
    synced.serve_prices(shifted(body, "general", far, 1.5))  # < 2 c past the flat day's edge
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"
    synced.advance(30)  # a later slot's changed relation waits 30 min for a near-term push
    body = flat(synced.amber_prices(), buy=20.0)
    synced.serve_prices(shifted(body, "general", far, 2.5))  # the day's dearest slot now
    pushed = synced.sync_json()["sites"][0]
    assert pushed["outcome"] == "verified"
    assert "changed what the Powerwall would do" in pushed["reason"]


def test_reassert_after_two_hours(synced: Synced) -> None:
    synced.serve_prices(flat(synced.amber_prices()))
    assert synced.sync().code == 0
    synced.advance(121)
    synced.serve_prices(flat(synced.amber_prices()))  # the same tariff, two hours on
    result = synced.sync_json()["sites"][0]
    assert result["outcome"] == "verified"
    assert "re-asserting" in result["reason"]


def test_refusal_leaves_the_powerwall_untouched(synced: Synced) -> None:
    before = synced.sandbox.stored_tariff()
    body = synced.amber_prices()
    hole_start = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)
    holed = [
        item
        for item in body
        if not (
            item["channelType"] == "general"
            and hole_start
            <= dt.datetime.fromisoformat(item["endTime"])
            <= hole_start + dt.timedelta(hours=3)
        )
    ]
    synced.serve_prices(holed)
    result = synced.sync()
    assert result.code == ExitCode.REFUSED
    assert "refused" in result.stdout
    assert "The Powerwall keeps its current tariff" in result.stdout
    assert synced.sandbox.tariff_posts() == []
    assert synced.tesla_requests() == []
    assert synced.sandbox.stored_tariff() == before


def test_amber_failures_are_retried_then_fail_cleanly(synced: Synced) -> None:
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=502, count=2)
    assert synced.sync().code == 0  # third attempt works
    synced.sandbox.add_fault(path, "status", status=500, count=5)
    result = synced.sync()
    assert result.code == ExitCode.SERVICE
    assert "tried 3 times" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    synced.sandbox.clear_faults()
    synced.sandbox.add_fault(
        path, "status", status=429, count=5, body={"message": "Too Many Requests"}
    )
    limited = synced.sync()
    assert limited.code == ExitCode.SERVICE
    assert "rate limit" in limited.stdout
    synced.sandbox.clear_faults()
    synced.sandbox.add_fault(path, "delay", delay_seconds=2.5, count=3)
    slow = synced.sync()
    assert slow.code == ExitCode.SERVICE
    assert "timed out" in slow.stdout
    assert len(synced.sandbox.tariff_posts()) == 1


def test_a_read_back_mismatch_is_reported(synced: Synced) -> None:
    synced.sandbox.set_switches(tariff_apply_delay=3600)
    text = synced.site.config.read_text() + "\n[sync]\nverify_seconds = 0\n"
    synced.site.config.write_text(text)
    result = synced.sync()
    assert result.code == ExitCode.VERIFY
    assert "does not match the one pushed" in result.stdout
    assert len(synced.sandbox.tariff_posts()) == 1


def test_someone_elses_tariff_is_replaced(synced: Synced) -> None:
    assert synced.sync().code == 0
    foreign = json.loads(json.dumps(synced.sandbox.stored_tariff()))
    foreign["code"] = "OTHER_TOOL:PLAN"
    synced.sandbox.set_tariff(foreign)
    synced.advance(CHECK_DUE)  # the next remote check is due
    result = synced.sync_json()["sites"][0]
    assert result["outcome"] == "verified"
    assert "not ours" in result["reason"]
    assert synced.sandbox.stored_tariff()["code"] == "AMBER_TESLA_SYNC"


def test_a_changed_tariff_of_ours_is_noticed(synced: Synced) -> None:
    assert synced.sync().code == 0
    edited = json.loads(json.dumps(synced.sandbox.stored_tariff()))
    edited["energy_charges"]["Summer"]["rates"]["PERIOD_03_00"] = 9.99
    synced.sandbox.set_tariff(edited)
    synced.advance(CHECK_DUE)
    result = synced.sync_json()["sites"][0]
    assert result["outcome"] == "verified"
    assert "ours, but changed" in result["reason"]


def test_mode_warning_and_ensure_autonomous(synced: Synced) -> None:
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")
    warned = synced.sync_json()["sites"][0]
    assert any("self_consumption mode" in w for w in warned["warnings"])
    assert synced.sandbox.energy_site_settings()["default_real_mode"] == "self_consumption"
    synced.site.config.write_text(
        synced.site.config.read_text() + "\n[sync]\nensure_autonomous = true\n"
    )
    synced.advance(CHECK_DUE)
    fixed = synced.sync_json()["sites"][0]
    assert "mode self_consumption → autonomous" in fixed["actions"]
    assert synced.sandbox.energy_site_settings()["default_real_mode"] == "autonomous"


def test_dry_run_writes_nothing(synced: Synced) -> None:
    result = synced.sync("--dry-run")
    assert result.code == 0
    assert "would push: first push" in result.stdout
    assert "plan (c/kWh buy/sell):" in result.stdout
    assert synced.sandbox.tariff_posts() == []
    assert all(r["method"] == "GET" for r in synced.tesla_requests())
    assert not (synced.site.state / "history.sqlite3").exists()


def test_two_syncs_at_once(synced: Synced) -> None:
    lock = synced.site.state / "sync.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(lock):  # another process's lock, as far as this one can tell
        busy = synced.sync()
    assert busy.code == ExitCode.BUSY
    assert "another sync is still running" in busy.stderr
    assert synced.sandbox.requests() == []

    # and for real: two processes started together; one waits on a slow Amber, the other is turned away
    synced.sandbox.add_fault(
        f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current", "delay", delay_seconds=1.5
    )
    env = {**synced.site.env}
    args = [sys.executable, "-m", "amber_tesla_sync", "sync", "--now", synced.now.isoformat()]
    first = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    import time

    time.sleep(1.0)
    second = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    first.communicate(timeout=60)
    assert {first.returncode, second.returncode} == {0, ExitCode.BUSY}


def test_several_sites_the_worst_exit_code_wins(synced: Synced) -> None:
    sandbox = synced.sandbox
    text = (
        synced.site.config.read_text()
        + f"""
[[sites]]
name = "five"
amber_site_id = "{sandbox.amber_site_id}"
energy_site_id = {sandbox.energy_site_id}

[[sites]]
name = "gone"
amber_site_id = "01AAAAAAAAAAAAAAAAAAAAAAAA"
energy_site_id = {sandbox.energy_site_id}
"""
    )
    synced.site.config.write_text(text)
    summary = synced.sync_json()
    outcomes = {s["site"]: s["outcome"] for s in summary["sites"]}
    assert outcomes == {"five": "verified", "gone": "failed"}
    assert summary["_code"] == ExitCode.CONFIG  # the Amber account has no such site
    only = synced.sync_json("--site", "five")
    assert [s["site"] for s in only["sites"]] == ["five"]
    assert only["_code"] == 0


def test_fleet_backend_costs(synced: Synced) -> None:
    fleet_login(synced.site)
    synced.sandbox.clear_requests()
    assert synced.sync().code == 0
    counts = synced.sandbox.request_counts()
    assert counts["fleet_billing"]["command_requests"] == 1
    assert counts["fleet_billing"]["data_requests"] == 2
    assert counts["fleet_billing"]["usd"] == 0.005
    synced.sandbox.clear_requests()
    assert synced.sync().code == 0
    assert synced.tesla_requests() == []


def test_no_secret_in_history_or_state(synced: Synced) -> None:
    assert synced.sync("-vv").code == 0
    c = synced.sandbox.credentials
    for path in synced.site.state.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (c.amber_token, c.teslemetry_token):
                assert secret.encode() not in data, path
            assert oct(path.stat().st_mode & 0o777) in ("0o600", "0o644"), path
    assert oct((synced.site.state / "state.json").stat().st_mode & 0o777) == "0o600"


def test_doctor_reports_each_check(synced: Synced) -> None:
    skewed = synced.run("doctor")  # the sandbox's clock is frozen months away from this one
    assert "✗ clock: this machine's clock is" in skewed.stdout
    synced.sandbox.use_real_time()
    result = synced.run("doctor")
    assert result.code == ExitCode.CHECKS_FAILED  # no scheduler installed in the test home
    out = result.stdout
    assert "✓ configuration:" in out
    assert "✓ secret store: file" in out
    assert f"✓ Amber ({synced.sandbox.amber_site_id}): token works" in out
    assert "✓ Tesla via Teslemetry (" in out and "teslemetry: token works" in out
    assert "✓ notifications: none configured" in out
    assert "✓ Powerwall (" in out
    assert "✓ clock:" in out
    assert "✗ scheduler:" in out
    assert "fix: run `amber-tesla-sync schedule install --user`" in out
    synced.sandbox.set_energy_site(default_real_mode="backup")
    assert "✗ Powerwall (" in synced.run("doctor").stdout


def test_doctor_without_logins(cli: CliRunner, site: SandboxSite) -> None:
    result = cli("doctor")
    assert result.code == ExitCode.CHECKS_FAILED
    assert "✗ sites: no Amber site is configured" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
