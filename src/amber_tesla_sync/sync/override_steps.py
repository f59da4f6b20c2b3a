"""The owner's overrides in a sync run (the Powerwall's side): end those past their end, begin
one not begun yet, shape the tariff while one is in force, and write nothing during a pause.

Made for one site in one run, around :class:`~amber_tesla_sync.sync.powerwall.PowerwallSteps`
(its reads, sends, restores and state saves). The order in a run: :meth:`OverrideSteps.end_due`
first (the saved owner values become owed, and the owed restores of the run send them), then
nothing more during a pause; after a trusted fold :meth:`OverrideSteps.begin` (the owner's values
saved before anything is sent) and :meth:`OverrideSteps.shape`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.override_history import record_overrides
from amber_tesla_sync.store.overrides import Override
from amber_tesla_sync.store.state import Curtailment
from amber_tesla_sync.sync import overrides
from amber_tesla_sync.sync.owner_settings import SETTINGS, Change, applied, value_of
from amber_tesla_sync.tariff import TariffPlan

if TYPE_CHECKING:
    from amber_tesla_sync.sync.powerwall import PowerwallSteps
    from amber_tesla_sync.tesla.models import SiteInfo

log = logging.getLogger(__name__)
KEEP_ENDED = dt.timedelta(days=7)  # ended overrides stay listed this long


class OverrideSteps:
    """The overrides of one site in one run."""

    def __init__(self, powerwall: PowerwallSteps, zone: dt.tzinfo = dt.UTC) -> None:
        self.powerwall = powerwall
        self.state = powerwall.site_state
        self.now = powerwall.now
        self.zone = zone
        self.actions: list[str] = []
        self.forced = False  # an override began or ended: push the tariff now
        self.ended: list[Override] = []  # ended in this run
        self.current: Override | None = overrides.in_force(self.state.manual, self.now)
        powerwall.held = overrides.held(self.state.manual)

    def end_due(self) -> list[Override]:
        """Overrides past their end (or cleared): their saved values become owed back."""
        ended = []
        for item in self.state.manual:
            if item.ended_at is not None or (item.end > self.now and not item.cleared):
                continue
            for setting, record in overrides.owed(item, self.now).items():
                self.state.restores.setdefault(setting, record)
            item.ended_at = self.now
            ended.append(item)
            self.ended.append(item)
            self.forced = self.forced or item.kind in ("charge", "export")
            self.actions.append(f"the override {item.id} ({item.kind}) ended")
        keep = self.now - KEEP_ENDED
        self.state.manual = [
            o for o in self.state.manual if o.ended_at is None or o.ended_at >= keep
        ]
        self.current = overrides.in_force(self.state.manual, self.now)
        self.powerwall.held = overrides.held(self.state.manual)
        if ended and not self.powerwall.dry_run:
            self.powerwall.save_state()  # owed before anything is sent
        return ended

    @property
    def touched(self) -> list[Override]:
        """The overrides this run saw in force or ended (for the history)."""
        return self.ended + ([self.current] if self.current is not None else [])

    def record(self, history: History, touched: list[Override]) -> None:
        """Write the overrides ``touched`` in the history (their start, end, what they did)."""
        if touched and not self.powerwall.dry_run:
            record_overrides(history, self.powerwall.target.key, touched)

    @property
    def paused(self) -> Override | None:
        current = self.current
        return current if current is not None and current.kind == "pause" else None

    def begin(self, remote: SiteInfo | None) -> SiteInfo | None:
        """Make the override's changes (once): the owner's values saved first, then each
        setting sent; a failure is raised (the next run goes on from what was accepted)."""
        current = self.current
        if current is None or current.started or current.kind == "pause":
            return remote
        powerwall, state = self.powerwall, self.state
        if remote is None:
            remote = powerwall.read()
        self._warn(current, remote)
        if powerwall.dry_run:
            self.actions.append(f"would begin the override {current.id} ({current.kind})")
            return remote
        curtailed = state.curtailment.user_rule if state.curtailment.active else None
        saved, settled = overrides.owner_values(current, remote, state.restores, curtailed)
        current.saved = saved
        for setting in saved:
            state.restores.pop(setting, None)  # one record: the override's now
        if "export_rule" in current.wanted and state.curtailment.active:
            state.curtailment = Curtailment(since=self.now)  # suspended: the override holds it
        powerwall.save_state()  # the owner's values are on disk before anything changes
        for setting, value in current.wanted.items():
            if setting in current.sent:
                continue
            if setting not in settled:
                before = value_of(remote, setting)
                if not powerwall.send(setting, value):
                    self.actions.append(
                        f"{overrides.change_line(setting, before, value)} (sent, "
                        "but Tesla's answer was lost: the next run checks it)"
                    )
                    continue
                line = overrides.change_line(setting, before, value)
                current.changes.append(line)
                self.actions.append(line)
                remote = applied(remote, [Change(SETTINGS[setting], value, line)])
            current.sent.append(setting)
            powerwall.save_state()
        current.started = True
        self.forced = True
        return remote

    def _warn(self, current: Override, remote: SiteInfo) -> None:
        if current.kind in ("charge", "export") and remote.mode != "autonomous":
            self.actions.append(
                f"warning: the Powerwall's mode is {remote.mode or 'unknown'}, not autonomous "
                "(Time-Based Control): it may not follow the override's tariff"
            )

    def shape(self, plan: TariffPlan) -> TariffPlan:
        """The tariff to push while an override is in force."""
        current = self.current
        if current is None:
            return plan
        shaped, labels = overrides.shape(plan, current)
        if labels and not self.powerwall.dry_run:
            current.slots += [label for label in labels if label not in current.slots]
        return shaped

    def reason(self, reason: str, force: bool) -> str:
        """The decision's reason, when an override began or ended in this run."""
        if not self.forced or force:
            return reason
        if self.current is not None:
            return f"the override {self.current.id} ({self.current.kind}) began: its tariff"
        return "an override ended: the tariff of the prices again"

    def paused_reason(self, current: Override) -> str:
        end = current.end.astimezone(self.zone)
        return (
            f"paused by the owner until {end:%a %H:%M} (override {current.id}): nothing is "
            "written to the Powerwall (no push, no settings, no restores) until then"
        )
