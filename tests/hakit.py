"""Home Assistant's documented rules for an MQTT-discovered sensor, as data, and a validator.

Sources (read when this was written):
- MQTT sensor options: https://www.home-assistant.io/integrations/sensor.mqtt/
  (source/_integrations/sensor.mqtt.markdown in home-assistant/home-assistant.io): the keys below,
  ``state_topic`` required, ``unique_id`` required for a device, ``options`` only with the
  ``enum`` device class and never with ``state_class`` or ``unit_of_measurement``,
  ``entity_category`` ``diagnostic`` for sensors, ``device`` needing ``identifiers`` or
  ``connections``.
- MQTT discovery: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery — the topic
  ``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config``, ids of ``[a-zA-Z0-9_-]``;
  ``origin`` with ``name`` required (``sw_version``, ``support_url`` optional).
- Sensor device classes, their units and state classes:
  https://www.home-assistant.io/integrations/sensor/#device-class and the developer docs
  https://developers.home-assistant.io/docs/core/entity/sensor/ (homeassistant/components/sensor/
  const.py: DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES): ``monetary`` takes an ISO 4217
  currency as its unit and only the ``total`` state class; ``timestamp``, ``date`` and ``enum``
  take no unit and no state class; ``battery`` and ``humidity`` take ``%`` and ``measurement``.
"""

from __future__ import annotations

import re
from typing import Any

SENSOR_KEYS = {
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "device",
    "device_class",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "expire_after",
    "force_update",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "last_reset_value_template",
    "name",
    "object_id",
    "default_entity_id",
    "options",
    "payload_available",
    "payload_not_available",
    "platform",
    "suggested_display_precision",
    "qos",
    "state_class",
    "state_topic",
    "unique_id",
    "unit_of_measurement",
    "value_template",
    "origin",
}
REQUIRED = {"state_topic"}
DEVICE_KEYS = {
    "configuration_url",
    "connections",
    "hw_version",
    "identifiers",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "suggested_area",
    "sw_version",
    "via_device",
}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
AVAILABILITY_KEYS = {"topic", "payload_available", "payload_not_available", "value_template"}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
ENTITY_CATEGORIES = {"diagnostic"}  # the only one allowed for sensors
ISO_4217 = re.compile(r"^[A-Z]{3}$")

# device class → (allowed units, allowed state classes), from DEVICE_CLASS_UNITS and
# DEVICE_CLASS_STATE_CLASSES, for the classes this project might use; None: any unit
DEVICE_CLASSES: dict[str, tuple[set[str | None] | None, set[str]]] = {
    "timestamp": ({None}, set()),
    "date": ({None}, set()),
    "enum": ({None}, set()),
    "monetary": (None, {"total"}),  # the unit: an ISO 4217 currency code (checked below)
    "battery": ({"%"}, {"measurement"}),
    "humidity": ({"%"}, {"measurement"}),
    "energy": ({"Wh", "kWh", "MWh", "GWh", "J", "kJ", "MJ", "GJ"}, {"total", "total_increasing"}),
    "energy_storage": ({"Wh", "kWh", "MWh", "GWh", "J", "kJ", "MJ", "GJ"}, {"measurement"}),
    "power": ({"mW", "W", "kW", "MW", "GW", "TW"}, {"measurement"}),
    "duration": ({"d", "h", "min", "s", "ms"}, {"measurement", "total", "total_increasing"}),
}
ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOPIC = re.compile(r"^(?P<prefix>[^#+]+)/sensor/(?:(?P<node>[^/]+)/)?(?P<object>[^/]+)/config$")


def problems(topic: str, config: dict[str, Any], discovery_prefix: str) -> list[str]:
    """What in one sensor's discovery config breaks Home Assistant's documented rules."""
    found: list[str] = []
    match = TOPIC.match(topic)
    if match is None or match["prefix"] != discovery_prefix:
        found.append(f"topic {topic} is not {discovery_prefix}/sensor/[node/]object/config")
    elif not all(ID.match(part) for part in (match["node"] or "x", match["object"])):
        found.append(f"topic {topic}: node and object ids must be [a-zA-Z0-9_-]")
    if unknown := set(config) - SENSOR_KEYS:
        found.append(f"unknown keys {sorted(unknown)}")
    if missing := REQUIRED - set(config):
        found.append(f"missing {sorted(missing)}")
    if config.get("entity_category") not in (None, *ENTITY_CATEGORIES):
        found.append(f"entity_category {config['entity_category']!r} is not allowed for sensors")
    expire = config.get("expire_after")
    if expire is not None and not (isinstance(expire, int) and expire >= 0):
        found.append(f"expire_after must be a whole number of seconds, not {expire!r}")
    return found + _classes(config) + _options(config) + _device(config)


def _classes(config: dict[str, Any]) -> list[str]:
    """The device class, its unit and its state class."""
    found: list[str] = []
    device_class = config.get("device_class")
    unit = config.get("unit_of_measurement")
    state_class = config.get("state_class")
    if state_class is not None and state_class not in STATE_CLASSES:
        found.append(f"state_class {state_class!r} is not one of {sorted(STATE_CLASSES)}")
    if device_class is None:
        return found
    if device_class not in DEVICE_CLASSES:
        return [*found, f"device_class {device_class!r} is not one this validator knows"]
    units, states = DEVICE_CLASSES[device_class]
    if units is not None and unit not in units:
        found.append(f"device_class {device_class} does not take the unit {unit!r}")
    if device_class == "monetary" and not (unit and ISO_4217.match(unit)):
        found.append(f"monetary needs an ISO 4217 currency as its unit, not {unit!r}")
    if state_class is not None and state_class not in states:
        found.append(f"device_class {device_class} does not take state_class {state_class}")
    return found


def _options(config: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if "options" in config:
        if config.get("device_class") != "enum":
            found.append("options need the enum device class")
        if not config["options"]:
            found.append("options must not be empty")
        if config.get("state_class") is not None or config.get("unit_of_measurement") is not None:
            found.append("options cannot go with state_class or unit_of_measurement")
    elif config.get("device_class") == "enum":
        found.append("the enum device class needs options")
    return found


def _device(config: dict[str, Any]) -> list[str]:
    """The device, the origin and availability."""
    found: list[str] = []
    if "device" in config:
        device = config["device"]
        if "unique_id" not in config:
            found.append("a device needs unique_id")
        if unknown := set(device) - DEVICE_KEYS:
            found.append(f"unknown device keys {sorted(unknown)}")
        if not (device.get("identifiers") or device.get("connections")):
            found.append("the device needs identifiers or connections")
    origin = config.get("origin")
    if origin is not None and ("name" not in origin or set(origin) - ORIGIN_KEYS):
        found.append(f"origin {origin} needs a name and only {sorted(ORIGIN_KEYS)}")
    for entry in config.get("availability", []):
        if "topic" not in entry or set(entry) - AVAILABILITY_KEYS:
            found.append(f"availability entry {entry} is not in the documented shape")
    if "availability" in config and "availability_topic" in config:
        found.append("availability and availability_topic must not be used together")
    return found
