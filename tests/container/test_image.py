"""The container image, for real, with podman (run by ``.ci/container``, which builds the image
and names it in ``$AMBER_TESLA_SYNC_IMAGE``; not collected by the default test run).

Against a sandbox on the host's loopback (the containers use ``--network host``): the version,
the demo, logins into the volume, the scheduled container's first run pushing and verifying a
tariff, its HEALTHCHECK, a stop within 2 s, and who owns what in ``/data``.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amber_tesla_sync import __version__
from amber_tesla_sync.sandbox import Sandbox
from sandboxkit import free_port, sandbox_config

IMAGE = os.environ.get("AMBER_TESLA_SYNC_IMAGE", "")
UID = 1000
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def podman(
    *args: str, input: str | None = None, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,  # CI runs with no stdin
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def in_image(
    *command: str,
    volume: str | None = None,
    input: str | None = None,
    check: bool = True,
    user: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``command`` in a throwaway container of the image (the host's network, ``/data``)."""
    options = ["-v", f"{volume}:/data"] if volume else []
    options += ["--user", user] if user else []
    return podman(
        "run", "--rm", "-i", "--network", "host", "--no-healthcheck", *options, IMAGE, *command,
        input=input, check=check,
    )  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def image() -> str:
    assert IMAGE, "set AMBER_TESLA_SYNC_IMAGE to the image to test (.ci/container does)"
    podman("image", "exists", IMAGE)
    return IMAGE


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, callback_port=free_port(), partner_registered=True) as running:
        yield running


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    name = f"amber-tesla-sync-test-{uuid.uuid4().hex[:10]}"
    podman("volume", "create", name)
    yield name
    podman("volume", "rm", "-f", name, check=False)


def mountpoint(volume: str) -> Path:
    return Path(podman("volume", "inspect", volume, "--format", "{{.Mountpoint}}").stdout.strip())


def test_version() -> None:
    assert in_image("amber-tesla-sync", "--version").stdout == f"amber-tesla-sync {__version__}\n"


def test_demo() -> None:
    result = in_image("amber-tesla-sync", "demo")
    assert "The simulated Powerwall now runs tariff 'AMBER_TESLA_SYNC'" in result.stdout


def test_a_non_root_user_with_tini_and_no_ca_bundle_kept() -> None:
    result = in_image("sh", "-c", "id -u; id -g; command -v tini; test ! -e /run/secrets/ca")
    assert result.stdout.split()[:2] == [str(UID), str(UID)]
    config = podman("image", "inspect", IMAGE, "--format", "{{json .Config}}").stdout
    assert '"Entrypoint":["tini","--"]' in config.replace(" ", "")
    assert (
        "run --health"
        in podman("image", "inspect", IMAGE, "--format", "{{.Config.Healthcheck}}").stdout
    )
    # a certificate only the host's bundle has (the one pip needed) is nowhere in the image
    image_bundle = in_image("cat", "/etc/ssl/certs/ca-certificates.crt").stdout
    host_only = [
        block for block in HOST_CA.read_text().split("-----END CERTIFICATE-----")
        if "BEGIN CERTIFICATE" in block and block.strip() not in image_bundle
    ]  # fmt: skip
    if host_only:
        needle = host_only[0].strip().splitlines()[-1]  # its last line of base64
        skip = [f"--exclude-dir={name}" for name in ("proc", "sys", "dev")]
        found = in_image("grep", "-rlsF", *skip, "--", needle, "/", check=False, user="0")
        assert found.returncode == 1 and found.stdout == "", found.stdout


def test_logins_write_the_secrets_into_the_volume(sandbox: Sandbox, volume: str) -> None:
    # the settings the sandbox needs; the image itself chooses the file secret store
    config = sandbox_config(sandbox).replace('[secrets]\nstore = "file"\n', "")
    in_image("sh", "-c", "cat > /data/config.toml", volume=volume, input=config)
    c = sandbox.credentials
    amber = in_image(
        "amber-tesla-sync", "login", "amber", "--token-stdin", "--site", sandbox.amber_site_id,
        volume=volume, input=c.amber_token + "\n",
    )  # fmt: skip
    assert c.amber_token not in amber.stdout + amber.stderr
    tesla = in_image(
        "amber-tesla-sync", "login", "teslemetry", "--token-stdin",
        volume=volume, input=c.teslemetry_token + "\n",
    )  # fmt: skip
    assert c.teslemetry_token not in tesla.stdout + tesla.stderr
    secrets = mountpoint(volume) / "secrets.json"
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert secrets.stat().st_uid == UID
    text = secrets.read_text()
    assert c.amber_token in text and c.teslemetry_token in text


def test_the_scheduled_container_pushes_reports_healthy_and_stops_within_2_s(
    sandbox: Sandbox, volume: str
) -> None:
    assert (mountpoint(volume) / "secrets.json").exists(), "the logins run first"
    name = f"amber-tesla-sync-test-{uuid.uuid4().hex[:10]}"
    podman("run", "-d", "--name", name, "--network", "host", "-v", f"{volume}:/data", IMAGE)
    try:
        logs = wait_for_logs(name, "run: sync exited with code")
        assert "run: sync exited with code 0 after" in logs, logs
        assert "verified" in logs, logs  # the first run pushed a tariff and read it back
        assert sandbox.tariff_posts(), "the sandbox saw no tariff pushed"
        health = podman("healthcheck", "run", name, check=False)
        assert health.returncode == 0, (health.stdout, health.stderr)
        begun = time.monotonic()
        podman("stop", "-t", "10", name)
        took = time.monotonic() - begun
        assert took < 2.0, f"podman stop took {took:.2f} s"
        state = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        assert state == "0", podman("logs", name).stderr
        assert "run: stopped by SIGTERM" in podman("logs", name).stderr
    finally:
        podman("rm", "-f", name, check=False)
    data = mountpoint(volume)
    kept = list(data.rglob("*"))
    assert {"config.toml", "secrets.json", "state"} <= {path.name for path in data.iterdir()}
    assert (data / "state" / "run-health.json").exists()
    assert data.stat().st_uid == UID
    assert [str(path) for path in kept if path.stat().st_uid != UID] == []


def wait_for_logs(name: str, needle: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        result = podman("logs", name, check=False)
        logs = result.stdout + result.stderr
        if needle in logs:
            return logs
        running = podman("inspect", name, "--format", "{{.State.Running}}").stdout.strip()
        assert running == "true", logs
        assert time.monotonic() < deadline, logs
        time.sleep(0.5)
