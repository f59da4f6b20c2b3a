"""Settings from the environment (``AMBER_TESLA_SYNC_<SECTION>__<KEY>``): every key has its
variable, the precedence (option > environment > file > default), errors that name the variable,
``config show``/``get`` saying where a value comes from, ``set``/``unset`` warning of an
override, and ``config keys --env`` (the README's table) listing every variable."""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest

from amber_tesla_sync.cli.variables import PATHS, markdown_table, variables
from amber_tesla_sync.errors import ConfigError, TimeZoneError
from amber_tesla_sync.settings.edit import update_config
from amber_tesla_sync.settings.environment import (
    STATE_DIR_ENV,
    setting_variables,
    variable_for,
)
from amber_tesla_sync.settings.keys import get_value, key_infos, known_keys, split_key
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.settings.resources import SAMPLE_NOW, SAMPLE_PRICES, shipped_file
from amber_tesla_sync.store import paths
from amber_tesla_sync.store.secrets import ENVIRONMENT, VARIABLES, SecretStore
from conftest import CliRunner

README = Path(__file__).resolve().parent.parent / "README.md"
VAR = "AMBER_TESLA_SYNC_TARIFF__MAX_GAP_SLOTS"
# text values for keys that take text, the first that fits a key's pattern is used
TEXTS = (
    "some-value",
    "http://127.0.0.1:9/x",
    "http://localhost:4321/callback",
    "mqtt://127.0.0.1:1883",
    "/var/lib/some/file.prom",
    "16:00-21:00",
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file chosen by $AMBER_TESLA_SYNC_CONFIG, setting max_gap_slots to 3."""
    path = tmp_path / "config.toml"
    path.write_text("# mine\n[tariff]\nmax_gap_slots = 3\n")
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(path))
    return path


def _other_than(default: Any, choices: list[Any]) -> Any:
    return next(choice for choice in choices if choice != default)


def sample_value(key: str) -> tuple[str, Any]:
    """A valid value for ``key`` other than its default: as a variable's text, and as the
    setting it makes (worked out from the key's type, so a key added later is covered)."""
    _, name, annotation = split_key(key)
    default = next(info.default for info in key_infos() if info.key == key)
    optional = get_origin(annotation) not in (Literal, list) and get_args(annotation)
    kind = (
        next(arg for arg in get_args(annotation) if arg is not type(None))
        if optional
        else annotation
    )
    if get_origin(annotation) is list:
        return '["json://user:pw@127.0.0.1:1/x"]', ["json://user:pw@127.0.0.1:1/x"]
    if get_origin(kind) is Literal:
        choice = _other_than(default, list(get_args(kind)))
        return str(choice), choice
    if kind is bool:
        value = not default
        return ("true" if value else "false"), value
    if kind in (int, float):
        field = model_field(key)
        low = next((getattr(m, "ge", None) or getattr(m, "gt", None) for m in field.metadata), 0)
        high = next((getattr(m, "le", None) for m in field.metadata if hasattr(m, "le")), None)
        value = kind(low or 0) + 1
        if value == default:
            value += 1
        assert high is None or value <= high
        return str(value), value
    if "timezone" in name:
        return "Australia/Perth", "Australia/Perth"
    pattern = next((m.pattern for m in model_field(key).metadata if hasattr(m, "pattern")), None)
    fits = [text for text in TEXTS if pattern is None or re.search(pattern, text)]
    assert fits, f"no sample text fits {key}'s pattern {pattern!r}: add one to TEXTS"
    return fits[0], fits[0]


def model_field(key: str) -> Any:
    from amber_tesla_sync.settings.config import Config

    section, _, name = key.partition(".")
    return Config.model_fields[section].annotation.model_fields[name]  # type: ignore[union-attr]


# -- the variables --------------------------------------------------------------------------


@pytest.mark.parametrize("key", known_keys())
def test_every_setting_comes_from_its_variable(key: str, tmp_path: Path) -> None:
    variable = variable_for(key)
    assert re.fullmatch(r"AMBER_TESLA_SYNC_[A-Z]+__[A-Z_]+", variable), variable
    text, expected = sample_value(key)
    loaded = load_config(tmp_path / "absent.toml", {variable: text})
    assert get_value(loaded.config, key) == expected
    assert loaded.origin(key) == variable
    assert load_config(tmp_path / "absent.toml", {}).origin(key) == "default"


def test_the_variables_are_derived_from_the_models() -> None:
    found = setting_variables()
    assert sorted(found.values()) == sorted(known_keys())
    assert found["AMBER_TESLA_SYNC_TESLA__ENERGY_SITE_ID"] == "tesla.energy_site_id"
    assert found["AMBER_TESLA_SYNC_NOTIFY__URLS"] == "notify.urls"
    assert not any(key.startswith("sites") for key in found.values())  # [[sites]]: file only


def test_precedence_environment_over_file_over_default(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    assert load_config(config, {}).config.tariff.max_gap_slots == 3
    loaded = load_config(config, {VAR: "6"})
    assert (loaded.config.tariff.max_gap_slots, loaded.origin("tariff.max_gap_slots")) == (6, VAR)
    assert loaded.origin("tariff.allow_sell_above_buy") == "default"
    assert load_config(config, {}).origin("tariff.max_gap_slots") == "file"
    monkeypatch.setenv(VAR, "6")
    assert cli("config", "get", "tariff.max_gap_slots").stdout == "6\n"
    monkeypatch.setenv(VAR, "")  # empty: unset
    assert cli("config", "get", "tariff.max_gap_slots").stdout == "3\n"


def test_a_command_line_option_beats_the_environment(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    config.write_text('[site]\ntimezone = "Australia/Brisbane"\n')
    prices = str(shipped_file(SAMPLE_PRICES))

    def zone(*extra: str) -> str:
        result = cli("tariff", "--prices", prices, "--now", SAMPLE_NOW, "--json", *extra)
        assert result.code == 0, result.stderr
        found: str = json.loads(result.stdout)["time_zone"]
        return found

    assert zone() == "Australia/Brisbane"
    monkeypatch.setenv("AMBER_TESLA_SYNC_SITE__TIMEZONE", "Australia/Perth")
    assert zone() == "Australia/Perth"
    assert zone("--timezone", "Australia/Adelaide") == "Australia/Adelaide"
    other = config.with_name("other.toml")
    other.write_text("")
    assert cli("--config", str(other), "config", "get", "site.timezone").stdout.strip() == (
        "Australia/Perth"
    )


def test_lists_and_truth_values_take_their_usual_spellings(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    toml = load_config(absent, {"AMBER_TESLA_SYNC_NOTIFY__URLS": "['json://a/b', 'json://c/d']"})
    assert toml.config.notify.urls == ["json://a/b", "json://c/d"]
    empty = load_config(absent, {"AMBER_TESLA_SYNC_NOTIFY__URLS": "[]"})
    assert (empty.config.notify.urls, empty.origin("notify.urls")[:16]) == ([], "AMBER_TESLA_SYNC")
    for text, value in (("yes", True), ("0", False), ("FALSE", False), ("true", True)):
        variable = "AMBER_TESLA_SYNC_TARIFF__EXPECT_FEED_IN"
        assert load_config(absent, {variable: text}).config.tariff.expect_feed_in is value


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "text", "needles"),
    [
        (VAR, "lots", ["expected a whole number from 0 to 48", "(got 'lots')"]),
        (VAR, "60", ["less than or equal to 48", "expected a whole number from 0 to 48"]),
        ("AMBER_TESLA_SYNC_TESLA__BACKEND", "fleat", ["one of: auto, fleet, teslemetry"]),
        ("AMBER_TESLA_SYNC_NOTIFY__URLS", "ntfy://x/y", ["an array of quoted strings"]),
        ("AMBER_TESLA_SYNC_TESLA__ENERGY_SITE_ID", "-4", ["a whole number above 0"]),
        ("AMBER_TESLA_SYNC_AMBER__BASE_URL", "api.amber", ["an http:// or https:// URL"]),
    ],
)
def test_a_bad_value_names_the_variable_and_saves_nothing(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRunner,
    variable: str,
    text: str,
    needles: list[str],
) -> None:
    before = config.read_text()
    monkeypatch.setenv(variable, text)
    for args in (("config", "set", "tariff.allow_sell_above_buy", "true"), ("sync",)):
        result = cli(*args)
        assert result.code == 3, result.stderr
        assert f"  - {variable}: " in result.stderr
        for needle in needles:
            assert needle in result.stderr
        assert "line " not in result.stderr  # a variable, not a line of the file
        assert "config keys --env" in result.stderr
        assert "Traceback" not in result.stderr
    assert config.read_text() == before


def test_file_and_environment_faults_are_told_together(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[tariff]\nmax_gap_slots = 99\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"AMBER_TESLA_SYNC_TESLA__BACKEND": "both"})
    message = caught.value.message
    assert "line 2: key 'tariff.max_gap_slots'" in message
    assert "  - AMBER_TESLA_SYNC_TESLA__BACKEND: " in message
    assert f"{path} and the settings from the environment are invalid" in message
    # the environment overrides the file's bad value: nothing left to complain of
    assert load_config(path, {VAR: "5"}).config.tariff.max_gap_slots == 5


def test_an_unknown_zone_in_the_environment_is_the_zone_error(tmp_path: Path) -> None:
    variable = "AMBER_TESLA_SYNC_SITE__TIMEZONE"
    with pytest.raises(TimeZoneError) as caught:
        load_config(tmp_path / "absent.toml", {variable: "Mars/Olympus_Mons"})
    assert f"  - {variable}: " in caught.value.message
    assert f"{variable}=Australia/Sydney" in (caught.value.hint or "")


def test_a_bad_url_in_the_environment_is_never_quoted_whole(tmp_path: Path) -> None:
    secret = "hunter2-secret-path"
    with pytest.raises(ConfigError) as caught:
        load_config(
            tmp_path / "absent.toml",
            {"AMBER_TESLA_SYNC_NOTIFY__HEALTHCHECK_URL": f"ftp://hc.example/{secret}"},
        )
    assert "AMBER_TESLA_SYNC_NOTIFY__HEALTHCHECK_URL" in caught.value.message
    assert secret not in caught.value.message


@pytest.mark.parametrize(
    ("variable", "needle"),
    [
        ("AMBER_TESLA_SYNC_TARIF__MAX_GAP_SLOTS", f"did you mean {VAR}?"),
        ("AMBER_TESLA_SYNC_TARIFF__MAX_GAPS", f"did you mean {VAR}?"),
        ("AMBER_TESLA_SYNC_TARIFF_MAX_GAP_SLOTS", f"did you mean {VAR}? (two underscores"),
        ("AMBER_TESLA_SYNC_SITES__0__AMBER_SITE_ID", "[[sites]] (several sites) cannot come"),
        ("AMBER_TESLA_SYNC_NOPE__NOTHING", "no such setting"),
    ],
)
def test_an_unknown_variable_that_looks_like_a_setting_is_an_error(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner, variable: str, needle: str
) -> None:
    monkeypatch.setenv(variable, "4")
    result = cli("config", "show")
    assert result.code == 3, result.stdout
    assert f"  - {variable}: " in result.stderr
    assert needle in result.stderr


def test_the_tools_other_variables_stay_valid(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner, tmp_path: Path
) -> None:
    monkeypatch.setenv("AMBER_TESLA_SYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AMBER_TESLA_SYNC_LOG_PREFIX", "0")
    monkeypatch.setenv("AMBER_TESLA_SYNC_SOMETHING_ELSE", "x")  # not like a setting: ignored
    result = cli("config", "show")
    assert result.code == 0, result.stderr
    assert STATE_DIR_ENV == paths.STATE_ENV
    assert {row.name for row in PATHS} >= {"AMBER_TESLA_SYNC_CONFIG", paths.STATE_ENV}


# -- config show, get, set, unset -------------------------------------------------------------


def test_config_show_says_where_each_value_comes_from(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    config.write_text("[tariff]\nmax_gap_slots = 3\nmin_horizon_hours = 10\n")
    monkeypatch.setenv(VAR, "6")
    monkeypatch.setenv("AMBER_TESLA_SYNC_TESLA__BACKEND", "teslemetry")
    shown = cli("config", "show")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert re.search(rf"^max_gap_slots = 6 +# env {VAR}$", shown.stdout, re.M), lines
    assert re.search(r"^min_horizon_hours = 10\.0 +# file$", shown.stdout, re.M), lines
    assert re.search(r"^allow_sell_above_buy = false +# default$", shown.stdout, re.M), lines
    assert 'backend = "teslemetry"' in shown.stdout
    tomllib.loads(shown.stdout)  # still TOML, the origins in comments

    data = json.loads(cli("config", "show", "--json").stdout)
    origins = data["origins"]
    assert set(origins) == set(known_keys())
    assert origins["tariff.max_gap_slots"] == VAR
    assert origins["tesla.backend"] == "AMBER_TESLA_SYNC_TESLA__BACKEND"
    assert origins["tariff.min_horizon_hours"] == "file"
    assert origins["amber.site_id"] == "default"
    assert data["settings"]["tariff"]["max_gap_slots"] == 6


def test_config_show_masks_urls_from_the_environment(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    monkeypatch.setenv("AMBER_TESLA_SYNC_NOTIFY__URLS", '["json://user:s3cretpass@127.0.0.1:1/x"]')
    shown = cli("config", "show")
    assert "s3cretpass" not in shown.stdout + shown.stderr
    assert "notify.urls is shown masked" in shown.stdout
    assert "the environment holds the real value" in shown.stdout
    document = cli("config", "show", "--json").stdout
    assert "s3cretpass" not in document
    assert json.loads(document)["masked"] == ["notify.urls"]


def test_config_get_tells_the_origin(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    assert json.loads(cli("config", "get", "tariff.max_gap_slots", "--json").stdout)["origin"] == (
        "file"
    )
    monkeypatch.setenv(VAR, "7")
    got = cli("config", "get", "tariff.max_gap_slots")
    assert (got.stdout, got.stderr) == ("7\n", f"(from the environment: {VAR})\n")
    document = json.loads(cli("config", "get", "tariff.max_gap_slots", "--json").stdout)
    assert (document["value"], document["origin"]) == (7, VAR)
    default = json.loads(cli("config", "get", "sync.settle_minutes", "--json").stdout)
    assert default["origin"] == "default"


def test_config_set_and_unset_edit_the_file_and_warn_of_an_override(
    config: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    monkeypatch.setenv(VAR, "6")
    result = cli("config", "set", "tariff.max_gap_slots", "2")
    assert result.code == 0, result.stderr
    assert f"warning: {VAR} overrides this value" in result.stderr
    assert tomllib.loads(config.read_text())["tariff"]["max_gap_slots"] == 2  # the file only
    assert config.read_text().startswith("# mine\n")
    assert cli("config", "get", "tariff.max_gap_slots").stdout == "6\n"
    quiet = cli("config", "set", "tariff.min_horizon_hours", "10")  # not overridden: no warning
    assert (quiet.code, quiet.stderr) == (0, "")
    removed = cli("config", "unset", "tariff.max_gap_slots")
    assert removed.code == 0
    assert f"warning: {VAR} overrides this value" in removed.stderr
    assert "max_gap_slots" not in config.read_text()


def test_a_saved_setting_keeps_the_environments_overrides(
    config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    variable = "AMBER_TESLA_SYNC_AMBER__SITE_ID"
    loaded = load_config(config, {variable: "from-env", VAR: "6"})
    with caplog.at_level(logging.WARNING):
        updated = update_config(loaded, {"amber.site_id": "from-login"})
    assert tomllib.loads(config.read_text())["amber"]["site_id"] == "from-login"
    assert updated.config.amber.site_id == "from-env"
    assert updated.config.tariff.max_gap_slots == 6
    assert f"but {variable} overrides this value" in caplog.text


# -- every variable, and the README's table ---------------------------------------------------


def test_config_keys_env_lists_every_variable(cli: CliRunner) -> None:
    result = cli("config", "keys", "--env")
    assert result.code == 0, result.stderr
    rows = variables()
    for row in rows:
        assert re.search(rf"^{row.name}  ", result.stdout, re.M), row.name
    names = {row.name for row in rows}
    assert set(setting_variables()) <= names
    assert set(ENVIRONMENT.values()) <= names
    assert {"TESLA_FLEET_ACCESS_TOKEN", "TESLA_FLEET_REFRESH_TOKEN", "TESLA_CLIENT_SECRET"} <= names
    document = json.loads(cli("config", "keys", "--env", "--json").stdout)
    assert document["command"] == "config keys"
    assert [row["name"] for row in document["variables"]] == [row.name for row in rows]
    kinds = {row["name"]: row["kind"] for row in document["variables"]}
    assert (kinds[VAR], kinds["AMBER_TOKEN"], kinds["AMBER_TESLA_SYNC_CONFIG"]) == (
        "setting",
        "secret",
        "path",
    )


@pytest.mark.parametrize("variable", [v.name for v in VARIABLES])
def test_every_secret_variable_listed_gives_its_secret(
    variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = next(v.secret for v in VARIABLES if v.name == variable)
    monkeypatch.setenv(variable, "value-from-the-environment")
    found = SecretStore("file", tmp_path / "secrets.json").find(secret)  # an empty store
    assert found is not None
    assert variable in found.origin
    assert "value-from-the-environment" in found.value


def test_the_readme_table_is_the_codes() -> None:
    """``UPDATE_SNAPSHOTS=1`` writes the table into the README (as for the snapshots)."""
    expected = markdown_table(variables())
    readme = README.read_text(encoding="utf-8")
    start = readme.index("| variable | setting or secret | meaning |")
    end = readme.index("\n\n", start) + 1
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        readme = readme[:start] + expected + readme[end:]
        README.write_text(readme, encoding="utf-8")
        end = start + len(expected)
    assert readme[start:end] == expected, (
        "README's table of environment variables is out of date: run "
        "`UPDATE_SNAPSHOTS=1 python -m pytest tests/test_env_settings.py -k readme`"
    )
