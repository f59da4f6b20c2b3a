"""The models' empty defaults (``[]``, ``{}``) are each instance's own: changing one record's
list or mapping never changes another's, nor the next one made."""

from __future__ import annotations

import datetime as dt

from amber_tesla_sync.amber.models import Site
from amber_tesla_sync.store.notify_memory import NotifyMemory, SiteMemory
from amber_tesla_sync.store.overrides import Override

START = dt.datetime(2026, 1, 15, 5, 0, tzinfo=dt.UTC)


def test_an_overrides_lists_and_mappings_are_its_own() -> None:
    first = Override(id="a", kind="charge", start=START, end=START + dt.timedelta(hours=1))
    first.sent.append("backup_reserve")
    first.changes.append("backup reserve 20 → 100")
    first.slots.append("05:00")
    first.wanted["backup_reserve"] = "100"
    second = Override(id="b", kind="hold", start=START, end=START + dt.timedelta(hours=1))
    assert (second.sent, second.changes, second.slots, second.wanted, second.saved) == (
        [],
        [],
        [],
        {},
        {},
    )
    assert Override.model_validate(first.model_dump()).sent == ["backup_reserve"]


def test_the_notification_memory_starts_empty_every_time() -> None:
    memory = NotifyMemory()
    memory.sites["x"] = SiteMemory()
    memory.sites["x"].powerwall.append("export_rule")
    memory.sites["x"].owed.append("backup_reserve")
    assert NotifyMemory().sites == {}
    assert (SiteMemory().powerwall, SiteMemory().owed) == ([], [])


def test_a_sites_channels_are_its_own() -> None:
    site = Site(id="s1")
    assert site.channels == []
    site.channels.append(None)  # type: ignore[arg-type]
    assert Site(id="s2").channels == []
