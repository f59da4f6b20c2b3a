"""Our own pushes are known by what they hold, not by when they arrive: a push Tesla applies late
(the Powerwall still showing our previous tariff, or an earlier one of ours turning up after the
last) is never "another tariff replaced ours" (not reported, not notified, not in the history's
foreign tariffs), while someone else's tariff later the same day still is. And while the last
push is not in effect yet, the same tariff is not sent again every run: once, after 30 min."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.state import LastPush, OwnPush, SyncState
from amber_tesla_sync.sync import own_pushes
from amber_tesla_sync.tariff.body import build_tariff
from receiverkit import Receiver
from synckit import CHECK_DUE, T0, Synced, flat

LABELS = own_pushes.LABELS


def configure(synced: Synced, receiver: Receiver | None = None) -> None:
    """Read-backs are one read (the sandbox's clock does not move while a run waits), no
    re-assert falls on a check; messages go to ``receiver``."""
    extra = "\n[sync]\nverify_seconds = 0\nreassert_after_minutes = 600\n"
    if receiver is not None:
        extra += f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
    synced.site.config.write_text(synced.site.config.read_text() + extra)


def run(synced: Synced, buy: float) -> dict[str, Any]:
    """One sync with Amber's prices flat at ``buy`` c/kWh (the same tariff at any time)."""
    synced.serve_prices(flat(synced.amber_prices(), buy=buy))
    summary = synced.sync_json()
    site: dict[str, Any] = summary["sites"][0]
    site["_code"] = summary["_code"]
    return site


def foreign_in_history(synced: Synced) -> list[str | None]:
    return [record.foreign for record in History().runs(T0 - dt.timedelta(days=1))]


def test_a_push_applied_late_is_ours_and_a_real_foreign_tariff_is_still_told(
    synced: Synced, receiver: Receiver
) -> None:
    configure(synced, receiver)
    assert run(synced, 20)["outcome"] == "verified"
    first = json.loads(json.dumps(synced.sandbox.stored_tariff()))  # our first tariff, as kept

    synced.sandbox.set_switches(tariff_apply_delay=600)  # Tesla takes 10 min from here
    synced.advance(5)
    lagging = run(synced, 30)
    assert (lagging["outcome"], lagging["_code"]) == ("unverified", ExitCode.VERIFY)
    synced.advance(5)  # the Powerwall still shows our first tariff
    waiting = run(synced, 30)
    assert "not ours" not in waiting["reason"], waiting
    assert "waiting for the tariff pushed at 16:47 to take effect" in waiting["reason"]
    synced.advance(5)  # now it shows the second
    assert run(synced, 30)["outcome"] == "verified"

    # the first push turns up again, late (Tesla applied it after the second): ours, not foreign
    synced.sandbox.set_switches(tariff_apply_delay=0)
    synced.sandbox.set_tariff(first)
    synced.advance(CHECK_DUE)  # the check reads the Powerwall
    late = run(synced, 30)
    assert late["outcome"] == "verified"
    assert "not ours" not in late["reason"]
    assert "the Powerwall runs an earlier tariff of ours, pushed at 16:42" in late["reason"]
    assert receiver.messages() == []
    assert foreign_in_history(synced) == [None] * 5

    # someone else's tariff the same day: reported, told and replaced
    other = json.loads(json.dumps(synced.sandbox.stored_tariff()))
    other["code"] = "OTHER_TOOL:PLAN"
    synced.sandbox.set_tariff(other)
    synced.advance(CHECK_DUE)
    found = run(synced, 30)
    assert found["outcome"] == "verified"
    assert "not ours (code 'OTHER_TOOL:PLAN')" in found["reason"]
    told = receiver.messages()
    assert len(told) == 1 and "another tariff replaced ours" in told[0]["title"], told
    assert foreign_in_history(synced)[0] == "code 'OTHER_TOOL:PLAN'"
    assert synced.sandbox.stored_tariff()["code"] == "AMBER_TESLA_SYNC"


def test_while_the_read_back_lags_runs_every_5_minutes_push_once(synced: Synced) -> None:
    configure(synced)
    assert run(synced, 20)["outcome"] == "verified"
    synced.sandbox.set_switches(tariff_apply_delay=600)
    outcomes = []
    for _ in range(5):  # every 5 minutes: the push at +5 min is in effect at +15 min
        synced.advance(5)
        outcomes.append(run(synced, 30))
    assert len(synced.sandbox.tariff_posts()) == 2  # the first tariff, and the change: once
    assert [site["outcome"] for site in outcomes] == [
        "unverified",
        "unverified",
        "verified",
        "unchanged",
        "unchanged",
    ]
    assert [site["pushed"] for site in outcomes] == [True, False, False, False, False]
    assert outcomes[1]["_code"] == ExitCode.VERIFY
    assert outcomes[1]["error"] == "the tariff pushed at 16:47 is not in effect yet"
    assert "now read back as sent" in outcomes[2]["reason"]


def test_a_push_not_in_effect_after_30_minutes_is_sent_once_more(synced: Synced) -> None:
    configure(synced)
    assert run(synced, 20)["outcome"] == "verified"
    synced.sandbox.set_switches(tariff_apply_delay=3600)  # an hour: longer than the wait
    reasons = []
    for _ in range(8):  # +5 … +40 min
        synced.advance(5)
        reasons.append(run(synced, 30)["reason"])
    assert len(synced.sandbox.tariff_posts()) == 3  # the first, the change, and once more
    assert sum("waiting for the tariff pushed at 16:47" in r for r in reasons[1:6]) == 5
    assert "not in effect after 30 min" in reasons[6] and "sending it once more" in reasons[6]
    assert "waiting for the tariff pushed at 17:17" in reasons[7]
    assert not any("not ours" in reason for reason in reasons)


def test_a_material_change_while_waiting_is_pushed_at_once(synced: Synced) -> None:
    configure(synced)
    assert run(synced, 20)["outcome"] == "verified"
    synced.sandbox.set_switches(tariff_apply_delay=600)
    synced.advance(5)
    run(synced, 30)
    synced.advance(5)
    changed = run(synced, 40)  # still not in effect, but the prices moved: one write per change
    assert changed["pushed"] is True
    assert "changed materially" in changed["reason"]
    assert len(synced.sandbox.tariff_posts()) == 3


def test_a_push_of_ours_the_state_missed_is_taken_as_the_last_push(synced: Synced) -> None:
    """The run that sent it ended before recording it (killed): it is in effect and ours."""
    configure(synced)
    assert run(synced, 20)["outcome"] == "verified"
    path = synced.site.state / "state.json"
    before = json.loads(path.read_text())
    synced.advance(5)
    assert run(synced, 30)["outcome"] == "verified"
    after = json.loads(path.read_text())
    for key, site in after["sync"].items():
        site["last_push"] = before["sync"][key]["last_push"]  # the record of the second is lost
    path.write_text(json.dumps(after))
    synced.advance(CHECK_DUE)  # the check reads the Powerwall
    site = run(synced, 30)
    assert (site["outcome"], site["pushed"]) == ("unchanged", False), site["reason"]
    assert "not ours" not in site["reason"]
    assert len(synced.sandbox.tariff_posts()) == 2


# -- the content of a tariff (pure) -----------------------------------------------------------


def rates(buy: float = 0.2, sell: float = 0.05) -> dict[str, tuple[float, float]]:
    return {label: (round(buy + i / 10_000, 4), sell) for i, label in enumerate(LABELS)}


def last(**changes: Any) -> LastPush:
    return LastPush(rates=rates(), pushed_at=T0, fingerprint="f", **changes)


def test_a_read_back_with_float_noise_has_the_content_that_was_sent() -> None:
    sent = rates()
    noisy = {label: (buy + 3e-5, sell - 4e-5) for label, (buy, sell) in sent.items()}
    assert own_pushes.rates_print(noisy) == own_pushes.rates_print(sent)
    moved = dict(sent, **{"07:30": (sent["07:30"][0] + 0.001, sent["07:30"][1])})
    assert own_pushes.rates_print(moved) != own_pushes.rates_print(sent)
    assert own_pushes.rates_of(build_tariff(sent)) == sent


def test_recognised_by_content() -> None:
    earlier = rates(buy=0.3)
    pushes = [OwnPush(content=own_pushes.rates_print(earlier), pushed_at=T0)]
    ours = build_tariff(rates())
    assert own_pushes.recognise(ours, True, last(), pushes).kind == "last"
    seen = own_pushes.recognise(build_tariff(earlier), True, last(), pushes)
    assert (seen.kind, seen.foreign, seen.pushed_at) == ("earlier", None, T0)
    edited = build_tariff(rates(buy=0.5))  # ours, with prices none of our pushes had
    changed = own_pushes.recognise(edited, True, last(), pushes)
    assert changed.kind == "foreign" and changed.foreign and "ours, but changed" in changed.foreign
    other = dict(build_tariff(earlier), code="OTHER")
    assert own_pushes.recognise(other, True, last(), pushes).foreign == "code 'OTHER'"
    assert own_pushes.recognise(ours, False, last(), pushes).kind == "unknown"


def test_the_content_holds_the_demand_charges() -> None:
    """A push with demand charges is one content; the same prices without them are another, so
    a Powerwall that lost a push's demand charges does not show an earlier push of ours."""
    demand = {"17:00": 0.45, "17:30": 0.45}
    plain = own_pushes.rates_print(rates())
    assert own_pushes.rates_print(rates(), dict.fromkeys(demand, 0.0)) == plain  # none charged
    assert own_pushes.rates_print(rates(), demand) != plain
    assert own_pushes.demand_of(build_tariff(rates(), demand)) == {
        label: demand.get(label, 0.0) for label in LABELS
    }
    assert own_pushes.demand_of(build_tariff(rates())) is None
    pushed = [OwnPush(content=own_pushes.rates_print(rates(), demand), pushed_at=T0)]
    with_demand = last(demand=demand)
    assert own_pushes.recognise(build_tariff(rates(), demand), True, with_demand, pushed).kind == (
        "last"
    )
    lost = own_pushes.recognise(build_tariff(rates()), True, with_demand, pushed)
    assert lost.kind == "foreign" and lost.foreign and "demand" in lost.foreign


def test_the_tariff_a_pending_push_replaced_is_not_foreign_until_it_is_in_effect() -> None:
    theirs = {"code": "RETAILER:TOU", "name": "x"}
    pending = last(verified=False, replaced=own_pushes.tariff_print(theirs))
    assert own_pushes.recognise(theirs, True, pending, []).kind == "replaced"
    done = last(verified=True, replaced=own_pushes.tariff_print(theirs))
    assert own_pushes.recognise(theirs, True, done, []).kind == "foreign"
    changed = {"code": "RETAILER:TOU", "name": "y"}
    assert own_pushes.recognise(changed, True, pending, []).kind == "foreign"


def sent(rates: dict[str, tuple[float, float]], at: dt.datetime) -> OwnPush:
    return OwnPush(content=own_pushes.rates_print(rates), pushed_at=at)


def test_the_record_keeps_a_day_and_at_most_50() -> None:
    pushes: list[OwnPush] = []
    for minutes in range(0, 60 * 30, 20):  # every 20 minutes for 30 hours
        pushes = own_pushes.remember(
            pushes, sent(rates(buy=minutes / 1000), T0 + dt.timedelta(minutes=minutes))
        )
    assert len(pushes) == 50
    assert pushes[-1].pushed_at == T0 + dt.timedelta(minutes=60 * 30 - 20)
    assert all(pushes[-1].pushed_at - push.pushed_at < dt.timedelta(hours=24) for push in pushes)
    hourly: list[OwnPush] = []
    for hours in range(30):
        hourly = own_pushes.remember(hourly, sent(rates(), T0 + dt.timedelta(hours=hours)))
    assert len(hourly) == 24  # a day's


def test_a_state_written_before_the_record_loads_as_it_was() -> None:
    older = {
        "last_push": {
            "rates": {"00:00": [0.2, 0.05]},
            "pushed_at": T0.isoformat(),
            "fingerprint": "f",
        },
        "last_outcome": "verified",
    }
    state = SyncState.model_validate(older)
    assert state.own_pushes == []
    assert state.last_push is not None and state.last_push.rates == {"00:00": (0.2, 0.05)}
    assert (state.last_push.verified, state.last_push.answer_lost) == (True, False)
    assert state.last_push.replaced is None and state.last_outcome == "verified"
