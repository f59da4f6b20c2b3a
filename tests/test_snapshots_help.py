"""Every help screen (the top level, each command and each subcommand) at a pinned width; a new
command without a help snapshot fails here."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from amber_tesla_sync.cli.commands import whole_app
from conftest import CliRunner
from snapkit import check_text

HELP_SCREENS = (
    (),
    ("sync",),
    ("status",),
    ("history",),
    ("report",),
    ("tariff",),
    ("doctor",),
    ("backup",),
    ("login",),
    ("login", "amber"),
    ("login", "teslemetry"),
    ("login", "fleet"),
    ("logout",),
    ("keygen",),
    ("register",),
    ("schedule",),
    ("schedule", "install"),
    ("schedule", "remove"),
    ("run",),
    ("config",),
    ("config", "path"),
    ("config", "show"),
    ("config", "get"),
    ("config", "set"),
    ("config", "unset"),
    ("config", "keys"),
    ("config", "init"),
    ("completion",),
    ("demo",),
    ("sandbox",),
    ("notify",),
    ("notify", "test"),
    *(("override", *sub) for sub in ((), ("charge",), ("export",), ("hold",), ("pause",))),
    ("override", "list"),
    ("override", "clear"),
)


pytestmark = pytest.mark.usefixtures("pinned")  # the terminal of the snapshots


app = whole_app()


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path the app answers to (hidden commands too)."""
    found = [path]
    if getattr(command, "commands", None):  # a group (click's, or the copy in newer Typer)
        for name, sub in command.commands.items():
            found += command_paths(sub, (*path, name))
    return found


def test_every_command_has_a_help_snapshot() -> None:
    assert sorted(command_paths(typer.main.get_command(app))) == sorted(HELP_SCREENS)


@pytest.mark.parametrize("path", HELP_SCREENS, ids=lambda path: " ".join(path) or "top")
def test_help_screen(cli: CliRunner, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"Usage: amber-tesla-sync {' '.join(path)}".rstrip() + " ")
    check_text("help_" + ("_".join(path) or "top"), result.stdout)


def test_no_arguments_is_the_top_help(cli: CliRunner) -> None:
    bare = cli()
    assert bare.code in (0, 2)
    check_text("help_top", bare.stdout + bare.stderr)
