"""``demo``: the whole job against the built-in sandbox, leaving no trace."""

import typer

from amber_tesla_sync.cli.app import app


@app.command()
def demo() -> None:
    """Log in, sync, show status and history against the built-in sandbox (no accounts)."""
    from rich.console import Console

    from amber_tesla_sync.demo import run_demo

    code = run_demo(Console(highlight=False))
    if code:
        raise typer.Exit(code)
