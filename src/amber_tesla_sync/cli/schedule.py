"""``schedule install|remove``: run ``sync`` every 5 minutes (systemd timer, cron, launchd)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from amber_tesla_sync.cli.app import app, examples

if TYPE_CHECKING:
    from amber_tesla_sync.schedule import Host, Kind

schedule_app = typer.Typer(
    help="Run `sync` every 5 minutes: a systemd timer (system or user), a cron line, or on "
    "macOS a launchd agent.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(schedule_app, name="schedule")

User = Annotated[
    bool,
    typer.Option("--user", help="Your own systemd user timer (~/.config/systemd/user/)."),
]
Cron = Annotated[
    bool, typer.Option("--cron", help="A line in your crontab instead of a systemd timer.")
]
Launchd = Annotated[
    bool,
    typer.Option(
        "--launchd", help="A launchd agent (~/Library/LaunchAgents/): the default on macOS."
    ),
]


def _host_and_kind(user: bool, cron: bool, launchd: bool) -> "tuple[Host, Kind]":
    from amber_tesla_sync import schedule

    host = schedule.Host.detect()
    return host, schedule.choose_kind(host, user=user, cron=cron, launchd=launchd)


def _config(ctx: typer.Context) -> Path | None:
    """The ``--config`` (or ``$AMBER_TESLA_SYNC_CONFIG``) given to this run, if any."""
    value = ctx.find_root().params.get("config")
    return value if isinstance(value, Path) else None


@schedule_app.command(
    "install",
    epilog=examples(
        "amber-tesla-sync schedule install --user --dry-run",
        "amber-tesla-sync schedule install --user",
        "amber-tesla-sync schedule install --cron",
    ),
)
def install(
    ctx: typer.Context,
    user: User = False,
    cron: Cron = False,
    launchd: Launchd = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written and run; do nothing.")
    ] = False,
) -> None:
    """Install and start the timer (default: system-wide, needs root; on macOS a launchd agent)
    or the cron line."""
    from amber_tesla_sync import schedule

    config = _config(ctx)
    command = schedule.sync_command(config)
    host, kind = _host_and_kind(user, cron, launchd)
    schedule.install(
        kind,
        command,
        host=host,
        say=typer.echo,
        dry_run=dry_run,
        config=config.expanduser().absolute() if config else None,
    )


@schedule_app.command("remove")
def remove(user: User = False, cron: Cron = False, launchd: Launchd = False) -> None:
    """Stop and remove the timer (default: the system one; on macOS the launchd agent) or the
    cron line."""
    from amber_tesla_sync import schedule

    host, kind = _host_and_kind(user, cron, launchd)
    schedule.remove(kind, host=host, say=typer.echo)
