"""``run``: sync now, then every 5 minutes, in the foreground (containers and supervisors);
``run --health``: whether those runs keep working (the container image's HEALTHCHECK)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import State, app, examples, state


@app.command(
    "run",
    epilog=examples(
        "amber-tesla-sync run            # the container image's command",
        "amber-tesla-sync run --health   # exit 0 while the runs keep working, else 12",
    ),
)
def run_command(
    ctx: typer.Context,
    health: Annotated[
        bool,
        typer.Option(
            "--health",
            help="Check the record the running schedule keeps instead: exit 12 after 3 failed "
            "runs in a row, or 30 minutes without a successful one.",
        ),
    ] = False,
    every: Annotated[
        float, typer.Option("--every", min=0.5, hidden=True, help="Seconds between runs (tests).")
    ] = 300.0,
) -> None:
    """Sync now, then every 5 minutes, in the foreground (for containers and supervisors)."""
    if health:
        _check_health()
        return
    import signal

    from amber_tesla_sync import __version__
    from amber_tesla_sync.schedule import running_program
    from amber_tesla_sync.schedule.foreground import (
        OFFSET_SECONDS,
        Foreground,
        Lines,
        Stop,
        SyncProcess,
    )
    from amber_tesla_sync.schedule.run_health import HealthBook, health_path

    run = state(ctx)
    argv = [*running_program(), *_passed_on(ctx, run), "sync"]
    lines = Lines()

    def say(text: str) -> None:
        lines.write(sys.stderr, f"run: {text}")

    book = HealthBook(health_path(), say)
    book.start()
    when = "every 5 minutes (hh:00:30, hh:05:30, …)" if every == 300 else f"every {every:g} s"
    say(f"amber-tesla-sync {__version__}: sync now, then {when}; SIGTERM or Ctrl-C stops")
    stop = Stop()
    loop = Foreground(
        start=lambda: SyncProcess(argv, lines, sys.stdout, sys.stderr),
        say=say,
        record=book.record,
        stop=stop,
        period=every,
        offset=OFFSET_SECONDS,
    )
    with stop.handling():
        loop.run()
    name = signal.Signals(stop.signal).name if stop.signal else "a signal"
    say(f"stopped by {name}")
    if stop.signal == signal.SIGINT:
        raise typer.Exit(130)  # ExitCode.INTERRUPTED, as for any command


def _passed_on(ctx: typer.Context, run: State) -> list[str]:
    """The global options each ``sync`` gets: ``--config`` as given, ``-v``, ``-q``."""
    words: list[str] = []
    config = ctx.find_root().params.get("config")
    if isinstance(config, Path):
        words += ["--config", str(config.expanduser().absolute())]
    words += ["-v"] * run.verbose
    if run.quiet:
        words.append("-q")
    return words


def _check_health() -> None:
    import datetime as dt

    from amber_tesla_sync.errors import ExitCode
    from amber_tesla_sync.schedule.run_health import health_path, load, verdict

    path = health_path()
    record = load(path)
    ok, why = verdict(record, dt.datetime.now(dt.UTC))
    typer.echo(f"{'healthy' if ok else 'unhealthy'}: {why}")
    if ok:
        return
    if record is None:
        hint = (
            f"start `amber-tesla-sync run` with the same state directory: it keeps its record "
            f"in {path}"
        )
    else:
        hint = (
            "read the log of `amber-tesla-sync run` (`docker logs` or `podman logs` for a "
            "container) for the failing runs' errors; `amber-tesla-sync doctor` checks the set-up"
        )
    typer.echo(f"  what to do: {hint}")
    raise typer.Exit(int(ExitCode.CHECKS_FAILED))
