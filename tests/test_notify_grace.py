"""A failure is told only once it has lasted ``notify.failure_after_minutes`` (and its recovery
only if it was told); messages name a site by the owner's name for it (``site.name`` or the
``[[sites]]`` name), else by Amber's NMI, else by Amber's site id."""

from __future__ import annotations

import datetime as dt
import json

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.notify.events import RunFacts, SiteFacts, changes
from amber_tesla_sync.store.notify_memory import NotifyMemory
from receiverkit import Receiver
from synckit import Synced


def configure(synced: Synced, receiver: Receiver, extra: str = "") -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
        + f'healthcheck_url = "{receiver.url("/hc/abc")}"\n'
        + extra
    )


def break_amber(synced: Synced) -> None:
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=500, count=3)  # every attempt of one run


def hc_paths(receiver: Receiver) -> list[str]:
    return [r.path for r in receiver.at("/hc")]


def nmi(synced: Synced) -> str:
    found: str = synced.sandbox.app.amber_sites[0].nmi
    return found


def test_one_failed_run_sends_nothing_and_pings_as_before(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    assert synced.sync().code == 0
    receiver.clear()
    break_amber(synced)
    synced.advance(5)
    assert synced.sync().code == ExitCode.SERVICE
    assert receiver.messages() == []  # within the grace (10 minutes by default)
    assert hc_paths(receiver) == ["/hc/abc/start", "/hc/abc/fail"]  # the ping is unchanged
    receiver.clear()
    synced.advance(5)
    assert synced.sync().code == 0
    assert receiver.messages() == []  # no "works again" for a failure never told
    assert hc_paths(receiver) == ["/hc/abc/start", "/hc/abc"]


def test_a_lasting_failure_is_told_after_the_grace_and_so_is_its_end(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    assert synced.sync().code == 0
    titles = []
    for minutes in (0, 5, 10, 15):  # failed runs, minutes after the first
        receiver.clear()
        break_amber(synced)
        synced.advance(5)
        assert synced.sync().code == ExitCode.SERVICE
        assert hc_paths(receiver) == ["/hc/abc/start", "/hc/abc/fail"]
        told = [m["title"] for m in receiver.messages()]
        assert len(told) == (1 if minutes == 10 else 0), (minutes, told)
        titles += told
    assert "is failing" in titles[0]
    receiver.clear()
    synced.advance(5)
    assert synced.sync().code == 0
    back = receiver.messages()
    assert len(back) == 1 and "works again" in back[0]["title"], back
    assert "After 20 min of failures" in back[0]["message"]


def test_no_grace_tells_the_first_failed_run(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver, "failure_after_minutes = 0\n")
    break_amber(synced)
    assert synced.sync().code == ExitCode.SERVICE
    assert ["is failing" in m["title"] for m in receiver.messages()] == [True]


def test_the_grace_as_a_pure_rule() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fail = RunFacts([SiteFacts("a", "failed", "x", 8, "boom", "wait")])
    good = RunFacts([SiteFacts("a", "unchanged", "fine")])
    grace, refusal = dt.timedelta(minutes=10), dt.timedelta(hours=2)
    said, memory = changes(NotifyMemory(), fail, now, refusal, grace)
    assert said == []
    said, memory = changes(memory, fail, now + dt.timedelta(minutes=9), refusal, grace)
    assert said == []
    said, quiet = changes(memory, good, now + dt.timedelta(minutes=9), refusal, grace)
    assert said == [] and quiet.sites["a"].failing_since is None  # over before it was told
    said, memory = changes(memory, fail, now + dt.timedelta(minutes=10), refusal, grace)
    assert [m.title for m in said] == ["amber-tesla-sync: a is failing"]
    said, memory = changes(memory, good, now + dt.timedelta(minutes=15), refusal, grace)
    assert [m.title for m in said] == ["amber-tesla-sync: a works again"]


def test_messages_name_the_site_by_its_nmi(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver, "failure_after_minutes = 0\n")
    break_amber(synced)
    assert synced.sync().code == ExitCode.SERVICE
    title = receiver.messages()[0]["title"]
    assert title == f"amber-tesla-sync: NMI {nmi(synced)} is failing"
    assert synced.sandbox.amber_site_id not in json.dumps(receiver.messages())


def test_messages_name_the_site_by_the_owners_name(synced: Synced, receiver: Receiver) -> None:
    configure(synced, receiver, "failure_after_minutes = 0\n")
    assert synced.run("config", "set", "site.name", "Beach house").code == 0
    break_amber(synced)
    assert synced.sync().code == ExitCode.SERVICE
    assert receiver.messages()[0]["title"] == "amber-tesla-sync: Beach house is failing"
    receiver.clear()
    synced.advance(5)
    assert synced.sync().code == 0
    assert receiver.messages()[0]["title"] == "amber-tesla-sync: Beach house works again"


def test_a_sites_entry_is_named_by_its_name(synced: Synced, receiver: Receiver) -> None:
    amber, energy = synced.sandbox.amber_site_id, synced.sandbox.energy_site_id
    text = synced.site.config.read_text()
    text = text.replace(f'site_id = "{amber}"\n', "", 1).replace(f"energy_site_id = {energy}\n", "")
    synced.site.config.write_text(
        text + f'\n[[sites]]\nname = "Farm"\namber_site_id = "{amber}"\nenergy_site_id = {energy}\n'
    )
    configure(synced, receiver, "failure_after_minutes = 0\n")
    break_amber(synced)
    assert synced.sync().code == ExitCode.SERVICE
    assert receiver.messages()[0]["title"] == "amber-tesla-sync: Farm is failing"


def test_a_state_from_before_the_nmi_names_the_site_id(synced: Synced, receiver: Receiver) -> None:
    state_file = synced.site.state / "state.json"
    state = json.loads(state_file.read_text())
    for cached in state["amber_sites"].values():
        cached.pop("nmi", None)  # as written before the NMI was recorded
    state_file.write_text(json.dumps(state))
    configure(synced, receiver, "failure_after_minutes = 0\n")
    break_amber(synced)
    assert synced.sync().code == ExitCode.SERVICE
    title = receiver.messages()[0]["title"]
    assert title == f"amber-tesla-sync: {synced.sandbox.amber_site_id} is failing"
