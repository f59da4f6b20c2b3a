"""Only the command a run names is imported and built.

Typer makes every registered command a click command (its options read from the function's
signature and annotations) each time the tool starts: about 5 ms and 0.5 MiB for some thirty
commands, of which a run uses one. :func:`chosen_app` is the app with only the command (or the
group of subcommands) the arguments name; the whole app when they name none (``--help``,
``--version``), one it does not have (for the "no such command" message and its suggestion), or
while the shell asks for completions. The command's module is imported first
(:func:`~amber_tesla_sync.cli.commands.register`): a run imports no other command's module.
"""

import copy
import os
from collections.abc import Sequence

import typer
from typer.main import get_command_name
from typer.models import CommandInfo

from amber_tesla_sync.cli.app import COMPLETE_VAR
from amber_tesla_sync.cli.commands import register

# the global options (before the command) that take a value; a test holds this to the app's
VALUE_OPTIONS = frozenset({"--config"})


def command_name(arguments: Sequence[str]) -> str | None:
    """The command the arguments name: the first that is neither a global option nor the value
    of one; None when there is none (or after ``--``)."""
    words = iter(arguments)
    for word in words:
        if word == "--":
            return None
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _name(info: CommandInfo) -> str | None:
    if info.name:
        return info.name
    return get_command_name(info.callback.__name__) if info.callback is not None else None


def chosen_app(app: typer.Typer, arguments: Sequence[str]) -> typer.Typer:
    """``app`` with only the command or group ``arguments`` name registered (a copy: ``app``
    itself keeps every command), or ``app`` itself when there is no such one to choose."""
    name = None if os.environ.get(COMPLETE_VAR) else command_name(arguments)
    register(name)  # that command's module, or every one
    if name is None:
        return app
    commands = [info for info in app.registered_commands if _name(info) == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    chosen = copy.copy(app)
    chosen.registered_commands = commands
    chosen.registered_groups = groups
    return chosen
