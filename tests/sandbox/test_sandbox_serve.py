"""The foreground ``serve_forever`` prints a banner and serves until interrupted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from amber_tesla_sync.sandbox import Sandbox, banner


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_forever_in_the_foreground() -> None:
    port = _free_port()
    code = f"from amber_tesla_sync.sandbox import serve_forever; serve_forever({port}, seed=4)"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        lines = [first]
        while "Ctrl+C" not in lines[-1]:
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        expected = Sandbox(seed=4, port=port).credentials
        assert expected.amber_token in text and expected.client_secret in text
        assert f"http://127.0.0.1:{port}/fleet/na" in text
        deadline = time.monotonic() + 5
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/amber/v1/sites",
                    headers={"Authorization": f"Bearer {expected.amber_token}"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_banner_lists_urls_and_credentials(sandbox: Sandbox) -> None:
    text = banner(sandbox)
    for url in (
        sandbox.amber_base_url,
        sandbox.tesla_auth_base_url,
        sandbox.fleet_na_base_url,
        sandbox.fleet_eu_base_url,
        sandbox.teslemetry_base_url,
        sandbox.control_base_url,
    ):
        assert url in text
    assert sandbox.credentials.teslemetry_token in text
    assert sandbox.redirect_uri in text
    assert str(sandbox.energy_site_id) in text
