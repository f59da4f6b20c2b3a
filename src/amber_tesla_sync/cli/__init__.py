"""The command line: parse options, call one function, render. No business rules here."""

from __future__ import annotations

import errno
import functools
import sys
from pathlib import Path
from typing import Any

from amber_tesla_sync.cli.app import PROG, app
from amber_tesla_sync.cli.chosen import chosen_app
from amber_tesla_sync.cli.commands import whole_app
from amber_tesla_sync.cli.output import (
    click_exception_class,
    is_broken_pipe,
    loud,
    quiet_broken_pipe,
    usable_streams,
    usage_error,
)
from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.support.files import DISK_FULL, file_error

__all__ = ["main", "whole_app"]


VERBOSE = ("-v", "-vv", "-vvv", "--verbose")
ENVIRONMENT = DISK_FULL | {errno.EACCES, errno.EPERM, errno.EROFS}
GLOBAL_FLAGS = (*VERBOSE, "-q", "--quiet")


def hoist_verbose(arguments: list[str]) -> list[str]:
    """``-v`` and ``-q`` are global options; accept them after the command too (``sync -q``).
    One that stands where an option expects its value (``history --since -v``) is that value,
    and stays where it is."""
    if "--" in arguments:
        return arguments
    hoisted = [
        index
        for index, arg in enumerate(arguments)
        if arg in GLOBAL_FLAGS and not (index and _takes_value(arguments[index - 1]))
    ]
    flags = [arguments[index] for index in hoisted]
    return flags + [arg for index, arg in enumerate(arguments) if index not in hoisted]


def _takes_value(argument: str) -> bool:
    """Whether ``argument`` is an option of some command that takes a value (``--since``)."""
    if not argument.startswith("-") or "=" in argument or argument in GLOBAL_FLAGS:
        return False
    return argument in _value_options()


@functools.cache
def _value_options() -> frozenset[str]:
    """The names of every option of every command that takes a value (built only when a global
    flag follows an option, which is rare)."""
    import typer.main

    names: set[str] = set()
    commands: list[Any] = [typer.main.get_command(whole_app())]
    while commands:  # (read by duck type: some Typer versions carry their own click)
        command = commands.pop()
        commands.extend(getattr(command, "commands", {}).values())
        for param in command.params:
            option = getattr(param, "param_type_name", "") == "option"
            if option and not getattr(param, "is_flag", False) and not getattr(param, "count", 0):
                names.update(param.opts)
    return frozenset(names)


def _report(error: AppError) -> None:
    from amber_tesla_sync.render.terminal_ui import report

    report(error)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code.

    Usage errors and the tool's own errors look alike (``amber-tesla-sync: error: …``, then what
    to do); a closed output pipe ends the run quietly with 0, a closed standard output or an
    encoding without some of the tool's characters does not end it (see :func:`usable_streams`).
    """
    arguments = hoist_verbose(sys.argv[1:] if argv is None else argv)
    usable_streams()
    stdout = sys.stdout
    try:
        code = _run(arguments)
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
        code = 0
    finally:
        if sys.stdout is not stdout:  # -q replaced it
            sys.stdout.close()
            sys.stdout = stdout
        loud()
    sys.exit(code)


def _run(arguments: list[str]) -> int:
    parser_error = click_exception_class()
    try:
        # only the command named is built (see cli/chosen.py)
        result = chosen_app(app, arguments)(args=arguments, prog_name=PROG, standalone_mode=False)
    except AppError as error:
        _report(error)
        return int(error.exit_code)
    except parser_error as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # bare `config`: its help, like --help
            sys.stdout.write(error.format_message() + "\n")  # type: ignore[attr-defined]
            return 0
        _report(usage_error(error))
        return int(ExitCode.USAGE)
    except SystemExit as exit_:
        if is_broken_pipe(exit_.__context__):
            raise BrokenPipeError from None
        raise
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return int(ExitCode.INTERRUPTED)
    except MemoryError:
        raise  # no bug: entry.main reports it, once the frames that held the memory are gone
    except Exception as error:
        if isinstance(error, OSError) and error.errno in ENVIRONMENT:  # a full disk, no access
            _report(file_error(Path(error.filename or "a file"), error, "use"))
            return int(ExitCode.DISK_FULL if error.errno in DISK_FULL else ExitCode.LOCAL_FILES)
        if is_broken_pipe(error):
            raise BrokenPipeError from None
        if type(error).__name__ == "Abort":
            sys.stderr.write("\ninterrupted\n")
            return int(ExitCode.INTERRUPTED)
        # a bug: say so plainly, details with -v
        if any(arg in VERBOSE for arg in arguments):
            import traceback

            traceback.print_exc()
        _report(
            AppError(
                f"unexpected internal error: {type(error).__name__}: {error}",
                "this is a bug; run again with -v for details and report it",
            )
        )
        return int(ExitCode.INTERNAL)
    return result if isinstance(result, int) else 0
