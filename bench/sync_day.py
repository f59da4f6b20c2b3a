"""Replay a simulated day of `sync` at a 5-minute cadence against the sandbox and report what it
costs and how stale the Powerwall's tariff gets.

    python bench/sync_day.py [--start 2026-01-15T00:00:30+11:00] [--hours 24] [--seed 5]

Two policies run over the same simulated day (same seed, same prices):
  * "push every run": the baseline — force a push on every run;
  * "on material change": what `sync` does by default.
For each it reports Tesla requests by kind, the Fleet API cost per day (data $0.002, commands
$0.001 per request), how far the Powerwall's tariff was from a fresh fold of Amber's latest
prices after each run (worst and typical, near term = slots starting within 2 h, and far), the
wall time per run as a ratio to the baseline's, measured in the same process, and how often the
export rule was changed (with ``--sync-option curtail_exports=true``: export curtailment).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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
from amber_tesla_sync.sync.run import sync_all
from amber_tesla_sync.sync.targets import targets
from amber_tesla_sync.tariff import TariffPlan, fold
from amber_tesla_sync.tesla.oauth import TokenEndpoint, authorize_url, new_pkce

DATA_USD, COMMAND_USD = 0.002, 0.001
NEAR = dt.timedelta(hours=2)


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
    with (
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
        steps = hours * 12
        for step in range(steps):
            now = start + dt.timedelta(minutes=5 * step)
            sandbox.set_time(now)
            began = time.perf_counter()
            outcomes, _ = sync_all(ctx, chosen, now, SyncOptions(force=force), sleep=lambda s: None)
            elapsed += time.perf_counter() - began
            bad = [o for o in outcomes if o.error is not None]
            if bad:
                raise SystemExit(f"{policy}: run {step} failed: {bad[0].error}")
            pushes += sum(o.pushed for o in outcomes)
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
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--start", default="2026-01-15T00:00:30+11:00")
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--sync-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [sync] setting for the default policy, e.g. near_tolerance_cents=0.75",
    )
    args = parser.parse_args()
    start = dt.datetime.fromisoformat(args.start).astimezone(dt.UTC)
    results = [
        replay(policy, start, args.hours, args.seed, tuple(args.sync_option) if index else ())
        for index, policy in enumerate(("push every run", "on material change"))
    ]
    baseline = results[0].seconds_per_run
    rows: list[dict[str, Any]] = []
    for result in results:
        row = dict(result.__dict__)
        row["wall_time_vs_baseline"] = round(result.seconds_per_run / baseline, 2)
        row["seconds_per_run"] = round(result.seconds_per_run, 4)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"Simulated {args.hours} h from {args.start} at a 5-minute cadence (seed {args.seed});"
        " staleness in c/kWh"
    )
    header = (
        "policy",
        "runs",
        "pushes",
        "Tesla reads",
        "Tesla writes",
        "Fleet $/day",
        "near worst",
        "near typical",
        "far worst",
        "far typical",
        "time vs baseline",
        "export rule changes",
    )
    print(" | ".join(header))
    for row in rows:
        print(
            " | ".join(
                str(row[key])
                for key in (
                    "policy",
                    "runs",
                    "pushes",
                    "data_requests",
                    "command_requests",
                    "usd_per_day",
                    "near_worst",
                    "near_typical",
                    "far_worst",
                    "far_typical",
                    "wall_time_vs_baseline",
                    "export_rule_changes",
                )
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
