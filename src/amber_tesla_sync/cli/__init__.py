"""The command line: parse options, call one function, render. No business rules here."""

from __future__ import annotations

import sys
import traceback

from amber_tesla_sync.cli import (  # noqa: F401 - importing registers the commands
    accounts,
    config_cmds,
    demo_cmd,
    doctor_cmd,
    notify_cmd,
    report_cmd,
    schedule,
    status_cmd,
    sync_cmd,
    tariff,
)
from amber_tesla_sync.cli.app import PROG, app
from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.render.terminal_ui import report

__all__ = ["app", "main"]


VERBOSE = ("-v", "-vv", "-vvv", "--verbose")


def hoist_verbose(arguments: list[str]) -> list[str]:
    """``-v`` is a global option; accept it after the command too (``sync -v``)."""
    flags = [arg for arg in arguments if arg in VERBOSE]
    if "--" in arguments:
        return arguments
    return flags + [arg for arg in arguments if arg not in VERBOSE]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code.

    Usage errors are Typer's own (exit code 2); success and ``typer.Exit`` end in ``SystemExit``.
    """
    arguments = hoist_verbose(sys.argv[1:] if argv is None else argv)
    try:
        app(args=arguments, prog_name=PROG)
    except AppError as error:
        report(error)
        sys.exit(int(error.exit_code))
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        sys.exit(130)
    except Exception as error:  # a bug: say so plainly, details with -v
        if any(arg in VERBOSE for arg in arguments):
            traceback.print_exc()
        report(
            AppError(
                f"unexpected internal error: {type(error).__name__}: {error}",
                "this is a bug; run again with -v for details and report it",
            )
        )
        sys.exit(int(ExitCode.INTERNAL))
