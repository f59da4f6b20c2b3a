"""What a push's read-back costs and what it still tells: one read of site_info when the push is
in effect at once (at most three when it is not), which is also the run's check (no other
read of the Powerwall until the next check); a push Tesla accepts but does not apply is reported in
the same run, and again by the next run, which reads it back before deciding anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from amber_tesla_sync.errors import ExitCode, VerifyError
from amber_tesla_sync.settings.config import SyncSettings
from amber_tesla_sync.sync.tariff_push import VERIFY_DELAYS, TariffPush
from amber_tesla_sync.tariff import build_request_body
from synckit import Synced, flat

CHECK_EVERY = SyncSettings().check_remote_every_minutes
RATES = {f"{h // 2:02d}:{h % 2 * 30:02d}": (0.25, 0.05) for h in range(48)}


@dataclass
class Remote:
    tariff: Any


@dataclass
class Settings:
    verify_seconds: float = 30.0


@dataclass
class Steps:
    """What TariffPush._verify uses of a run: reads of site_info that show ``shown``."""

    shown: Any
    settings: Settings = field(default_factory=Settings)
    reads: int = 0
    slept: list[float] = field(default_factory=list)

    def read(self) -> Remote:
        self.reads += 1
        return Remote(self.shown)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_a_push_in_effect_at_once_is_one_read() -> None:
    body = build_request_body(RATES)
    steps: Any = Steps(body["tou_settings"]["tariff_content_v2"])
    TariffPush(steps)._verify(body)
    assert (steps.reads, steps.slept) == (1, [])


def test_a_push_not_in_effect_is_read_at_most_three_times() -> None:
    body = build_request_body(RATES)
    other = build_request_body(dict.fromkeys(RATES, (0.3, 0.05)))  # 30 c, not the 25 c pushed
    steps: Any = Steps(other["tou_settings"]["tariff_content_v2"])
    try:
        TariffPush(steps)._verify(body)
    except VerifyError as error:
        assert "does not match the one pushed" in error.message
    else:
        raise AssertionError("a tariff not in effect was taken as verified")
    assert steps.reads == len(VERIFY_DELAYS) == 3
    assert sum(steps.slept) == VERIFY_DELAYS[-1] <= Settings().verify_seconds


def site_info_reads(synced: Synced) -> int:
    return sum(1 for r in synced.tesla_requests() if r["path"].endswith("/site_info"))


def flat_sync(synced: Synced) -> int:
    """A sync with Amber's prices flat at 20 c/kWh (the same tariff at any time)."""
    synced.serve_prices(flat(synced.amber_prices(), buy=20))
    return synced.sync().code


def quiet_config(synced: Synced) -> None:
    text = synced.site.config.read_text() + (
        "\n[sync]\nverify_seconds = 0\nreassert_after_minutes = 600\n"  # no re-assert here
    )
    synced.site.config.write_text(text)


def test_the_read_back_is_the_check(synced: Synced) -> None:
    quiet_config(synced)
    assert flat_sync(synced) == 0  # the first push, read back
    synced.sandbox.clear_requests()
    for _ in range(CHECK_EVERY // 5 - 1):  # nothing changed, the check is not due yet
        synced.advance(5)
        assert flat_sync(synced) == 0
    assert site_info_reads(synced) == 0
    assert not synced.sandbox.tariff_posts()[1:]
    synced.advance(5)  # check_remote_every_minutes after the read-back: the check
    assert flat_sync(synced) == 0
    assert site_info_reads(synced) == 1


def test_a_push_accepted_but_not_applied_is_reported_then_and_by_the_next_run(
    synced: Synced,
) -> None:
    quiet_config(synced)
    synced.sandbox.set_switches(tariff_apply_delay=3600)  # accepted, not in effect for an hour
    synced.serve_prices(flat(synced.amber_prices(), buy=20))
    first = synced.sync_json()
    site = first["sites"][0]
    assert (first["_code"], site["outcome"]) == (ExitCode.VERIFY, "unverified")
    assert "does not match the one pushed" in first["_stderr"] + str(site)
    synced.sandbox.clear_requests()
    synced.advance(5)
    synced.serve_prices(flat(synced.amber_prices(), buy=20))
    second = synced.sync_json()
    site = second["sites"][0]
    assert (second["_code"], site["outcome"]) == (ExitCode.VERIFY, "unverified")
    assert "is not in effect yet" in str(site)
    assert site_info_reads(synced) == 1  # read back again, before deciding anything
    assert len(synced.sandbox.tariff_posts()) == 1  # not sent again (until 30 min after)
