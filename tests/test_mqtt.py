"""`sync` publishes to a real broker (mosquitto, see brokerkit) and a real subscriber reads what
is retained: the state and tariff of the site, Home Assistant's discovery configs (checked
against its documented rules), availability; updates, refusals; a broker that is down, refuses
the login, is slow or speaks TLS with a private CA; the password never shown."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.publish.topics import SENSORS
from brokerkit import PASSWORD, USER, Broker, broker_fixture, tls_broker_fixture  # noqa: F401
from conftest import CliResult
from hakit import problems
from synckit import Synced

SYDNEY = ZoneInfo("Australia/Sydney")
PREFIX = "amber-tesla-sync"


def configure(synced: Synced, url: str, extra: str = "", password: str = PASSWORD) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text() + f'\n[mqtt]\nurl = "{url}"\nusername = "{USER}"\n{extra}'
    )
    synced.monkeypatch.setenv("MQTT_PASSWORD", password)


def site_id(synced: Synced) -> str:
    return str(synced.sandbox.amber_site_id)


def state_of(synced: Synced, found: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(found[f"{PREFIX}/{site_id(synced)}/state"])
    return data


def warnings(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if "MQTT" in line]


def no_password(*results: CliResult) -> None:
    for result in results:
        assert PASSWORD not in result.stdout + result.stderr


def current(synced: Synced, channel: str) -> dict[str, Any]:
    item: dict[str, Any] = next(
        i
        for i in synced.amber_prices()
        if i["type"] == "CurrentInterval" and i["channelType"] == channel
    )
    return item


def test_a_sync_publishes_its_figures_and_home_assistant_discovery(
    synced: Synced, broker: Broker
) -> None:
    configure(synced, broker.url)
    result = synced.sync()
    assert result.code == 0, result.stderr
    assert warnings(result) == []
    no_password(result)
    found = broker.retained()
    assert found[f"{PREFIX}/status"] == "online"
    state = state_of(synced, found)
    general, feed_in = current(synced, "general"), current(synced, "feedIn")
    assert state["outcome"] == "verified" and state["exit_code"] == 0
    assert dt.datetime.fromisoformat(state["outcome_at"]) == synced.now
    assert state["outcome_at"].endswith("+11:00")  # the site's zone
    assert state["last_success_at"] == state["outcome_at"]
    assert state["buy_price"] == pytest.approx(general["perKwh"] / 100)
    assert state["sell_price"] == pytest.approx(-feed_in["perKwh"] / 100)
    assert state["descriptor"] == general["descriptor"]
    assert state["renewables"] == pytest.approx(general["renewables"])
    label = f"PERIOD_{synced.now.astimezone(SYDNEY):%H}_{synced.now.astimezone(SYDNEY).minute // 30 * 30:02d}"
    assert state["tariff_buy_now"] == pytest.approx(synced.stored_rates()[label])
    assert state["tariff_buy_next"] is not None and state["tariff_verified"] is True
    assert state["refusal"] is None and state["overrides"] == []
    assert state["powerwall"]["mode"] and state["powerwall"]["export_rule"]
    assert state["powerwall"]["reserve_percent"] is not None
    tariff = json.loads(found[f"{PREFIX}/{site_id(synced)}/tariff"])
    assert len(tariff["slots"]) == 48 and tariff["price_unit"] == "AUD/kWh"
    assert tariff["slots"][0]["buy"] == state["tariff_buy_now"]
    configs = {t: json.loads(p) for t, p in found.items() if t.startswith("homeassistant/")}
    assert len(configs) == len(SENSORS)
    for topic, config in configs.items():
        assert problems(topic, config, "homeassistant") == [], topic
        assert config["state_topic"] in found or config["state_topic"].endswith("/state")
        assert config["expire_after"] == 15 * 60
        assert site_id(synced).lower() in config["unique_id"]
    assert len({c["unique_id"] for c in configs.values()}) == len(SENSORS)
    assert len({json.dumps(c["device"], sort_keys=True) for c in configs.values()}) == 1


def test_a_second_sync_updates_the_retained_state(synced: Synced, broker: Broker) -> None:
    configure(synced, broker.url, 'topic_prefix = "home/pw"\ndiscovery = false\n')
    assert synced.sync().code == 0
    first = json.loads(broker.retained("home/#")[f"home/pw/{site_id(synced)}/state"])
    synced.advance(5)
    assert synced.sync().code == 0
    found = broker.retained()
    second = json.loads(found[f"home/pw/{site_id(synced)}/state"])
    assert dt.datetime.fromisoformat(second["outcome_at"]) == synced.now
    assert second["outcome_at"] != first["outcome_at"]
    assert second["outcome"] in ("unchanged", "verified")
    assert not [topic for topic in found if topic.startswith("homeassistant/")]  # discovery off


def test_a_refusal_is_published(synced: Synced, broker: Broker) -> None:
    configure(synced, broker.url)
    assert synced.sync().code == 0
    good = synced.now
    synced.advance(5)
    body = synced.amber_prices()
    synced.serve_prices([item for item in body if item["type"] == "CurrentInterval"], count=3)
    result = synced.sync()
    assert result.code == ExitCode.REFUSED
    state = state_of(synced, broker.retained())
    assert state["outcome"] == "refused" and state["exit_code"] == ExitCode.REFUSED
    assert "prices reach only" in state["refusal"]
    assert dt.datetime.fromisoformat(state["refusing_since"]) == synced.now
    assert dt.datetime.fromisoformat(state["last_success_at"]) == good  # from the history
    assert state["tariff_buy_now"] is not None  # the Powerwall keeps its last tariff


def test_a_broker_that_is_down_costs_one_warning(synced: Synced) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(synced, f"mqtt://127.0.0.1:{port}")
    result = synced.sync()
    assert result.code == 0, result.stderr
    assert "verified" in result.stdout
    lines = warnings(result)
    assert len(lines) == 1 and "refused the connection" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    # the exit code of a run that failed for its own reasons stays its own
    synced.advance(5)
    synced.serve_prices(
        [i for i in synced.amber_prices() if i["type"] == "CurrentInterval"], count=3
    )
    refused = synced.sync()
    assert refused.code == ExitCode.REFUSED and len(warnings(refused)) == 1


def test_a_wrong_password_one_warning_exit_unchanged(synced: Synced, broker: Broker) -> None:
    wrong = "not-the-password-93e1"
    configure(synced, broker.url, password=wrong)
    result = synced.sync()
    assert result.code == 0
    lines = warnings(result)
    assert len(lines) == 1 and "refused the login" in lines[0], result.stderr
    assert "MQTT_PASSWORD" in lines[0]
    assert wrong not in result.stdout + result.stderr
    assert broker.retained() == {}  # nothing was published
    # the right password, and a -v run: the password appears nowhere either
    synced.monkeypatch.setenv("MQTT_PASSWORD", PASSWORD)
    synced.advance(5)
    verbose = synced.run("-v", "sync", "--now", synced.now.isoformat())
    assert verbose.code == 0 and warnings(verbose) == []
    no_password(verbose)
    assert f"{PREFIX}/status" in broker.retained()


def test_tls_with_a_private_ca(synced: Synced, tls_broker: Broker) -> None:
    configure(synced, tls_broker.url)
    untrusted = synced.sync()
    assert untrusted.code == 0
    lines = warnings(untrusted)
    assert len(lines) == 1 and "not trusted" in lines[0] and "mqtt.ca_file" in lines[0]
    synced.site.config.write_text(
        synced.site.config.read_text() + f'ca_file = "{tls_broker.ca_file}"\n'
    )
    synced.advance(5)
    trusted = synced.sync()
    assert trusted.code == 0 and warnings(trusted) == [], trusted.stderr
    assert state_of(synced, tls_broker.retained())["outcome"] in ("unchanged", "verified")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes the connection and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        yield server.getsockname()[1]


def test_a_broker_that_never_answers_is_given_up_within_the_deadline(
    synced: Synced, silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("amber_tesla_sync.publish.mqtt.PUBLISH_SECONDS", 1.0)
    configure(synced, f"mqtt://127.0.0.1:{silent_port}")
    began = time.monotonic()
    result = synced.sync()
    assert time.monotonic() - began < 20
    assert result.code == 0
    lines = warnings(result)
    assert len(lines) == 1 and "within 1 s" in lines[0], result.stderr


def test_without_paho_one_warning_names_the_extra(
    synced: Synced, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)  # an import of it fails
    configure(synced, broker.url)
    result = synced.sync()
    assert result.code == 0
    lines = warnings(result)
    assert len(lines) == 1 and "amber-tesla-sync[mqtt]" in lines[0], result.stderr


def test_a_dry_run_publishes_nothing(synced: Synced, broker: Broker) -> None:
    configure(synced, broker.url)
    assert synced.sync("--dry-run").code == 0
    assert broker.retained() == {}


def test_doctor_checks_the_broker_and_its_login(synced: Synced, broker: Broker) -> None:
    configure(synced, broker.url)
    checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert checks["MQTT broker"]["ok"] is True
    assert f"logged in as {USER}" in checks["MQTT broker"]["detail"]
    synced.monkeypatch.setenv("MQTT_PASSWORD", "wrong-one")
    result = synced.run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.code == ExitCode.CHECKS_FAILED
    assert checks["MQTT broker"]["ok"] is False
    assert "refused the login" in checks["MQTT broker"]["detail"]
    assert "mqtt_password" in checks["MQTT broker"]["fix"]
    no_password(result)


def test_the_password_from_the_secret_store(synced: Synced, broker: Broker) -> None:
    configure(synced, broker.url)
    synced.monkeypatch.delenv("MQTT_PASSWORD")
    secrets = json.loads(synced.site.secrets_file.read_text())
    synced.site.secrets_file.write_text(json.dumps({**secrets, "mqtt_password": PASSWORD}))
    result = synced.sync()
    assert result.code == 0 and warnings(result) == [], result.stderr
    assert state_of(synced, broker.retained())["outcome"] == "verified"
    no_password(result)


def test_an_override_is_published_when_it_starts_and_when_it_is_cleared(
    synced: Synced, broker: Broker
) -> None:
    from overridekit import override

    configure(synced, broker.url)
    assert synced.sync().code == 0
    assert state_of(synced, broker.retained())["overrides"] == []
    synced.advance(5)
    started = override(synced, "charge", "--for", "90m", "--target", "80")
    assert started["_code"] == 0, started["_stderr"]
    published = state_of(synced, broker.retained())["overrides"]
    assert [(o["kind"], o["percent"], o["ended"]) for o in published] == [("charge", 80, False)]
    until = dt.datetime.fromisoformat(published[0]["until"])
    assert until == synced.now + dt.timedelta(minutes=90)
    assert any("backup reserve" in change for change in published[0]["changes"])
    synced.advance(5)
    cleared = override(synced, "clear", "--all")
    assert cleared["_code"] == 0, cleared["_stderr"]
    assert state_of(synced, broker.retained())["overrides"] == []
