"""What the login flows share: the ``Ui`` through which alone they reach the terminal, the result
of a login, and the check that a token or secret was given."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from amber_tesla_sync.errors import UsageError


class Ui(Protocol):
    def say(self, text: str) -> None: ...
    def secret(self, prompt: str) -> str: ...
    def text(self, prompt: str) -> str: ...
    def choose(self, title: str, options: Sequence[str]) -> int: ...
    def waiting(self, message: str) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class LoginResult:
    summary: str


def require(value: str, what: str, option: str = "--token-stdin") -> str:
    value = value.strip()
    if not value:
        raise UsageError(
            f"no {what} given", f"paste the {what} when asked, or pipe it in with {option}"
        )
    return value
