"""``doctor``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from amber_tesla_sync.cli.app import app, state
from amber_tesla_sync.doctor import run_checks
from amber_tesla_sync.errors import ExitCode


@app.command()
def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool,
        typer.Option("--fix", help="Tighten the modes of the secrets file and the state files."),
    ] = False,
) -> None:
    """Check the configuration, secrets, the tool's own files, Amber, Tesla, the Powerwall's
    mode, the scheduler and the clock; each failure with its fix."""
    console = Console(highlight=False, soft_wrap=True)
    checks = run_checks(state(ctx).config_path, fix=fix)
    for check in checks:
        mark = Text("✓ ", style="green") if check.ok else Text("✗ ", style="bold red")
        console.print(mark + Text(f"{check.name}: {check.detail}"))
        if not check.ok and check.fix:
            console.print(Text(f"    fix: {check.fix}"))
    failed = sum(not check.ok for check in checks)
    console.print(f"{len(checks) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.CHECKS_FAILED))
