"""``status``: what the readings mean — the price now, the plan laid out from now, why the
battery does what it does, the drift from Amber's latest prices and the warnings (pure: no I/O,
``now`` is an argument)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import CURRENT, FEED_IN, GENERAL, Interval
from amber_tesla_sync.errors import AppError
from amber_tesla_sync.status.explain import drift, explain
from amber_tesla_sync.status.model import PriceNow, SiteStatus
from amber_tesla_sync.store.history import RunRecord
from amber_tesla_sync.store.state import SyncState
from amber_tesla_sync.support.times import check_timezone
from amber_tesla_sync.sync import overrides
from amber_tesla_sync.sync.decide import plan_rates
from amber_tesla_sync.sync.owner_settings import owed_line
from amber_tesla_sync.sync.powerwall_checks import findings
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import known_zone, local_zone
from amber_tesla_sync.tariff import FoldOptions, Refusal, fold
from amber_tesla_sync.tariff.demand import demand_of
from amber_tesla_sync.tariff.model import DemandPlan
from amber_tesla_sync.tariff.slots import slot_spans
from amber_tesla_sync.tesla.models import LiveStatus, SiteInfo
from amber_tesla_sync.tesla.oauth import TokenSet

REFRESH_TOKEN_WARN_DAYS = 60
GOOD = ("pushed", "verified", "unchanged")  # a run that left the Powerwall with our tariff


@dataclass
class Readings:
    """Everything ``status`` reads for one site; a part that could not be read says why."""

    target: Target
    options: FoldOptions
    sync_state: SyncState | None = None
    runs: list[RunRecord] = field(default_factory=list)
    remembered_zone: str | None = None
    intervals: list[Interval] | None = None
    amber_error: str | None = None
    info: SiteInfo | None = None
    live: LiveStatus | None = None
    tesla_error: str | None = None
    fleet_error: AppError | None = None
    older: list[Interval] = field(default_factory=list)  # recorded actual prices, for the drift
    fleet_tokens: str | None = None  # the stored Fleet tokens (JSON), for their age


def summarise(readings: Readings, now: dt.datetime) -> SiteStatus:
    target, state = readings.target, readings.sync_state
    status = SiteStatus(target, sync_state=state, info=readings.info, live=readings.live)
    status.last_run = readings.runs[0] if readings.runs else None
    status.last_ok = next((run for run in readings.runs if run.outcome in GOOD), None)
    status.amber_error, status.tesla_error = readings.amber_error, readings.tesla_error
    if readings.intervals is not None:
        status.buy = _price_now(readings.intervals, GENERAL, now)
        status.sell = _price_now(readings.intervals, FEED_IN, now)
    if readings.fleet_error is not None:
        error = readings.fleet_error
        status.warnings.append(
            f"the Tesla Fleet API failed ({error.message}); Teslemetry answered instead"
            + (f" — {error.hint}" if error.hint else "")
        )
    reported = status.info.time_zone if status.info is not None else None
    status.zone = known_zone(target.timezone, readings.remembered_zone, reported)
    if status.zone is not None and not _usable_zone(status.zone):
        shown = "".join(c if c.isprintable() else "?" for c in status.zone)[:60]
        status.warnings.append(
            f"the site's time zone {shown!r} is unknown here or has no half-hour slots; "
            "set site.timezone to the site's IANA zone"
        )
        status.zone = None
    status.shown = ZoneInfo(status.zone) if status.zone else local_zone()
    _plan(status, now)
    status.demand = _demand(readings, status)
    status.why = explain(status.plan, status.live)
    _drift(readings, status, now)
    _warnings(readings, status, now)
    return status


def _price_now(intervals: list[Interval], channel: str, now: dt.datetime) -> PriceNow | None:
    mine = [i for i in intervals if i.channel_type == channel]
    chosen = next((i for i in mine if i.type == CURRENT), None) or next(
        (i for i in mine if i.start <= now < i.end), None
    )
    if chosen is None:
        return None
    return PriceNow(
        chosen.per_kwh,
        chosen.descriptor,
        chosen.renewables,
        chosen.spike_status,
        chosen.estimate,
        chosen.type,
    )


def _usable_zone(name: str) -> bool:
    try:
        slot_spans(check_timezone(name), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except (ValueError, OverflowError):  # unknown, or an offset off the half-hour grid
        return False
    return True


def _plan(status: SiteStatus, now: dt.datetime) -> None:
    """The tariff last pushed, laid out from now (labels → their next occurrence)."""
    push = status.sync_state.last_push if status.sync_state else None
    if push is None or status.zone is None:
        return
    for span in slot_spans(ZoneInfo(status.zone), now):
        rates = push.rates.get(span.label)
        if rates is not None:
            status.plan.append((span.label, span.start, rates[0], rates[1]))


def _demand(readings: Readings, status: SiteStatus) -> DemandPlan | None:
    """The demand window of the tariff on the Powerwall; with a demand charge set and none there,
    an empty window (status says so); None when neither, or the Powerwall was not read."""
    if status.info is None:
        return None
    found = demand_of(status.info.tariff)
    wanted = readings.options.demand
    if found is None and wanted is not None:
        return DemandPlan(wanted.charge_per_kw, "tariff", frozenset())
    return found


def _drift(readings: Readings, status: SiteStatus, now: dt.datetime) -> None:
    """The pushed tariff against one folded now from Amber's latest prices."""
    push = status.sync_state.last_push if status.sync_state else None
    if push is None or readings.intervals is None or status.zone is None:
        return
    zone = ZoneInfo(status.zone)
    latest = fold(readings.intervals, zone, now, readings.options, history=readings.older)
    if isinstance(latest, Refusal):
        refused = "; ".join(latest.reasons)
        status.drift = drift(push.rates, push.pushed_at, None, now, refused)
    else:
        status.drift = drift(push.rates, push.pushed_at, plan_rates(latest), now)


def _warnings(readings: Readings, status: SiteStatus, now: dt.datetime) -> None:
    if status.info is not None:
        soc = status.live.percentage_charged if status.live else None
        state = status.sync_state
        # a rule owed back has its own warning (below), not a finding
        owns_rule = state is not None and (
            state.curtailment.active or "export_rule" in state.restores
        )
        held = overrides.held(state.manual) if state is not None else set()
        held = {"reserve" if key == "backup_reserve" else key for key in held}  # an override's
        found = findings(status.info, soc, curtailing=owns_rule or "export_rule" in held)
        status.findings = [finding for finding in found if finding.key not in held]
        status.warnings.extend(finding.line for finding in status.findings)
    run = status.last_run
    if run is not None and run.outcome in ("failed", "refused"):
        status.warnings.append(f"the last sync {run.outcome}: {run.error or run.reason}")
    if run is not None and run.outcome == "unverified":
        status.warnings.append(
            f"the last push was accepted but not yet read back as sent ({run.error or run.reason});"
            " the next sync reads it back before anything else"
        )
    if status.sync_state is not None and status.sync_state.curtailment.active:
        curtailment = status.sync_state.curtailment
        status.warnings.append(
            f"export curtailment is active (export rule {curtailment.our_rule}; your rule "
            f"{curtailment.user_rule} is restored when feed-in prices recover)"
        )
    for item in status.sync_state.manual if status.sync_state else []:
        if item.overdue(now):
            status.warnings.append(
                f"the override {item.id} ({item.kind}) ended {_ago(item.end, now)} ago, not yet "
                "restored: no sync has run since, and its settings stay on the Powerwall until "
                "one does (is the timer running? run `amber-tesla-sync sync`)"
            )
        elif item.in_force(now) and item.kind == "pause":
            status.warnings.append(
                f"paused by the owner until {item.end.astimezone(status.shown):%a %H:%M} "
                f"(override {item.id}): nothing is written to the Powerwall"
            )
    for setting, record in (status.sync_state.restores if status.sync_state else {}).items():
        since = f" for {_ago(record.due_since, now)}" if record.due_since else ""
        since = "" if since == " for 0 min" else since
        status.warnings.append(owed_line(setting, record).replace(" yet (", f" yet{since} (", 1))
    if readings.fleet_tokens is not None:
        try:
            tokens = TokenSet.from_json(readings.fleet_tokens)
        except (ValueError, KeyError, TypeError):
            return
        age = now.timestamp() - (tokens.expires_at - 8 * 3600)
        if age > REFRESH_TOKEN_WARN_DAYS * 86400:
            status.warnings.append(
                f"the Fleet tokens were last refreshed {age / 86400:.0f} days ago; refresh "
                "tokens expire after 3 months (run sync regularly, or `login fleet` again)"
            )


def _ago(since: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, round((now - since).total_seconds() / 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
