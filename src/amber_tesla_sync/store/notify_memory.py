"""What has already been said, so that each change is told once (saved in state.json).

The empty defaults are copied for each instance by pydantic (cheaper to build than a
``default_factory``: see :mod:`amber_tesla_sync.store.overrides`)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class SiteMemory(BaseModel):
    model_config = ConfigDict(extra="allow")
    failing: int | None = None  # the exit code of the failure told, while it lasts
    failing_since: dt.datetime | None = None  # the first failed run, told or not yet
    refusing_since: dt.datetime | None = None
    refusal_told: bool = False
    foreign_told_at: dt.datetime | None = None
    powerwall: list[str] = []  # finding keys told, while they last
    owed: list[str] = []  # settings told as not restored, while owed


class NotifyMemory(BaseModel):
    model_config = ConfigDict(extra="allow")
    sites: dict[str, SiteMemory] = {}
    fleet_down: str | None = None  # "login" | "unavailable": told, until Fleet works again
