"""The MQTT broker (``[mqtt]``), through paho-mqtt: the ``[mqtt]`` extra, imported only when
``mqtt.url`` is set.

A session connects (TLS for ``mqtts://``, verified against the system's CAs or
``mqtt.ca_file``), logs in when ``mqtt.username`` is set, publishes every message with QoS 1 and
waits for the broker to take each, then disconnects. It ends within its deadline whatever the
broker does: it runs in a thread the caller waits for only that long (which also bounds a name
lookup that hangs), and every wait inside it is cut to what is left. Every problem is an
:class:`MqttError` of one line: what happened and what to do.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amber_tesla_sync.publish.topics import Message

if TYPE_CHECKING:
    from amber_tesla_sync.settings.config import MqttSettings

PUBLISH_SECONDS = 5.0  # connect, log in, publish and disconnect: all of it
EXTRA = "install the mqtt extra: pip install 'amber-tesla-sync[mqtt]'"
PASSWORD_HINT = "check mqtt.username and the secret mqtt_password (e.g. MQTT_PASSWORD)"


class MqttError(Exception):
    """One line: what went wrong with the broker and what to do."""


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> Broker:
        parts = urllib.parse.urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or port == -1:
            raise MqttError(
                f"mqtt.url {url!r} is not a broker address; set it to mqtt://host:1883 or "
                "mqtts://host:8883"
            )
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, port or (8883 if tls else 1883), tls)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def publish(
    settings: MqttSettings,
    password: str | None,
    messages: Sequence[Message],
    seconds: float = PUBLISH_SECONDS,
) -> None:
    """Publish ``messages`` (all taken by the broker when this returns), or MqttError."""
    broker = Broker.parse(settings.url or "")
    _bounded(lambda: _session(settings, password, broker, seconds, messages), broker, seconds)


def check(settings: MqttSettings, password: str | None, seconds: float = PUBLISH_SECONDS) -> str:
    """Connect and log in, publishing nothing: a line saying so, or MqttError."""
    broker = Broker.parse(settings.url or "")
    _bounded(lambda: _session(settings, password, broker, seconds, ()), broker, seconds)
    login = f"logged in as {settings.username}" if settings.username else "no login"
    return f"{broker} answered ({login})"


def _bounded(work: Callable[[], None], broker: Broker, seconds: float) -> None:
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, name="mqtt", daemon=True)
    thread.start()
    thread.join(seconds + 0.5)
    if thread.is_alive():
        raise MqttError(f"{broker} did not answer within {seconds:g} s; {_NEXT}")
    if failed:
        raise _explained(failed[0], broker, seconds)


_NEXT = "the next sync tries again (check mqtt.url and that the broker runs)"


def _explained(error: BaseException, broker: Broker, seconds: float) -> MqttError:
    if isinstance(error, MqttError):
        return error
    if isinstance(error, ImportError):
        return MqttError(f"mqtt.url is set, but paho-mqtt is not installed; {EXTRA}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return MqttError(
            f"the TLS certificate of {broker} is not trusted ({error.verify_message}); set "
            "mqtt.ca_file to the PEM file of the CA that signed it"
        )
    if isinstance(error, ssl.SSLError):
        return MqttError(f"the TLS handshake with {broker} failed ({error.reason}); {_NEXT}")
    if isinstance(error, ConnectionRefusedError):
        return MqttError(f"{broker} refused the connection (nothing listening?); {_NEXT}")
    if isinstance(error, socket.gaierror):
        return MqttError(f"the broker's host {broker.host!r} is not known; check mqtt.url")
    if isinstance(error, TimeoutError):
        return MqttError(f"{broker} did not answer within {seconds:g} s; {_NEXT}")
    if isinstance(error, OSError):
        return MqttError(f"could not reach {broker}: {error.strerror or error}; {_NEXT}")
    return MqttError(f"publishing to {broker} failed: {type(error).__name__}: {error}; {_NEXT}")


def _session(
    settings: MqttSettings,
    password: str | None,
    broker: Broker,
    seconds: float,
    messages: Sequence[Message],
) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    ends = time.monotonic() + seconds
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"amber-tesla-sync-{uuid.uuid4().hex[:12]}",
        protocol=paho.MQTTv311,
    )
    client.connect_timeout = max(seconds / 2, 0.5)  # the TCP connect, then the TLS handshake
    if settings.username:
        client.username_pw_set(settings.username, password)
    if broker.tls:
        _tls(client, settings.ca_file)
    answers: list[Any] = []
    client.on_connect = lambda _client, _data, _flags, code, _props: answers.append(code)
    client.connect(broker.host, broker.port, keepalive=60)
    while not _step(client, ends, broker, seconds, "log in", lambda: bool(answers)):
        pass
    if answers[0].is_failure:
        raise MqttError(f"{broker} refused the login ({answers[0]}); {PASSWORD_HINT}")
    sent = [client.publish(m.topic, m.payload, qos=1, retain=m.retain) for m in messages]
    while not _step(
        client,
        ends,
        broker,
        seconds,
        "take the messages",
        lambda: all(i.is_published() for i in sent),
    ):
        pass
    client.disconnect()


def _tls(client: Any, ca_file: str | None) -> None:
    try:
        client.tls_set(ca_certs=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MqttError(
            f"mqtt.ca_file {ca_file} cannot be used ({getattr(exc, 'strerror', None) or exc}); "
            "set it to a readable PEM file of the CA that signed the broker's certificate"
        ) from exc


def _step(
    client: Any, ends: float, broker: Broker, seconds: float, what: str, done: Callable[[], bool]
) -> bool:
    """One turn of the client's loop: whether ``done`` (MqttError when the time is up or the
    connection is gone first)."""
    if done():
        return True
    left = ends - time.monotonic()
    if left <= 0:
        raise MqttError(f"{broker} did not {what} within {seconds:g} s; {_NEXT}")
    code = client.loop(timeout=min(0.1, left))
    if done():
        return True
    if code != 0:  # not MQTT_ERR_SUCCESS: the connection is gone
        raise MqttError(f"{broker} closed the connection before it would {what}; {_NEXT}")
    return False
