"""Only the command a run names is built (cli/chosen.py); the whole app when none is named, for
an unknown one, and during shell completion."""

from __future__ import annotations

import pytest
import typer.main

from amber_tesla_sync.cli.chosen import VALUE_OPTIONS, chosen_app, command_name
from amber_tesla_sync.cli.commands import whole_app
from amber_tesla_sync.cli.completion_cmd import COMPLETE_VAR
from conftest import CliRunner

app = whole_app()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["sync", "--now", "2026-01-15T05:42:30Z"], "sync"),
        (["-v", "-q", "sync"], "sync"),
        (["--config", "status", "history"], "history"),  # a path named like a command
        (["--config=/tmp/x.toml", "status"], "status"),
        (["login", "amber"], "login"),
        (["--version"], None),
        (["--help"], None),
        (["--config"], None),
        (["--", "sync"], None),
        ([], None),
    ],
)
def test_the_command_named(arguments: list[str], expected: str | None) -> None:
    assert command_name(arguments) == expected


def _names(chosen: typer.Typer) -> set[str]:
    return set(typer.main.get_command(chosen).commands)  # type: ignore[attr-defined]


def test_a_named_command_is_built_alone() -> None:
    assert _names(chosen_app(app, ["-v", "sync", "--dry-run"])) == {"sync"}
    assert _names(chosen_app(app, ["login", "amber"])) == {"login"}
    assert _names(chosen_app(app, ["config", "show"])) == {"config"}
    everything = _names(app)
    assert {"sync", "status", "login", "config", "tariff"} <= everything  # app keeps them all


def test_no_command_an_unknown_one_or_completion_build_the_whole_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert chosen_app(app, ["--help"]) is app
    assert chosen_app(app, ["stauts"]) is app
    monkeypatch.setenv(COMPLETE_VAR, "bash_complete")
    assert chosen_app(app, ["sync"]) is app


def test_the_value_options_are_the_global_options_that_take_a_value() -> None:
    root = typer.main.get_command(app)
    taking = {
        name
        for param in root.params
        if getattr(param, "param_type_name", "") == "option"
        and not getattr(param, "is_flag", False)
        and not getattr(param, "count", False)
        for name in param.opts
    }
    assert taking == VALUE_OPTIONS


def test_an_unknown_command_is_still_told_what_there_is(cli: CliRunner) -> None:
    result = cli("stauts")
    assert result.code == 2
    assert "no such command 'stauts'. Did you mean 'status'?" in result.stderr


def test_a_command_after_the_config_option_runs_with_its_own_help(cli: CliRunner) -> None:
    result = cli("--config", "/nowhere/config.toml", "tariff", "--help")
    assert result.code == 0
    assert "Usage: amber-tesla-sync tariff" in result.stdout


# in a fresh process: import the modules one by one and note what each registers
REGISTERED = """
import importlib, json
from amber_tesla_sync.cli.app import app, config_app
from amber_tesla_sync.cli.commands import MODULES
def names():
    found = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    found |= {g.name for g in app.registered_groups if g.name != "config"}
    return found | ({"config"} if config_app.registered_commands else set())
by_module = {}
for module in sorted(set(MODULES.values())):
    before = names()
    importlib.import_module("amber_tesla_sync.cli." + module)
    by_module[module] = sorted(names() - before)
print(json.dumps(by_module))
"""


def test_each_command_is_mapped_to_the_module_that_registers_it() -> None:
    import json
    import subprocess
    import sys

    from amber_tesla_sync.cli.commands import MODULES

    done = subprocess.run(
        [sys.executable, "-c", REGISTERED], capture_output=True, text=True, check=True
    )
    expected: dict[str, list[str]] = {}
    for name, module in MODULES.items():
        expected.setdefault(module, []).append(name)
    assert json.loads(done.stdout) == {module: sorted(names) for module, names in expected.items()}
    assert set(_names(app)) == set(MODULES)  # every command of the whole app is mapped
