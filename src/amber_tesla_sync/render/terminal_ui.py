"""Asking the user things in a terminal (prompts, choices, a spinner), on stderr."""

from __future__ import annotations

import contextlib
import getpass
import logging
import sys
from collections.abc import Iterator, Sequence

from rich.console import Console

from amber_tesla_sync.errors import AppError, UsageError
from amber_tesla_sync.support.logs import prefixed
from amber_tesla_sync.support.redact import clean

PROG = "amber-tesla-sync"
QUIET = False  # -q: say nothing that is not an error (set by the CLI)


def report(error: AppError) -> None:
    """An error for the user: what happened, then what to do next. No traceback."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    text = f"{PROG}: error: {clean(error.message)}"
    if error.hint:
        text += f"\n  what to do: {clean(error.hint)}"
    err.print(prefixed(text, logging.ERROR), markup=False)


class TerminalUi:
    def __init__(self) -> None:
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def say(self, text: str) -> None:
        if not QUIET:
            self.err.print(text, markup=False)

    def confirm(self, question: str, instead: str) -> bool:
        """A yes/no question on the terminal (default no); without one, a usage error."""
        self._interactive(f"there is no terminal to ask: {question}", instead)
        return self.text(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    def _interactive(self, problem: str, instead: str) -> None:
        if not sys.stdin.isatty():
            raise UsageError(problem, instead)

    def secret(
        self, prompt: str, instead: str = "pipe it in with the command's --*-stdin option"
    ) -> str:
        """A hidden prompt; without a terminal, an error saying what to do ``instead``."""
        self._interactive("a secret is needed, but there is no terminal to ask for it", instead)
        return getpass.getpass(prompt, stream=sys.stderr)

    def text(self, prompt: str) -> str:
        """A line of text: typed at the prompt, or the next line of a piped standard input."""
        self.err.print(prompt, end="", markup=False)
        if sys.stdin.isatty():
            try:
                return input()
            except EOFError:
                line = ""
        else:
            line = sys.stdin.readline()
            self.err.print(markup=False)  # end the prompt's line (nothing was echoed)
        if not line:
            raise UsageError(
                "no answer was given (standard input ended)",
                "run the command again and type or pipe in the answer",
            )
        return line.rstrip("\r\n")

    def choose(self, title: str, options: Sequence[str]) -> int:
        """One of ``options`` (``title`` names them: "Several energy sites"); without a terminal,
        a usage error that lists them."""
        listed = "; ".join(options)
        self._interactive(
            f"{title}, and there is no terminal to ask which one", f"pick one with --site: {listed}"
        )
        self.say(f"{title}; which one?")
        for number, option in enumerate(options, start=1):
            self.say(f"  {number}. {option}")
        while True:
            answer = self.text(f"Choose 1–{len(options)}: ").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1

    @contextlib.contextmanager
    def waiting(self, message: str) -> Iterator[None]:
        """A spinner on a terminal; one line otherwise (nothing with -q)."""
        if QUIET:
            yield
        elif self.err.is_terminal:
            with self.err.status(message):
                yield
        else:
            self.say(message)
            yield
