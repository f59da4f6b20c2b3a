"""What one sync did for each site (the outcome), and the exit code of a run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.store.overrides import Override
from amber_tesla_sync.store.state import SyncState
from amber_tesla_sync.sync.owner_settings import owed_line
from amber_tesla_sync.sync.powerwall_checks import Finding
from amber_tesla_sync.tariff import TariffPlan

if TYPE_CHECKING:
    from amber_tesla_sync.tesla.api import TeslaApi

# worst first: the exit code of a multi-site run is that of its worst site
SEVERITY = (
    ExitCode.INTERNAL,
    ExitCode.OUT_OF_MEMORY,
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


class Outcome(StrEnum):
    """What one sync did for a site. The values are what ``--json``, the logs, the state and the
    history carry (a StrEnum is its value wherever it is written)."""

    VERIFIED = "verified"  # pushed and read back as sent
    UNVERIFIED = "unverified"  # pushed and accepted, the read-back not matching yet
    PUSHED = "pushed"  # pushed and accepted; the next check reads it back (see tariff_push)
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    FAILED = "failed"
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class SyncOptions:
    force: bool = False
    dry_run: bool = False


@dataclass
class SiteOutcome:
    site: str
    outcome: Outcome
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
    owed: dict[str, str] = field(default_factory=dict)  # setting → warning: a value owed back
    intervals: list[Interval] = field(default_factory=list)  # Amber's answer (for publishing)
    override: Override | None = None  # the owner's override in force after this run

    @property
    def exit_code(self) -> ExitCode:
        return self.error.exit_code if self.error is not None else ExitCode.OK

    @property
    def verified(self) -> bool | None:
        """Whether the tariff was read back as sent (None: nothing pushed or checked)."""
        return {Outcome.VERIFIED: True, Outcome.UNVERIFIED: False}.get(self.outcome)


def fleet_fallback(tesla: TeslaApi | None) -> str | None:
    """Why this run left the Fleet API for Teslemetry, if it did."""
    error = tesla.connection.fleet_error if tesla is not None else None
    return error.message if error is not None else None


def worst(outcomes: list[SiteOutcome]) -> ExitCode:
    codes = {outcome.exit_code for outcome in outcomes}
    unranked = codes - set(SEVERITY)  # a code added without a rank is never taken for success
    if unranked:
        return min(unranked)
    return next((code for code in SEVERITY if code in codes), ExitCode.OK)


def note_refusal(site_state: SyncState, outcome: SiteOutcome, now: dt.datetime) -> None:
    """Remember refusals (for ``status``) until a tariff is built again."""
    if outcome.outcome == Outcome.REFUSED:
        site_state.last_refusal = outcome.error.message if outcome.error else outcome.reason
        site_state.last_refusal_at = now
        site_state.refusing_since = site_state.refusing_since or now
    elif outcome.plan is not None:
        site_state.refusing_since = None


def note_owed(
    outcome: SiteOutcome,
    site_state: SyncState,
    actions: list[str],
    error: AppError | None,
) -> None:
    """The owner's values restored or still owed (design rule 12): what the restores at the start
    of the run did, a failed restore as the run's error (unless it has one), a warning each."""
    outcome.actions[:0] = actions
    if error is not None and outcome.error is None:
        outcome.error = error
    outcome.owed = {key: owed_line(key, record) for key, record in site_state.restores.items()}
    outcome.warnings.extend(outcome.owed.values())
