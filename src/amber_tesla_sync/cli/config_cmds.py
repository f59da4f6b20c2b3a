"""``config path|show|set|unset|keys``."""

from __future__ import annotations

from typing import Annotated

import typer

from amber_tesla_sync.cli.app import config_app, state
from amber_tesla_sync.config import effective_toml, known_keys, set_value, unset_value


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print where the settings file is (and whether it exists)."""
    loaded_path = state(ctx).config_path
    typer.echo(str(loaded_path))
    if not loaded_path.exists():
        typer.echo("(the file does not exist yet: every setting has its default)", err=True)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings (defaults filled in) as TOML."""
    loaded = state(ctx).config()
    origin = str(loaded.path) if loaded.exists else f"{loaded.path} (not created yet: defaults)"
    typer.echo(f"# {origin}")
    typer.echo(effective_toml(loaded.config), nl=False)


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. tariff.max_gap_slots.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Set one setting (validated before the file is saved)."""
    loaded = state(ctx).config()
    set_value(loaded, key, value)
    typer.echo(f"{key} set in {loaded.path}")


@config_app.command("unset")
def config_unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. tariff.max_gap_slots.")],
) -> None:
    """Remove one setting from the file so its default applies."""
    loaded = state(ctx).config()
    unset_value(loaded, key)
    typer.echo(f"{key} removed from {loaded.path}")


@config_app.command("keys")
def config_keys() -> None:
    """List every setting's key."""
    for key in known_keys():
        typer.echo(key)
