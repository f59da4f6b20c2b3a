"""The Powerwall's side of a sync: read its settings and tariff, fix what the owner opted into,
push, read back until the push is in effect, curtail exports. Mixed into
:class:`amber_tesla_sync.sync.run.SiteSync`, which supplies the run's context."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.errors import AppError, ServiceError, VerifyError
from amber_tesla_sync.store.state import LastPush, State, SyncState
from amber_tesla_sync.sync import curtail, owner_settings
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.decide import Decision, fingerprint, plan_rates
from amber_tesla_sync.sync.outcome import Outcome, SiteOutcome, SyncOptions
from amber_tesla_sync.sync.powerwall_checks import findings
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.tariff import TariffPlan, validate_request_body
from amber_tesla_sync.tariff.body import build_request_body
from amber_tesla_sync.tariff.compare import differences, is_ours
from amber_tesla_sync.tesla.siteinfo import SiteInfo

if TYPE_CHECKING:
    from amber_tesla_sync.tesla.api import TeslaApi

log = logging.getLogger(__name__)
VERIFY_DELAYS = (0.0, 1.0, 3.0, 7.0, 15.0, 25.0)


class PowerwallSteps:
    """The steps that talk to the Powerwall, for one site."""

    ctx: AppContext
    state: State
    now: dt.datetime
    options: SyncOptions
    save_state: Callable[[], None]
    sleep: Callable[[float], None]

    @property
    def tesla(self) -> TeslaApi:
        raise NotImplementedError

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
        outcome.outcome = Outcome.UNVERIFIED
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
        outcome.outcome = Outcome.VERIFIED
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
