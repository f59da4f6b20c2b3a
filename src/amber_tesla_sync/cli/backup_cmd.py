"""``backup``: copy the history database and the state file, safely while syncs run."""

from pathlib import Path
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import app, examples, state


@app.command(
    epilog=examples(
        "amber-tesla-sync backup ~/backups/amber-tesla-sync",
        "amber-tesla-sync backup /mnt/usb/amber --force",
    )
)
def backup(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Where the copies go (made if missing)."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace copies already in DIR.")] = False,
) -> None:
    """Copy the history database (consistently, even while a sync writes) and the state file
    into DIR. The secrets and the settings file are not copied."""
    from rich.console import Console
    from rich.text import Text

    from amber_tesla_sync.store.backup import back_up
    from amber_tesla_sync.store.paths import state_dir
    from amber_tesla_sync.sync.context import SECRETS_FILE

    run = state(ctx)
    folder = state_dir()
    done = back_up(folder, directory, replace=force)
    console = Console(highlight=False, soft_wrap=True)
    for copied in done:
        if copied.copy is None:
            console.print(Text(f"no {copied.what} yet ({copied.source}): nothing to copy"))
        else:
            console.print(Text(f"copied the {copied.what} {copied.source} → {copied.copy}"))
    loaded = run.config()
    secrets = (
        f"the secrets file {loaded.path.parent / SECRETS_FILE}"
        if loaded.config.secrets.store == "file"
        else "the secrets in the OS keyring"
    )
    console.print(
        Text(
            f"not copied: {secrets} (log in again where you restore) and the settings file "
            f"{run.config_path} (copy it yourself if you keep it)"
        )
    )
    console.print(
        Text(
            f"to restore: stop the timer, remove history.sqlite3-wal and -shm in {folder} if "
            "any, copy both files back there, then run `amber-tesla-sync doctor`"
        )
    )
