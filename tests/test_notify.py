"""Notifications end to end: a json:// receiver and a healthcheck receiver on 127.0.0.1, `sync`
against the sandbox; one message per change, none on repeats; notify test; failures never fail
the sync."""

from __future__ import annotations

import datetime as dt
import json

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.notify.events import RunFacts, SiteFacts, changes
from amber_tesla_sync.store.notify_memory import NotifyMemory
from receiverkit import Receiver
from synckit import CHECK_DUE, Synced, fleet_login


def configure(synced: Synced, receiver: Receiver, extra: str = "") -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
        + f'healthcheck_url = "{receiver.url("/hc/abc")}"\n'
        + "failure_after_minutes = 0\n"  # told at the first failed run (the grace: its own file)
        + extra
    )


def break_amber(synced: Synced, runs: int = 1) -> None:
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=500, count=3 * runs)  # 3 attempts a run


def test_failing_repeat_recovery_one_message_each(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    assert synced.sync().code == 0
    assert receiver.messages() == []
    assert [r.path for r in receiver.at("/hc")] == ["/hc/abc/start", "/hc/abc"]

    receiver.clear()
    break_amber(synced)
    synced.advance(5)
    failed = synced.sync()
    assert failed.code == ExitCode.SERVICE
    messages = receiver.messages()
    assert len(messages) == 1, messages
    assert "is failing" in messages[0]["title"]
    assert "fetching Amber prices" in messages[0]["message"]
    assert "What to do:" in messages[0]["message"]
    assert messages[0]["type"] == "failure"
    assert [r.path for r in receiver.at("/hc")] == ["/hc/abc/start", "/hc/abc/fail"]
    assert b"failed" in receiver.at("/hc/abc/fail")[0].body

    receiver.clear()
    break_amber(synced)
    synced.advance(5)
    assert synced.sync().code == ExitCode.SERVICE
    assert receiver.messages() == []  # the same failure again: silent
    assert [r.path for r in receiver.at("/hc")] == ["/hc/abc/start", "/hc/abc/fail"]

    receiver.clear()
    synced.advance(5)
    assert synced.sync().code == 0
    messages = receiver.messages()
    assert len(messages) == 1, messages
    assert "works again" in messages[0]["title"]
    assert messages[0]["type"] == "success"
    assert [r.path for r in receiver.at("/hc")] == ["/hc/abc/start", "/hc/abc"]

    receiver.clear()
    synced.advance(5)
    assert synced.sync().code == 0
    assert receiver.messages() == []


def test_a_dead_receiver_never_fails_the_sync_and_is_told_later(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    receiver.status = 500
    break_amber(synced)
    result = synced.sync()
    assert result.code == ExitCode.SERVICE  # the sync's own failure, not the notification's
    assert "notification to json://" in result.stderr
    assert len(receiver.messages()) == 1
    receiver.status = 200
    receiver.clear()
    break_amber(synced)
    synced.advance(5)
    assert synced.sync().code == ExitCode.SERVICE
    assert len(receiver.messages()) == 1  # not delivered before, so told now


def test_a_long_refusal_is_told_once(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver, "refusal_after_minutes = 10\n")
    body = synced.amber_prices()
    gappy = [i for n, i in enumerate(body) if i["channelType"] != "general" or n % 3]
    for minutes in (0, 5, 10, 15):
        synced.serve_prices(gappy)
        synced.at(synced.now + dt.timedelta(minutes=minutes and 5))
        assert synced.sync().code == ExitCode.REFUSED
        told = [m for m in receiver.messages() if "pushed nothing" in m["title"]]
        assert len(told) == (1 if minutes >= 10 else 0), (minutes, receiver.messages())
    assert [r.path for r in receiver.at("/hc")][-1] == "/hc/abc"  # a refusal is no failed run
    assert synced.sync().code == 0
    assert "trusts the prices again" in receiver.messages()[-1]["title"]


def test_powerwall_settings_are_told_once(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    assert synced.sync().code == 0
    told = receiver.messages()
    assert len(told) == 1 and "cannot follow the tariff" in told[0]["title"]
    assert "export rule is pv_only" in told[0]["message"]
    synced.advance(CHECK_DUE)  # the next remote check finds it unchanged: silent
    assert synced.sync().code == 0
    assert len(receiver.messages()) == 1


def test_a_foreign_tariff_is_told(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    assert synced.sync().code == 0
    synced.sandbox.set_tariff({"code": "SOMEONE:ELSE", "name": "x"})
    synced.advance(CHECK_DUE)
    assert synced.sync().code == 0
    told = receiver.messages()
    assert len(told) == 1 and "another tariff replaced ours" in told[0]["title"]


def test_fleet_down_is_told_once_and_its_return(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    fleet_login(synced.site)
    site = synced.sandbox.energy_site_id
    synced.sandbox.add_fault(f"/fleet/na/api/1/energy_sites/{site}", "status", status=503, count=9)
    assert synced.sync().code == 0
    told = receiver.messages()
    assert [m["title"] for m in told] == ["amber-tesla-sync: the Tesla Fleet API path is down"]
    synced.sandbox.add_fault(f"/fleet/na/api/1/energy_sites/{site}", "status", status=503, count=9)
    synced.advance(CHECK_DUE)
    assert synced.sync().code == 0
    assert len(receiver.messages()) == 1
    synced.sandbox.clear_faults()
    synced.advance(CHECK_DUE)
    back = synced.sync_json("-v")
    assert back["_code"] == 0
    assert back["sites"][0]["backend"] == "fleet", back
    assert receiver.messages()[-1]["title"] == "amber-tesla-sync: the Tesla Fleet API works again"


def test_notify_test_reports_each_url(synced: Synced, receiver: Receiver) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}", "json://127.0.0.1:1/x", "nope://"]\n'
    )
    result = synced.run("notify", "test")
    assert result.code == ExitCode.NOTIFY, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"✓ json://127.0.0.1:{receiver.port}/hook")
    assert lines[1].startswith("✗ json://127.0.0.1:1/x")
    assert lines[2] == "✗ nope://…: " + lines[2].split(": ", 1)[1]
    assert "1 sent, 2 failed" in result.stdout
    assert "what to do:" in result.stderr
    assert len(receiver.messages()) == 1
    assert receiver.messages()[0]["title"] == "amber-tesla-sync: test message"
    data = json.loads(synced.run("notify", "test", "--json").stdout)
    assert [r["ok"] for r in data["results"]] == [True, False, False]


def test_notify_test_without_urls(synced: Synced) -> None:
    result = synced.run("notify", "test")
    assert result.code == ExitCode.CONFIG
    assert "notify.urls" in result.stderr


def test_secrets_in_urls_are_masked(synced: Synced, receiver: Receiver) -> None:
    secret = "s3cr3tTOKENabcdef0123456789"
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["json://user:{secret}@127.0.0.1:1/x"]\n'
    )
    result = synced.run("notify", "test")
    assert result.code == ExitCode.NOTIFY
    assert secret not in result.stdout + result.stderr
    break_amber(synced)
    failed = synced.sync("-v")
    assert secret not in failed.stdout + failed.stderr


def test_changes_is_pure_and_keyed_by_exit_code() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    memory = NotifyMemory()
    fail = RunFacts([SiteFacts("a", "failed", "x", 8, "boom", "wait")])
    said, memory2 = changes(memory, fail, now, dt.timedelta(minutes=5))
    assert len(said) == 1 and memory.sites == {}
    assert changes(memory2, fail, now, dt.timedelta(minutes=5))[0] == []
    auth = RunFacts([SiteFacts("a", "failed", "x", 6, "login", "log in")])
    said, _ = changes(memory2, auth, now, dt.timedelta(minutes=5))
    assert [m.title for m in said] == ["amber-tesla-sync: a still fails, differently"]


def test_the_readme_documents_every_exit_code() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for code in ExitCode:
        assert f"\n| {int(code)} | " in readme, code


def test_a_run_that_stops_before_the_sites_is_told_and_pinged(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    original = synced.site.config.read_text()
    assert synced.run("config", "unset", "amber.site_id").code == 0
    result = synced.sync()
    assert result.code == ExitCode.CONFIG
    assert [r.path for r in receiver.at("/hc")] == ["/hc/abc/fail"]
    told = receiver.messages()
    assert len(told) == 1 and "all sites is failing" in told[0]["title"]
    assert "login amber" in told[0]["message"]
    receiver.clear()
    assert synced.sync().code == ExitCode.CONFIG
    assert receiver.messages() == []
    synced.site.config.write_text(original)
    assert synced.sync().code == 0
    assert [m["title"] for m in receiver.messages()] == ["amber-tesla-sync: all sites works again"]


def test_usage_errors_and_dry_runs_tell_nobody(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    assert synced.sync("--site", "nope").code == ExitCode.USAGE
    break_amber(synced)
    assert synced.sync("--dry-run").code == ExitCode.SERVICE
    assert receiver.messages() == []
    assert receiver.at("/hc") == []


def test_foreign_tariffs_are_told_at_most_daily() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    facts = RunFacts([SiteFacts("a", "pushed", "x", foreign="code 'X'")])
    said, memory = changes(NotifyMemory(), facts, now, dt.timedelta(hours=2))
    assert len(said) == 1
    later = now + dt.timedelta(hours=23)
    assert changes(memory, facts, later, dt.timedelta(hours=2))[0] == []
    again = now + dt.timedelta(hours=24)
    assert len(changes(memory, facts, again, dt.timedelta(hours=2))[0]) == 1


def test_a_fleet_login_is_told_as_such() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    facts = RunFacts([], fleet_error="refresh failed", fleet_login=True)
    said, memory = changes(NotifyMemory(), facts, now, dt.timedelta(hours=2))
    assert [m.title for m in said] == [
        "amber-tesla-sync: the Tesla Fleet login needs the browser again"
    ]
    assert "login fleet" in said[0].body
    assert changes(memory, facts, now, dt.timedelta(hours=2))[0] == []


def test_a_dead_fleet_login_without_teslemetry_says_so(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    fleet_login(synced.site)
    assert synced.run("logout", "teslemetry").code == 0
    synced.sandbox.revoke_refresh_tokens()
    synced.sandbox.expire_access_tokens()
    assert synced.sync().code == ExitCode.AUTH
    [told] = receiver.messages()
    assert told["title"].endswith("is failing: the Tesla Fleet login needs the browser again")
    assert "login fleet" in told["message"]


def test_doctor_checks_the_urls_without_sending(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver)
    checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert checks["notifications"]["ok"], checks["notifications"]
    assert "1 of 1 URLs understood" in checks["notifications"]["detail"]
    assert receiver.received == []  # dry: nothing sent, nothing pinged
    synced.site.config.write_text(
        synced.site.config.read_text().replace(receiver.notify_url(), "nope://x")
    )
    checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert not checks["notifications"]["ok"]
    assert "nope://…" in checks["notifications"]["detail"] and checks["notifications"]["fix"]


def test_apprise_is_imported_only_to_send() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import amber_tesla_sync.cli, amber_tesla_sync.sync.watched, "
        "amber_tesla_sync.doctor.checks; print('apprise' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_a_message_about_a_site_says_which_override_is_in_force(
    synced: Synced, receiver: Receiver
) -> None:
    from overridekit import override

    configure(synced, receiver)
    assert synced.sync().code == 0
    synced.advance(5)
    started = override(synced, "charge", "--for", "2h", "--target", "80")
    assert started["_code"] == 0, started["_stderr"]
    receiver.clear()
    break_amber(synced)
    synced.advance(5)
    assert synced.sync().code == ExitCode.SERVICE
    messages = receiver.messages()
    assert len(messages) == 1, messages
    assert "is failing" in messages[0]["title"]
    assert "Override in force: charge to 80 % until " in messages[0]["message"]
    assert f"(override {started['override']['id']})" in messages[0]["message"], started


def test_without_an_override_a_message_says_nothing_of_one() -> None:
    facts = RunFacts(sites=[SiteFacts("home", "failed", "x", 8, "Amber failed", "wait")])
    said, _ = changes(
        NotifyMemory(), facts, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.timedelta(0)
    )
    assert said and all("Override" not in m.body for m in said)
