"""config.toml: defaults, validation that names the key and file, set/unset/show/path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import get_args, get_origin

import pytest
from pydantic import BaseModel

from amber_tesla_sync.errors import ConfigError, ExitCode, TimeZoneError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import default_config_path
from amber_tesla_sync.settings.load import load_config
from conftest import CliRunner

EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"


def test_no_file_means_defaults(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "absent.toml")
    assert not loaded.exists
    assert loaded.config == Config()
    assert loaded.config.amber.forecast_price == "predicted"
    assert loaded.config.tariff.max_gap_slots == 4
    assert loaded.config.tariff.allow_sell_above_buy is False


def test_default_path_is_the_platform_config_dir(isolated: Path) -> None:
    assert default_config_path() == isolated / ".config" / "amber-tesla-sync" / "config.toml"


def test_the_example_file_is_valid_and_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    load_config(EXAMPLE)
    for section, model in Config.model_fields.items():
        assert f"[{section}]" in text
        annotation = model.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        assert isinstance(annotation, type)
        assert issubclass(annotation, BaseModel)
        for key in annotation.model_fields:
            assert f"{key} =" in text, f"{section}.{key} is not in examples/config.toml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[tariff]\nmax_gap_slots = 'four'\n",
            "key 'tariff.max_gap_slots': Input should be a valid integer",
        ),
        (
            "[tariff]\nmax_gap_slots = 99\n",
            "key 'tariff.max_gap_slots': Input should be less than or equal to 48",
        ),
        (
            "[tariff]\nmax_gaps = 3\n",
            "line 2: unknown key 'tariff.max_gaps' — did you mean 'max_gap_slots'? "
            "(known here: allow_sell_above_buy, max_gap_slots, min_horizon_hours, expect_feed_in)",
        ),
        (
            "[amber]\nforecast_price = 'median'\n",
            "key 'amber.forecast_price': Input should be 'predicted'",
        ),
        ("[site]\ntimezone = 'Australia/Springfield'\n", "not a known IANA time zone"),
        ("[tesla]\nbackend = 'owner'\n", "key 'tesla.backend'"),
        ("[tariff]\nallow_sell_above_buy = 'yes'\n", "key 'tariff.allow_sell_above_buy'"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("[tariff\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_key_the_file_and_what_is_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises((ConfigError, TimeZoneError)) as caught:
        load_config(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message
    # a zone unknown here is the time-zone error (the README's table), anything else a config one
    zone = "IANA time zone" in expected
    assert caught.value.exit_code == (ExitCode.TIME_ZONE if zone else ExitCode.CONFIG)


def test_set_validates_before_saving_and_keeps_other_keys(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[amber]\nsite_id = '01J23BAP2SFA218BMV8A73Y9Z9'\n")
    result = cli("--config", str(path), "config", "set", "tariff.max_gap_slots", "6")
    assert result.code == 0, result.stderr
    saved = tomllib.loads(path.read_text())
    assert saved == {
        "amber": {"site_id": "01J23BAP2SFA218BMV8A73Y9Z9"},
        "tariff": {"max_gap_slots": 6},
    }

    before = path.read_text()
    for key, value, message in [
        ("tariff.max_gap_slots", "lots", "invalid value for tariff.max_gap_slots"),
        ("tariff.max_gap_slots", "49", "less than or equal to 48"),
        ("site.timezone", "Mars/Olympus", "not a known IANA time zone"),
        ("tariff.nonsense", "1", "unknown configuration key 'tariff.nonsense'"),
    ]:
        bad = cli("--config", str(path), "config", "set", key, value)
        assert bad.code == ExitCode.CONFIG
        assert message in bad.stderr
        assert "Traceback" not in bad.stderr
    assert path.read_text() == before

    assert (
        cli("--config", str(path), "config", "set", "tariff.allow_sell_above_buy", "true").code == 0
    )
    assert (
        cli("--config", str(path), "config", "set", "tesla.energy_site_id", "1234567890123").code
        == 0
    )
    assert (
        cli("--config", str(path), "config", "set", "site.timezone", "Australia/Adelaide").code == 0
    )
    loaded = load_config(path).config
    assert loaded.tariff.allow_sell_above_buy is True
    assert loaded.tesla.energy_site_id == 1234567890123
    assert loaded.site.timezone == "Australia/Adelaide"

    assert cli("--config", str(path), "config", "unset", "tariff.max_gap_slots").code == 0
    assert load_config(path).config.tariff.max_gap_slots == 4


def test_set_creates_the_file_when_missing(cli: CliRunner, isolated: Path) -> None:
    result = cli("config", "set", "amber.forecast_price", "low")
    assert result.code == 0, result.stderr
    path = isolated / ".config" / "amber-tesla-sync" / "config.toml"
    assert tomllib.loads(path.read_text()) == {"amber": {"forecast_price": "low"}}


def test_show_and_path(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.toml"
    path.write_text("[tariff]\nmax_gap_slots = 2\n")
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(path))
    shown = cli("config", "show")
    assert shown.code == 0
    assert f"# {path}" in shown.stdout
    parsed = tomllib.loads(shown.stdout)
    assert parsed["tariff"] == {
        "allow_sell_above_buy": False,
        "max_gap_slots": 2,
        "min_horizon_hours": 12.0,
    }
    assert parsed["amber"]["forecast_price"] == "predicted"
    assert cli("config", "path").stdout.strip() == str(path)
    other = tmp_path / "other.toml"
    assert cli("--config", str(other), "config", "path").stdout.strip() == str(other)


def test_broken_config_is_a_clear_error_for_commands_that_read_it(
    cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[tariff]\nmax_gap_slots = -1\n")
    result = cli("--config", str(path), "config", "show")
    assert result.code == ExitCode.CONFIG
    assert "tariff.max_gap_slots" in result.stderr
    assert "what to do:" in result.stderr
    assert "Traceback" not in result.stderr
