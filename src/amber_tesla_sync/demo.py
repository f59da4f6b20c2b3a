"""``demo``: the whole job against the built-in sandbox, in a throwaway directory.

Logs in with the sandbox's own credentials, runs ``sync``, then shows ``status`` and
``history``. Nothing touches the user's real config, state or keyring: everything lives in a
temporary directory (file secret store) that is removed at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from amber_tesla_sync.accounts.amber import login_amber
from amber_tesla_sync.accounts.teslemetry import login_teslemetry
from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.render.history_view import render_history
from amber_tesla_sync.render.status_view import render_status
from amber_tesla_sync.render.sync_view import sync_lines
from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.status.gather import gather
from amber_tesla_sync.status.history import site_histories
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.paths import STATE_ENV
from amber_tesla_sync.store.state import load_state
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SyncOptions, worst
from amber_tesla_sync.sync.run_all import sync_all
from amber_tesla_sync.sync.targets import targets


class _QuietUi:
    """Answers nothing (the demo passes everything explicitly) and prints what it is told."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def say(self, text: str) -> None:
        self.console.print(text, markup=False)

    def secret(self, prompt: str) -> str:
        raise UsageError("the demo asked for a secret", "this is a bug in the demo")

    def text(self, prompt: str) -> str:
        raise UsageError("the demo asked a question", "this is a bug in the demo")

    def choose(self, title: str, options: Sequence[str]) -> int:
        return 0

    @contextlib.contextmanager
    def waiting(self, message: str) -> Iterator[None]:
        yield


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(sandbox: Sandbox) -> str:
    return f"""[amber]
base_url = "{sandbox.amber_base_url}"

[tesla]
authorize_url = "{sandbox.authorize_url}"
token_url = "{sandbox.token_url}"
fleet_api_url = "{sandbox.fleet_na_base_url}"
teslemetry_url = "{sandbox.teslemetry_base_url}"
redirect_uri = "{sandbox.credentials.redirect_uri}"

[secrets]
store = "file"
"""


@contextlib.contextmanager
def _environment(state: Path) -> Iterator[None]:
    saved = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(state)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(STATE_ENV, None)
        else:
            os.environ[STATE_ENV] = saved


def run_demo(console: Console, seed: int = 2) -> int:
    """Run the demo; returns the sync's exit code."""
    with (
        tempfile.TemporaryDirectory(prefix="amber-tesla-sync-demo-") as workdir,
        Sandbox(seed=seed, callback_port=_free_port(), partner_registered=True) as sandbox,
        _environment(Path(workdir) / "state"),
    ):
        config_path = Path(workdir) / "config.toml"
        config_path.write_text(_config(sandbox), encoding="utf-8")
        ctx = AppContext(load_config(config_path, environ={}))  # the sandbox's, not the env's
        ui = _QuietUi(console)
        credentials = sandbox.credentials
        console.print(Rule("amber-tesla-sync demo"))
        console.print(
            f"Against the built-in sandbox at {sandbox.base_url}: simulated Amber prices and a "
            f"simulated Powerwall. No account is used and nothing leaves this machine; settings "
            f"and secrets live in {workdir}, removed at the end.",
            markup=False,
        )
        console.print(Rule("login amber, login teslemetry"))
        ui.say(login_amber(ctx, credentials.amber_token, sandbox.amber_site_id, ui).summary)
        ui.say(login_teslemetry(ctx, credentials.teslemetry_token, None, ui).summary)
        console.print(Rule("sync"))
        now = dt.datetime.now(dt.UTC)
        chosen = targets(ctx.config)
        outcomes, tesla = sync_all(ctx, chosen, now, SyncOptions())
        requests = dict(tesla.connection.requests) if tesla is not None else {}
        for line in sync_lines(outcomes, requests, dry_run=False):
            console.print(line, markup=False)
        console.print(Rule("sync again (nothing changed: no Tesla request)"))
        again, tesla = sync_all(ctx, chosen, now, SyncOptions())
        requests = dict(tesla.connection.requests) if tesla is not None else {}
        for line in sync_lines(again, requests, dry_run=False):
            console.print(line, markup=False)
        console.print(Rule("status"))
        for target in chosen:
            render_status(console, gather(ctx, target, now), now)
        console.print(Rule("history"))
        since = now - dt.timedelta(days=1)
        render_history(console, site_histories(History(), load_state(), chosen, since), since)
        stored = sandbox.stored_tariff()
        console.print(
            f"The simulated Powerwall now runs tariff {stored.get('code')!r} with "
            f"{len(stored['energy_charges']['Summer']['rates'])} half-hour rates.",
            markup=False,
        )
        return int(worst(outcomes + again))
