"""The snapshot files themselves: what a user sees, never a secret, a temporary path or a colour
code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amber_tesla_sync.sandbox.config import SandboxConfig, make_credentials
from snapkit import SNAPSHOTS

FILES = sorted(p for p in SNAPSHOTS.iterdir() if p.suffix in (".txt", ".json-shape"))
SEEDS = (0, 2, 11)  # the sandbox command's default, the demo's, the tests' site
LOOKS_SECRET = {
    "an Amber token": re.compile(r"psk_[0-9a-f]{8,}"),
    "a Fleet client secret": re.compile(r"ta-secret\.\w+"),
    "a JSON web token": re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}"),
    "a long hex token": re.compile(r"\b[0-9a-f]{40,}\b"),
    "a private key": re.compile(r"PRIVATE KEY"),
    "key material": re.compile(r"-----BEGIN [A-Z ]+-----\n(?!<key material>\n)"),
}
RUN_DEPENDENT = {
    "a temporary path": re.compile(r"(?<![\w<])/(tmp|private/var|var/folders)/"),
    "a home directory": re.compile(r"(?<![\w<])/(home|root|Users)/\w"),
    "a colour code": re.compile(r"\x1b\["),
    "a loopback port": re.compile(r"127\.0\.0\.1:\d{4,5}"),
}


def test_there_are_snapshots() -> None:
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_snapshot_holds_no_secret_and_nothing_run_dependent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.strip()
    for seed in SEEDS:
        c = make_credentials(SandboxConfig(seed=seed))
        for secret in (c.amber_token, c.teslemetry_token, c.client_secret):
            assert secret not in text, f"seed {seed}'s sandbox secret {secret[:6]}…"
    found = {
        what for what, pattern in (LOOKS_SECRET | RUN_DEPENDENT).items() if pattern.search(text)
    }
    assert not found, found
