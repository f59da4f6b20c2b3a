"""``completion bash|zsh|fish``: the shell completion script, to source or save."""

from typing import Annotated

import typer

from amber_tesla_sync.cli.app import COMPLETE_VAR, PROG, app, completes, examples

SHELLS = ("bash", "zsh", "fish")


@app.command(
    epilog=examples(
        "amber-tesla-sync completion bash > ~/.local/share/bash-completion/completions/"
        "amber-tesla-sync",
        "amber-tesla-sync completion zsh > ~/.zfunc/_amber-tesla-sync   # fpath+=~/.zfunc",
        "amber-tesla-sync completion fish > ~/.config/fish/completions/amber-tesla-sync.fish",
    )
)
def completion(
    shell: Annotated[
        str,
        typer.Argument(
            help="bash, zsh or fish.", metavar="SHELL", autocompletion=completes(*SHELLS)
        ),
    ],
) -> None:
    """Print the shell completion script for bash, zsh or fish (commands, options, keys)."""
    from amber_tesla_sync.errors import UsageError

    if shell not in SHELLS:
        raise UsageError(f"no completion for the shell {shell!r}", "choose bash, zsh or fish")
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)
    typer.echo(script.rstrip("\n"))
