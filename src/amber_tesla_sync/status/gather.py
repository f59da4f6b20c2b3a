"""``status``: gather what is known now — Amber's current prices, the Powerwall, the last sync,
the plan — tolerating missing pieces (each part says why it is missing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import CURRENT, FEED_IN, GENERAL, Interval
from amber_tesla_sync.errors import AppError
from amber_tesla_sync.status.explain import Drift, Why, drift, explain
from amber_tesla_sync.store.history import History, RunRecord
from amber_tesla_sync.store.secrets import FLEET_TOKENS
from amber_tesla_sync.store.state import State, SyncState, load_state
from amber_tesla_sync.support.times import check_timezone
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.decide import plan_rates
from amber_tesla_sync.sync.fold_settings import fold_options, known_channels
from amber_tesla_sync.sync.powerwall_checks import Finding, findings
from amber_tesla_sync.sync.sources import fetch_prices
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.tariff import Refusal, fold
from amber_tesla_sync.tariff.slots import slot_spans
from amber_tesla_sync.tesla.models import LiveStatus, SiteInfo
from amber_tesla_sync.tesla.oauth import TokenSet

REFRESH_TOKEN_WARN_DAYS = 60
LOOK_BACK_DAYS, LOOK_BACK_RUNS = 30, 9000  # how far to look for the last successful sync


@dataclass
class PriceNow:
    per_kwh: float
    descriptor: str | None
    renewables: float | None
    spike: str
    estimate: bool | None
    kind: str


@dataclass
class SiteStatus:
    target: Target
    zone: str | None = None
    buy: PriceNow | None = None
    sell: PriceNow | None = None
    amber_error: str | None = None
    live: LiveStatus | None = None
    info: SiteInfo | None = None
    tesla_error: str | None = None
    last_run: RunRecord | None = None
    sync_state: SyncState | None = None
    plan: list[tuple[str, dt.datetime, float, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    last_ok: RunRecord | None = None
    why: Why | None = None
    drift: Drift | None = None


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


def gather(ctx: AppContext, target: Target, now: dt.datetime) -> SiteStatus:
    status = SiteStatus(target)
    state = load_state()
    status.sync_state = state.sync.get(target.key)
    history = History()
    runs = history.runs(now - dt.timedelta(days=LOOK_BACK_DAYS), target.key, limit=LOOK_BACK_RUNS)
    status.last_run = runs[0] if runs else None
    status.last_ok = next(
        (run for run in runs if run.outcome in ("pushed", "verified", "unchanged")), None
    )
    cached = state.energy_sites.get(str(target.energy_site_id))
    status.zone = target.timezone or (cached.time_zone if cached else None)
    intervals = _amber(ctx, state, target, now, status)
    _tesla(ctx, target, status)
    if status.zone is None and status.info is not None:
        status.zone = status.info.time_zone
    if status.zone is not None and not _usable_zone(status.zone):
        shown = "".join(c if c.isprintable() else "?" for c in status.zone)[:60]
        status.warnings.append(
            f"the site's time zone {shown!r} is unknown here or has no half-hour slots; "
            "set site.timezone to the site's IANA zone"
        )
        status.zone = None
    _plan(status, now)
    status.why = explain(status.plan, status.live.raw if status.live else None)
    _drift(ctx, state, history, status, intervals, now)
    _warnings(ctx, status, now)
    return status


def _usable_zone(name: str) -> bool:
    try:
        slot_spans(check_timezone(name), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except (ValueError, OverflowError):  # unknown, or an offset off the half-hour grid
        return False
    return True


def _amber(
    ctx: AppContext, state: State, target: Target, now: dt.datetime, status: SiteStatus
) -> list[Interval] | None:
    try:
        with ctx.amber() as client:
            intervals = fetch_prices(client, state, target.amber_site_id)
    except AppError as error:
        status.amber_error = f"{error.message} — {error.hint}" if error.hint else error.message
        return None
    status.buy = _price_now(intervals, GENERAL, now)
    status.sell = _price_now(intervals, FEED_IN, now)
    return intervals


def _drift(
    ctx: AppContext,
    state: State,
    history: History,
    status: SiteStatus,
    intervals: list[Interval] | None,
    now: dt.datetime,
) -> None:
    """The pushed tariff against one folded now from Amber's latest prices."""
    push = status.sync_state.last_push if status.sync_state else None
    if push is None or intervals is None or status.zone is None:
        return
    site_id = status.target.amber_site_id
    options = fold_options(ctx.config, known_channels(state, site_id))
    older = history.actual_intervals(site_id, now - dt.timedelta(days=3))
    latest = fold(intervals, ZoneInfo(status.zone), now, options, history=older)
    if isinstance(latest, Refusal):
        refused = "; ".join(latest.reasons)
        status.drift = drift(push.rates, push.pushed_at, None, now, refused)
    else:
        status.drift = drift(push.rates, push.pushed_at, plan_rates(latest), now)


def _tesla(ctx: AppContext, target: Target, status: SiteStatus) -> None:
    try:
        api = ctx.tesla()
        status.info = api.site(target.energy_site_id)
        status.live = api.live_status(target.energy_site_id)
    except AppError as error:
        status.tesla_error = f"{error.message} — {error.hint}" if error.hint else error.message
        return
    fleet_error = api.connection.fleet_error
    if fleet_error is not None:
        status.warnings.append(
            f"the Tesla Fleet API failed ({fleet_error.message}); Teslemetry answered instead"
            + (f" — {fleet_error.hint}" if fleet_error.hint else "")
        )


def _plan(status: SiteStatus, now: dt.datetime) -> None:
    """The tariff last pushed, laid out from now (labels → their next occurrence)."""
    push = status.sync_state.last_push if status.sync_state else None
    if push is None or status.zone is None:
        return
    for span in slot_spans(ZoneInfo(status.zone), now):
        rates = push.rates.get(span.label)
        if rates is not None:
            status.plan.append((span.label, span.start, rates[0], rates[1]))


def _warnings(ctx: AppContext, status: SiteStatus, now: dt.datetime) -> None:
    if status.info is not None:
        soc = status.live.percentage_charged if status.live else None
        curtailing = status.sync_state is not None and status.sync_state.curtailment.active
        status.findings = findings(status.info, soc, curtailing=curtailing)
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
    found = ctx.store.find(FLEET_TOKENS) if status.tesla_error is None else None
    if found is not None:
        try:
            tokens = TokenSet.from_json(found.value)
        except (ValueError, KeyError, TypeError):
            return
        age = now.timestamp() - (tokens.expires_at - 8 * 3600)
        if age > REFRESH_TOKEN_WARN_DAYS * 86400:
            status.warnings.append(
                f"the Fleet tokens were last refreshed {age / 86400:.0f} days ago; refresh "
                "tokens expire after 3 months (run sync regularly, or `login fleet` again)"
            )
