"""``doctor``: check every piece the unattended job depends on, each with its fix."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from amber_tesla_sync.config import load_config
from amber_tesla_sync.context import AppContext
from amber_tesla_sync.errors import AppError
from amber_tesla_sync.localfiles import secrets_file, state_files
from amber_tesla_sync.paths import state_dir
from amber_tesla_sync.schedule import schedule_status
from amber_tesla_sync.sync.targets import Target, targets
from amber_tesla_sync.tesla.siteinfo import SiteInfo

PROBE = "doctor_probe"
MAX_SKEW = dt.timedelta(seconds=120)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def _failed(name: str, error: AppError) -> Check:
    return Check(name, False, error.message, error.hint)


def run_checks(
    config_path: Path,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    fix: bool = False,
) -> list[Check]:
    try:
        ctx = AppContext(load_config(config_path))
    except AppError as error:
        return [_failed("configuration", error)]
    where = str(ctx.loaded.path) if ctx.loaded.exists else f"{ctx.loaded.path} (absent: defaults)"
    checks = [Check("configuration", True, f"{where} is valid")]
    checks.append(_secret_store(ctx))
    checks.extend(_local_files(ctx, fix))
    try:
        chosen = targets(ctx.config)
    except AppError as error:
        return [*checks, _failed("sites", error), _scheduler()]
    for target in chosen:
        checks.append(_amber(ctx, target))
        checks.extend(_tesla(ctx, target))
    checks.append(_scheduler())
    checks.append(_clock(ctx, now))
    return checks


def _local_files(ctx: AppContext, fix: bool) -> list[Check]:
    """The tool's own files: damage and loose modes (modes tightened only with ``fix``)."""
    found = state_files(state_dir(), fix)
    if ctx.store.kind == "file":
        found = secrets_file(ctx.store.file_path, fix) + found
    return [Check(c.name, c.ok, c.detail, c.fix) for c in found]


def _secret_store(ctx: AppContext) -> Check:
    if ctx.store.kind == "file":  # checked without writing (a write would change its mode)
        return Check("secret store", True, f"{ctx.store.backend.description} is chosen")
    try:
        backend = ctx.store.backend
        backend.set(PROBE, "ok")
        readable = backend.get(PROBE) == "ok"
        backend.delete(PROBE)
    except AppError as error:
        return _failed("secret store", error)
    if not readable:
        return Check(
            "secret store",
            False,
            f"{backend.description} did not keep a test value",
            "check the store",
        )
    return Check("secret store", True, f"{backend.description} works (read and write)")


def _amber(ctx: AppContext, target: Target) -> Check:
    name = f"Amber ({target.key})"
    try:
        with ctx.amber() as client:
            sites = client.sites()
    except AppError as error:
        return _failed(name, error)
    site = next((s for s in sites if s.id == target.amber_site_id), None)
    if site is None:
        return Check(
            name,
            False,
            f"the account has no site {target.amber_site_id}",
            "run `amber-tesla-sync login amber`",
        )
    if site.status != "active":
        return Check(
            name,
            False,
            f"site {site.id} is {site.status}",
            "pick an active site with `amber-tesla-sync login amber`",
        )
    return Check(
        name, True, f"token works; site {site.id} is active ({site.interval_length}-minute)"
    )


def _tesla(ctx: AppContext, target: Target) -> list[Check]:
    name = f"Tesla ({target.key})"
    try:
        api = ctx.tesla()
        backend = api.backend
        sites = api.energy_sites()  # needs the token, the region and (Fleet) registration
    except AppError as error:
        return [_failed(name, error)]
    if not any(site.id == target.energy_site_id for site in sites):
        return [
            Check(
                name,
                False,
                f"energy site {target.energy_site_id} is not on this account",
                "run `amber-tesla-sync login` again to pick the Powerwall",
            )
        ]
    checks = [
        Check(
            name,
            True,
            f"{backend}: token, region and registration work; site {target.energy_site_id} found",
        )
    ]
    try:
        info = api.site_info(target.energy_site_id)
    except AppError as error:
        return [*checks, _failed(f"Powerwall ({target.key})", error)]
    site = SiteInfo(info)
    mode, strategy = site.mode, site.strategy
    problems = []
    if mode != "autonomous":
        problems.append(f"mode is {mode}, so the tariff has no effect")
    if strategy == "balanced":
        problems.append("optimisation strategy is balanced (no exports for price)")
    if not site.tou_capable:
        problems.append("the site is not TOU capable")
    if problems:
        checks.append(
            Check(
                f"Powerwall ({target.key})",
                False,
                "; ".join(problems),
                "choose Time-Based Control and Cost Saving in the Tesla app, or set "
                "sync.ensure_autonomous = true",
            )
        )
    else:
        checks.append(
            Check(
                f"Powerwall ({target.key})",
                True,
                f"mode {mode}" + (f", strategy {strategy}" if strategy else ""),
            )
        )
    return checks


def _scheduler() -> Check:
    try:
        installed, description = schedule_status()
    except AppError as error:
        return _failed("scheduler", error)
    fix = "run `amber-tesla-sync schedule install --user` (or use the README's cron line)"
    return Check("scheduler", installed, description, None if installed else fix)


def _clock(ctx: AppContext, now: Callable[[], dt.datetime]) -> Check:
    """Compare this machine's clock with the Date header of Amber's servers."""
    url = ctx.config.amber.base_url.rstrip("/") + "/sites"
    try:
        response = httpx.get(url, timeout=ctx.config.network.timeout_seconds)
    except httpx.HTTPError as error:
        return Check(
            "clock",
            False,
            f"could not reach {url} to compare clocks ({type(error).__name__})",
            "check the network",
        )
    header = response.headers.get("date")
    server = email.utils.parsedate_to_datetime(header) if header else None
    if server is None:
        return Check("clock", False, "the server sent no Date header to compare with", None)
    skew = now() - server
    if abs(skew) > MAX_SKEW:
        return Check(
            "clock",
            False,
            f"this machine's clock is {skew.total_seconds():+.0f} s off the server's",
            "enable time synchronisation (e.g. `timedatectl set-ntp true`)",
        )
    return Check("clock", True, f"within {abs(skew.total_seconds()):.0f} s of the server's")
