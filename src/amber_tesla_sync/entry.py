"""The console script's entry point: the command line, started lean.

A run is short (a timer starts ``sync`` every five minutes), and most of its start-up is imports.
Two things make it cheaper (``bench/startup.py`` measures them):

* The cyclic garbage collector is off while the command starts, and back on after
  :data:`START_UP_SECONDS`. Imports make many long-lived objects and almost no garbage cycles,
  and the collector would walk them over and over (about a tenth of an idle ``sync``'s CPU time);
  a long command (the sandbox, a login waiting for the browser, a report) collects as usual.
  Reference counting frees everything else at once either way.
* httpx imports its own command-line client (and with it click, rich and pygments) whenever
  those happen to be installed, as they are next to Apprise. The tool never uses that client;
  marking it absent saves about 40 ms and 5 MB on every command that talks HTTP. httpx treats
  it as not installed (its ``httpx`` command prints that it cannot run), and nothing else
  changes.
* pydantic looks through every installed distribution's entry points for plugins when the first
  model is built. The tool's models are its own, so the search is switched off (unless
  ``PYDANTIC_DISABLE_PLUGINS`` is already set: set it empty to have plugins again).
"""

from __future__ import annotations

import gc
import os
import sys
import threading

START_UP_SECONDS = 1.0
UNUSED_MODULES = ("httpx._main",)


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED_MODULES` absent (an import of one raises ImportError), and switch off
    pydantic's search for plugins."""
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main() -> None:
    gc.disable()
    timer = threading.Timer(START_UP_SECONDS, gc.enable)
    timer.daemon = True  # never keeps a finished command waiting
    timer.start()
    skip_unused_imports()
    from amber_tesla_sync.cli import main as run

    run()
