"""The console script's entry point: the command line, started without the cyclic collector.

A run is short (a timer starts ``sync`` every five minutes) and most of its start-up is imports,
which make many long-lived objects and almost no garbage cycles; the cyclic garbage collector
would walk them over and over (about a tenth of an idle ``sync``'s CPU time, measured by
``bench/startup.py``). So collection is off while the command starts, and back on after
:data:`START_UP_SECONDS`: a long command (the sandbox, a login waiting for the browser, a
report) collects as usual. Reference counting frees everything else at once either way.
"""

from __future__ import annotations

import gc
import threading

START_UP_SECONDS = 1.0


def main() -> None:
    gc.disable()
    timer = threading.Timer(START_UP_SECONDS, gc.enable)
    timer.daemon = True  # never keeps a finished command waiting
    timer.start()
    from amber_tesla_sync.cli import main as run

    run()
