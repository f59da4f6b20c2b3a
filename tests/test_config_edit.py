"""Saving settings keeps the file as written: every command that saves settings, run on a copy of
the commented examples/config.toml, leaves every comment line where it was."""

from __future__ import annotations

import shutil
from pathlib import Path

from amber_tesla_sync.accounts.registration import keygen
from amber_tesla_sync.settings.load import load_config
from conftest import CliRunner
from e2ekit import E2E

EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"
DOMAIN = "amber-tesla-sync.example"


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(line == candidate for candidate in remaining) for line in needles)


def ok(result: object) -> None:
    code = getattr(result, "returncode", None)
    assert code == 0, getattr(result, "stderr", "")


def test_every_command_that_saves_settings_keeps_every_comment(e2e: E2E) -> None:
    sandbox, config = e2e.sandbox, e2e.site.config
    shutil.copyfile(EXAMPLE, config)
    original = EXAMPLE.read_text()
    comments = comment_lines(original)
    assert len(comments) > 60

    # config set / unset: point the example at the sandbox, key by key
    for key, value in {
        "amber.base_url": sandbox.amber_base_url,
        "tesla.authorize_url": sandbox.authorize_url,
        "tesla.token_url": sandbox.token_url,
        "tesla.fleet_api_url": sandbox.fleet_na_base_url,
        "tesla.teslemetry_url": sandbox.teslemetry_base_url,
        "tesla.redirect_uri": sandbox.credentials.redirect_uri,
        "secrets.store": "file",
        "network.timeout_seconds": "2",
        "network.backoff_seconds": "0.01",
        "site.timezone": "Australia/Sydney",
    }.items():
        ok(e2e.run("config", "set", key, value))
    ok(e2e.run("config", "unset", "amber.forecast_price"))
    ok(e2e.run("config", "unset", "site.timezone"))
    ok(e2e.run("config", "set", "tariff.max_gap_slots", "6"))

    # login amber, login teslemetry, login fleet and register save what they learn
    ok(e2e.login_amber())
    ok(e2e.login_teslemetry())
    ok(e2e.login_fleet())
    keygen(e2e.context(), force=False, output=None)
    e2e.remember_secrets()
    public = (config.parent / "com.tesla.3p.public-key.pem").read_text()
    sandbox.unregister_partner("na")
    sandbox.host_public_key(DOMAIN, public)
    ok(e2e.run("register", "--domain", DOMAIN))

    text = config.read_text()
    assert is_subsequence(comments, comment_lines(text)), "a comment was lost or moved"
    assert comment_lines(text)[: len(comments)] == comments
    settings = load_config(config).config
    assert settings.amber.site_id == sandbox.amber_site_id
    assert settings.tesla.energy_site_id is not None
    assert settings.tesla.client_id == sandbox.credentials.client_id
    assert settings.tesla.domain == DOMAIN
    assert settings.tariff.max_gap_slots == 6
    assert "forecast_price =" not in text and "\ntimezone =" not in text
    # values the commands set land in their own section, under its comments
    amber = text.index("[amber]")
    assert amber < text.index("site_id = ") < text.index("[tesla]")
    assert text.index("[tariff]") < text.index("max_gap_slots = 6") < text.index("[sync]")


def test_a_set_keeps_the_rest_of_the_file_byte_for_byte(tmp_path: Path, cli: CliRunner) -> None:
    config = tmp_path / "config.toml"
    shutil.copyfile(EXAMPLE, config)
    result = cli("--config", str(config), "config", "set", "sync.settle_minutes", "15")
    assert result.code == 0, result.stderr
    before, after = EXAMPLE.read_text().splitlines(), config.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("settle_minutes = 10", "settle_minutes = 15")]


def test_a_set_through_a_symbolic_link_keeps_the_link(tmp_path: Path, cli: CliRunner) -> None:
    kept = tmp_path / "dotfiles" / "amber.toml"
    kept.parent.mkdir()
    shutil.copyfile(EXAMPLE, kept)
    kept.chmod(0o640)
    link = tmp_path / "config.toml"
    link.symlink_to(kept)
    result = cli("--config", str(link), "config", "set", "sync.settle_minutes", "15")
    assert result.code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == kept
    assert "settle_minutes = 15" in kept.read_text()
    assert kept.stat().st_mode & 0o777 == 0o640  # the file's own mode, as for any file
