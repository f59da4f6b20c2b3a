"""``notify test``: send a test message to every configured notification URL."""

import typer

from amber_tesla_sync.cli.app import JsonOption, app, state
from amber_tesla_sync.errors import ConfigError, NotifyError

notify_app = typer.Typer(help="Notifications: test the configured URLs.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")

TITLE = "amber-tesla-sync: test message"
BODY = "If you can read this, amber-tesla-sync can tell you when something needs you."


@notify_app.command("test")
def test(
    ctx: typer.Context,
    as_json: JsonOption = False,
) -> None:
    """Send a test message to each URL in notify.urls and report each."""
    from amber_tesla_sync.notify.send import send

    config = state(ctx).app().config
    if not config.notify.urls:
        raise ConfigError(
            "no notification URLs are configured (notify.urls)",
            'add them to the config file, e.g. [notify] urls = ["ntfy://ntfy.sh/my-topic"] '
            "(README: Notifications)",
        )
    results = send(config.notify.urls, TITLE, BODY, "info")
    failed = sum(not result.ok for result in results)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        rows = [{"url": r.url, "ok": r.ok, "detail": r.detail} for r in results]
        emit("notify test", {"results": rows, "failed": failed})
    else:
        for result in results:
            typer.echo(f"{'✓' if result.ok else '✗'} {result.url}: {result.detail}")
        typer.echo(f"{len(results) - failed} sent, {failed} failed")
    if failed:
        raise NotifyError(
            f"{failed} of {len(results)} notification URLs did not take the test message",
            "check the URLs marked ✗ (their form is in the Apprise wiki) and that this machine "
            "can reach those services",
        )
