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
  ``PYDANTIC_DISABLE_PLUGINS`` is already set: set it empty to have plugins again), and so is
  the import of the module that would search (``importlib.metadata``, about 5 ms): pydantic is
  given one that finds no plugins.

Running out of memory is no bug of the tool's: wherever it happens, the command ends with one
message saying so and what to do, and exit code 18 (:func:`out_of_memory`). It is reported here,
outermost, once every frame that held the memory has been let go.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import types
from typing import NoReturn

from amber_tesla_sync.errors import OUT_OF_MEMORY, OUT_OF_MEMORY_HINT, ExitCode

START_UP_SECONDS = 1.0
UNUSED_MODULES = ("httpx._main",)
PLUGIN_LOADER = "pydantic.plugin._loader"  # pydantic's search for plugins (importlib.metadata)
VERBOSE = ("-v", "-vv", "-vvv", "--verbose")
# written as it is when even the usual report cannot be made (made now, while memory is free)
OUT_OF_MEMORY_TEXT = (
    f"amber-tesla-sync: error: {OUT_OF_MEMORY}\n  what to do: {OUT_OF_MEMORY_HINT}\n"
).encode()


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED_MODULES` absent (an import of one raises ImportError), and switch off
    pydantic's search for plugins."""
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    if "PYDANTIC_DISABLE_PLUGINS" not in os.environ:
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
        sys.modules.setdefault(PLUGIN_LOADER, no_plugins())


def no_plugins() -> types.ModuleType:
    """A stand-in for pydantic's plugin loader that finds none (as the real one does when
    ``PYDANTIC_DISABLE_PLUGINS`` is ``__all__``), without importing ``importlib.metadata``."""
    loader = types.ModuleType(PLUGIN_LOADER, "No pydantic plugins: the tool's models are its own.")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    return loader


def main() -> None:
    gc.disable()
    timer = threading.Timer(START_UP_SECONDS, gc.enable)
    timer.daemon = True  # never keeps a finished command waiting
    timer.start()
    skip_unused_imports()
    try:
        from amber_tesla_sync.cli import main as run

        run()
    except MemoryError:
        if any(arg in VERBOSE for arg in sys.argv[1:]):
            with contextlib.suppress(MemoryError):
                import traceback

                traceback.print_exc()
    else:
        return
    out_of_memory()  # out of the except clause: the frames of the failed command are gone


def out_of_memory() -> NoReturn:
    """End the command with :class:`~amber_tesla_sync.errors.OutOfMemoryError`'s message and
    exit code; as plain text when even the usual report needs more memory than is left."""
    try:
        from amber_tesla_sync.errors import OutOfMemoryError
        from amber_tesla_sync.render.terminal_ui import report

        report(OutOfMemoryError())
    except MemoryError:
        with contextlib.suppress(OSError):
            os.write(2, OUT_OF_MEMORY_TEXT)
    sys.exit(int(ExitCode.OUT_OF_MEMORY))
