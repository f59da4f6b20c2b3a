"""What is worth telling the owner after a run: changes of state, each told once (pure).

A site fails for longer than ``failure_after`` (told with the error and what to do; told again
only if the kind of failure changes) and recovers (told only if its failure was); a refusal lasts
longer than ``refusal_after``; someone else's tariff replaced ours (at most once a day per site);
the Fleet login needs the browser again, or the Fleet path is down while Teslemetry carries the
run, and Fleet works again; a Powerwall setting stops the tariff working (each setting once,
while it lasts); a value of the owner's that this tool changed could not be restored (each
setting once, while it is owed) and when it is settled. A message about a site with an owner's
override in force says so (``amber-tesla-sync override``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amber_tesla_sync.store.notify_memory import NotifyMemory, SiteMemory

if TYPE_CHECKING:
    from amber_tesla_sync.notify.send import Kind

PROG = "amber-tesla-sync"
RUN = "*"  # the memory key of failures that stop the whole run
FOREIGN_QUIET = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    kind: Kind


@dataclass(frozen=True)
class SiteFacts:
    site: str  # the key in the memory (the target's key)
    outcome: str  # verified | unverified | unchanged | refused | failed | dry-run
    reason: str
    exit_code: int = 0
    error: str | None = None
    hint: str | None = None
    foreign: str | None = None
    findings: dict[str, str] | None = None  # key → line; None: not checked in this run
    owed: dict[str, str] | None = None  # setting → line: the owner's values not yet restored
    name: str | None = None  # how messages name the site (default: ``site``)
    override: str | None = None  # the owner's override in force ("charge to 80 % until …")


@dataclass(frozen=True)
class RunFacts:
    sites: list[SiteFacts] = field(default_factory=list)
    fleet_error: str | None = None  # why this run left Fleet for Teslemetry
    fleet_login: bool = False  # … because the Fleet login needs the browser again
    fleet_worked: bool = False  # Fleet answered in this run


def _ago(since: dt.datetime | None, now: dt.datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, round((now - since).total_seconds() / 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _site(
    facts: SiteFacts,
    memory: SiteMemory,
    now: dt.datetime,
    refusal_after: dt.timedelta,
    failure_after: dt.timedelta,
) -> list[Message]:
    said: list[Message] = []
    name = "all sites" if facts.site == RUN else facts.name or facts.site
    if facts.outcome == "failed":
        # failing_since: the first failed run; failing: the exit code told (None: not told yet)
        memory.failing_since = memory.failing_since or now
        again = memory.failing is not None
        lasted = now - memory.failing_since >= failure_after
        if memory.failing != facts.exit_code and (again or lasted):
            title = f"{PROG}: {name} {'still fails, differently' if again else 'is failing'}"
            if "login fleet" in (facts.hint or ""):
                title += ": the Tesla Fleet login needs the browser again"
            said.append(
                Message(
                    title,
                    f"{facts.error or facts.reason}\nWhat to do: {facts.hint or 'see the logs'}\n"
                    "Nothing more is said while it fails this way; you will hear when it works "
                    "again. The Powerwall keeps its last tariff.",
                    "failure",
                )
            )
            memory.failing = facts.exit_code
    else:
        if memory.failing is not None:  # a failure never told ends in silence
            said.append(
                Message(
                    f"{PROG}: {name} works again",
                    f"After {_ago(memory.failing_since, now)} of failures: {facts.reason}",
                    "success",
                )
            )
        memory.failing = memory.failing_since = None
    if facts.outcome == "refused":
        memory.refusing_since = memory.refusing_since or now
        if not memory.refusal_told and now - memory.refusing_since >= refusal_after:
            said.append(
                Message(
                    f"{PROG}: {name} has pushed nothing for {_ago(memory.refusing_since, now)}",
                    f"Every run since refused the price data: {facts.reason}\nThe Powerwall "
                    "keeps its last tariff, which ages; `amber-tesla-sync status` and "
                    "`amber-tesla-sync tariff` show what is wrong with the data.",
                    "warning",
                )
            )
            memory.refusal_told = True
    elif facts.outcome in ("pushed", "verified", "unverified", "unchanged"):
        if memory.refusal_told:
            said.append(Message(f"{PROG}: {name} trusts the prices again", facts.reason, "success"))
        memory.refusing_since, memory.refusal_told = None, False
    if facts.foreign and (
        memory.foreign_told_at is None or now - memory.foreign_told_at >= FOREIGN_QUIET
    ):
        said.append(
            Message(
                f"{PROG}: another tariff replaced ours on {name}",
                f"Found: {facts.foreign}. This tool pushes its own tariff again. If the Tesla "
                "app, the retailer or another tool should set the tariff, stop this one "
                "(`amber-tesla-sync schedule remove`). Not repeated for 24 h.",
                "warning",
            )
        )
        memory.foreign_told_at = now
    if facts.findings is not None:
        new = [key for key in facts.findings if key not in memory.powerwall]
        if new:
            lines = "\n".join(f"- {facts.findings[key]}" for key in new)
            said.append(
                Message(
                    f"{PROG}: the Powerwall at {name} cannot follow the tariff",
                    f"{lines}\nTold once; `amber-tesla-sync status` shows what is still wrong.",
                    "warning",
                )
            )
        memory.powerwall = list(facts.findings)
    if facts.owed is not None:
        said += _owed(facts.owed, memory, name)
    if facts.override:  # what the owner set is part of what the Powerwall is doing
        said = [
            Message(m.title, f"{m.body}\nOverride in force: {facts.override}.", m.kind)
            for m in said
        ]
    return said


def _owed(owed: dict[str, str], memory: SiteMemory, name: str) -> list[Message]:
    """A value owed back to the owner: told once while owed, and once when it is settled."""
    said: list[Message] = []
    new = [key for key in owed if key not in memory.owed]
    if new:
        lines = "\n".join(f"- {owed[key]}" for key in new)
        said.append(
            Message(
                f"{PROG}: a setting of yours on {name} is not restored yet",
                f"{lines}\nTold once; `amber-tesla-sync status` shows it while it lasts, and you "
                "will hear when it is settled.",
                "warning",
            )
        )
    settled = [key.replace("_", " ") for key in memory.owed if key not in owed]
    if settled:
        said.append(
            Message(
                f"{PROG}: your {' and '.join(settled)} on {name} settled",
                "Restored, or set by you meanwhile: this tool owes nothing back any more.",
                "success",
            )
        )
    memory.owed = list(owed)
    return said


def _fleet(facts: RunFacts, memory: NotifyMemory) -> list[Message]:
    if facts.fleet_error is not None:
        kind = "login" if facts.fleet_login else "unavailable"
        if memory.fleet_down == kind:
            return []
        memory.fleet_down = kind
        if facts.fleet_login:
            return [
                Message(
                    f"{PROG}: the Tesla Fleet login needs the browser again",
                    f"{facts.fleet_error}\nWhat to do: run `amber-tesla-sync login fleet` on a "
                    "machine with a browser. Meanwhile every run goes through Teslemetry.",
                    "failure",
                )
            ]
        return [
            Message(
                f"{PROG}: the Tesla Fleet API path is down",
                f"{facts.fleet_error}\nRuns go through Teslemetry until Fleet answers again; "
                "you will hear when it does.",
                "warning",
            )
        ]
    if facts.fleet_worked and memory.fleet_down is not None:
        memory.fleet_down = None
        return [
            Message(
                f"{PROG}: the Tesla Fleet API works again",
                "Runs use the Fleet API again (Teslemetry stays the fallback).",
                "success",
            )
        ]
    return []


def changes(
    memory: NotifyMemory,
    facts: RunFacts,
    now: dt.datetime,
    refusal_after: dt.timedelta,
    failure_after: dt.timedelta = dt.timedelta(0),
) -> tuple[list[Message], NotifyMemory]:
    """The messages this run calls for, and the memory to keep (``memory`` is not changed).
    A failure is told once it has lasted ``failure_after`` since its first failed run."""
    new = memory.model_copy(deep=True)
    said: list[Message] = []
    reached = [site for site in facts.sites if site.site != RUN]
    if reached and RUN in new.sites:  # the run got as far as the sites again
        back = SiteFacts(RUN, "unchanged", "runs reach the sites again")
        said += _site(back, new.sites.pop(RUN), now, refusal_after, failure_after)
    for site in facts.sites:
        memory_of = new.sites.setdefault(site.site, SiteMemory())
        said += _site(site, memory_of, now, refusal_after, failure_after)
    said += _fleet(facts, new)
    return said, new
