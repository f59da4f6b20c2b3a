"""After a sync: its figures to the broker (``[mqtt]``) and the textfile (``[metrics]``), each
when configured; and doctor's checks of both.

Nothing here raises: a broker that is down, refuses the login or takes too long, a password that
cannot be read, a textfile that cannot be written: each is one warning, the sync's exit code
stays what it was, and the next run tries again. The broker gets at most
:data:`~.mqtt.PUBLISH_SECONDS`, and never more than is left of the run's deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from amber_tesla_sync import __version__
from amber_tesla_sync.errors import AppError
from amber_tesla_sync.publish import mqtt
from amber_tesla_sync.publish.exposition import exposition
from amber_tesla_sync.publish.figures import RunFigures
from amber_tesla_sync.publish.textfile import (
    TextfileError,
    check_textfile,
    textfile_path,
    write_textfile,
)
from amber_tesla_sync.publish.topics import messages
from amber_tesla_sync.settings.config import Config, MqttSettings
from amber_tesla_sync.store.secret_names import MQTT_PASSWORD
from amber_tesla_sync.store.secrets import SecretStore
from amber_tesla_sync.support.bounds import run_left

log = logging.getLogger(__name__)
Password = Callable[[], str | None]  # the secret mqtt_password, looked up when needed


def publish_figures(config: Config, password: Password, run: RunFigures) -> None:
    """Publish ``run`` where configured; each problem one warning."""
    if config.mqtt.url:
        try:
            _to_broker(config.mqtt, password, run)
        except mqtt.MqttError as error:
            log.warning("MQTT: %s", error)
    if config.metrics.textfile:
        try:
            write_textfile(textfile_path(config.metrics.textfile), exposition(run))
        except TextfileError as error:
            log.warning("metrics: %s", error)


def _to_broker(settings: MqttSettings, password: Password, run: RunFigures) -> None:
    left = run_left()
    seconds = mqtt.PUBLISH_SECONDS if left is None else min(mqtt.PUBLISH_SECONDS, left)
    if seconds <= 0:
        raise mqtt.MqttError("nothing was published: the run's time was up")
    discovery = settings.discovery_prefix if settings.discovery else None
    expire = settings.expire_after_minutes * 60
    found = messages(run, settings.topic_prefix, discovery, expire, __version__)
    mqtt.publish(settings, _password(settings, password), found, seconds)


def _password(settings: MqttSettings, password: Password) -> str | None:
    if not settings.username:
        return None
    try:
        return password()
    except AppError as error:
        raise mqtt.MqttError(
            f"the broker's password (the secret mqtt_password) cannot be read: {error.message}; "
            "set MQTT_PASSWORD, or put it in the secret store"
        ) from error


@dataclass(frozen=True)
class Probe:
    """One of doctor's checks: its name, whether it passed, what it found, how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


def publishing_checks(config: Config, store: SecretStore) -> list[Probe]:
    """doctor: the broker answers and takes the login; the textfile's directory is writable
    (only what is configured)."""
    probes: list[Probe] = []

    def password() -> str | None:
        return store.get(MQTT_PASSWORD)

    if config.mqtt.url:
        try:
            detail = mqtt.check(config.mqtt, _password(config.mqtt, password))
            probes.append(Probe("MQTT broker", True, detail))
        except mqtt.MqttError as error:
            text = str(error)
            what, _, fix = text.partition("; ")
            probes.append(Probe("MQTT broker", False, what, fix or None))
    if config.metrics.textfile:
        path = textfile_path(config.metrics.textfile)
        try:
            probes.append(Probe("metrics textfile", True, check_textfile(path)))
        except TextfileError as error:
            what, _, fix = str(error).partition("; ")
            probes.append(Probe("metrics textfile", False, what, fix or None))
    return probes
