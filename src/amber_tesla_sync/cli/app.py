"""The Typer app, its global options and the state they decide.

Cheap to import: the commands' own modules import what they need when they run, so
``--version`` or ``--help`` never loads pydantic, httpx or the sandbox.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from amber_tesla_sync import __version__
from amber_tesla_sync.settings.config_path import CONFIG_ENV, resolve_config_path
from amber_tesla_sync.support import logs as logsetup
from amber_tesla_sync.support.redact import clean

if TYPE_CHECKING:
    from amber_tesla_sync.settings.load import LoadedConfig
    from amber_tesla_sync.sync.context import AppContext

PROG = "amber-tesla-sync"
COMPLETE_VAR = "_AMBER_TESLA_SYNC_COMPLETE"  # set while the shell asks for completions

# the order of `--help`: the everyday commands first, set-up next, tools last
ORDER = (
    "sync", "status", "history", "report", "tariff", "doctor",
    "login", "logout", "keygen", "register", "schedule", "run", "config",
    "completion", "demo", "sandbox",
)  # fmt: skip


class _Ordered(TyperGroup):
    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))


app = typer.Typer(
    name=PROG,
    cls=_Ordered,
    help="Write Amber Electric's dynamic prices into a Tesla Powerwall as a time-of-use tariff.",
    epilog=f"Run `{PROG} COMMAND --help` for a command's options and examples.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(
    help="See and change the settings file.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(config_app, name="config")


# options several commands share, spelt the same everywhere
SiteOption = Annotated[
    str | None, typer.Option("--site", metavar="NAME", help="Only this configured site.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Pretend it is this ISO 8601 time (for the sandbox).", hidden=True),
]


def completes(*values: str) -> Callable[[str], list[str]]:
    """Shell completion for an argument or option that takes one of ``values``."""

    def complete(incomplete: str) -> list[str]:
        return [value for value in values if value.startswith(incomplete)]

    return complete


def examples(*lines: str) -> str:
    """A help epilog listing example command lines (kept as written)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


@dataclass
class State:
    """What the global options decided, shared with every command."""

    config_path: Path
    verbose: int
    explicit: bool = False  # --config or $AMBER_TESLA_SYNC_CONFIG chose the file
    quiet: bool = False
    _loaded: "LoadedConfig | None" = field(default=None, repr=False)
    _app: "AppContext | None" = field(default=None, repr=False)
    creates: bool = False  # this command may create the file (config init/set, login, register)

    def config(self) -> "LoadedConfig":
        from amber_tesla_sync.errors import ConfigError
        from amber_tesla_sync.settings.load import load_config

        if self._loaded is None:
            loaded = load_config(self.config_path)
            if self.explicit and not loaded.exists and not self.creates:
                raise ConfigError(
                    f"the configuration file {self.config_path} (given by --config or "
                    f"${CONFIG_ENV}) does not exist",
                    "check the path; `config init` creates a commented one there "
                    "(so do `config set`, `login` and `register`)",
                )
            self._loaded = loaded
        return self._loaded

    def app(self) -> "AppContext":
        from amber_tesla_sync.sync.context import AppContext

        if self._app is None:
            self._app = AppContext(self.config())
        return self._app

    def zone(self, site: str | None = None) -> dt.tzinfo:
        """The zone a time given without an offset is read in: the site's (``--site``, else
        every configured site in turn), by the one rule of ``sync/zones.py``."""
        from amber_tesla_sync.store.state import load_state
        from amber_tesla_sync.sync.targets import site_zones
        from amber_tesla_sync.sync.zones import shown_zone

        return shown_zone(site_zones(self.config().config, site), load_state)

    def now(
        self, text: str | None, site: str | None = None, zone: dt.tzinfo | None = None
    ) -> dt.datetime:
        """The run's moment: ``--now`` (no offset: local time in ``zone``, else the site's
        zone), else the clock."""
        from amber_tesla_sync.support.times import parse_now

        if text is None:
            return dt.datetime.now(dt.UTC)
        return parse_now(text, zone if zone is not None else self.zone(site))


def _clean_record(record: logging.LogRecord) -> bool:
    """Every log line: known secrets redacted, control characters removed."""
    record.msg = clean(record.getMessage())
    record.args = None
    return True


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
            metavar="PATH",
            help="Settings file (default: the platform's config directory).",
            show_envvar=True,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "-v", "--verbose", count=True, show_default=False, help="Log decisions (-vv: debug)."
        ),
    ] = 0,
    quiet: Annotated[
        bool,
        typer.Option(
            "-q", "--quiet", help="Print nothing but errors and warnings (for cron and timers)."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    logsetup.configure(verbose, quiet)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_clean_record)
    path, explicit = resolve_config_path(config)
    ctx.obj = State(config_path=path, verbose=verbose, explicit=explicit, quiet=quiet)
    if quiet:
        from amber_tesla_sync.cli.output import silence

        silence()


def state(ctx: typer.Context, creates: bool = False) -> State:
    """The run's state; ``creates`` marks a command that may create a missing settings file."""
    found = ctx.find_root().obj
    assert isinstance(found, State)
    found.creates = found.creates or creates
    return found
