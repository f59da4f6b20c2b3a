"""A push whose answer was lost is read back, never sent again blindly: a tariff POST that Tesla
carried out but answered with a body that is not JSON, or whose answer timed out, was dropped or
came back as a gateway's 504 after the request was sent, is sent exactly once and ends verified
once read back; not read back, it is "unverified" (sent, not confirmed), never "failed", and the
next run reads it back first. Only a refusal (a 4xx) is "failed": nothing was accepted. A setting
Tesla took but answered unreadably is no failure either. The sandbox carries the requests out and
spoils only their answers; POSTs are counted in its log."""

from __future__ import annotations

from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.state import load_state
from synckit import Synced, flat


def configure(synced: Synced, extra: str = "", timeout: float = 2.0) -> None:
    """Requests time out after ``timeout`` seconds; a read-back is one read (the sandbox's
    clock stands still while a run waits)."""
    config = synced.site.config
    text = config.read_text().replace("timeout_seconds = 2.0", f"timeout_seconds = {timeout}")
    config.write_text(text + "\n[sync]\nverify_seconds = 0\n" + extra)


def tou_path(synced: Synced) -> str:
    return f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/time_of_use_settings"


def posts(synced: Synced, endpoint: str = "time_of_use_settings") -> int:
    return len(
        [r for r in synced.tesla_requests() if r["method"] == "POST" and endpoint in r["path"]]
    )


def run(synced: Synced, buy: float = 20.0) -> dict[str, Any]:
    synced.serve_prices(flat(synced.amber_prices(), buy=buy))
    summary = synced.sync_json()
    site: dict[str, Any] = summary["sites"][0]
    site["_code"] = summary["_code"]
    site["_stderr"] = summary["_stderr"]
    return site


LOST_AFTER_SENDING: list[tuple[str, dict[str, Any]]] = [
    ("2xx not JSON", {"kind": "malformed", "malformed": "not_json"}),
    ("2xx cut short", {"kind": "malformed", "malformed": "truncated"}),
    ("2xx without its response", {"kind": "malformed", "malformed": "wrong_shape"}),
    ("timed out", {"kind": "delay", "delay_seconds": 3.0, "applied": True}),
    ("connection dropped", {"kind": "drop", "applied": True}),
    ("504 from the gateway", {"kind": "status", "status": 504, "applied": True}),
]


@pytest.mark.parametrize(
    ("name", "fault"), LOST_AFTER_SENDING, ids=[n for n, _ in LOST_AFTER_SENDING]
)
def test_a_push_carried_out_whose_answer_was_lost_is_sent_once_and_verified(
    synced: Synced, name: str, fault: dict[str, Any]
) -> None:
    configure(synced, timeout=1.0 if fault["kind"] == "delay" else 2.0)
    kind = fault.pop("kind")
    synced.sandbox.add_fault(tou_path(synced), kind, method="POST", **fault)
    site = run(synced)
    assert len(synced.sandbox.tariff_posts()) == 1, name  # sent once: never retried
    assert (site["outcome"], site["pushed"], site["verified"]) == ("verified", True, True)
    assert site["_code"] == ExitCode.OK, site
    assert "Tesla's answer was lost; the read-back shows it in effect" in site["reason"]
    state = load_state().sync
    [last] = [entry.last_push for entry in state.values()]
    assert last is not None and last.verified and last.answer_lost
    synced.advance(5)
    assert run(synced)["outcome"] == "unchanged"
    assert len(synced.sandbox.tariff_posts()) == 1


def test_a_push_whose_answer_was_lost_and_is_not_read_back_is_not_failed(synced: Synced) -> None:
    """The connection dropped after sending, before Tesla carried it out: unknown, so the run
    says so, and the next runs read back instead of pushing again (until the 30 min wait)."""
    configure(synced)
    assert run(synced)["outcome"] == "verified"
    synced.sandbox.clear_requests()
    synced.advance(5)
    synced.sandbox.add_fault(tou_path(synced), "drop", method="POST")
    lost = run(synced, buy=30)
    assert (lost["outcome"], lost["pushed"], lost["_code"]) == (
        "unverified",
        True,
        ExitCode.VERIFY,
    )
    assert "sent, but Tesla's answer was lost" in lost["reason"]
    assert "failed" not in lost["outcome"]
    assert posts(synced) == 1
    synced.advance(5)
    waiting = run(synced, buy=30)
    assert waiting["outcome"] == "unverified" and waiting["pushed"] is False
    assert "waiting for the tariff pushed at 16:47" in waiting["reason"]
    assert "the tariff sent at 16:47 (Tesla's answer was lost)" in waiting["error"]
    assert posts(synced) == 1  # read back, not sent again
    assert len(synced.sandbox.tariff_posts()) == 1  # (the dropped one never reached the site)


def test_a_refusal_still_fails_and_is_sent_again_at_once(synced: Synced) -> None:
    configure(synced)
    synced.sandbox.add_fault(tou_path(synced), "malformed", malformed="not_json", method="POST")
    assert run(synced)["outcome"] == "verified"  # an unreadable 2xx: carried out, read back
    assert posts(synced) == 1
    synced.advance(5)
    synced.sandbox.add_fault(
        tou_path(synced), "status", status=400, method="POST", body={"error": "invalid tariff"}
    )
    refused = run(synced, buy=30)
    assert (refused["outcome"], refused["pushed"], refused["verified"]) == ("failed", False, None)
    assert refused["_code"] == ExitCode.SERVICE
    assert "invalid tariff" in refused["error"]
    assert posts(synced) == 2  # a refusal is not retried either
    synced.advance(5)
    again = run(synced, buy=30)  # nothing was accepted: no waiting, pushed at once
    assert again["outcome"] == "verified" and again["pushed"] is True
    assert posts(synced) == 3


def test_a_setting_taken_with_an_unreadable_answer_is_not_failed(synced: Synced) -> None:
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")
    configure(synced, "ensure_autonomous = true\n")
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/operation"
    synced.sandbox.add_fault(path, "malformed", malformed="not_json", method="POST")
    site = run(synced)
    assert site["_code"] == ExitCode.OK, site
    assert site["outcome"] == "verified"
    assert any(
        "mode self_consumption → autonomous (sent, but Tesla's answer was lost" in action
        for action in site["actions"]
    ), site["actions"]
    assert posts(synced, "operation") == 1
    assert synced.sandbox.energy_site_settings()["default_real_mode"] == "autonomous"
    synced.advance(5)
    synced.sandbox.clear_requests()
    checked = run(synced)  # reads what the Powerwall has: nothing to send again
    assert checked["outcome"] == "unchanged" and checked["_code"] == ExitCode.OK
    assert [r["method"] for r in synced.tesla_requests()] == ["GET"]  # site_info, read
    assert not any("mode" in action for action in checked["actions"])
