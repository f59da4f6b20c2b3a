"""What ``sync`` prints: a line per site (and the plan on a dry run), or a JSON summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amber_tesla_sync.render.envelope import cents
from amber_tesla_sync.render.tariff_view import plan_summary
from amber_tesla_sync.sync.decide import plan_rates
from amber_tesla_sync.sync.run import SiteOutcome


def _requests(requests: Mapping[str, int]) -> str:
    data, commands = requests.get("GET", 0), requests.get("POST", 0)
    return f"Tesla requests: {data} read, {commands} write"


def sync_lines(
    outcomes: list[SiteOutcome], requests: Mapping[str, int], dry_run: bool
) -> list[str]:
    lines = []
    for outcome in outcomes:
        head = f"{outcome.site}: {outcome.outcome} — {outcome.reason}"
        if outcome.fingerprint and outcome.pushed:
            head += f" (tariff {outcome.fingerprint})"
        lines.append(head)
        lines.extend(f"  action: {action}" for action in outcome.actions)
        lines.extend(f"  warning: {warning}" for warning in outcome.warnings)
        if outcome.error is not None:
            lines.extend(f"  {line}" for line in outcome.error.message.splitlines()[1:])
            if outcome.error.hint:
                lines.append(f"  what to do: {outcome.error.hint}")
        if dry_run and outcome.plan is not None:
            lines.append("  " + plan_summary(outcome.plan))
            rates = plan_rates(outcome.plan)
            lines.append(
                "  plan (c/kWh buy/sell): "
                + " ".join(
                    f"{label} {b * 100:.1f}/{s * 100:.1f}" for label, (b, s) in rates.items()
                )
            )
    lines.append(_requests(requests))
    return lines


def sync_summary(
    outcomes: list[SiteOutcome], requests: Mapping[str, int], code: int
) -> dict[str, Any]:
    return {
        "exit_code": int(code),
        "tesla_requests": {"read": requests.get("GET", 0), "write": requests.get("POST", 0)},
        "sites": [
            {
                "site": outcome.site,
                "outcome": outcome.outcome,
                "pushed": outcome.pushed,
                "reason": outcome.reason,
                "fingerprint": outcome.fingerprint,
                "warnings": outcome.warnings,
                "actions": outcome.actions,
                "error": outcome.error.message if outcome.error else None,
                "refusal": list(outcome.refusal) or None,
                "exit_code": int(outcome.exit_code),
                "rates": (
                    {
                        label: {"buy": cents(b), "sell": cents(s)}
                        for label, (b, s) in plan_rates(outcome.plan).items()
                    }
                    if outcome.plan is not None
                    else None
                ),
            }
            for outcome in outcomes
        ],
    }
