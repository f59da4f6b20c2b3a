"""``config path|show|get|set|unset|keys|init``.

The commands edit the file only; the environment's settings (``AMBER_TESLA_SYNC_<SECTION>__<KEY>``)
still override it, which ``show`` and ``get`` say and ``set``/``unset`` warn of."""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amber_tesla_sync.cli.app import JsonOption, config_app, examples, state

if TYPE_CHECKING:
    from amber_tesla_sync.settings.load import LoadedConfig


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
    """Print the effective settings (defaults filled in) as TOML, each value with where it comes
    from (default, file, or the environment variable that sets it); notification URLs are shown
    masked (the file holds the real ones)."""
    from amber_tesla_sync.settings.keys import annotated_toml, effective_data, known_keys
    from amber_tesla_sync.support.masking import masked_keys

    loaded = state(ctx).config()
    masked = masked_keys(loaded.config.model_dump())
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        fields = {
            "path": str(loaded.path),
            "exists": loaded.exists,
            "settings": effective_data(loaded.config),
            "origins": {key: loaded.origin(key) for key in known_keys()},
            "masked": masked,
        }
        emit("config show", fields)
        return
    origin = str(loaded.path) if loaded.exists else f"{loaded.path} (not created yet: defaults)"
    typer.echo(f"# {origin}")
    if masked:
        shown = " and ".join(masked)
        are, values = ("is", "value") if len(masked) == 1 else ("are", "values")
        sources = {"file" if loaded.origin(key) == "file" else "environment" for key in masked}
        holds = " and the ".join(sorted(sources, reverse=True)) + (
            " hold" if len(sources) > 1 else " holds"
        )
        typer.echo(f"# {shown} {are} shown masked ({_SECRETS}); the {holds} the real {values}")
    typer.echo("# after each value, where it comes from: default, file, or env VARIABLE")
    typer.echo(annotated_toml(loaded.config, loaded.origin), nl=False)


@config_app.command("get", epilog=examples("amber-tesla-sync config get tariff.max_gap_slots"))
def config_get(ctx: typer.Context, key: KeyArgument, as_json: JsonOption = False) -> None:
    """Print one setting's effective value (from the environment, else the file, else its
    default); notification URLs are shown masked. --json also says where it comes from."""
    from amber_tesla_sync.settings.keys import get_value
    from amber_tesla_sync.support.masking import is_secret_key, masked_value

    loaded = state(ctx).config()
    value = get_value(loaded.config, key)
    origin = loaded.origin(key)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        masked = value is not None and is_secret_key(key)  # notification URLs: shown masked
        shown_value = masked_value(key, value) if masked else value
        fields = {"key": key, "value": shown_value, "masked": masked, "origin": origin}
        emit("config get", fields)
        return
    if value is None:
        typer.echo(f"({key} is not set and has no default)", err=True)
        return
    shown = masked_value(key, value)
    typer.echo(_plain(shown))
    from_env = origin not in ("file", "default")
    if from_env:
        typer.echo(f"(from the environment: {origin})", err=True)
    if shown != value:
        where = origin if from_env else loaded.path
        typer.echo(f"(masked: {_SECRETS}; the real value is in {where})", err=True)


def _overridden(loaded: "LoadedConfig", key: str) -> None:
    """Warn that the environment overrides ``key``, whatever the file now says."""
    from amber_tesla_sync.settings.edit import overriding

    variable = overriding(loaded, key)
    if variable:
        typer.echo(
            f"warning: {variable} overrides this value while it is set (`config show` says "
            "where each value comes from)",
            err=True,
        )


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
    _overridden(loaded, key)


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
    _overridden(loaded, key)


EnvOption = Annotated[
    bool,
    typer.Option(
        "--env", help="List the environment variables instead: settings, secrets and paths."
    ),
]


@config_app.command(
    "keys",
    epilog=examples("amber-tesla-sync config keys", "amber-tesla-sync config keys --env --json"),
)
def config_keys(env: EnvOption = False, as_json: JsonOption = False) -> None:
    """List every setting: its key, its default and what it does (--env: every environment
    variable the tool reads, with its meaning)."""
    if env:
        _variables(as_json)
        return
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


def _variables(as_json: bool) -> None:
    from amber_tesla_sync.cli.variables import variables

    rows = variables()
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        emit("config keys", {"variables": [row.to_json() for row in rows]})
        return
    import shutil
    import textwrap

    columns = shutil.get_terminal_size().columns
    width = max(len(row.name) for row in rows)
    room = columns - width - 2
    titles = {
        "setting": "Settings (command-line option > environment > file > default):",
        "secret": "Secrets (read-only; they override the secret store):",
        "path": "Paths and switches:",
    }
    kind = None
    for row in rows:
        if row.kind != kind:
            kind = row.kind
            typer.echo(("" if row is rows[0] else "\n") + titles[kind])
        meaning = f"{row.key}: {row.meaning}" if row.kind == "setting" else row.meaning
        if room >= 30:
            lines = textwrap.wrap(meaning, room) or [""]
            typer.echo(f"{row.name:<{width}}  {lines[0]}")
            typer.echo("".join(f"{' ' * (width + 2)}{line}\n" for line in lines[1:]), nl=False)
        else:
            lines = textwrap.wrap(meaning, max(columns - 4, 20))
            typer.echo(row.name + "".join(f"\n    {line}" for line in lines))


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
