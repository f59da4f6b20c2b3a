"""User-facing errors and the documented exit codes.

Every error a user can meet is an :class:`AppError`: it carries what happened, what to do next,
and the exit code the CLI ends with. The CLI prints it without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

_scrub: list[Callable[[str], str]] = []  # set by support.redact: every secret the tool holds


def scrub_with(scrub: Callable[[str], str]) -> None:
    """Every AppError's message and hint pass through ``scrub`` from now on (support.redact
    registers its known-secrets redaction here, so a server's text that echoes a secret is
    redacted wherever the error goes: output, logs, history, state, notifications)."""
    _scrub[:] = [scrub]


def _scrubbed(text: str) -> str:
    return _scrub[0](text) if _scrub and text else text


class ExitCode(IntEnum):
    """Exit codes of ``amber-tesla-sync`` (documented in the README)."""

    OK = 0
    INTERNAL = 1  # a bug: an unexpected error (run with -v for the traceback)
    USAGE = 2  # bad command-line usage
    CONFIG = 3  # the configuration file is missing, unreadable or invalid
    BAD_DATA = 4  # price data unreadable or malformed
    REFUSED = 5  # the tariff was refused: too much price data missing
    AUTH = 6  # not logged in, or a token/key was rejected: log in again
    SECRETS = 7  # the secret store is unavailable or read-only
    SERVICE = 8  # Amber or Tesla unavailable, rate-limited or refused a command
    SCHEDULER = 9  # the timer or cron entry could not be installed, removed or checked
    BUSY = 10  # another sync is running
    VERIFY = 11  # the tariff read back from the Powerwall is not the one pushed
    CHECKS_FAILED = 12  # doctor found a problem
    CLOCK = 13  # the system clock disagrees with Amber's and Tesla's servers: nothing was pushed
    LOCAL_FILES = 14  # a file or directory of the tool cannot be read or written (permissions)
    DISK_FULL = 15  # no space left on the device holding the tool's files
    TIME_ZONE = 16  # the site's time zone is unknown here or cannot be used for a tariff
    NOTIFY = 17  # notify test: a notification could not be delivered
    OUT_OF_MEMORY = 18  # the process ran out of memory (the system's, or a limit set on it)
    INTERRUPTED = 130  # Ctrl-C or SIGINT (128 + the signal's number, as shells report it)


class AppError(Exception):
    """An error with a message for the user, a next step and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        message = _scrubbed(message)
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else _scrubbed(hint)

    @property
    def first_line(self) -> str:
        return self.message.splitlines()[0] if self.message else ""


class ConfigError(AppError):
    exit_code = ExitCode.CONFIG


class DataError(AppError):
    exit_code = ExitCode.BAD_DATA


class UsageError(AppError):
    exit_code = ExitCode.USAGE


class RefusedError(AppError):
    exit_code = ExitCode.REFUSED


class AuthError(AppError):
    exit_code = ExitCode.AUTH


class SecretsError(AppError):
    exit_code = ExitCode.SECRETS


class ServiceError(AppError):
    exit_code = ExitCode.SERVICE


class UnavailableError(ServiceError):
    """The service could not serve the request (a server error, a timeout, a dropped connection,
    billing off, rate-limited): another route to the same Powerwall may still work."""


class NotifyError(AppError):
    exit_code = ExitCode.NOTIFY


class SchedulerError(AppError):
    exit_code = ExitCode.SCHEDULER


class BusyError(AppError):
    exit_code = ExitCode.BUSY


class VerifyError(AppError):
    exit_code = ExitCode.VERIFY


class ClockError(AppError):
    exit_code = ExitCode.CLOCK


class LocalFileError(AppError):
    exit_code = ExitCode.LOCAL_FILES


class DiskFullError(AppError):
    exit_code = ExitCode.DISK_FULL


class TimeZoneError(AppError):
    exit_code = ExitCode.TIME_ZONE


OUT_OF_MEMORY = (
    "ran out of memory: the system, or a memory limit set on this process, refused more, and "
    "the command stopped where it was"
)
OUT_OF_MEMORY_HINT = (
    "free some memory (stop other programs), or raise the limit: the service's MemoryMax= "
    "(systemd), `ulimit -v`, or the container's memory limit; then run it again. If it happens "
    "with plenty of memory free, run it again with -v and report it"
)


class OutOfMemoryError(AppError):
    """The process ran out of memory: no bug of the tool's, but the machine's or a limit's set
    on the process (systemd's ``MemoryMax=``, ``ulimit -v``, a container's limit)."""

    exit_code = ExitCode.OUT_OF_MEMORY

    def __init__(self) -> None:
        super().__init__(OUT_OF_MEMORY, OUT_OF_MEMORY_HINT)
