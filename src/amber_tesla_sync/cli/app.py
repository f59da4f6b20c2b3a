"""The Typer app, its global options and the state they decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from amber_tesla_sync import __version__, logsetup
from amber_tesla_sync.config import CONFIG_ENV, LoadedConfig, load_config, resolve_config_path
from amber_tesla_sync.context import AppContext

PROG = "amber-tesla-sync"

app = typer.Typer(
    name=PROG,
    help="Write Amber Electric's dynamic prices into a Tesla Powerwall as a time-of-use tariff.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show or change the settings file.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@dataclass
class State:
    """What the global options decided, shared with every command."""

    config_path: Path
    verbose: int
    _loaded: LoadedConfig | None = field(default=None, repr=False)
    _app: AppContext | None = field(default=None, repr=False)

    def config(self) -> LoadedConfig:
        if self._loaded is None:
            self._loaded = load_config(self.config_path)
        return self._loaded

    def app(self) -> AppContext:
        if self._app is None:
            self._app = AppContext(self.config())
        return self._app


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar=CONFIG_ENV,
            help="Settings file (default: the platform's config directory).",
            show_envvar=True,
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="Log decisions (-vv: debug).")
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    logsetup.configure(verbose)
    ctx.obj = State(config_path=resolve_config_path(config), verbose=verbose)


def state(ctx: typer.Context) -> State:
    found = ctx.find_root().obj
    assert isinstance(found, State)
    return found
