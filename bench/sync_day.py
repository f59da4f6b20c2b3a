"""Replay a simulated day of `sync` at a 5-minute cadence against the sandbox and report what it
costs and how stale the Powerwall's tariff gets.

    python bench/sync_day.py [--start 2026-01-15T00:00:30+11:00] [--hours 24] [--seed 5]
    python bench/sync_day.py --days all --seeds 11-17 --no-baseline --json

``--days`` takes named days (comma-separated, or ``all``): summer (2026-01-15), autumn-dst
(2026-04-05, Sydney's clocks go back at 03:00), winter (2026-07-15) and spring-dst (2026-10-04,
clocks go forward at 02:00), each from local midnight; ``--start`` (repeatable) adds any other.
``--seeds`` takes a list or a range ("11-17" or "1,4,9"); ``--seed`` one seed.

Two policies run over the same simulated day (same seed, same prices):
  * "push every run": the baseline — force a push on every run;
  * "on material change": what `sync` does by default.
For each it reports Tesla requests by kind, the Fleet API cost per day (data $0.002, commands
$0.001 per request), how far the Powerwall's tariff was from a fresh fold of Amber's latest
prices after each run (worst and typical, near term = slots starting within 2 h, and far), the
wall time per run as a ratio to the baseline's, measured in the same process, and how often the
export rule was changed (with ``--sync-option curtail_exports=true``: export curtailment).
``--no-baseline`` runs the default policy only (half the time).

The breakdown (``breakdown``): billed Fleet requests by kind (site_info read as a check, or as a
push's read-back in its own run; tariff writes; other writes and reads; answers 401), how many
pushes were left to a later check to read back (not billed: a count of pushes) and the pushes by
reason (``reasons``). With several days or seeds it ends with the median and range per day.

The tool's wall clock is the simulated one (its Fleet tokens expire on the sandbox's clock, as
they would on Tesla's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import httpx

from amber_tesla_sync.amber.models import parse_intervals
from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.store.paths import STATE_ENV
from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_TOKENS,
    SecretStore,
)
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SyncOptions
from amber_tesla_sync.sync.run_all import sync_all
from amber_tesla_sync.sync.targets import targets
from amber_tesla_sync.tariff import TariffPlan, fold
from amber_tesla_sync.tesla import oauth, tokens
from amber_tesla_sync.tesla.oauth import TokenEndpoint, authorize_url, new_pkce

DATA_USD, COMMAND_USD = 0.002, 0.001
NEAR = dt.timedelta(hours=2)
DAYS = {
    "summer": "2026-01-15T00:00:30+11:00",
    "autumn-dst": "2026-04-05T00:00:30+11:00",
    "winter": "2026-07-15T00:00:30+10:00",
    "spring-dst": "2026-10-04T00:00:30+10:00",
}
# the reason of a push (sync's words) → its kind, first match wins
REASONS = (
    ("first push", "first"),
    ("forced", "forced"),
    ("the current slot moved", "current slot"),
    ("changed materially", "near term"),
    ("changed what the Powerwall would do", "reordering"),
    ("re-asserting", "re-assert"),
    ("sending it once more", "resend"),
    ("not ours", "foreign"),
    ("not the last one pushed", "earlier"),
)


class SimClock:
    """The tool's wall clock, set to the simulated moment (the rest of ``time`` unchanged)."""

    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC)

    def time(self) -> float:
        return self.at.timestamp()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def reason_kind(reason: str) -> str:
    """The kind of a push by its reason (see REASONS)."""
    return next((kind for text, kind in REASONS if text in reason), "other")


def billed_kinds(entries: list[dict[str, Any]]) -> Counter[str]:
    """One run's billed Fleet requests by kind: a site_info read after the run's tariff write is
    its read-back, one before it a check."""
    kinds: Counter[str] = Counter()
    wrote = False
    for entry in entries:
        if entry["service"] != "fleet" or entry["category"] not in ("data", "command"):
            continue
        if not 0 < entry["status"] < 500:
            continue
        if entry["status"] == 401:
            kinds["401 answers"] += 1
        if entry["path"].endswith("/time_of_use_settings"):
            kinds["tariff writes"] += 1
            wrote = True
        elif entry["category"] == "command":
            kinds["other writes"] += 1
        elif entry["path"].endswith("/site_info"):
            kinds["read-backs" if wrote else "checks"] += 1
        else:
            kinds["other reads"] += 1
    return kinds


@dataclass
class Result:
    policy: str
    runs: int
    pushes: int
    data_requests: int
    command_requests: int
    usd_per_day: float
    near_worst: float
    near_typical: float
    far_worst: float
    far_typical: float
    seconds_per_run: float
    export_rule_changes: int  # grid_import_export commands (curtailment, ensure_battery_export)
    start: str = ""
    seed: int = 0
    breakdown: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


def _config(sandbox: Sandbox) -> str:
    c = sandbox.credentials
    return f"""[amber]
base_url = "{sandbox.amber_base_url}"
site_id = "{sandbox.amber_site_id}"

[tesla]
backend = "fleet"
energy_site_id = {sandbox.energy_site_id}
client_id = "{c.client_id}"
authorize_url = "{sandbox.authorize_url}"
token_url = "{sandbox.token_url}"
fleet_api_url = "{sandbox.fleet_na_base_url}"
redirect_uri = "{c.redirect_uri}"

[site]
timezone = "Australia/Sydney"

[secrets]
store = "file"
"""


def _login(sandbox: Sandbox, store: SecretStore) -> None:
    c = sandbox.credentials
    pkce = new_pkce()
    url = authorize_url(sandbox.authorize_url, c.client_id, c.redirect_uri, "bench", pkce)
    code = sandbox.approve(url)
    tokens = TokenEndpoint(sandbox.token_url).exchange_code(
        c.client_id, c.client_secret, code, pkce.verifier, c.redirect_uri, sandbox.fleet_na_base_url
    )
    store.set(FLEET_TOKENS, tokens.to_json())
    store.set(FLEET_CLIENT_SECRET, c.client_secret)
    store.set(AMBER_TOKEN, c.amber_token)


def _fresh_plan(sandbox: Sandbox, now: dt.datetime) -> TariffPlan:
    response = httpx.get(
        f"{sandbox.amber_base_url}/sites/{sandbox.amber_site_id}/prices/current",
        params={"next": 300, "previous": 288},
        headers={"Authorization": f"Bearer {sandbox.credentials.amber_token}"},
    )
    plan = fold(parse_intervals(response.json()), ZoneInfo("Australia/Sydney"), now)
    assert isinstance(plan, TariffPlan), plan
    return plan


def _staleness(sandbox: Sandbox, now: dt.datetime) -> tuple[float, float]:
    """Largest |Powerwall − fresh fold| in c/kWh over near-term and far slots."""
    ideal = _fresh_plan(sandbox, now)
    stored = sandbox.stored_tariff()
    buy = stored["energy_charges"]["Summer"]["rates"]
    sell = stored["sell_tariff"]["energy_charges"]["Summer"]["rates"]
    near = far = 0.0
    for slot in ideal.slots:
        label = slot.span.period_name
        gap = max(abs(buy[label] - slot.buy), abs(sell[label] - slot.sell)) * 100
        if slot.span.start - now < NEAR:
            near = max(near, gap)
        else:
            far = max(far, gap)
    return near, far


def replay(
    policy: str, start: dt.datetime, hours: int, seed: int, sync_options: tuple[str, ...] = ()
) -> Result:
    force = policy == "push every run"
    clock = SimClock()
    clock.at = start
    with (
        mock.patch.object(oauth, "time", clock),
        mock.patch.object(tokens, "time", clock),
        tempfile.TemporaryDirectory() as workdir,
        Sandbox(seed=seed, partner_registered=True) as sandbox,
    ):
        sandbox.set_amber_rate_limit(None)
        sandbox.set_time(start)
        os.environ[STATE_ENV] = str(Path(workdir) / "state")
        config = Path(workdir) / "config.toml"
        extra = "\n[sync]\n" + "\n".join(sync_options) + "\n" if sync_options else ""
        config.write_text(_config(sandbox) + extra)
        ctx = AppContext(load_config(config))
        _login(sandbox, ctx.store)
        sandbox.clear_requests()
        chosen = targets(ctx.config)
        near: list[float] = []
        far: list[float] = []
        pushes = 0
        elapsed = 0.0
        breakdown: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        seen = 0
        steps = hours * 12
        for step in range(steps):
            now = start + dt.timedelta(minutes=5 * step)
            sandbox.set_time(now)
            clock.at = now
            began = time.perf_counter()
            outcomes, _ = sync_all(ctx, chosen, now, SyncOptions(force=force), sleep=lambda s: None)
            elapsed += time.perf_counter() - began
            bad = [o for o in outcomes if o.error is not None]
            if bad:
                raise SystemExit(f"{policy}: run {step} failed: {bad[0].error}")
            for outcome in outcomes:
                if outcome.pushed:
                    pushes += 1
                    reasons[reason_kind(outcome.reason)] += 1
                    if outcome.outcome == "pushed":  # left to the next check
                        breakdown["pushes read back by a later check"] += 1
            entries = [e for e in sandbox.requests() if e["seq"] > seen]
            seen = max((e["seq"] for e in entries), default=seen)
            breakdown.update(billed_kinds(entries))
            counts = sandbox.request_counts()
            n, f = _staleness(sandbox, now)
            near.append(n)
            far.append(f)
        rule_changes = sum(
            1 for r in sandbox.requests() if r["path"].endswith("/grid_import_export")
        )
        billing = counts["fleet_billing"]
        data, commands = billing["data_requests"], billing["command_requests"]
        usd = (data * DATA_USD + commands * COMMAND_USD) * 24 / hours
        return Result(
            policy=policy,
            runs=steps,
            pushes=pushes,
            data_requests=data,
            command_requests=commands,
            usd_per_day=round(usd, 4),
            near_worst=round(max(near), 2),
            near_typical=round(statistics.median(near), 2),
            far_worst=round(max(far), 2),
            far_typical=round(statistics.median(far), 2),
            seconds_per_run=elapsed / steps,
            export_rule_changes=rule_changes,
            start=start.isoformat(),
            seed=seed,
            breakdown=dict(sorted(breakdown.items())),
            reasons=dict(sorted(reasons.items())),
        )


def seed_list(text: str) -> list[int]:
    """ "11-17" or "1,4,9" → the seeds."""
    found: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        found.extend(range(int(low), int(high or low) + 1))
    return found


def starts(days: str | None, extra: list[str]) -> list[tuple[str, str]]:
    """(name, start) of every day asked for (``--days`` then ``--start``)."""
    names = list(DAYS) if days == "all" else [d for d in (days or "").split(",") if d]
    unknown = [name for name in names if name not in DAYS]
    if unknown:
        raise SystemExit(f"unknown day {unknown[0]!r}: one of {', '.join(DAYS)} or all")
    chosen = [(name, DAYS[name]) for name in names] + [(text, text) for text in extra]
    return chosen or [("summer", DAYS["summer"])]


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median and range of $/day and near-term typical staleness per day and policy."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["day"], row["policy"]), []).append(row)
    found = []
    for (day, policy), group in groups.items():
        usd = [row["usd_per_day"] for row in group]
        stale = [row["near_typical"] for row in group]
        found.append(
            {
                "day": day,
                "policy": policy,
                "seeds": [row["seed"] for row in group],
                "usd_per_day": [statistics.median(usd), min(usd), max(usd)],
                "near_typical": [statistics.median(stale), min(stale), max(stale)],
                "near_typical_above_0_3": sum(1 for value in stale if value > 0.3),
                "near_worst_max": max(row["near_worst"] for row in group),
            }
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--start", action="append", default=[], help="a start (repeatable)")
    parser.add_argument("--days", help=f"named days, comma-separated, or all: {', '.join(DAYS)}")
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--seeds", help='several seeds: "11-17" or "1,4,9"')
    parser.add_argument("--no-baseline", action="store_true", help="skip 'push every run'")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--sync-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [sync] setting for the default policy, e.g. near_tolerance_cents=0.75",
    )
    args = parser.parse_args()
    policies = ["on material change"]
    if not args.no_baseline:
        policies.insert(0, "push every run")
    rows: list[dict[str, Any]] = []
    for day, text in starts(args.days, args.start):
        start = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
        for seed in seed_list(args.seeds) if args.seeds else [args.seed]:
            baseline = None
            for policy in policies:
                options = tuple(args.sync_option) if policy == "on material change" else ()
                result = replay(policy, start, args.hours, seed, options)
                baseline = baseline or result.seconds_per_run
                row = dict(result.__dict__)
                row["day"] = day
                row["wall_time_vs_baseline"] = (
                    round(result.seconds_per_run / baseline, 2) if not args.no_baseline else None
                )
                row["seconds_per_run"] = round(result.seconds_per_run, 4)
                rows.append(row)
                if not args.json:
                    print(
                        " | ".join(f"{key}: {value}" for key, value in row.items()),
                        flush=True,
                    )
    if args.json:
        print(json.dumps({"runs": rows, "summary": summary(rows)}, indent=2))
        return 0
    print(f"\n{args.hours} h per day at a 5-minute cadence; staleness in c/kWh")
    for line in summary(rows):
        usd, stale = line["usd_per_day"], line["near_typical"]
        print(
            f"{line['day']} ({line['policy']}, seeds {line['seeds']}): ${usd[0]:.3f}/day "
            f"({usd[1]:.3f}–{usd[2]:.3f}); near typical {stale[0]:.2f} ({stale[1]:.2f}–"
            f"{stale[2]:.2f}), above 0.3 on {line['near_typical_above_0_3']}; near worst "
            f"{line['near_worst_max']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
