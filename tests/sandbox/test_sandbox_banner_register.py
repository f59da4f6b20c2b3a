"""Following the banner's steps makes ``register`` pass against the sandbox (real CLI processes)."""

from __future__ import annotations

import re
import shlex

import httpx

from amber_tesla_sync.sandbox import banner
from amber_tesla_sync.sandbox.partners import public_key_hex
from sandboxkit import SandboxSite


def test_banner_steps_complete_register(site: SandboxSite) -> None:
    sandbox = site.sandbox
    sandbox.unregister_partner("na")
    text = banner(sandbox)
    lines = text.splitlines()
    curl = next(ln for ln in lines if ln.strip().startswith("curl "))
    url = shlex.split(curl)[-1]
    assert url.startswith(sandbox.control_base_url)
    register_at = next(i for i, ln in enumerate(lines) if " register --domain " in ln)
    command = (lines[register_at] + lines[register_at + 1]).replace("\\", " ")
    domain = re.search(r"--domain (\S+)", command)
    client_id = re.search(r"--client-id (\S+)", command)
    assert domain and client_id and "--client-secret-stdin" in command

    # before the key is handed over, Tesla (the sandbox) cannot download it
    failed = site.run(
        "register",
        "--domain",
        domain.group(1),
        "--client-id",
        client_id.group(1),
        "--client-secret-stdin",
        input=sandbox.credentials.client_secret + "\n",
    )
    assert failed.returncode == 8, failed.stderr
    assert "Public key download failed" in failed.stderr

    pem_path = site.config.parent / "public-key.pem"
    made = site.run("keygen", "--output", str(pem_path))
    assert made.returncode == 0, made.stderr
    posted = httpx.post(url, content=pem_path.read_bytes(), timeout=10)  # what curl sends
    assert posted.status_code == 200, posted.text

    done = site.run(
        "register",
        "--domain",
        domain.group(1),
        "--client-id",
        client_id.group(1),
        "--client-secret-stdin",
        input=sandbox.credentials.client_secret + "\n",
    )
    assert done.returncode == 0, done.stderr
    registration = sandbox.state()["fleet"]["partners"]["registrations"]["na"]
    assert registration["public_key"] == public_key_hex(pem_path.read_text())


def test_control_api_refuses_a_body_that_is_no_pem(site: SandboxSite) -> None:
    url = f"{site.sandbox.control_base_url}/public_keys/amber-tesla-sync.example"
    response = httpx.post(url, content=b"not a key", timeout=10)
    assert response.status_code == 400
    assert "PEM" in response.json()["error"]
