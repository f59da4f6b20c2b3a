"""One pass of fetch → fold → decide → push → verify → record, for each configured site (several
sites side by side: :mod:`amber_tesla_sync.sync.sites`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.errors import AppError, ClockError, RefusedError, TimeZoneError
from amber_tesla_sync.store.history import History, RunRecord
from amber_tesla_sync.store.state import State, SyncState
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.decide import Decision, Tolerances, decide, fingerprint, plan_rates
from amber_tesla_sync.sync.fold_settings import fold_options, known_channels
from amber_tesla_sync.sync.outcome import (
    Outcome,
    SiteOutcome,
    SyncOptions,
    note_owed,
    note_refusal,
)
from amber_tesla_sync.sync.override_steps import OverrideSteps
from amber_tesla_sync.sync.powerwall import PowerwallSteps, SettingsCheck
from amber_tesla_sync.sync.powerwall_checks import Finding
from amber_tesla_sync.sync.sites import Fetched, site_prices
from amber_tesla_sync.sync.sources import PAST_HOURS, Span
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.tariff_push import Pushed, TariffPush, lagging, not_in_effect
from amber_tesla_sync.sync.zones import shown_zone, site_zone
from amber_tesla_sync.tariff import Refusal, TariffPlan, fold
from amber_tesla_sync.tariff.slots import UnalignedZoneError

if TYPE_CHECKING:  # made by the caller's factory, only when a run needs Tesla
    from amber_tesla_sync.tesla.api import TeslaApi
    from amber_tesla_sync.tesla.models import SiteInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
HISTORY_DAYS = 3  # the persistence estimate needs the most recent day with data
_HISTORY = threading.Lock()  # sites run side by side use the history one at a time


class SiteSync:
    """Syncs one site; everything it learns goes into ``state`` (saved by the caller)."""

    def __init__(
        self,
        ctx: AppContext,
        tesla: Callable[[], TeslaApi],
        history: History,
        state: State,
        now: dt.datetime,
        options: SyncOptions,
        save_state: Callable[[], None],
        sleep: Callable[[float], None] = time.sleep,
        fetched: Mapping[str, Future[Fetched]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.fetched = fetched  # Amber's answers fetched ahead (several sites at once)
        self.save_state = save_state
        self._tesla_factory = tesla
        self._tesla: TeslaApi | None = None
        self.history = history
        self.state = state
        self.now = now
        self.options = options
        self.sleep = sleep
        self.notes: list[str] = []  # warnings met before the outcome exists
        self.intervals: list[Interval] = []  # Amber's answer, once fetched and the clock checked
        self.tolerances = Tolerances.of(ctx.config.sync)

    @property
    def tesla(self) -> TeslaApi:
        if self._tesla is None:
            self._tesla = self._tesla_factory()
        return self._tesla

    def run(self, target: Target) -> SiteOutcome:
        site_state = self.state.sync.setdefault(target.key, SyncState())
        powerwall = PowerwallSteps(
            lambda: self.tesla,
            target,
            site_state,
            self.ctx.config.sync,
            allow_sell_above_buy=self.ctx.config.tariff.allow_sell_above_buy,
            now=self.now,
            dry_run=self.options.dry_run,
            save_state=self.save_state,
            sleep=self.sleep,
        )
        zone = shown_zone([(target.timezone, target.energy_site_id)], lambda: self.state)
        manual = OverrideSteps(powerwall, zone)
        try:
            outcome = self._run(target, site_state, powerwall, manual)
        except ClockError as error:
            outcome = SiteOutcome(target.key, Outcome.REFUSED, False, error.message, error=error)
            outcome.refusal = (error.message,)
            log.error("%s: %s", target.key, error.message)
        except AppError as error:
            log.error("%s: %s", target.key, error.message)
            outcome = SiteOutcome(target.key, Outcome.FAILED, False, error.message, error=error)
        note_owed(outcome, site_state, powerwall.restore_actions, powerwall.restore_error)
        outcome.actions[:0] = manual.actions
        outcome.override = manual.current
        if self._tesla is not None:
            outcome.backend = self._tesla.backend
        if not outcome.checked:
            outcome.findings = [Finding(k, *v) for k, v in site_state.powerwall.items()]
        if not self.options.dry_run:
            site_state.last_run_at = self.now
            site_state.last_outcome = outcome.outcome
            site_state.last_reason = outcome.reason
            note_refusal(site_state, outcome, self.now)
            self.save_state()  # the push and the state are on disk before the history
            self._remember(
                "record this run",
                lambda: self.history.record_run(
                    RunRecord(
                        started_at=self.now,
                        site=target.key,
                        outcome=outcome.outcome,
                        pushed=outcome.pushed,
                        reason=outcome.reason,
                        fingerprint=outcome.fingerprint,
                        error=outcome.error.message if outcome.error else None,
                        exit_code=int(outcome.exit_code),
                        rates=plan_rates(outcome.plan) if outcome.pushed and outcome.plan else None,
                        foreign=outcome.foreign,
                    )
                ),
            )
            touched = manual.touched
            self._remember("record the overrides", lambda: manual.record(self.history, touched))
        outcome.warnings.extend(self.notes)
        outcome.intervals = self.intervals
        return outcome

    def _remember(self, what: str, action: Callable[[], T]) -> T | None:
        """Use the history; a history problem never blocks or repeats a push (it becomes a
        warning: the state, which decides the next push, is saved apart from it)."""
        try:
            with _HISTORY:
                return action()
        except AppError as error:
            log.warning("could not %s in the history: %s", what, error.message)
            self.notes.append(f"the history was not used ({what}: {error.message})")
            return None

    # -- the steps ---------------------------------------------------------------------------

    def _run(
        self,
        target: Target,
        site_state: SyncState,
        powerwall: PowerwallSteps,
        manual: OverrideSteps,
    ) -> SiteOutcome:
        manual.end_due()  # an override's end: the owner's values become owed, and restored now
        if manual.paused is not None:  # no write at all (owed restores wait too)
            reason = manual.paused_reason(manual.paused)
            return SiteOutcome(target.key, Outcome.UNCHANGED, False, reason)
        owed_remote = powerwall.restore_owed()  # the owner's values first, whatever else happens
        site_id = target.amber_site_id
        recorded = self._remember(
            "read past prices",
            lambda: self.history.actual_spans(site_id, self.now - dt.timedelta(hours=PAST_HOURS)),
        )
        intervals = self._fetch(target, recorded or [])

        def older() -> list[Interval]:  # read only when a slot lies beyond the horizon
            since = self.now - dt.timedelta(days=HISTORY_DAYS)
            past = self._remember(
                "read past prices", lambda: self.history.actual_intervals(site_id, since)
            )
            return past or []

        zone, remote = self._zone(target, powerwall)
        remote = remote or owed_remote
        plan = self._fold(target, intervals, zone, older)
        if isinstance(plan, Refusal):
            log.warning("%s: %s", target.key, plan.summary)
            return SiteOutcome(
                target.key,
                Outcome.REFUSED,
                False,
                plan.summary,
                error=RefusedError(
                    plan.message,
                    "nothing was pushed and the Powerwall keeps its last tariff; the next run "
                    "tries again",
                ),
                refusal=plan.reasons,
            )
        if not self.options.dry_run:  # only trusted answers feed later estimates
            self._remember(
                "record the prices",
                lambda: self.history.record_prices(target.amber_site_id, intervals, self.now),
            )
        remote = manual.begin(remote)  # after a trusted fold only
        plan = manual.shape(plan)
        outcome = SiteOutcome(
            target.key, Outcome.UNCHANGED, False, "", fingerprint(plan.body), plan=plan
        )
        check = powerwall.remote_check(remote, force=self.options.force)
        remote = check.remote
        if check.settings is not None:
            self._checked(outcome, check.settings)
        tariff = TariffPush(powerwall)
        seen = tariff.seen(remote)
        outcome.foreign = seen.foreign
        confirmed = tariff.confirm(seen)
        waiting, earlier = lagging(seen, site_state.last_push, zone)
        decision = decide(
            plan,
            site_state.last_push.rates if site_state.last_push else None,
            site_state.last_push.pushed_at if site_state.last_push else None,
            self.now,
            self.tolerances,
            force=self.options.force or manual.forced,
            foreign_tariff=outcome.foreign,
            waiting=waiting,
            earlier=earlier,
            demand_changed=tariff.demand_changed(plan),
        )
        outcome.reason = manual.reason(decision.reason, self.options.force)
        log.info("%s: %s", target.key, outcome.reason)
        if confirmed and not decision.push:
            outcome.outcome = Outcome.VERIFIED
            outcome.reason = (
                f"the tariff pushed earlier is now read back as sent; {decision.reason}"
            )
        if decision.waiting and site_state.last_push is not None:
            outcome.outcome = Outcome.UNVERIFIED
            outcome.error = not_in_effect(site_state.last_push, zone, self.tolerances.resend_after)
        if decision.push and self.options.dry_run:
            outcome.outcome = Outcome.DRY_RUN
            outcome.reason = "would push: " + decision.reason
        elif decision.push:
            pushed = tariff.push(plan, remote)  # raised: refused, nothing was accepted
            outcome.pushed, outcome.outcome = True, Outcome.UNVERIFIED
            try:
                return self._after_push(
                    powerwall, tariff, plan, pushed, decision, intervals, outcome
                )
            except AppError as error:  # the outcome keeps what was pushed
                log.error("%s: %s", target.key, error.message)
                outcome.error = error
                return outcome
        self._curtail(powerwall, intervals, remote, outcome)
        return outcome

    def _after_push(
        self,
        powerwall: PowerwallSteps,
        tariff: TariffPush,
        plan: TariffPlan,
        pushed: Pushed,
        decision: Decision,
        intervals: list[Interval],
        outcome: SiteOutcome,
    ) -> SiteOutcome:
        if tariff.defer(pushed, decision.routine, self.tesla.backend):
            outcome.outcome = Outcome.PUSHED
            outcome.reason = f"{decision.reason}; accepted, read back by the next check"
            self._curtail(powerwall, intervals, None, outcome)
            return outcome
        back = tariff.read_back(plan, pushed)
        lost = pushed.lost is not None
        if back.error is not None:  # the Powerwall did not answer as expected: no more now
            outcome.error = back.error
            outcome.reason = (
                f"sent, but Tesla's answer was lost and it is not read back yet: {decision.reason}"
                if lost
                else f"pushed, not yet read back as sent: {decision.reason}"
            )
            return outcome
        outcome.outcome = Outcome.VERIFIED
        if lost:
            outcome.reason = (
                f"pushed (Tesla's answer was lost; the read-back shows it in effect): "
                f"{decision.reason}"
            )
        if not outcome.checked and back.remote is not None:  # every read of site_info checks
            self._checked(outcome, powerwall.check_read_back(back.remote))
        self._curtail(powerwall, intervals, back.remote, outcome)
        return outcome

    @staticmethod
    def _checked(outcome: SiteOutcome, check: SettingsCheck) -> None:
        """The Powerwall's settings were checked in this run: the fixes made, fresh findings."""
        outcome.actions.extend(check.actions)
        outcome.findings, outcome.checked = list(check.findings), True
        outcome.warnings.extend(finding.line for finding in check.findings)

    @staticmethod
    def _curtail(
        powerwall: PowerwallSteps,
        intervals: list[Interval],
        remote: SiteInfo | None,
        outcome: SiteOutcome,
    ) -> None:
        curtailed = powerwall.curtail(intervals, remote)
        if curtailed.action is not None:
            outcome.actions.append(curtailed.action)

    def _fetch(self, target: Target, recorded: Sequence[Span]) -> list[Interval]:
        self.intervals = site_prices(self.ctx, self.state, target, self.now, recorded, self.fetched)
        return self.intervals

    def _zone(self, target: Target, powerwall: PowerwallSteps) -> tuple[ZoneInfo, SiteInfo | None]:
        """The site's zone; reading site_info for it (the first time) also serves as the remote
        check."""
        read: list[SiteInfo] = []

        def powerwall_zone() -> str | None:
            read.append(powerwall.read())
            return read[0].time_zone

        zone = site_zone(self.state, target.timezone, target.energy_site_id, powerwall_zone)
        return zone, (read[0] if read else None)

    def _fold(
        self,
        target: Target,
        intervals: list[Interval],
        zone: ZoneInfo,
        older: Callable[[], Sequence[Interval]],
    ) -> TariffPlan | Refusal:
        options = fold_options(self.ctx.config, known_channels(self.state, target.amber_site_id))
        try:
            return fold(intervals, zone, self.now, options, history=older)
        except UnalignedZoneError as exc:
            raise TimeZoneError(
                f"{exc} (the site's time zone is {zone.key})",
                "nothing was pushed: Powerwall tariffs have half-hour slots, which a zone with "
                "this offset cannot use; if the zone is wrong, set site.timezone",
            ) from exc
