"""``sandbox``: the built-in simulator in the foreground (with ``demo``, the only command that
imports the sandbox)."""

from typing import Annotated

import typer

from amber_tesla_sync.cli.app import app
from amber_tesla_sync.errors import UsageError


@app.command()
def sandbox(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")
    ] = 8787,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the simulated prices.")] = 0,
    callback_port: Annotated[
        int,
        typer.Option(
            "--callback-port",
            min=1,
            max=65535,
            help="Port of the redirect URI the simulated Fleet app accepts "
            "(http://localhost:PORT/callback).",
        ),
    ] = 58585,
) -> None:
    """Run the built-in simulator of Amber, Tesla Fleet and Teslemetry on 127.0.0.1."""
    from amber_tesla_sync.sandbox import serve_forever

    try:
        serve_forever(port, seed=seed, callback_port=callback_port)
    except OSError as error:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror or error})",
            "pick another port with --port (0 picks a free one)",
        ) from None
