"""``doctor``: check every piece the unattended job depends on, each with its fix."""

from __future__ import annotations

import datetime as dt
import email.utils
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from amber_tesla_sync.errors import AppError
from amber_tesla_sync.notify.send import check
from amber_tesla_sync.publish.outlets import publishing_checks as publishing
from amber_tesla_sync.schedule import schedule_status
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.store.localfiles import config_file, secrets_file, state_files
from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.store.secrets import FLEET_TOKENS, TESLEMETRY_TOKEN
from amber_tesla_sync.support.http import bounded_request, transport_failure
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.powerwall_checks import findings
from amber_tesla_sync.sync.targets import Target, targets
from amber_tesla_sync.tesla.api import TeslaApi

PROBE = "doctor_probe"
MAX_SKEW = dt.timedelta(seconds=120)


BACKEND_NAMES = {"fleet": "the Fleet API", "teslemetry": "Teslemetry"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    used: str | None = None  # what the check really went through (a backend, a store)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix,
            "used": self.used,
        }


def _failed(name: str, error: AppError, used: str | None = None) -> Check:
    return Check(name, False, error.message, error.hint, used)


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
        return [*checks, _failed("sites", error), _notify(ctx), _scheduler()]
    for target in chosen:
        checks.append(_amber(ctx, target))
        checks.extend(_tesla(ctx, target))
    checks.append(_notify(ctx))
    checks.extend(Check(p.name, p.ok, p.detail, p.fix) for p in publishing(ctx.config, ctx.store))
    checks.append(_scheduler())
    checks.append(_clock(ctx, now))
    return checks


def _local_files(ctx: AppContext, fix: bool) -> list[Check]:
    """The tool's own files: damage and loose modes (modes tightened only with ``fix``)."""
    found = state_files(state_dir(), fix)
    if ctx.store.kind == "file":
        found = secrets_file(ctx.store.file_path, fix) + found
    notify = ctx.config.notify
    found = config_file(ctx.loaded.path, bool(notify.urls or notify.healthcheck_url), fix) + found
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
    return Check(
        "secret store",
        True,
        f"{backend.description} works (read and write)",
        used=backend.description,
    )


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


def _backends(ctx: AppContext) -> list[tuple[str, Callable[[], TeslaApi]]]:
    """Each backend a sync may use, checked on its own: Fleet working is not hidden behind a
    working Teslemetry (nor the other way round)."""
    backend = ctx.config.tesla.backend
    has_fleet = ctx.store.find(FLEET_TOKENS) is not None
    teslemetry = ctx.store.get(TESLEMETRY_TOKEN)
    found: list[tuple[str, Callable[[], TeslaApi]]] = []
    if backend == "fleet" or (backend == "auto" and has_fleet):
        found.append(("fleet", lambda: TeslaApi(ctx.fleet_connection())))
    if teslemetry and backend in ("auto", "teslemetry"):
        found.append(("teslemetry", lambda: TeslaApi(ctx.teslemetry_connection(teslemetry))))
    return found


def _tesla(ctx: AppContext, target: Target) -> list[Check]:
    try:
        backends = _backends(ctx)
    except AppError as error:  # the secret store cannot be read (damaged, unreadable)
        return [_failed(f"Tesla ({target.key})", error)]
    if not backends:
        try:
            ctx.tesla()  # raises the right "not logged in" error
        except AppError as error:
            return [_failed(f"Tesla ({target.key})", error)]
    checks: list[Check] = []
    working: TeslaApi | None = None
    for backend, make in backends:
        name = f"Tesla via {BACKEND_NAMES[backend]} ({target.key})"
        try:
            api = make()
            sites = api.energy_sites()  # the token, the region and (Fleet) registration
        except AppError as error:
            checks.append(_failed(name, error, backend))
            continue
        if not any(site.id == target.energy_site_id for site in sites):
            checks.append(
                Check(
                    name,
                    False,
                    f"energy site {target.energy_site_id} is not on this account",
                    "run `amber-tesla-sync login` again to pick the Powerwall",
                    backend,
                )
            )
            continue
        what = "token, region and registration work" if backend == "fleet" else "token works"
        checks.append(
            Check(
                name, True, f"{backend}: {what}; site {target.energy_site_id} found", None, backend
            )
        )
        working = working or api
    if working is not None:
        checks.append(_powerwall(working, target))
    return checks


def _powerwall(api: TeslaApi, target: Target) -> Check:
    name = f"Powerwall ({target.key})"
    try:
        site = api.site(target.energy_site_id)
        live = api.live_status(target.energy_site_id)
    except AppError as error:
        return _failed(name, error, api.backend)
    found = findings(site, live.percentage_charged)
    if found:
        return Check(
            name,
            False,
            "; ".join(f.problem for f in found),
            "; ".join(f.fix for f in found),
            api.backend,
        )
    detail = f"mode {site.mode}, export rule {site.export_rule}, reserve " + (
        f"{site.backup_reserve} %: the tariff can work"
    )
    return Check(name, True, detail, None, api.backend)


def _notify(ctx: AppContext) -> Check:
    """The notification settings, checked dry: nothing is sent (``notify test`` sends)."""
    settings = ctx.config.notify
    if not settings.urls and not settings.healthcheck_url:
        return Check(
            "notifications",
            True,
            "none configured: nobody hears when the job fails (README: Notifications)",
        )
    parts = []
    results = check(settings.urls)
    bad = [r for r in results if not r.ok]
    if results:
        parts.append(f"{len(results) - len(bad)} of {len(results)} URLs understood by Apprise")
    if settings.healthcheck_url:
        parts.append("healthcheck URL set (not pinged)")
    detail = "; ".join(parts) + " (`amber-tesla-sync notify test` sends a test message)"
    if bad:
        return Check(
            "notifications",
            False,
            detail + ": not understood: " + ", ".join(r.url for r in bad),
            "fix notify.urls (each URL's form is in the Apprise wiki)",
            "apprise",
        )
    return Check("notifications", True, detail, None, "apprise" if results else None)


def _scheduler() -> Check:
    try:
        installed, description = schedule_status()
    except AppError as error:
        return _failed("scheduler", error)
    install = "schedule install" if sys.platform == "darwin" else "schedule install --user"
    fix = f"run `amber-tesla-sync {install}` (or use the README's cron line)"
    return Check("scheduler", installed, description, None if installed else fix)


def _clock(ctx: AppContext, now: Callable[[], dt.datetime]) -> Check:
    """Compare this machine's clock with the Date header of Amber's servers."""
    url = ctx.config.amber.base_url.rstrip("/") + "/sites"
    try:  # bounded like every request: a server that drips its answer cannot hold doctor
        response = bounded_request("GET", url, ctx.config.network.timeout_seconds)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        why = (
            transport_failure(error).description
            if isinstance(error, httpx.HTTPError)
            else type(error).__name__
        )
        return Check(
            "clock", False, f"could not reach {url} to compare clocks ({why})", "check the network"
        )
    server = _date(response.headers.get("date"))
    if server is None:
        return Check(
            "clock", False, "the server sent no readable Date header to compare with", None
        )
    skew = now() - server
    if abs(skew) > MAX_SKEW:
        return Check(
            "clock",
            False,
            f"this machine's clock is {skew.total_seconds():+.0f} s off the server's",
            "enable time synchronisation (e.g. `timedatectl set-ntp true`)",
        )
    return Check("clock", True, f"within {abs(skew.total_seconds()):.0f} s of the server's")


def _date(header: str | None) -> dt.datetime | None:
    """An HTTP ``Date`` header as an aware time (None when absent or unreadable)."""
    try:
        when = email.utils.parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError, IndexError):
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=dt.UTC)
