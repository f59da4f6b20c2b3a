"""The tariff's side of a sync: send it once, read it back until it is in effect, and know our own
tariffs on the Powerwall by what they hold (:mod:`amber_tesla_sync.sync.own_pushes`).

One write per change: a push is sent once. Its content is on record as ours (saved) before it is
sent, so a tariff of ours applied late is never taken for another app's. A push whose answer was
lost (:class:`~amber_tesla_sync.tesla.lost.AnswerLost`: a timeout or a dropped connection after
sending, a 504, an unreadable success) is recorded as the last push, unverified ("sent, answer
lost"), and read back in the same run like any other push; it is never sent again blindly. Only
an answer that proves a refusal (a 4xx, ``result: false``, a 5xx from Tesla's own servers after
the retries) means nothing was accepted.

Verification (each read of ``site_info`` is billed on the Fleet API, twice a write): a push is
read back in its own run unless :func:`read_back_now` finds it routine, and that read is also the
run's check of the Powerwall's settings (the next check is ``sync.check_remote_every_minutes``
later). When the first read shows the tariff as sent, nothing more is read; else it is read again
after :data:`VERIFY_DELAYS` (within ``sync.verify_seconds``): at most three reads. A push accepted
but not in effect by then is reported in the same run (exit 11, "unverified"); the next run reads
the Powerwall again before deciding anything (an unverified push is always read), reports it
again while it waits, and sends the tariff once more 30 min after the push.

A routine push (:attr:`~amber_tesla_sync.sync.decide.Decision.routine`: it only keeps the tariff
fresh) on the Fleet API, after a push that was read back in effect, before the check is due, is
not read in its own run: it ends "pushed" (``LastPush.deferred``), and the next check (at most
``sync.check_remote_every_minutes`` after the last read) reads the newest push back. A push not
in effect then is reported by that run (exit 11) and sent once more, as above. Until then
Tesla's acceptance of the write is trusted, for a tariff of the shape read back in effect
before (only its prices differ)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import AppError, VerifyError
from amber_tesla_sync.store.state import LastPush, OwnPush
from amber_tesla_sync.sync import own_pushes
from amber_tesla_sync.sync.decide import Waiting, fingerprint, plan_demand, plan_rates
from amber_tesla_sync.sync.own_pushes import Seen
from amber_tesla_sync.tariff import TariffPlan, build_request_body, validate_request_body
from amber_tesla_sync.tariff.compare import differences
from amber_tesla_sync.tesla.lost import AnswerLost

if TYPE_CHECKING:
    from amber_tesla_sync.settings.config import SyncSettings
    from amber_tesla_sync.sync.powerwall import PowerwallSteps
    from amber_tesla_sync.tesla.models import SiteInfo

log = logging.getLogger(__name__)
VERIFY_DELAYS = (0.0, 5.0, 20.0)  # seconds after the push: the reads of a read-back
NEXT_RUN = (
    "the next run reads the Powerwall's tariff again before deciding anything (it is not sent "
    "again blindly)"
)


@dataclass(frozen=True)
class Pushed:
    """A push sent: ``lost`` when Tesla's answer was lost (accepted or not: unknown);
    ``previous``: the last push before it."""

    last: LastPush
    lost: AnswerLost | None = None
    previous: LastPush | None = None


@dataclass(frozen=True)
class ReadBack:
    """A push read back: ``remote`` once it is in effect as sent, else ``error`` says why not."""

    remote: SiteInfo | None
    error: VerifyError | None = None


class TariffPush:
    """Pushing one site's tariff in one run (the Powerwall's reads and state are ``steps``')."""

    def __init__(self, steps: PowerwallSteps) -> None:
        self.steps = steps

    def seen(self, remote: SiteInfo | None) -> Seen:
        """What the Powerwall's tariff (``remote``: read in this run, or None) is to us. A push
        of ours sent after the last one on record (a run that ended before recording it) is in
        effect: it becomes the last push, read back."""
        state = self.steps.site_state
        tariff = remote.tariff if remote is not None else None
        seen = own_pushes.recognise(tariff, remote is not None, state.last_push, state.own_pushes)
        last, rates, at = state.last_push, seen.rates, seen.pushed_at
        if last is None or rates is None or at is None or at <= last.pushed_at:
            return seen
        body = build_request_body(rates)
        state.last_push = LastPush(rates=rates, pushed_at=at, fingerprint=fingerprint(body))
        log.info("a tariff of ours pushed at %s is in effect: taken as the last push", at)
        return Seen("last")

    def demand_changed(self, plan: TariffPlan) -> bool:
        """The plan's demand charge or window is not the last push's (a push is due for it)."""
        last = self.steps.site_state.last_push
        return last is not None and plan_demand(plan) != last.demand

    def confirm(self, seen: Seen) -> bool:
        """An earlier push that was sent but not read back: is it in effect now?"""
        last = self.steps.site_state.last_push
        if last is None or last.verified or seen.kind != "last":
            return False
        self.steps.site_state.last_push = last.model_copy(
            update={"verified": True, "deferred": False}
        )
        log.info("the tariff pushed at %s is now read back as sent", last.pushed_at)
        return True

    def push(self, plan: TariffPlan, remote: SiteInfo | None) -> Pushed:
        """Send the tariff once. Raises when Tesla refused it (nothing was accepted); an answer
        lost is no error here: the push is the (unverified) last push either way."""
        steps = self.steps
        problems = validate_request_body(plan.body, allow_sell_above_buy=steps.allow_sell_above_buy)
        if problems:  # a bug: never send an invalid tariff
            raise AppError(
                "refusing to push an invalid tariff: " + "; ".join(problems[:3]),
                "please report this bug",
            )
        state, rates, demand = steps.site_state, plan_rates(plan), plan_demand(plan)
        previous = state.last_push
        pushed = LastPush(
            rates=rates,
            pushed_at=steps.now,
            fingerprint=fingerprint(plan.body),
            verified=False,
            replaced=own_pushes.tariff_print(remote.tariff) if remote is not None else None,
            demand=demand,
        )
        sent = OwnPush(content=own_pushes.rates_print(rates, demand), pushed_at=steps.now)
        state.own_pushes = own_pushes.remember(state.own_pushes, sent)
        steps.save_state()  # ours before it is sent: read back late, it is never "foreign"
        try:
            steps.tesla.set_time_of_use(steps.target.energy_site_id, plan.body)
        except AnswerLost as lost:
            pushed = pushed.model_copy(update={"answer_lost": True})
            state.last_push = pushed
            log.warning(
                "%s: the tariff was sent, but Tesla's answer was lost (%s); reading it back",
                steps.target.key,
                lost.why,
            )
            return Pushed(pushed, lost, previous)
        except AppError:
            state.own_pushes = own_pushes.forget(state.own_pushes, sent)
            raise
        state.last_push = pushed
        return Pushed(pushed, previous=previous)

    def defer(self, pushed: Pushed, routine: bool, backend: str | None) -> bool:
        """Leave a routine push to the next check (:func:`read_back_now`): True when it is."""
        steps = self.steps
        last_check = steps.site_state.last_remote_check
        now = read_back_now(
            routine, pushed.previous, last_check, steps.now, steps.settings, backend
        )
        if now or pushed.lost is not None:
            return False
        steps.site_state.last_push = pushed.last.model_copy(update={"deferred": True})
        steps.save_state()
        log.info(
            "%s: pushed tariff %s; accepted, read back by the next check",
            steps.target.key,
            pushed.last.fingerprint,
        )
        return True

    def read_back(self, plan: TariffPlan, pushed: Pushed) -> ReadBack:
        """Read the pushed tariff back until it is in effect as sent (or the time is up)."""
        steps = self.steps
        steps.save_state()  # the push is on record before the read-back
        try:
            remote = self._verify(plan.body)
        except AppError as error:
            failed = self._unread(error, pushed)
            log.warning("%s: %s", steps.target.key, failed.message)
            return ReadBack(None, failed)
        steps.site_state.last_push = pushed.last.model_copy(update={"verified": True})
        log.info(
            "%s: pushed tariff %s; read back and verified",
            steps.target.key,
            pushed.last.fingerprint,
        )
        return ReadBack(remote)

    @staticmethod
    def _unread(error: AppError, pushed: Pushed) -> VerifyError:
        """Why a push is not read back as sent, and what happens next."""
        if pushed.lost is not None:
            found = (
                "it is not in effect as sent yet"
                if isinstance(error, VerifyError)
                else f"reading it back failed ({error.message})"
            )
            return VerifyError(
                f"the tariff was sent, but Tesla's answer was lost ({pushed.lost.why}), and "
                f"{found}",
                f"Tesla may have taken it (it was not refused); {NEXT_RUN}",
            )
        if isinstance(error, VerifyError):
            return error
        return VerifyError(
            f"the tariff was pushed and accepted, but reading it back failed ({error.message})",
            NEXT_RUN,
        )

    def _verify(self, body: Mapping[str, Any]) -> SiteInfo:
        steps = self.steps
        sent = body["tou_settings"]["tariff_content_v2"]
        limit = steps.settings.verify_seconds
        waited = 0.0
        found: list[str] = ["nothing was read back"]
        remote: SiteInfo | None = None
        for delay in VERIFY_DELAYS:
            if delay > limit and remote is not None:
                break
            if delay > waited:
                steps.sleep(delay - waited)
                waited = delay
            remote = steps.read()
            tariff = remote.tariff
            found = differences(sent, tariff) if tariff is not None else ["no tariff"]
            if not found:
                return remote
        raise VerifyError(
            f"the tariff read back from the Powerwall does not match the one pushed "
            f"({'; '.join(found[:3])})",
            "the push was accepted but is not in effect as sent (yet); the next run reads it "
            "back again before deciding anything and sends it once more only if it is still not "
            "in effect 30 min after the push (if this persists, check the site in the Tesla app)",
        )


def read_back_now(
    routine: bool,
    previous: LastPush | None,
    last_check: dt.datetime | None,
    now: dt.datetime,
    settings: SyncSettings,
    backend: str | None,
) -> bool:
    """Whether a push is read back in its own run (see the module): always, unless it is
    routine, on the Fleet API, follows a push read back in effect (or one waiting for the same
    check), and the check is not due yet (a read-back due anyway is the check)."""
    every = dt.timedelta(minutes=settings.check_remote_every_minutes)
    trusted = previous is not None and (previous.verified or previous.deferred)
    check_due = last_check is None or now - last_check >= every
    return (
        settings.read_back_every_push
        or not routine
        or backend != "fleet"
        or not trusted
        or check_due
    )


def clock(moment: dt.datetime, zone: ZoneInfo) -> str:
    """``moment`` as "HH:MM" in the site's zone."""
    return moment.astimezone(zone).strftime("%H:%M")


def lagging(seen: Seen, last: LastPush | None, zone: ZoneInfo) -> tuple[Waiting | None, str | None]:
    """What ``decide`` is told of a push that is not in effect: ``waiting`` (the last push is
    unverified and the Powerwall still shows an earlier tariff of ours, or the one it replaced)
    or ``earlier`` (the last push was read back, yet an earlier tariff of ours is in effect)."""
    if last is None or seen.kind not in ("earlier", "replaced"):
        return None, None
    shows = (
        f"an earlier tariff of ours, pushed at {clock(seen.pushed_at, zone)}"
        if seen.kind == "earlier" and seen.pushed_at is not None
        else "the tariff it replaced"
    )
    if last.verified:
        return None, shows
    return Waiting(last.pushed_at, clock(last.pushed_at, zone), shows), None


def not_in_effect(last: LastPush, zone: ZoneInfo, resend_after: dt.timedelta) -> VerifyError:
    """The error of a run that waits for the last push (not sent again: exit 11, as any push
    not read back as sent)."""
    at = clock(last.pushed_at, zone)
    until = clock(last.pushed_at + resend_after, zone)
    lost = " (Tesla's answer was lost)" if last.answer_lost else ""
    return VerifyError(
        f"the tariff {'sent' if lost else 'pushed'} at {at}{lost} is not in effect yet",
        f"nothing was sent again: the next run reads it back again, and sends it once more if "
        f"it is still not in effect at {until} (at once if the prices change materially)",
    )
