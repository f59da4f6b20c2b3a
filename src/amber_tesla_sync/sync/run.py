"""One pass of fetch → fold → decide → push → verify → record, for each configured site."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.context import AppContext
from amber_tesla_sync.errors import (
    AppError,
    ClockError,
    ExitCode,
    RefusedError,
    ServiceError,
    TimeZoneError,
    VerifyError,
)
from amber_tesla_sync.foldsettings import fold_options, known_channels
from amber_tesla_sync.history import History, RunRecord
from amber_tesla_sync.paths import state_dir
from amber_tesla_sync.powerwall_checks import Finding, findings
from amber_tesla_sync.runlock import run_lock
from amber_tesla_sync.sitedata import PAST_HOURS, Span, fetch_prices, site_zone
from amber_tesla_sync.state import (
    LastPush,
    State,
    SyncState,
    load_state,
    save_state,
)
from amber_tesla_sync.sync import curtail, owner_settings
from amber_tesla_sync.sync.clock import check_clock
from amber_tesla_sync.sync.decide import Decision, Tolerances, decide, fingerprint, plan_rates
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.tariff import Refusal, TariffPlan, fold, validate_request_body
from amber_tesla_sync.tariff.body import build_request_body
from amber_tesla_sync.tariff.compare import differences, is_ours
from amber_tesla_sync.tariff.slots import UnalignedZoneError
from amber_tesla_sync.tesla.siteinfo import SiteInfo

if TYPE_CHECKING:  # made by the caller's factory, only when a run needs Tesla
    from amber_tesla_sync.tesla.api import TeslaApi

log = logging.getLogger(__name__)
T = TypeVar("T")
VERIFY_DELAYS = (0.0, 1.0, 3.0, 7.0, 15.0, 25.0)
HISTORY_DAYS = 3  # the persistence estimate needs the most recent day with data
# worst first: the exit code of a multi-site run is that of its worst site
SEVERITY = (
    ExitCode.INTERNAL,
    ExitCode.DISK_FULL,
    ExitCode.LOCAL_FILES,
    ExitCode.CONFIG,
    ExitCode.CLOCK,
    ExitCode.TIME_ZONE,
    ExitCode.SECRETS,
    ExitCode.AUTH,
    ExitCode.BAD_DATA,
    ExitCode.SERVICE,
    ExitCode.VERIFY,
    ExitCode.REFUSED,
    ExitCode.BUSY,
    ExitCode.OK,
)


@dataclass(frozen=True)
class SyncOptions:
    force: bool = False
    dry_run: bool = False


@dataclass
class SiteOutcome:
    site: str
    # verified (pushed and read back as sent) | unverified (pushed, read-back not matching yet)
    # | unchanged | refused | failed | dry-run
    outcome: str
    pushed: bool  # a tariff was sent and accepted in this run
    reason: str
    fingerprint: str | None = None
    error: AppError | None = None
    warnings: list[str] = field(default_factory=list)
    plan: TariffPlan | None = None
    actions: list[str] = field(default_factory=list)
    refusal: tuple[str, ...] = ()  # why nothing was pushed, when refused
    backend: str | None = None  # the Tesla backend that did the work ("fleet", "teslemetry")
    foreign: str | None = None  # someone else's tariff was found (and replaced)
    findings: list[Finding] = field(default_factory=list)  # what stops the tariff working
    checked: bool = False  # site_info was read in this run (findings are fresh)

    @property
    def exit_code(self) -> ExitCode:
        return self.error.exit_code if self.error is not None else ExitCode.OK

    @property
    def verified(self) -> bool | None:
        """Whether the tariff was read back as sent (None: nothing pushed or checked)."""
        return {"verified": True, "unverified": False}.get(self.outcome)


def fleet_fallback(tesla: TeslaApi | None) -> str | None:
    """Why this run left the Fleet API for Teslemetry, if it did."""
    error = getattr(tesla.connection, "fleet_error", None) if tesla is not None else None
    return error.message if isinstance(error, AppError) else None


def worst(outcomes: list[SiteOutcome]) -> ExitCode:
    codes = {outcome.exit_code for outcome in outcomes}
    unranked = codes - set(SEVERITY)  # a code added without a rank is never taken for success
    if unranked:
        return min(unranked)
    return next((code for code in SEVERITY if code in codes), ExitCode.OK)


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
    ) -> None:
        self.ctx = ctx
        self.save_state = save_state
        self._tesla_factory = tesla
        self._tesla: TeslaApi | None = None
        self.history = history
        self.state = state
        self.now = now
        self.options = options
        self.sleep = sleep
        self.notes: list[str] = []  # warnings met before the outcome exists
        settings = ctx.config.sync
        self.tolerances = Tolerances(
            near_term=dt.timedelta(hours=settings.near_term_hours),
            near_dollars=settings.near_tolerance_cents / 100,
            far_dollars=settings.far_tolerance_cents / 100,
            current_dollars=settings.current_tolerance_cents / 100,
            settle=dt.timedelta(minutes=settings.settle_minutes),
            reassert_after=dt.timedelta(minutes=settings.reassert_after_minutes),
        )

    @property
    def tesla(self) -> TeslaApi:
        if self._tesla is None:
            self._tesla = self._tesla_factory()
        return self._tesla

    def run(self, target: Target) -> SiteOutcome:
        site_state = self.state.sync.setdefault(target.key, SyncState())
        self._outcome: SiteOutcome | None = None
        try:
            outcome = self._run(target, site_state)
        except ClockError as error:
            outcome = SiteOutcome(
                target.key, "refused", False, error.message, error=error, refusal=(error.message,)
            )
            log.error("%s: %s", target.key, error.message)
        except AppError as error:
            log.error("%s: %s", target.key, error.message)
            if self._outcome is not None and self._outcome.pushed:  # keep what was pushed
                outcome = self._outcome
                outcome.error = error
            else:
                outcome = SiteOutcome(target.key, "failed", False, error.message, error=error)
        if self._tesla is not None:
            outcome.backend = self._tesla.backend
        if not outcome.checked:
            outcome.findings = [Finding(k, *v) for k, v in site_state.powerwall.items()]
        if not self.options.dry_run:
            site_state.last_run_at = self.now
            site_state.last_outcome = outcome.outcome
            site_state.last_reason = outcome.reason
            _note_refusal(site_state, outcome, self.now)
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
                    )
                ),
            )
        outcome.warnings.extend(self.notes)
        return outcome

    def _remember(self, what: str, action: Callable[[], T]) -> T | None:
        """Use the history; a history problem never blocks or repeats a push (it becomes a
        warning: the state, which decides the next push, is saved apart from it)."""
        try:
            return action()
        except AppError as error:
            log.warning("could not %s in the history: %s", what, error.message)
            self.notes.append(f"the history was not used ({what}: {error.message})")
            return None

    # -- the steps ---------------------------------------------------------------------------

    def _run(self, target: Target, site_state: SyncState) -> SiteOutcome:
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

        zone, remote = self._zone(target)
        plan = self._fold(target, intervals, zone, older)
        if isinstance(plan, Refusal):
            log.warning("%s: %s", target.key, plan.summary)
            return SiteOutcome(
                target.key,
                "refused",
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
        body = plan.body
        outcome = SiteOutcome(target.key, "unchanged", False, "", fingerprint(body), plan=plan)
        self._outcome = outcome
        remote = self._remote_check(target, site_state, remote, outcome)
        outcome.foreign = self._foreign(remote, site_state)
        confirmed = self._confirm_earlier_push(site_state, remote)
        decision = decide(
            plan,
            site_state.last_push.rates if site_state.last_push else None,
            site_state.last_push.pushed_at if site_state.last_push else None,
            self.now,
            self.tolerances,
            force=self.options.force,
            foreign_tariff=outcome.foreign,
        )
        log.info("%s: %s", target.key, decision.reason)
        outcome.reason = decision.reason
        if confirmed and not decision.push:
            outcome.outcome = "verified"
            outcome.reason = (
                f"the tariff pushed earlier is now read back as sent; {decision.reason}"
            )
        if decision.push:
            if self.options.dry_run:
                outcome.outcome = "dry-run"
                outcome.reason = "would push: " + decision.reason
            else:
                remote = self._push(target, site_state, plan, decision, outcome)
                if outcome.outcome == "unverified":
                    return outcome  # the Powerwall did not answer as expected: no more now
        self._curtail(target, site_state, intervals, remote, outcome)
        return outcome

    def _fetch(self, target: Target, recorded: Sequence[Span]) -> list[Interval]:
        """Amber's prices; the past day only as far back as the recorded prices do not reach."""
        with self.ctx.amber() as client:
            intervals = fetch_prices(
                client, self.state, target.amber_site_id, recorded=recorded, now=self.now
            )
            server_time = client.server_time
        # before anything is written or folded: a wrong clock would shift the whole tariff
        check_clock(
            self.now,
            server_time,
            intervals,
            dt.timedelta(minutes=self.ctx.config.sync.max_clock_skew_minutes),
        )
        return intervals

    def _zone(self, target: Target) -> tuple[ZoneInfo, SiteInfo | None]:
        """The site's zone; reading site_info for it (the first time) also serves as the remote
        check."""
        read: list[SiteInfo] = []

        def info() -> Mapping[str, Any]:
            read.append(self._read(target))
            return read[0].info

        zone = site_zone(self.state, target.timezone, target.energy_site_id, info)
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

    def _read(self, target: Target) -> SiteInfo:
        remote = SiteInfo(self.tesla.site_info(target.energy_site_id))
        site_state = self.state.sync.setdefault(target.key, SyncState())
        site_state.last_remote_check = self.now
        site_state.remote_mode = remote.mode
        site_state.remote_export_rule = remote.export_rule
        return remote

    def _remote_check(
        self, target: Target, site_state: SyncState, remote: SiteInfo | None, outcome: SiteOutcome
    ) -> SiteInfo | None:
        every = dt.timedelta(minutes=self.ctx.config.sync.check_remote_every_minutes)
        last = site_state.last_remote_check
        unverified = site_state.last_push is not None and not site_state.last_push.verified
        settings = self.ctx.config.sync
        restore = (site_state.overrides.owner_mode and not settings.ensure_autonomous) or (
            site_state.overrides.owner_export_rule and not settings.ensure_battery_export
        )
        if remote is None and (last is None or self.now - last >= every or restore or unverified):
            remote = self._read(target)
        if remote is None:
            return None
        if not remote.tou_capable:
            raise ServiceError(
                "the Powerwall says it cannot take a time-of-use tariff (tou_capable false)",
                "check the site in the Tesla app; nothing was pushed",
            )
        self._settings(target, site_state, remote, outcome)
        return remote

    def _confirm_earlier_push(self, site_state: SyncState, remote: SiteInfo | None) -> bool:
        """An earlier push that was accepted but not read back: is it in effect now?"""
        last = site_state.last_push
        if last is None or last.verified or remote is None or self._foreign(remote, site_state):
            return False
        site_state.last_push = last.model_copy(update={"verified": True})
        log.info("the tariff pushed at %s is now read back as sent", last.pushed_at)
        return True

    def _settings(
        self, target: Target, site_state: SyncState, remote: SiteInfo, outcome: SiteOutcome
    ) -> None:
        """Opt-in fixes of the mode and export rule; what still stops the tariff working."""
        settings = self.ctx.config.sync
        curtailing = site_state.curtailment.active
        changes, overrides = owner_settings.plan(
            remote,
            site_state.overrides,
            settings.ensure_autonomous,
            settings.ensure_battery_export,
            curtailing,
        )
        if changes and self.options.dry_run:
            outcome.actions.extend(f"would change {change.note}" for change in changes)
        elif changes:
            site_state.overrides = overrides
            self.save_state()  # the owner's values are on disk before anything changes
            for change in changes:
                if change.setting == "mode":
                    self.tesla.set_operation(target.energy_site_id, change.value)
                    site_state.remote_mode = change.value
                else:
                    self.tesla.set_grid_import_export(
                        target.energy_site_id, export_rule=change.value
                    )
                    site_state.remote_export_rule = change.value
                outcome.actions.append(change.note)
            remote = owner_settings.applied(remote, changes)
        else:
            site_state.overrides = overrides
        found = findings(remote, curtailing=curtailing)
        site_state.powerwall = {f.key: (f.problem, f.fix) for f in found}
        outcome.findings, outcome.checked = found, True
        for finding in found:
            log.warning("%s: %s", target.key, finding.line)
            outcome.warnings.append(finding.line)

    def _foreign(self, remote: SiteInfo | None, site_state: SyncState) -> str | None:
        if remote is None or site_state.last_push is None:
            return None
        tariff = remote.tariff
        if not is_ours(tariff):
            code = tariff.get("code") if isinstance(tariff, Mapping) else None
            return f"code {code!r}" if code else "no tariff of this tool"
        expected = build_request_body(site_state.last_push.rates)["tou_settings"][
            "tariff_content_v2"
        ]
        found = differences(expected, tariff, tolerance=1e-4)
        return f"ours, but changed: {found[0]}" if found else None

    def _push(
        self,
        target: Target,
        site_state: SyncState,
        plan: TariffPlan,
        decision: Decision,
        outcome: SiteOutcome,
    ) -> SiteInfo | None:
        allow = self.ctx.config.tariff.allow_sell_above_buy
        problems = validate_request_body(plan.body, allow_sell_above_buy=allow)
        if problems:  # a bug: never send an invalid tariff
            raise AppError(
                "refusing to push an invalid tariff: " + "; ".join(problems[:3]),
                "please report this bug",
            )
        self.tesla.set_time_of_use(target.energy_site_id, plan.body)
        outcome.pushed = True
        outcome.outcome = "unverified"
        site_state.last_push = LastPush(
            rates=plan_rates(plan),
            pushed_at=self.now,
            fingerprint=fingerprint(plan.body),
            verified=False,
        )
        self.save_state()  # the accepted push is on record before the read-back
        try:
            remote = self._verify(target, plan.body)
        except AppError as error:
            outcome.error = (
                error
                if isinstance(error, VerifyError)
                else VerifyError(
                    f"the tariff was pushed and accepted, but reading it back failed "
                    f"({error.message})",
                    "the next run reads the Powerwall's tariff again before deciding anything "
                    "(it is not sent again blindly)",
                )
            )
            outcome.reason = f"pushed, not yet read back as sent: {decision.reason}"
            log.warning("%s: %s", target.key, outcome.error.message)
            return None
        site_state.last_push = site_state.last_push.model_copy(update={"verified": True})
        outcome.outcome = "verified"
        log.info("%s: pushed tariff %s; read back and verified", target.key, outcome.fingerprint)
        return remote

    def _verify(self, target: Target, body: Mapping[str, Any]) -> SiteInfo:
        sent = body["tou_settings"]["tariff_content_v2"]
        limit = self.ctx.config.sync.verify_seconds
        waited = 0.0
        found: list[str] = ["nothing was read back"]
        remote: SiteInfo | None = None
        for delay in VERIFY_DELAYS:
            if delay > limit and remote is not None:
                break
            if delay > waited:
                self.sleep(delay - waited)
                waited = delay
            remote = self._read(target)
            tariff = remote.tariff
            found = differences(sent, tariff) if isinstance(tariff, Mapping) else ["no tariff"]
            if not found:
                return remote
        raise VerifyError(
            f"the tariff read back from the Powerwall does not match the one pushed "
            f"({'; '.join(found[:3])})",
            "the push was accepted but is not in effect as sent (yet); the next run reads it "
            "back again before deciding anything (if this persists, check the site in the Tesla "
            "app)",
        )

    def _curtail(
        self,
        target: Target,
        site_state: SyncState,
        intervals: list[Interval],
        remote: SiteInfo | None,
        outcome: SiteOutcome,
    ) -> None:
        settings = self.ctx.config.sync
        if not settings.curtail_exports and not site_state.curtailment.active:
            return
        feed_in = curtail.current_feed_in(intervals, self.now)
        needs_rule = (
            settings.curtail_exports
            and feed_in is not None
            and feed_in > 0
            and not site_state.curtailment.active
        )
        if needs_rule and remote is None:
            remote = self._read(target)
        current = remote.export_rule if remote is not None else None
        step = curtail.step(
            settings.curtail_exports,
            feed_in,
            site_state.curtailment,
            current,
            settings.curtail_rule,
            self.now,
        )
        if step.note:
            log.info("%s: %s", target.key, step.note)
        if step.send_rule is None or self.options.dry_run:
            if step.send_rule is not None:
                outcome.actions.append(f"would set export rule {step.send_rule}")
            return
        site_state.curtailment = step.state.model_copy(update={"confirmed": False})
        self.save_state()  # the user's rule is on disk before anything changes on the Powerwall
        self.tesla.set_grid_import_export(target.energy_site_id, export_rule=step.send_rule)
        if site_state.curtailment.active:
            site_state.curtailment = site_state.curtailment.model_copy(update={"confirmed": True})
        site_state.remote_export_rule = step.send_rule
        outcome.actions.append(step.note or f"export rule → {step.send_rule}")


def _note_refusal(site_state: SyncState, outcome: SiteOutcome, now: dt.datetime) -> None:
    """Remember refusals (for ``status``) until a tariff is built again."""
    if outcome.outcome == "refused":
        site_state.last_refusal = outcome.error.message if outcome.error else outcome.reason
        site_state.last_refusal_at = now
        site_state.refusing_since = site_state.refusing_since or now
    elif outcome.plan is not None:
        site_state.refusing_since = None


def sync_all(
    ctx: AppContext,
    targets: list[Target],
    now: dt.datetime,
    options: SyncOptions,
    sleep: Callable[[float], None] = time.sleep,
    after: Callable[[State, list[SiteOutcome], TeslaApi | None], None] | None = None,
) -> tuple[list[SiteOutcome], TeslaApi | None]:
    """Sync every target (one failing does not stop the others), under the run lock.

    ``after`` sees the state and the outcomes before the state is saved the last time (it may
    change the state: the notifications remember what they told)."""
    with run_lock(state_dir() / "sync.lock"):
        state = load_state()
        history = History()
        tesla: list[TeslaApi] = []

        def api() -> TeslaApi:
            if not tesla:
                tesla.append(ctx.tesla())
            return tesla[0]

        def save() -> None:
            if not options.dry_run:
                save_state(state)

        outcomes = []
        for target in targets:
            outcomes.append(
                SiteSync(ctx, api, history, state, now, options, save, sleep).run(target)
            )
            save()
        if after is not None:
            after(state, outcomes, tesla[0] if tesla else None)
            save()
        return outcomes, (tesla[0] if tesla else None)
