"""Exit codes from the README's table: a site time zone unknown here is 16 wherever it comes
from (``site.timezone``, a site's own ``timezone``, the Powerwall); a configuration file that
cannot be read (a directory, permission denied) is 3, for every command that reads it."""

from __future__ import annotations

import errno
import pathlib
from pathlib import Path

import pytest

from amber_tesla_sync.errors import ExitCode
from conftest import CliRunner


@pytest.mark.parametrize(
    "text",
    [
        '[site]\ntimezone = "Mars/Olympus"\n',
        '[amber]\nsite_id = "01ABC"\n\n[[sites]]\nname = "home"\namber_site_id = "01ABC"\n'
        'energy_site_id = 7\ntimezone = "Australia/Atlantis"\n',
    ],
    ids=["site.timezone", "sites.timezone"],
)
@pytest.mark.parametrize("command", [("sync",), ("tariff", "--sample"), ("status",)])
def test_a_configured_zone_unknown_here_exits_16(
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    command: tuple[str, ...],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(config))
    result = cli(*command)
    assert result.code == ExitCode.TIME_ZONE, result.stderr
    assert "not a known IANA time zone" in result.stderr
    assert "line " in result.stderr  # where in the file
    assert "tzdata" in result.stderr  # and what to do


def test_a_zone_and_another_mistake_are_a_config_error(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[site]\ntimezone = "Mars/Olympus"\n\n[tariff]\nmax_gap_slots = "four"\n')
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(config))
    assert cli("sync").code == ExitCode.CONFIG


@pytest.mark.parametrize(
    "command", [("sync",), ("status",), ("tariff", "--sample"), ("config", "show")]
)
def test_a_config_that_is_a_directory_exits_3(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(folder))
    result = cli(*command)
    assert result.code == ExitCode.CONFIG, result.stderr
    assert "cannot read the configuration file" in result.stderr
    assert "permissions" in result.stderr


@pytest.mark.parametrize(
    "command", [("sync",), ("status",), ("tariff", "--sample"), ("config", "show")]
)
def test_a_config_without_read_permission_exits_3(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[site]\ntimezone = "Australia/Sydney"\n')
    real = pathlib.Path.read_text

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        if self == config:  # (the tests may run as root, who could read a 0o000 file)
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "read_text", denied)
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(config))
    result = cli(*command)
    assert result.code == ExitCode.CONFIG, result.stderr
    assert "Permission denied" in result.stderr
