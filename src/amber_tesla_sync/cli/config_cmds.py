"""``config path|show|get|set|unset|keys|init``."""

import json
from typing import Annotated, Any

import typer

from amber_tesla_sync.cli.app import JsonOption, config_app, examples, state


def _complete_key(incomplete: str) -> list[str]:
    from amber_tesla_sync.settings.keys import known_keys

    return [key for key in known_keys() if key.startswith(incomplete)]


KeyArgument = Annotated[
    str,
    typer.Argument(
        help="Dotted key, e.g. tariff.max_gap_slots.",
        metavar="KEY",
        autocompletion=_complete_key,
    ),
]


_SECRETS = "notification URLs carry secrets"


def _plain(value: Any) -> str:
    """A value as a user types it on the command line (``true``, ``4``, ``Australia/Sydney``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print where the settings file is (and whether it exists)."""
    loaded_path = state(ctx).config_path
    typer.echo(str(loaded_path))
    if not loaded_path.exists():
        typer.echo("(the file does not exist yet: every setting has its default)", err=True)


@config_app.command("show", epilog=examples("amber-tesla-sync config show --json"))
def config_show(
    ctx: typer.Context,
    as_json: JsonOption = False,
) -> None:
    """Print the effective settings (defaults filled in) as TOML; notification URLs are shown
    masked (the file holds the real ones)."""
    from amber_tesla_sync.settings.keys import effective_data, effective_toml
    from amber_tesla_sync.support.masking import masked_keys

    loaded = state(ctx).config()
    masked = masked_keys(loaded.raw)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        fields = {
            "path": str(loaded.path),
            "exists": loaded.exists,
            "settings": effective_data(loaded.config),
            "masked": masked,
        }
        emit("config show", fields)
        return
    origin = str(loaded.path) if loaded.exists else f"{loaded.path} (not created yet: defaults)"
    typer.echo(f"# {origin}")
    if masked:
        shown = " and ".join(masked)
        are, values = ("is", "value") if len(masked) == 1 else ("are", "values")
        typer.echo(f"# {shown} {are} shown masked ({_SECRETS}); the file holds the real {values}")
    typer.echo(effective_toml(loaded.config), nl=False)


@config_app.command("get", epilog=examples("amber-tesla-sync config get tariff.max_gap_slots"))
def config_get(ctx: typer.Context, key: KeyArgument, as_json: JsonOption = False) -> None:
    """Print one setting's effective value (its default when the file does not set it);
    notification URLs are shown masked."""
    from amber_tesla_sync.settings.keys import get_value
    from amber_tesla_sync.support.masking import is_secret_key, masked_value

    loaded = state(ctx).config()
    value = get_value(loaded.config, key)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        masked = value is not None and is_secret_key(key)  # notification URLs: shown masked
        shown_value = masked_value(key, value) if masked else value
        emit("config get", {"key": key, "value": shown_value, "masked": masked})
        return
    if value is None:
        typer.echo(f"({key} is not set and has no default)", err=True)
        return
    shown = masked_value(key, value)
    typer.echo(_plain(shown))
    if shown != value:
        typer.echo(f"(masked: {_SECRETS}; the real value is in {loaded.path})", err=True)


@config_app.command(
    "set",
    epilog=examples(
        "amber-tesla-sync config set tariff.max_gap_slots 6",
        "amber-tesla-sync config set secrets.store file",
    ),
)
def config_set(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(help="The new value.", metavar="VALUE")],
) -> None:
    """Set one setting (validated before the file is saved; comments and layout are kept).

    Creates the file if it does not exist yet."""
    from amber_tesla_sync.settings.edit import set_value

    loaded = state(ctx, creates=True).config()
    set_value(loaded, key, value)
    typer.echo(f"{key} set in {loaded.path}")


@config_app.command("unset")
def config_unset(ctx: typer.Context, key: KeyArgument) -> None:
    """Remove one setting from the file so its default applies (comments are kept)."""
    from amber_tesla_sync.settings.edit import unset_value

    loaded = state(ctx).config()
    before = loaded.path.read_text(encoding="utf-8") if loaded.exists else None
    unset_value(loaded, key)
    after = loaded.path.read_text(encoding="utf-8") if loaded.path.exists() else None
    if before == after:
        typer.echo(f"{key} is not set in {loaded.path}: nothing to remove (its default applies)")
    else:
        typer.echo(f"{key} removed from {loaded.path}")


@config_app.command("keys")
def config_keys(as_json: JsonOption = False) -> None:
    """List every setting: its key, its default and what it does."""
    from amber_tesla_sync.settings.keys import key_infos

    infos = key_infos()
    defaults = {info.key: "-" if info.default is None else _plain(info.default) for info in infos}
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        rows = [
            {"key": i.key, "default": defaults[i.key], "description": i.description} for i in infos
        ]
        emit("config keys", {"keys": rows})
        return
    import shutil
    import textwrap

    columns = shutil.get_terminal_size().columns
    width = max(len(info.key) for info in infos)
    default_width = max(len(text) for text in defaults.values() if len(text) <= 16)
    indent = width + default_width + 4
    room = columns - indent
    for info in infos:
        default = defaults[info.key]
        if room >= 30:  # three columns, the description wrapped under itself
            lines = textwrap.wrap(info.description, room) or [""]
            if len(default) > default_width:  # a long default (a URL) has the line to itself
                lines.insert(0, "")
            first = f"{info.key:<{width}}  {default:<{default_width}}  {lines[0]}".rstrip()
            typer.echo(first)
            typer.echo("".join(f"{' ' * indent}{line}\n" for line in lines[1:]), nl=False)
        else:  # a narrow terminal: the key, its default, then what it does, each on its lines
            lines = [f"default: {default}", *textwrap.wrap(info.description, max(columns - 4, 20))]
            typer.echo(info.key + "".join(f"\n    {line}" for line in lines))


@config_app.command("init", epilog=examples("amber-tesla-sync --config ./config.toml config init"))
def config_init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write the commented example settings file (every key, with its default) to the config
    path."""
    from amber_tesla_sync.settings.edit import write_example

    path = state(ctx, creates=True).config_path
    write_example(path, force)
    typer.echo(f"wrote {path}; change it with `amber-tesla-sync config set KEY VALUE`")
