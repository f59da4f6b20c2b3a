"""``login``, ``logout``, ``keygen`` and ``register``."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from amber_tesla_sync.cli.app import app, completes, examples, state
from amber_tesla_sync.errors import UsageError

if TYPE_CHECKING:
    from amber_tesla_sync.render.terminal_ui import TerminalUi

login_app = typer.Typer(
    help="Log in to Amber, Teslemetry or the Tesla Fleet API.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(login_app, name="login")

TokenStdin = Annotated[
    bool, typer.Option("--token-stdin", help="Read the token from standard input (no prompt).")
]


def _client_secret(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    secret = sys.stdin.readline().strip()
    if not secret:
        raise UsageError(
            "--client-secret-stdin was given but standard input held no client secret",
            "pipe the secret in, e.g. `… --client-secret-stdin < secret-file`",
        )
    return secret


def _secret(from_stdin: bool, prompt: str, ui: "TerminalUi") -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return ui.secret(prompt, "pipe it in with --token-stdin (e.g. `… --token-stdin < token-file`)")


def _ui() -> "TerminalUi":
    from amber_tesla_sync.render.terminal_ui import TerminalUi

    return TerminalUi()


@login_app.command(
    "amber",
    epilog=examples(
        "amber-tesla-sync login amber",
        "amber-tesla-sync login amber --token-stdin < amber-token.txt",
    ),
)
def login_amber(
    ctx: typer.Context,
    token_stdin: TokenStdin = False,
    site: Annotated[
        str | None, typer.Option("--site", help="Amber site id (or NMI) when there are several.")
    ] = None,
) -> None:
    """Save an Amber API token (checked against Amber) and pick the site."""
    from amber_tesla_sync.accounts import amber as flows

    ui = _ui()
    token = _secret(token_stdin, "Amber API token (Amber app → Settings → Developer): ", ui)
    ui.say(flows.login_amber(state(ctx, creates=True).app(), token, site, ui).summary)


@login_app.command("teslemetry")
def login_teslemetry(
    ctx: typer.Context,
    token_stdin: TokenStdin = False,
    site: Annotated[
        int | None, typer.Option("--site", help="Energy site id when there are several.")
    ] = None,
) -> None:
    """Save a Teslemetry token (checked against Teslemetry) and pick the Powerwall."""
    from amber_tesla_sync.accounts import teslemetry as flows

    ui = _ui()
    token = _secret(token_stdin, "Teslemetry access token: ", ui)
    ui.say(flows.login_teslemetry(state(ctx, creates=True).app(), token, site, ui).summary)


@login_app.command("fleet")
def login_fleet(
    ctx: typer.Context,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="Your app's client id (saved in the config).")
    ] = None,
    client_secret_stdin: Annotated[
        bool,
        typer.Option("--client-secret-stdin", help="Read the client secret from standard input."),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser; just print the URL.")
    ] = False,
    paste: Annotated[
        bool,
        typer.Option("--paste", help="Do not listen for the redirect; paste the redirected URL."),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the approval.")
    ] = 300.0,
    site: Annotated[
        int | None, typer.Option("--site", help="Energy site id when there are several.")
    ] = None,
) -> None:
    """Log in to the Tesla Fleet API in the browser (OAuth with PKCE, loopback redirect)."""
    from amber_tesla_sync.accounts import fleet as flows

    ui = _ui()
    secret = _client_secret(client_secret_stdin)
    options = flows.FleetLoginOptions(client_id, secret, not no_browser, paste, timeout, site)
    ui.say(flows.login_fleet(state(ctx, creates=True).app(), options, ui).summary)


SERVICES = ("amber", "teslemetry", "fleet", "all")


@app.command(
    epilog=examples("amber-tesla-sync logout teslemetry", "amber-tesla-sync logout all"),
)
def logout(
    ctx: typer.Context,
    service: Annotated[
        str | None,
        typer.Argument(
            help="amber, teslemetry, fleet, or all (without one: asks first, on a terminal).",
            metavar="[amber|teslemetry|fleet|all]",
            show_default=False,
            autocompletion=completes(*SERVICES),
        ),
    ] = None,
) -> None:
    """Forget saved tokens (the Fleet key pair is kept; `keygen --force` replaces it)."""
    from amber_tesla_sync.accounts import logout as flows

    ui = _ui()
    if service is None:
        question = (
            "Forget every saved token (Amber, Teslemetry, and the Fleet tokens, which take a "
            "browser login to get back)?"
        )
        if not ui.confirm(
            question,
            "say which: `amber-tesla-sync logout amber|teslemetry|"
            "fleet`, or `logout all` to forget every token",
        ):
            ui.say("Nothing removed.")
            return
        service = "all"
    if service not in SERVICES:
        raise UsageError(
            f"there is no service {service!r} to log out of",
            "choose amber, teslemetry, fleet or all",
        )
    done = flows.logout(state(ctx).app(), service)  # type: ignore[arg-type]
    ui.say(f"Removed: {', '.join(done.removed)}." if done.removed else "Nothing to remove.")
    if done.remaining:
        ui.say(
            "Still provided, read-only, outside the secret store: "
            + ", ".join(done.remaining)
            + ". Remove them there to log out completely."
        )


@app.command()
def keygen(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key pair.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="Where to write the public key PEM.")
    ] = None,
) -> None:
    """Make the app's EC key pair (prime256v1) for Tesla's partner registration."""
    from amber_tesla_sync.accounts import registration as flows
    from amber_tesla_sync.tesla.keys import WELL_KNOWN_PATH

    app_ctx = state(ctx).app()
    public, path = flows.keygen(app_ctx, force, output)
    ui = _ui()
    ui.say(f"Private key saved in {app_ctx.store.backend.description}.")
    ui.say(f"Public key written to {path}. Serve it, unchanged, at")
    ui.say(f"  https://YOUR_DOMAIN{WELL_KNOWN_PATH}")
    ui.say("then run `amber-tesla-sync register --domain YOUR_DOMAIN`.")
    sys.stdout.write(public)


@app.command()
def register(
    ctx: typer.Context,
    domain: Annotated[str, typer.Option("--domain", help="The domain serving your public key.")],
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="Your app's client id (default: the saved one)."),
    ] = None,
    client_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--client-secret-stdin",
            help="Read the client secret from standard input (default: the saved one).",
        ),
    ] = False,
) -> None:
    """Register this app's partner account with Tesla (once per region) and check the key."""
    from amber_tesla_sync.accounts import registration as flows

    ui = _ui()
    secret = _client_secret(client_secret_stdin)
    ui.say(flows.register(state(ctx, creates=True).app(), domain, ui, client_id, secret))
