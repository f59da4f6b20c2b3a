"""What ``sync`` prints: a line per site (and the plan on a dry run), or a JSON summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amber_tesla_sync.render.envelope import cents
from amber_tesla_sync.render.tariff_view import plan_summary
from amber_tesla_sync.support.redact import clean
from amber_tesla_sync.sync.decide import plan_rates
from amber_tesla_sync.sync.outcome import SiteOutcome


def _requests(requests: Mapping[str, int]) -> str:
    data, commands = requests.get("GET", 0), requests.get("POST", 0)
    return f"Tesla requests: {data} read, {commands} write"


BACKENDS = {"fleet": "the Fleet API", "teslemetry": "Teslemetry"}


def _override(outcome: SiteOutcome) -> dict[str, Any] | None:
    """The owner's override in force, as ``override --json`` shows it (its view is loaded only
    when there is one)."""
    if outcome.override is None:
        return None
    from amber_tesla_sync.render.override_view import override_json

    return override_json(outcome.site, outcome.override, outcome.override.start)


def sync_lines(
    outcomes: list[SiteOutcome],
    requests: Mapping[str, int],
    dry_run: bool,
    fallback: str | None = None,
) -> list[str]:
    lines = []
    if fallback is not None:
        lines.append(f"the Fleet API failed ({fallback}); the rest of this run used Teslemetry")
    for outcome in outcomes:
        head = f"{outcome.site}: {outcome.outcome} — {outcome.reason}"
        if outcome.fingerprint and outcome.pushed:
            head += f" (tariff {outcome.fingerprint})"
        if outcome.backend is not None and outcome.pushed:
            head += f" via {BACKENDS.get(outcome.backend, outcome.backend)}"
        lines.append(head)
        if outcome.override is not None:
            lines.append(f"  override: {outcome.override.id} ({outcome.override.kind}) in force")
        lines.extend(f"  action: {action}" for action in outcome.actions)
        lines.extend(f"  warning: {warning}" for warning in outcome.warnings)
        if not outcome.checked:
            lines.extend(f"  warning: {f.line} (at the last check)" for f in outcome.findings)
        if outcome.error is not None:
            first, *rest = outcome.error.message.splitlines() or [""]
            if first != outcome.reason:
                lines.append(f"  error: {first}")
            lines.extend(f"  {line}" for line in rest)
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
    return [clean(line) for line in lines]


def sync_summary(
    outcomes: list[SiteOutcome],
    requests: Mapping[str, int],
    code: int,
    fallback: str | None = None,
) -> dict[str, Any]:
    return {
        "exit_code": int(code),
        "fleet_fallback": fallback,
        "tesla_requests": {"read": requests.get("GET", 0), "write": requests.get("POST", 0)},
        "sites": [
            {
                "site": outcome.site,
                "outcome": outcome.outcome,
                "pushed": outcome.pushed,
                "verified": outcome.verified,
                "reason": clean(outcome.reason),
                "fingerprint": outcome.fingerprint,
                "backend": outcome.backend,
                "warnings": [clean(warning) for warning in outcome.warnings],
                "powerwall": [
                    {"setting": f.key, "problem": f.problem, "fix": f.fix} for f in outcome.findings
                ],
                "actions": outcome.actions,
                "override": _override(outcome),
                "paused": outcome.override is not None and outcome.override.kind == "pause",
                "error": clean(outcome.error.message) if outcome.error else None,
                "refusal": [clean(reason) for reason in outcome.refusal] or None,
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
