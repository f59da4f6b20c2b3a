"""Logging out: delete a service's secrets from the store, and say which read-only overrides still
provide one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
)
from amber_tesla_sync.sync.context import AppContext

Service = Literal["amber", "teslemetry", "fleet", "all"]


@dataclass(frozen=True)
class LoggedOut:
    removed: list[str]  # secrets deleted from the store
    remaining: list[str]  # read-only overrides that still provide one ("… from …")


def logout(ctx: AppContext, service: Service) -> LoggedOut:
    names = {
        "amber": [AMBER_TOKEN],
        "teslemetry": [TESLEMETRY_TOKEN],
        "fleet": [FLEET_TOKENS],
        "all": [AMBER_TOKEN, TESLEMETRY_TOKEN, FLEET_TOKENS, FLEET_CLIENT_SECRET],
    }[service]
    removed = [name for name in names if ctx.store.backend.get(name) is not None]
    for name in names:
        ctx.store.delete(name)
    remaining = [
        f"{name} (from {found.origin})"
        for name in names
        if (found := ctx.store.find(name)) is not None and not found.writable
    ]
    return LoggedOut(removed, remaining)
