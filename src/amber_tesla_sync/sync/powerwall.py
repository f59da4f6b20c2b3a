"""The Powerwall's side of a sync: read its settings and tariff, fix what the owner opted into,
curtail exports (the tariff's push and read-back: :mod:`amber_tesla_sync.sync.tariff_push`).

:class:`PowerwallSteps` is made for one site in one run; each step returns what it found or did
(the small frozen results below) and :class:`amber_tesla_sync.sync.run.SiteSync` builds the
site's outcome from them. The steps keep the site's state (``SyncState``) up to date and save it
before each change on the Powerwall.

A value of the owner's that is owed back (a ``Restore`` record: design rule 12, see
:mod:`amber_tesla_sync.store.state`) is sent by :meth:`PowerwallSteps.restore_owed` at the start
of every run, before anything else, and its record is cleared only once Tesla accepted it (or the
owner set a value by hand meanwhile). A failed restore never stops the run: it becomes the run's
error (with what to do) and is sent again on the next run.

A setting sent whose answer was lost (:class:`~amber_tesla_sync.tesla.lost.AnswerLost`: Tesla
answered success with a body that cannot be read) is no failure: Tesla may have taken it. The run
says so, the next run reads site_info (the check is made due) and sends it again only if the
Powerwall does not show it; a restore's record stays until the Powerwall shows the owner's value."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.errors import AppError, AuthError, ServiceError
from amber_tesla_sync.store.state import SyncState
from amber_tesla_sync.sync import curtail, owner_settings
from amber_tesla_sync.sync.powerwall_checks import Finding, findings
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.tesla.lost import AnswerLost

if TYPE_CHECKING:
    from amber_tesla_sync.settings.config import SyncSettings
    from amber_tesla_sync.tesla.api import TeslaApi
    from amber_tesla_sync.tesla.models import SiteInfo

log = logging.getLogger(__name__)
LOST = "sent, but Tesla's answer was lost: the next run checks it"


@dataclass(frozen=True)
class SettingsCheck:
    """The Powerwall's settings, checked: the opt-in fixes made (or, in a dry run, the ones that
    would be made) and what still stops the tariff working."""

    actions: tuple[str, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RemoteCheck:
    remote: SiteInfo | None  # site_info as read in this run (None: not read)
    settings: SettingsCheck | None  # None when site_info was not read


@dataclass(frozen=True)
class Curtailed:
    action: str | None = None  # the export rule change made (or, in a dry run, that would be)


class PowerwallSteps:
    """The steps that talk to one site's Powerwall in one run."""

    def __init__(
        self,
        tesla: Callable[[], TeslaApi],
        target: Target,
        site_state: SyncState,
        settings: SyncSettings,
        *,
        allow_sell_above_buy: bool,
        now: dt.datetime,
        dry_run: bool,
        save_state: Callable[[], None],
        sleep: Callable[[float], None],
    ) -> None:
        self._tesla = tesla  # made on first use: a run that needs no Powerwall makes no client
        self.target = target
        self.site_state = site_state
        self.settings = settings
        self.allow_sell_above_buy = allow_sell_above_buy
        self.now = now
        self.dry_run = dry_run
        self.save_state = save_state
        self.sleep = sleep
        self.restore_actions: list[str] = []  # what restore_owed did (before the other steps)
        self.restore_error: AppError | None = None  # the first restore that failed in this run
        self.unsure = False  # a setting's answer was lost: the next run reads site_info again
        self.held: set[str] = set()  # the settings an owner's override holds (left alone here)

    @property
    def tesla(self) -> TeslaApi:
        return self._tesla()

    def read(self) -> SiteInfo:
        remote = self.tesla.site(self.target.energy_site_id)
        self.site_state.last_remote_check = None if self.unsure else self.now
        self.site_state.remote_mode = remote.mode
        self.site_state.remote_export_rule = remote.export_rule
        self.site_state.remote_reserve = remote.backup_reserve
        return remote

    def remote_check(self, remote: SiteInfo | None, force: bool = False) -> RemoteCheck:
        """site_info (read now if due, or forced, and not read yet in this run), and its settings
        checked."""
        site_state, settings = self.site_state, self.settings
        every = dt.timedelta(minutes=settings.check_remote_every_minutes)
        last = site_state.last_remote_check
        last_push = site_state.last_push  # one left to the next check waits for it
        unverified = last_push is not None and not (last_push.verified or last_push.deferred)
        restore = (site_state.overrides.owner_mode and not settings.ensure_autonomous) or (
            site_state.overrides.owner_export_rule and not settings.ensure_battery_export
        )
        due = last is None or self.now - last >= every or force
        if remote is None and (due or restore or unverified):
            remote = self.read()
        if remote is None:
            return RemoteCheck(None, None)
        if not remote.tou_capable:
            raise ServiceError(
                "the Powerwall says it cannot take a time-of-use tariff (tou_capable false)",
                "check the site in the Tesla app; nothing was pushed",
            )
        return RemoteCheck(remote, self._settings(remote))

    def check_read_back(self, remote: SiteInfo) -> SettingsCheck:
        """The settings of the site_info a push was read back with (the check of this run when
        it had not checked yet: every read of site_info is a check)."""
        return self._settings(remote)

    def _settings(self, remote: SiteInfo) -> SettingsCheck:
        """Opt-in fixes of the mode and export rule; what still stops the tariff working."""
        site_state, settings = self.site_state, self.settings
        curtailing = site_state.curtailment.active
        changes, overrides, owed = owner_settings.plan(
            remote,
            site_state.overrides,
            settings.ensure_autonomous,
            settings.ensure_battery_export,
            curtailing,
            self.now,
            owed=site_state.restores.keys() | self.held,
        )
        actions: list[str] = []
        if self.dry_run:
            actions.extend(f"would change {change.note}" for change in changes)
            due = owner_settings.due(remote, owed)
            actions.extend(f"would change {item.note}" for item in due if item.send)
        else:
            site_state.overrides = overrides
            site_state.restores.update(owed)
            if changes or owed:
                self.save_state()  # the owner's values are on disk before anything changes
            taken = []
            for change in changes:
                if self.send(change.setting, change.value):
                    taken.append(change)
                    actions.append(change.note)
                else:
                    actions.append(f"{change.note} ({LOST})")
            remote = owner_settings.applied(remote, taken)
            restored, done = self._restore(remote, owed.keys())
            remote = restored or remote
            actions.extend(done)
        # a rule owed back is the subject of its own warning (owed_line), not a finding
        owns_rule = curtailing or "export_rule" in site_state.restores.keys() | self.held
        held = {"reserve" if key == "backup_reserve" else key for key in self.held}
        found = [f for f in findings(remote, curtailing=owns_rule) if f.key not in held]
        site_state.powerwall = {f.key: (f.problem, f.fix) for f in found}
        for finding in found:
            log.warning("%s: %s", self.target.key, finding.line)
        return SettingsCheck(tuple(actions), tuple(found))

    def send(self, setting: str, value: str) -> bool:
        """Set the mode or the export rule: True once Tesla accepted it, False when its answer
        was lost (the next run reads site_info and sees); a refusal is raised as it comes."""
        site_id = self.target.energy_site_id
        try:
            if setting == "mode":
                self.tesla.set_operation(site_id, value)
            elif setting == "backup_reserve":
                self.tesla.set_backup_reserve(site_id, float(value))
            elif setting == "grid_charging":
                no_grid = value == owner_settings.OFF
                self.tesla.set_grid_import_export(site_id, disallow_grid_charging=no_grid)
            else:
                self.tesla.set_grid_import_export(site_id, export_rule=value)
        except AnswerLost:
            self.unsure = True
            self.site_state.last_remote_check = None  # the next run reads what the Powerwall has
            return False
        if setting == "mode":
            self.site_state.remote_mode = value
        elif setting == "backup_reserve":
            self.site_state.remote_reserve = float(value)
        elif setting == "export_rule":
            self.site_state.remote_export_rule = value
        return True

    def restore_owed(self) -> SiteInfo | None:
        """The owner's values still owed from earlier runs: site_info is read (None: nothing is
        owed, or the read failed) and each is sent again, or its record dropped."""
        if not self.site_state.restores:
            return None
        try:
            remote = self.read()
        except AppError as error:
            self._failed("reading the Powerwall's settings to restore yours", error)
            return None
        if self.dry_run:
            due = owner_settings.due(remote, self.site_state.restores)
            self.restore_actions.extend(f"would change {item.note}" for item in due if item.send)
            return remote
        restored, done = self._restore(remote, list(self.site_state.restores))
        self.restore_actions.extend(done)
        return restored

    def _restore(
        self, remote: SiteInfo | None, settings: Collection[str], note: str | None = None
    ) -> tuple[SiteInfo | None, list[str]]:
        """Send back the owed values of ``settings`` (``remote``: the Powerwall's settings, None
        when not read); a record is cleared only once Tesla accepted it, or when the owner set a
        value of their own meanwhile. A failure is kept for the run's outcome, never raised."""
        state = self.site_state
        owed = {key: state.restores[key] for key in settings if key in state.restores}
        done: list[str] = []
        for item in owner_settings.due(remote, owed):
            if item.send:
                try:
                    taken = self.send(item.setting, item.record.value)
                except AppError as error:
                    failed = {"attempts": item.record.attempts + 1, "error": error.first_line}
                    state.restores[item.setting] = item.record.model_copy(update=failed)
                    self.save_state()
                    label = owner_settings.LABELS[item.setting]
                    self._failed(f"restoring your {label} {item.record.value}", error)
                    continue
                if not taken:  # owed until the Powerwall shows it (the next run reads it)
                    done.append(f"{note if note is not None else item.note} ({LOST})")
                    continue
                if remote is not None:
                    change = owner_settings.Change(item.setting, item.record.value, item.note)
                    remote = owner_settings.applied(remote, [change])
            del state.restores[item.setting]
            self.save_state()  # cleared only now: Tesla has it (or the owner set their own)
            said = note if note is not None and item.send else item.note
            log.info("%s: %s", self.target.key, said)
            done.append(said)
        return remote, done

    def _failed(self, what: str, error: AppError) -> None:
        """A restore that failed: logged, and the run's error (the first one) says what to do."""
        login = isinstance(error, AuthError)  # its hint says how to log in again
        kind = AuthError if login else ServiceError
        hint = (f"{error.hint}; then " if login and error.hint else "") + (
            "every sync sends it again until Tesla accepts it (`amber-tesla-sync status` shows "
            "it meanwhile); or set it in the Tesla app yourself, and this tool leaves it alone"
        )
        failed = kind(f"{what} failed: {error.first_line}", hint)
        log.warning("%s: %s", self.target.key, failed.message)
        self.restore_error = self.restore_error or failed

    def curtail(self, intervals: list[Interval], remote: SiteInfo | None) -> Curtailed:
        """The export rule while exporting costs money (and the owner's back once it does not)."""
        site_state, settings = self.site_state, self.settings
        if not settings.curtail_exports and not site_state.curtailment.active:
            return Curtailed()
        if "export_rule" in self.held:  # an export override suspends curtailment
            return Curtailed()
        feed_in = curtail.current_feed_in(intervals, self.now)
        hysteresis = curtail.Hysteresis(
            above=settings.curtail_above_cents,
            below=settings.restore_below_cents,
            dwell=dt.timedelta(minutes=settings.curtail_dwell_minutes),
            override=settings.curtail_override_cents,
        )
        needs_rule = (
            settings.curtail_exports
            and not site_state.curtailment.active
            and hysteresis.wanted(feed_in, site_state.curtailment, self.now)
        )
        if needs_rule and remote is None:
            remote = self.read()
        current = remote.export_rule if remote is not None else None
        owed = site_state.restores.get("export_rule")
        step = curtail.step(
            settings.curtail_exports,
            feed_in,
            site_state.curtailment,
            current,
            settings.curtail_rule,
            self.now,
            owed=owed.value if owed is not None else None,
            hysteresis=hysteresis,
        )
        if step.note:
            log.info("%s: %s", self.target.key, step.note)
        if step.send_rule is None or self.dry_run:
            if step.send_rule is not None:
                return Curtailed(f"would set export rule {step.send_rule}")
            if not self.dry_run:
                site_state.curtailment = step.state
            return Curtailed()
        if step.restore is not None:  # the user's rule is owed until Tesla accepts it
            site_state.curtailment = step.state
            site_state.restores["export_rule"] = step.restore
            self.save_state()
            _, done = self._restore(remote, ["export_rule"], note=step.note)
            return Curtailed(done[0] if done else None)
        site_state.curtailment = step.state.model_copy(update={"confirmed": False})
        if step.adopted:  # the owed rule is the curtailment's baseline now
            site_state.restores.pop("export_rule", None)
        self.save_state()  # the user's rule is on disk before anything changes on the Powerwall
        note = step.note or f"export rule → {step.send_rule}"
        if not self.send("export_rule", step.send_rule):  # unconfirmed: sent again next run
            return Curtailed(f"{note} ({LOST})")
        if site_state.curtailment.active:
            site_state.curtailment = site_state.curtailment.model_copy(update={"confirmed": True})
        return Curtailed(note)
