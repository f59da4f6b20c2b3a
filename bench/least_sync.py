"""The least any ``sync`` does with the tool's libraries, for ``bench/startup.py`` to measure.

    python bench/least_sync.py sync URL --dry-run

A Typer command with two options (parsed as Typer parses them: through pydantic), one pydantic
model validated and one GET through httpx to URL (plain ``http://``: no CA bundle loaded), started
as the tool's console script starts (``entry.py``: the garbage collector off while it starts,
httpx's command-line client and pydantic's plugin search not imported). Everything the tool adds
to this (its settings, state, history, prices, plan and decision) is the idle ``sync``'s margin
over this row.
"""

import gc
import ssl

from amber_tesla_sync.entry import skip_unused_imports

gc.disable()
skip_unused_imports()

import httpx  # noqa: E402 - after the start-up measures, as in entry.py
import pydantic  # noqa: E402
import typer  # noqa: E402

app = typer.Typer()


class Renewables(pydantic.BaseModel):
    renewables: float


@app.command()
def sync(url: str, now: str = typer.Option(""), dry_run: bool = typer.Option(False)) -> None:
    # a TLS context without the CA bundle, as the tool makes for a plain http:// URL
    with httpx.Client(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)) as client:
        (first,) = client.get(url).json()
        Renewables.model_validate(first)


@app.command()
def other() -> None:
    """A second command, so that ``sync`` is named on the command line as the tool's are."""


if __name__ == "__main__":
    app()
