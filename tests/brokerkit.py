"""A real MQTT broker for the tests: Debian's ``mosquitto`` on a free loopback port with a
password file (and, for :func:`tls_broker`, a test CA made here with ``cryptography``), and a
real subscriber (paho-mqtt) that reads what is retained.

The fixtures ``broker`` and ``tls_broker``: import ``broker_fixture`` / ``tls_broker_fixture``
into a test module to use them. Install the broker with ``apt-get install mosquitto``: the tests that need it fail (never skip)
without it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from sandboxkit import free_port

USER = "owner"
PASSWORD = "broker-pass-5d1f8a0c77e2"  # what the tests look for in every output
SEARCHED = ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin", "/usr/bin")


def binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in SEARCHED if (Path(d) / name).exists()), None
    )
    if found is None:
        pytest.fail(
            f"{name} is not installed: the MQTT tests need a real broker "
            "(`apt-get install mosquitto`, or your system's mosquitto package)"
        )
    return found


@dataclass
class Broker:
    port: int
    log: Path
    ca_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.ca_file else 'mqtt'}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def retained(
        self, topics: str = "#", quiet: float = 0.4, timeout: float = 10
    ) -> dict[str, str]:
        """Every retained message under ``topics`` as a fresh subscriber receives it."""
        got: dict[str, str] = {}
        last = [time.monotonic()]
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        client.username_pw_set(USER, PASSWORD)
        if self.ca_file is not None:
            client.tls_set(ca_certs=str(self.ca_file))

        def received(_c: object, _d: object, message: paho.MQTTMessage) -> None:
            if message.retain:
                got[message.topic] = message.payload.decode("utf-8")
                last[0] = time.monotonic()

        client.on_message = received
        client.connect("127.0.0.1", self.port)
        client.subscribe(topics, qos=1)
        ends = time.monotonic() + timeout
        last[0] = time.monotonic()
        while time.monotonic() < ends and time.monotonic() - last[0] < quiet:
            client.loop(timeout=0.05)
        client.disconnect()
        return got


def _start(broker: Broker, conf: Path) -> Broker:
    broker.process = subprocess.Popen(
        [binary("mosquitto"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ends = time.monotonic() + 10
    while time.monotonic() < ends:
        if broker.process.poll() is not None:
            pytest.fail(f"mosquitto exited at start: {broker.log.read_text(errors='replace')}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", broker.port)) == 0:
                return broker
        time.sleep(0.05)
    broker.stop()
    pytest.fail("mosquitto did not start listening within 10 s")


def _config(directory: Path, port: int, tls: list[str]) -> Path:
    passwords = directory / "passwords"
    subprocess.run(
        [binary("mosquitto_passwd"), "-b", "-c", str(passwords), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    passwords.chmod(0o600)
    conf = directory / "mosquitto.conf"
    lines = [
        f"user {getpass.getuser()}",  # as root: stay root (it reads the files in tmp_path)
        "per_listener_settings false",
        f"listener {port} 127.0.0.1",
        *tls,
        "allow_anonymous false",
        f"password_file {passwords}",
        "persistence false",
        f"log_dest file {directory / 'mosquitto.log'}",
    ]
    conf.write_text("\n".join(lines) + "\n")
    return conf


@contextmanager
def running_broker(directory: Path, tls: bool = False) -> Iterator[Broker]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    broker = Broker(port, directory / "mosquitto.log")
    extra: list[str] = []
    if tls:
        ca, cert, key = make_test_ca(directory)
        broker.ca_file = ca
        extra = [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
    _start(broker, _config(directory, port, extra))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(name="broker")
def broker_fixture(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path / "broker") as started:
        yield started


@pytest.fixture(name="tls_broker")
def tls_broker_fixture(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path / "tls-broker", tls=True) as started:
        yield started


def make_test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost signed by it (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amber-tesla-sync test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "server.pem", "server.key"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file
