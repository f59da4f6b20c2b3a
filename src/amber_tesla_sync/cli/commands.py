"""Which module registers each command, so that a run imports only the one it names.

Every command lives in a module of its own under ``amber_tesla_sync.cli`` and registers itself on
the app when imported. :func:`register` imports the module of the command (or group) the
arguments name, or every one (for ``--help``, an unknown name and its suggestion, shell
completion); :func:`whole_app` is the app with every command. A test holds :data:`MODULES` to
the modules' own registrations.
"""

import importlib

import typer

from amber_tesla_sync.cli.app import app

# command or group name -> the module that registers it
MODULES = {
    "sync": "sync_cmd",
    "status": "status_cmd",
    "history": "history_cmd",
    "report": "report_cmd",
    "tariff": "tariff",
    "doctor": "doctor_cmd",
    "login": "accounts",
    "logout": "accounts",
    "keygen": "accounts",
    "register": "accounts",
    "schedule": "schedule",
    "run": "run_cmd",
    "config": "config_cmds",
    "notify": "notify_cmd",
    "override": "override_cmd",
    "backup": "backup_cmd",
    "completion": "completion_cmd",
    "demo": "demo_cmd",
    "sandbox": "sandbox_cmd",
}


def register(name: str | None) -> None:
    """Import the module that registers the command ``name``; every command's module when
    ``name`` is None or names none of them."""
    modules = [MODULES[name]] if name in MODULES else sorted(set(MODULES.values()))
    for module in modules:
        importlib.import_module(f"{__package__}.{module}")


def whole_app() -> typer.Typer:
    """The app with every command registered."""
    register(None)
    return app
