"""A run's figures in Prometheus' text exposition format, for node_exporter's textfile collector
(pure: :mod:`.textfile` writes it).

Every metric is a gauge named ``amber_tesla_sync_…`` with its unit in the name; per-site metrics
carry ``site`` (the site's name in logs and history). Tariff slots are labelled by their start as
the tariff names them (local ``HH:MM``), so a site has 96 tariff series that never change name
(a label of full start times would start 96 new series every day). No sample carries a
timestamp: node_exporter refuses those in a textfile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from amber_tesla_sync.publish.figures import OUTCOMES, SUCCESSES, RunFigures, SiteFigures

PREFIX = "amber_tesla_sync_"
Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float | None, **labels: str) -> None:
        if value is not None:
            self.samples.append((tuple(labels.items()), float(value)))


def _families() -> dict[str, Family]:
    described = {
        "price_dollars_per_kwh": "Amber's price now, AUD per kWh: buy as billed, sell as earned "
        "per kWh exported (negative when exporting costs money)",
        "renewables_ratio": "Share of renewables in the grid now, as Amber reports it (0-1)",
        "tariff_price_dollars_per_kwh": "The Powerwall's tariff for the coming 24 hours as "
        "pushed, AUD per kWh, by half-hour (slot_start: its local start, HH:MM)",
        "tariff_pushed_timestamp_seconds": "When the tariff on the Powerwall was pushed",
        "last_outcome": "The last sync's outcome for the site: 1 for the outcome it had, "
        "0 for the others",
        "last_run_timestamp_seconds": "When the last sync of the site ran",
        "last_success_timestamp_seconds": "When a sync last left the wanted tariff on the "
        "Powerwall (outcome verified or unchanged)",
        "refused": "1 when the last sync refused to build a tariff from Amber's data",
        "refusing_since_timestamp_seconds": "When the current run of refusals began",
        "powerwall_backup_reserve_ratio": "The Powerwall's backup reserve as last read (0-1)",
        "powerwall_info": "The Powerwall's mode and export rule as last read (always 1)",
        "run_tesla_requests": "Tesla requests made by the last run, by backend and kind "
        "(read: data, write: command)",
        "run_fleet_cost_dollars": "What the last run's Tesla Fleet API requests cost, US dollars "
        "(0.002 a data request, 0.001 a command)",
        "run_duration_seconds": "How long the last run took",
        "run_timestamp_seconds": "When the last run started",
        "run_exit_code": "The last run's exit code (0: success; see the README's exit codes)",
    }
    return {name: Family(PREFIX + name, text) for name, text in described.items()}


def exposition(run: RunFigures) -> str:
    """The text of a textfile: HELP and TYPE, then the samples, of every family with one."""
    families = _families()
    for site in run.sites:
        _site(families, site)
    for requests in run.requests:
        families["run_tesla_requests"].add(requests.reads, backend=requests.backend, kind="read")
        families["run_tesla_requests"].add(requests.writes, backend=requests.backend, kind="write")
    families["run_fleet_cost_dollars"].add(run.fleet_dollars)
    families["run_duration_seconds"].add(round(run.duration_seconds, 3))
    families["run_timestamp_seconds"].add(run.at.timestamp())
    families["run_exit_code"].add(run.exit_code)
    return "".join(_render(family) for family in families.values() if family.samples)


def _site(families: dict[str, Family], site: SiteFigures) -> None:
    key = site.key
    families["price_dollars_per_kwh"].add(site.amber.buy, site=key, channel="buy")
    families["price_dollars_per_kwh"].add(site.amber.sell, site=key, channel="sell")
    renewables = site.amber.renewables
    families["renewables_ratio"].add(renewables / 100 if renewables is not None else None, site=key)
    for slot in site.tariff:
        tariff = families["tariff_price_dollars_per_kwh"]
        tariff.add(slot.buy, site=key, channel="buy", slot_start=slot.label)
        tariff.add(slot.sell, site=key, channel="sell", slot_start=slot.label)
    families["tariff_pushed_timestamp_seconds"].add(_stamp(site.tariff_pushed_at), site=key)
    for outcome in OUTCOMES:
        families["last_outcome"].add(1 if site.outcome == outcome else 0, site=key, outcome=outcome)
    families["last_run_timestamp_seconds"].add(site.outcome_at.timestamp(), site=key)
    success = site.outcome_at if site.outcome in SUCCESSES else site.last_success_at
    families["last_success_timestamp_seconds"].add(_stamp(success), site=key)
    families["refused"].add(1 if site.refused else 0, site=key)
    families["refusing_since_timestamp_seconds"].add(_stamp(site.refusing_since), site=key)
    reserve = site.powerwall.reserve_percent
    families["powerwall_backup_reserve_ratio"].add(
        reserve / 100 if reserve is not None else None, site=key
    )
    if site.powerwall.mode is not None or site.powerwall.export_rule is not None:
        families["powerwall_info"].add(
            1,
            site=key,
            mode=site.powerwall.mode or "",
            export_rule=site.powerwall.export_rule or "",
        )


def _stamp(moment: dt.datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _render(family: Family) -> str:
    lines = [
        f"# HELP {family.name} {_escape_help(family.help)}",
        f"# TYPE {family.name} gauge",
    ]
    lines.extend(
        f"{family.name}{_labels(labels)} {_number(value)}" for labels, value in family.samples
    )
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
