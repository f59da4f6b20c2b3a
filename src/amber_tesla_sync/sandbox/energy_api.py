"""The energy-site endpoints shared by the Fleet API and Teslemetry."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from amber_tesla_sync.sandbox.energy_history import HistoryRequestError
from amber_tesla_sync.sandbox.energy_site import CommandResult, EnergySite
from amber_tesla_sync.sandbox.envelope import command_result, error, ok
from amber_tesla_sync.sandbox.wire import Request, Response

ENERGY_PATH = re.compile(r"^/api/1/energy_sites/([^/]+)/([a-z_]+)/?$")
READS = {"site_info", "live_status", "calendar_history", "telemetry_history"}
HISTORY_KINDS = ("energy", "power", "soe")
COMMANDS = {"time_of_use_settings", "operation", "backup", "grid_import_export"}
MISSING_SCOPES = "Unauthorized missing scopes"


def category(method: str) -> str:
    """Billing category of an API request: GETs are data, everything else commands."""
    return "data" if method == "GET" else "command"


def energy_request(
    site: EnergySite,
    request: Request,
    path: str,
    scopes: tuple[str, ...],
    now: datetime,
    others: Mapping[str, EnergySite] | None = None,
) -> Response | None:
    """Answer an energy-site request, or None when ``path`` is not one. ``others``: the user's
    further Powerwalls by id (a sandbox built with more than one)."""
    match = ENERGY_PATH.match(path)
    if match is None:
        return None
    site_id, operation = match.groups()
    if site_id != str(site.energy_site_id):
        found = (others or {}).get(site_id)
        if found is None:
            return error(404, "not_found", f"energy site {site_id} not found for this user")
        site = found
    method = request.method
    if (method, operation) not in {("GET", op) for op in READS} | {("POST", op) for op in COMMANDS}:
        return error(404, "not_found", f"unknown endpoint {method} {path}")
    needed = "energy_device_data" if method == "GET" else "energy_cmds"
    if needed not in scopes:
        return error(403, MISSING_SCOPES, f"this request needs the {needed} scope")
    if method == "GET":
        if operation.endswith("_history"):
            return _history(site, request, operation, now)
        return ok(site.site_info(now) if operation == "site_info" else site.live_status(now))
    try:
        body = request.json()
    except ValueError:
        return error(400, "invalid_command", "request body is not valid JSON")
    if operation == "time_of_use_settings":
        result, _problems = site.post_tou(body, now)
        if result.bad_request is not None:
            return error(400, "invalid_field", result.bad_request)
        if not result.result:
            return command_result(False, result.reason)
        return ok({"code": 201, "message": "Updated"})
    handlers: dict[str, Callable[[Any, datetime], CommandResult]] = {
        "operation": site.set_operation,
        "backup": site.set_backup,
        "grid_import_export": site.set_grid_import_export,
    }
    outcome = handlers[operation](body, now)
    if outcome.bad_request is not None:
        return error(400, "invalid_field", outcome.bad_request)
    return command_result(outcome.result, outcome.reason)


def _history(site: EnergySite, request: Request, operation: str, now: datetime) -> Response:
    kind = request.param("kind") or ""
    if operation == "telemetry_history":
        if kind != "charge":
            return error(400, "invalid_field", "kind must be charge")
        # the sandbox site has no Wall Connector, so nothing was ever charged through one
        return ok({"charge_history": []})
    if kind not in HISTORY_KINDS:
        return error(400, "invalid_field", f"kind must be one of {', '.join(HISTORY_KINDS)}")
    params = {
        name: request.param(name) for name in ("period", "start_date", "end_date", "time_zone")
    }
    try:
        return ok(site.history(kind, params, now))
    except HistoryRequestError as exc:
        return error(400, "invalid_field", str(exc))
