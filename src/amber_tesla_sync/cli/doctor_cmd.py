"""``doctor``."""

from typing import Annotated

import typer

from amber_tesla_sync.cli.app import JsonOption, app, examples, state


@app.command(epilog=examples("amber-tesla-sync doctor", "amber-tesla-sync doctor --json"))
def doctor(
    ctx: typer.Context,
    as_json: JsonOption = False,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Tighten the modes of the secrets file, the state files and a config file "
            "holding notification URLs.",
        ),
    ] = False,
) -> None:
    """Check the configuration, secrets, the tool's own files, Amber, each Tesla backend, whether
    the Powerwall can follow the tariff, notifications, the scheduler and the clock; each failure
    with its fix."""
    from amber_tesla_sync.doctor.checks import run_checks
    from amber_tesla_sync.errors import ExitCode

    run = state(ctx)
    if run.explicit:
        run.config()  # a --config that does not exist is an error, not a check
    checks = run_checks(run.config_path, fix=fix)
    failed = sum(not check.ok for check in checks)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        emit(
            "doctor",
            {
                "ok": not failed,
                "checks": [check.to_json() for check in checks],
                "passed": len(checks) - failed,
                "failed": failed,
            },
        )
    else:
        from rich.console import Console
        from rich.text import Text

        console = Console(highlight=False, soft_wrap=True)
        for check in checks:
            mark = Text("✓ ", style="green") if check.ok else Text("✗ ", style="bold red")
            console.print(mark + Text(f"{check.name}: {check.detail}"))
            if not check.ok and check.fix:
                console.print(Text(f"    fix: {check.fix}"))
        console.print(f"{len(checks) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.CHECKS_FAILED))
