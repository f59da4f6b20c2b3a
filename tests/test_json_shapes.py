"""Every ``--json`` output follows the one documented convention (README, "JSON output"): the
envelope (schema, command, generated_at, price_unit) and each command's documented fields, with
prices in c/kWh and every time ISO 8601 with an offset."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from conftest import CliRunner
from synckit import Synced

ISO = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?[+-]\d\d:\d\d$"}
PRICE = {"type": "number"}
NULLABLE_PRICE = {"type": ["number", "null"]}


def envelope(command: str, fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["schema", "command", "generated_at", "price_unit", *required],
        "properties": {
            "schema": {"const": 1},
            "command": {"const": command},
            "generated_at": ISO,
            "price_unit": {"const": "c/kWh"},
            **fields,
        },
    }


RUN = {
    "type": "object",
    "required": ["at", "outcome", "pushed", "reason"],
    "properties": {"at": ISO, "outcome": {"type": "string"}, "pushed": {"type": "boolean"}},
}
SLOT_RATES = {
    "type": "object",
    "required": ["buy", "sell"],
    "properties": {"buy": PRICE, "sell": PRICE},
}
AMBER_PRICE = {
    "type": ["object", "null"],
    "required": ["price", "kind", "spike"],
    "properties": {"price": PRICE},
}

MONEY = {
    "type": "object",
    "required": ["bought_kwh", "cost", "sold_kwh", "earnings", "net_bill"],
    "properties": {key: {"type": "number"} for key in ("bought_kwh", "cost", "net_bill")},
}

SHAPES: dict[str, dict[str, Any]] = {
    "status": envelope(
        "status",
        {
            "sites": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["site", "now", "amber", "powerwall", "last_sync", "plan"],
                    "properties": {
                        "now": ISO,
                        "amber": {
                            "type": "object",
                            "required": ["buy", "sell"],
                            "properties": {"buy": AMBER_PRICE, "sell": AMBER_PRICE},
                        },
                        "last_sync": {"anyOf": [{"type": "null"}, RUN]},
                        "plan": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["slot", "starts", "buy", "sell"],
                                "properties": {"starts": ISO, "buy": PRICE, "sell": PRICE},
                            },
                        },
                        "warnings": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
        ["sites"],
    ),
    "history": envelope(
        "history",
        {
            "since": ISO,
            "sites": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["site", "runs", "prices"],
                    "properties": {
                        "runs": {"type": "array", "items": RUN},
                        "prices": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["start", "minutes", "kind", "buy"],
                                "properties": {"start": ISO, "buy": PRICE},
                            },
                        },
                    },
                },
            },
        },
        ["since", "sites"],
    ),
    "sync": envelope(
        "sync",
        {
            "exit_code": {"type": "integer"},
            "tesla_requests": {
                "type": "object",
                "required": ["read", "write"],
                "properties": {"read": {"type": "integer"}, "write": {"type": "integer"}},
            },
            "sites": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["site", "outcome", "pushed", "reason", "exit_code", "rates"],
                    "properties": {
                        "rates": {
                            "anyOf": [
                                {"type": "null"},
                                {"type": "object", "additionalProperties": SLOT_RATES},
                            ]
                        }
                    },
                },
            },
        },
        ["exit_code", "tesla_requests", "sites"],
    ),
    "tariff": envelope(
        "tariff",
        {
            "time_zone": {"type": "string"},
            "now": ISO,
            "slots": {
                "type": "array",
                "minItems": 48,
                "maxItems": 48,
                "items": {
                    "type": "object",
                    "required": ["slot", "starts", "ends", "buy", "sell", "buy_source"],
                    "properties": {"starts": ISO, "ends": ISO, "buy": PRICE, "sell": PRICE},
                },
            },
            "tesla_request": {"type": "object", "required": ["tou_settings"]},
        },
        ["time_zone", "now", "slots", "tesla_request"],
    ),
    "doctor": envelope(
        "doctor",
        {
            "ok": {"type": "boolean"},
            "checks": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["name", "ok", "detail", "fix"],
                    "properties": {"ok": {"type": "boolean"}},
                },
            },
        },
        ["ok", "checks"],
    ),
    "report": envelope(
        "report",
        {
            "money_unit": {"const": "AUD"},
            "energy_unit": {"const": "kWh"},
            "tesla_requests": {
                "type": "object",
                "required": ["read", "write"],
                "properties": {"read": {"type": "integer"}, "write": {"const": 0}},
            },
            "sites": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["site", "time_zone", "days", "total"],
                    "properties": {
                        "days": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "date",
                                    "complete",
                                    "estimated",
                                    "bill",
                                    "net_bill",
                                    "without_battery",
                                    "battery_value",
                                    "battery",
                                    "tariff",
                                    "reconciliation",
                                    "notes",
                                    "intervals",
                                ],
                                "properties": {
                                    "bill": MONEY,
                                    "net_bill": {"type": "number"},
                                    "battery": {
                                        "type": "object",
                                        "properties": {
                                            "average_charge_price": NULLABLE_PRICE,
                                            "average_discharge_price": NULLABLE_PRICE,
                                        },
                                    },
                                    "intervals": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["start", "end", "buy", "sell"],
                                            "properties": {
                                                "start": ISO,
                                                "end": ISO,
                                                "buy": NULLABLE_PRICE,
                                                "sell": NULLABLE_PRICE,
                                            },
                                        },
                                    },
                                },
                            },
                        },
                        "total": {"type": "object", "required": ["bill", "net_bill"]},
                    },
                },
            },
        },
        ["money_unit", "energy_unit", "tesla_requests", "sites"],
    ),
    "config show": envelope(
        "config show",
        {
            "path": {"type": "string"},
            "exists": {"type": "boolean"},
            "settings": {"type": "object", "required": ["amber", "tesla", "tariff", "sync"]},
            "masked": {
                "type": "array",
                "items": {"enum": ["notify.urls", "notify.healthcheck_url"]},
            },
        },
        ["path", "exists", "settings", "masked"],
    ),
}


def check(command: str, stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    validator = Draft202012Validator(SHAPES[command], format_checker=FormatChecker())
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert problems == [], problems
    return document


def all_times(node: Any) -> list[str]:
    """Every string in ``node`` that looks like a date-time."""
    if isinstance(node, dict):
        return [t for value in node.values() for t in all_times(value)]
    if isinstance(node, list):
        return [t for value in node for t in all_times(value)]
    if isinstance(node, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", node):
        return [node]
    return []


def test_every_read_command_follows_the_convention(synced: Synced) -> None:
    now = synced.now.isoformat()
    documents = {}
    synced.run("config", "set", "site.timezone", "Australia/Sydney")
    sync = synced.run("sync", "--json", "--now", now)
    assert sync.code == 0, sync.stderr
    documents["sync"] = check("sync", sync.stdout)
    for command in ("status", "history", "tariff"):
        result = synced.run(command, "--json", "--now", now)
        assert result.code == 0, result.stderr
        documents[command] = check(command, result.stdout)
    doctor = synced.run("doctor", "--json")
    assert doctor.code in (0, 12), doctor.stderr
    documents["doctor"] = check("doctor", doctor.stdout)
    documents["config show"] = check("config show", synced.run("config", "show", "--json").stdout)

    for document in documents.values():  # no naive time anywhere
        for text in all_times(document):
            assert dt.datetime.fromisoformat(text).tzinfo is not None, text

    # one unit: what sync pushed (Tesla: $/kWh) is what sync, status and tariff say in c/kWh
    stored = synced.stored_rates()
    pushed = documents["sync"]["sites"][0]["rates"]
    plan = {row["slot"]: row for row in documents["status"]["sites"][0]["plan"]}
    slots = {row["slot"]: row for row in documents["tariff"]["slots"]}
    for label, dollars in stored.items():
        hh_mm = label.removeprefix("PERIOD_").replace("_", ":")
        assert pushed[hh_mm]["buy"] == pytest.approx(dollars * 100)
        assert plan[hh_mm]["buy"] == pytest.approx(dollars * 100)
        assert slots[hh_mm]["buy"] == pytest.approx(dollars * 100)
    amber = documents["status"]["sites"][0]["amber"]
    assert amber["sell"]["price"] == pytest.approx(-synced_feed_in(synced))


def synced_feed_in(synced: Synced) -> float:
    """Amber's current feed-in price (c/kWh, negative when paid) as the sandbox serves it."""
    body = synced.amber_prices()
    current = [i for i in body if i["type"] == "CurrentInterval" and i["channelType"] == "feedIn"]
    return float(current[0]["perKwh"])


def test_times_without_an_offset_mean_the_site_time_everywhere(
    cli: CliRunner, synced: Synced
) -> None:
    synced.run("config", "set", "site.timezone", "Australia/Sydney")
    local = synced.now.astimezone(dt.timezone(dt.timedelta(hours=11))).replace(tzinfo=None)
    assert synced.sync().code == 0
    naive = synced.run("history", "--json", "--now", local.isoformat(), "--since", "1h")
    aware = synced.run("history", "--json", "--now", synced.now.isoformat(), "--since", "1h")
    assert json.loads(naive.stdout)["since"] == json.loads(aware.stdout)["since"]
    since_naive = (local - dt.timedelta(hours=1)).isoformat()
    explicit = synced.run(
        "history", "--json", "--now", synced.now.isoformat(), "--since", since_naive
    )
    assert dt.datetime.fromisoformat(
        json.loads(explicit.stdout)["since"]
    ) == synced.now - dt.timedelta(hours=1)
    tariff_naive = synced.run("tariff", "--json", "--now", local.isoformat())
    tariff_aware = synced.run("tariff", "--json", "--now", synced.now.isoformat())
    assert json.loads(tariff_naive.stdout)["now"] == json.loads(tariff_aware.stdout)["now"]


def test_report_follows_the_convention(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.at(synced.now + dt.timedelta(days=2))  # two days on: yesterday was synced and metered
    result = synced.run("report", "--json", "--days", "2", "--now", synced.now.isoformat())
    assert result.code == 0, result.stderr
    document = check("report", result.stdout)
    for text in all_times(document):
        assert dt.datetime.fromisoformat(text).tzinfo is not None, text
    assert document["tesla_requests"]["read"] > 0
