"""The MQTT messages of a run (pure): per site a JSON state and the coming 24 hours of the tariff,
an availability topic, and Home Assistant discovery configs; all retained.

Topics (``PREFIX`` is ``mqtt.topic_prefix``, ``SITE`` Amber's site id, which never changes):

- ``PREFIX/status``: ``online``, published by every run. The tool is not resident, so an MQTT
  last will could only say "offline" after every run: the sensors expire instead
  (``expire_after``: ``mqtt.expire_after_minutes``) and Home Assistant shows them unavailable
  when no run has published for that long.
- ``PREFIX/SITE/state``: the site's figures (:func:`state_payload`).
- ``PREFIX/SITE/tariff``: the tariff's 48 half-hours from now (:func:`tariff_payload`), the
  attributes of the "Powerwall buy price now" sensor, for charts.
- ``DISCOVERY/sensor/NODE/KEY/config``: one sensor each (:data:`SENSORS`), all of one device per
  site. ``NODE`` and the unique ids derive from the Amber site id and the Powerwall's energy site
  id only, so a renamed site or an upgrade keeps its entities.

Units and classes follow Home Assistant's sensor rules: a price per kWh is no ``monetary``
amount (that device class takes a currency as its unit and no ``measurement`` state class), so
prices have no device class, the unit ``AUD/kWh`` and the ``measurement`` state class (the form
the energy dashboard takes for a current price); timestamps are ``timestamp`` (ISO 8601) without
a state class; the outcome is an ``enum`` with its options.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from amber_tesla_sync.publish.figures import OUTCOMES, PRICE_UNIT, RunFigures, SiteFigures, short

Attributes = Literal["tariff", "outcome", "overrides"]


@dataclass(frozen=True)
class Message:
    topic: str
    payload: str
    retain: bool = True


@dataclass(frozen=True)
class Sensor:
    """One Home Assistant sensor read from the site's state topic."""

    key: str
    name: str
    template: str
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    precision: int | None = None
    options: tuple[str, ...] | None = None
    diagnostic: bool = False
    icon: str | None = None
    attributes: Attributes | None = None


def _value(key: str) -> str:
    return "{{ value_json." + key + " }}"


def _price(key: str, name: str, icon: str, attributes: Attributes | None = None) -> Sensor:
    return Sensor(
        key,
        name,
        _value(key),
        unit=PRICE_UNIT,
        state_class="measurement",
        precision=4,
        icon=icon,
        attributes=attributes,
    )


def _time(key: str, name: str, diagnostic: bool = False) -> Sensor:
    return Sensor(key, name, _value(key), device_class="timestamp", diagnostic=diagnostic)


SENSORS = (
    _price("buy_price", "Buy price", "mdi:cash-plus"),
    _price("sell_price", "Sell price", "mdi:cash-minus"),
    Sensor("descriptor", "Price descriptor", _value("descriptor"), icon="mdi:tag-text"),
    Sensor(
        "renewables",
        "Renewables",
        _value("renewables"),
        unit="%",
        state_class="measurement",
        precision=0,
        icon="mdi:leaf",
    ),
    _price("tariff_buy_now", "Powerwall buy price now", "mdi:home-battery", "tariff"),
    _price("tariff_sell_now", "Powerwall sell price now", "mdi:home-export-outline"),
    _price("tariff_buy_next", "Powerwall buy price next half-hour", "mdi:home-battery-outline"),
    _price("tariff_sell_next", "Powerwall sell price next half-hour", "mdi:home-export-outline"),
    Sensor(
        "outcome",
        "Last sync outcome",
        _value("outcome"),
        device_class="enum",
        options=OUTCOMES,
        attributes="outcome",
    ),
    _time("outcome_at", "Last sync"),
    _time("last_success_at", "Last successful sync"),
    Sensor("refusal", "Refusal", _value("refusal"), icon="mdi:cancel"),
    _time("tariff_pushed_at", "Tariff pushed", diagnostic=True),
    Sensor("mode", "Powerwall mode", _value("powerwall.mode"), diagnostic=True, icon="mdi:cog"),
    Sensor(
        "export_rule",
        "Powerwall export rule",
        _value("powerwall.export_rule"),
        diagnostic=True,
        icon="mdi:transmission-tower-export",
    ),
    Sensor(
        "reserve",
        "Powerwall backup reserve",
        _value("powerwall.reserve_percent"),
        unit="%",
        state_class="measurement",
        precision=0,
        diagnostic=True,
        icon="mdi:shield-home",
    ),
    Sensor(
        "overrides",
        "Overrides in force",
        "{{ value_json.overrides | length }}",
        icon="mdi:hand-back-right",
        attributes="overrides",
    ),
)

ATTRIBUTE_TEMPLATES = {
    "outcome": "{{ {'reason': value_json.reason, 'exit_code': value_json.exit_code} | tojson }}",
    "overrides": "{{ {'overrides': value_json.overrides} | tojson }}",
}


def node_id(site: SiteFigures) -> str:
    """The device's id: the Amber site id and the Powerwall's, nothing that can change."""
    return _slug(f"amber_tesla_sync_{site.amber_site_id}_{site.energy_site_id}")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())


def _site_level(site: SiteFigures) -> str:
    return re.sub(r"[#+/\s]", "_", site.amber_site_id)


def availability_topic(prefix: str) -> str:
    return f"{prefix}/status"


def state_topic(prefix: str, site: SiteFigures) -> str:
    return f"{prefix}/{_site_level(site)}/state"


def tariff_topic(prefix: str, site: SiteFigures) -> str:
    return f"{prefix}/{_site_level(site)}/tariff"


def discovery_topic(discovery_prefix: str, site: SiteFigures, sensor: Sensor) -> str:
    return f"{discovery_prefix}/sensor/{node_id(site)}/{sensor.key}/config"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def state_payload(site: SiteFigures) -> dict[str, Any]:
    """The site's figures (times ISO 8601 with their offset; prices AUD/kWh)."""
    now, following = site.tariff_now, site.tariff_next
    amber, powerwall = site.amber, site.powerwall
    return {
        "site": site.name,
        "amber_site_id": site.amber_site_id,
        "energy_site_id": site.energy_site_id,
        "price_unit": PRICE_UNIT,
        "buy_price": amber.buy,
        "sell_price": amber.sell,
        "descriptor": amber.descriptor,
        "renewables": amber.renewables,
        "spike": amber.spike,
        "interval_start": _iso(amber.start),
        "interval_end": _iso(amber.end),
        "tariff_buy_now": now.buy if now else None,
        "tariff_sell_now": now.sell if now else None,
        "tariff_buy_next": following.buy if following else None,
        "tariff_sell_next": following.sell if following else None,
        "tariff_pushed_at": _iso(site.tariff_pushed_at),
        "tariff_verified": site.tariff_verified,
        "outcome": site.outcome,
        "outcome_at": _iso(site.outcome_at),
        "reason": short(site.reason, 1000),
        "exit_code": site.exit_code,
        "refusal": short(site.refusal),
        "refusing_since": _iso(site.refusing_since),
        "last_success_at": _iso(site.last_success_at),
        "powerwall": {
            "read_at": _iso(powerwall.read_at),
            "mode": powerwall.mode,
            "export_rule": powerwall.export_rule,
            "reserve_percent": powerwall.reserve_percent,
            "charge_percent": powerwall.charge_percent,
        },
        "overrides": [
            {
                "id": o.id,
                "kind": o.kind,
                "start": _iso(o.start),
                "until": _iso(o.until),
                "percent": o.percent,
                "changes": list(o.changes),
                "ended": o.ended,
            }
            for o in site.overrides
        ],
    }


def tariff_payload(site: SiteFigures) -> dict[str, Any]:
    return {
        "price_unit": PRICE_UNIT,
        "pushed_at": _iso(site.tariff_pushed_at),
        "slots": [
            {"start": _iso(s.start), "end": _iso(s.end), "buy": s.buy, "sell": s.sell}
            for s in site.tariff
        ],
    }


def discovery_config(
    site: SiteFigures,
    sensor: Sensor,
    prefix: str,
    expire_after: int,
    version: str,
) -> dict[str, Any]:
    """One sensor's discovery config (Home Assistant's MQTT sensor options)."""
    node = node_id(site)
    config: dict[str, Any] = {
        "name": sensor.name,
        "unique_id": f"{node}_{sensor.key}",
        "state_topic": state_topic(prefix, site),
        "value_template": sensor.template,
        "availability": [{"topic": availability_topic(prefix)}],
        "expire_after": expire_after,
        "device": {
            "identifiers": [node],
            "name": f"Amber Tesla Sync {site.name}",
            "manufacturer": "amber-tesla-sync",
            "model": "Amber prices → Powerwall tariff",
            "sw_version": version,
        },
        "origin": {
            "name": "amber-tesla-sync",
            "sw_version": version,
            "support_url": "https://github.com/amber-tesla-sync/amber-tesla-sync",
        },
    }
    optional = {
        "unit_of_measurement": sensor.unit,
        "device_class": sensor.device_class,
        "state_class": sensor.state_class,
        "suggested_display_precision": sensor.precision,
        "options": list(sensor.options) if sensor.options else None,
        "entity_category": "diagnostic" if sensor.diagnostic else None,
        "icon": sensor.icon,
    }
    config.update({key: value for key, value in optional.items() if value is not None})
    if sensor.attributes == "tariff":
        config["json_attributes_topic"] = tariff_topic(prefix, site)
    elif sensor.attributes is not None:
        config["json_attributes_topic"] = state_topic(prefix, site)
        config["json_attributes_template"] = ATTRIBUTE_TEMPLATES[sensor.attributes]
    return config


def messages(
    run: RunFigures,
    prefix: str,
    discovery_prefix: str | None,
    expire_after: int,
    version: str,
) -> list[Message]:
    """Every message of a run, discovery configs first (``discovery_prefix`` None: none)."""
    out: list[Message] = []
    for site in run.sites:
        if discovery_prefix is not None:
            out.extend(
                Message(
                    discovery_topic(discovery_prefix, site, sensor),
                    _json(discovery_config(site, sensor, prefix, expire_after, version)),
                )
                for sensor in SENSORS
            )
    out.append(Message(availability_topic(prefix), "online"))
    for site in run.sites:
        out.append(Message(tariff_topic(prefix, site), _json(tariff_payload(site))))
        out.append(Message(state_topic(prefix, site), _json(state_payload(site))))
    return out


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
