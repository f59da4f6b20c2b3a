"""The systemd units, made here and nowhere else (pure): ``schedule install`` writes them with
``ExecStart=`` pointing at the running program; the repository's ``systemd/`` files are the same
texts with a conventional install path (a test keeps the two identical)."""

from __future__ import annotations

from collections.abc import Sequence

from amber_tesla_sync.errors import SchedulerError
from amber_tesla_sync.schedule.host import (
    PROG,
    REPOSITORY_PROGRAM,
    SERVICE,
    SERVICE_ACCOUNT,
    SYSTEM_CONFIG,
    SYSTEM_STATE_DIR,
    TIMER,
    Variant,
)
from amber_tesla_sync.schedule.unit_templates import (
    SERVICE_HEAD,
    SYSTEM_SERVICE,
    TIMER_TEXT,
    USER_SERVICE,
)


def _flags(variant: Variant) -> dict[str, str]:
    user = variant == "user"
    return {"install_flag": " --user" if user else "", "journal_flag": " --user" if user else ""}


def systemd_word(word: str, program: bool = False) -> str:
    """One ``ExecStart=`` word: ``%`` (specifiers) escaped, and ``$`` (variables) too except in
    the program, which systemd does not expand; quoted when it holds spaces, quotes or
    backslashes."""
    if any(char in word for char in "\n\r\0"):
        raise SchedulerError(
            f"cannot put {word!r} in a unit file: it contains a line break or NUL",
            "move the program or the config file to a path without one",
        )
    if word == ";":
        return "\\;"
    escaped = word.replace("%", "%%")
    if not program:
        escaped = escaped.replace("$", "$$")
    if word and not any(char.isspace() or char in "\"'\\" for char in word):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_command(words: Sequence[str]) -> str:
    """An ``ExecStart=`` value running ``words`` exactly."""
    return " ".join(systemd_word(word, program=index == 0) for index, word in enumerate(words))


def service_unit(variant: Variant, command: str) -> str:
    """The service unit; ``command`` is the ``ExecStart=`` value (see :func:`systemd_command`)."""
    body = SYSTEM_SERVICE if variant == "system" else USER_SERVICE
    head = SERVICE_HEAD.format(**_flags(variant))
    return head + body.format(
        command=command,
        prog=PROG,
        account=SERVICE_ACCOUNT,
        state_dir=SYSTEM_STATE_DIR,
        config=SYSTEM_CONFIG,
    )


def timer_unit(variant: Variant) -> str:
    return TIMER_TEXT.format(**_flags(variant))


def unit_texts(variant: Variant, command: str) -> dict[str, str]:
    """File name → text of the two units."""
    return {SERVICE: service_unit(variant, command), TIMER: timer_unit(variant)}


def repository_units() -> dict[str, str]:
    """The repository's ``systemd/`` files: relative path → text."""
    files: dict[str, str] = {}
    for variant in ("system", "user"):
        command = f"{REPOSITORY_PROGRAM[variant]} sync"
        for name, text in unit_texts(variant, command).items():
            files[f"systemd/{variant}/{name}"] = text
    return files
