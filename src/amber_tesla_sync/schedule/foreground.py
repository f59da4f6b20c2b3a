"""``amber-tesla-sync run``: ``sync`` now, then every 5 minutes, in the foreground.

For a container (the image's ``CMD``) or a supervisor (s6, runit, supervisord) where no systemd
timer or cron runs. It keeps the timer's schedule: the first run at start, then at the timer's
times (``OnCalendar=*:0/5:30``: 30 s past every multiple of 5 minutes, :func:`next_run`), never
two at once (a run still going when its time comes is followed by the next time after it ends,
as the timer does), and a run still going after :data:`RUN_LIMIT_SECONDS` (the units'
``TimeoutStartSec=4min``) is stopped.

Each run is its own ``sync`` process: a crash or a failure ends that run only, and whatever the
run used goes back to the system when it exits. Each line it prints reaches this process's
standard output or error (the same stream) with the time in front (:func:`stamped`), which is
what a container log needs; this loop's own lines go to standard error.

SIGTERM or SIGINT stops the schedule: a running ``sync`` is sent SIGINT (it stops at once,
as after Ctrl-C, exit 130), given :data:`GRACE_SECONDS`, then killed; the whole stop takes less
than 2 s. Each run's result goes to the health record (:mod:`.run_health`).

:class:`Foreground` is the loop, with its clock, its ``sync`` starter and its record passed in
(tests pass fakes); :class:`SyncProcess` is the real ``sync``; :func:`next_run` and
:func:`stamped` are pure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol, TextIO

PERIOD_SECONDS = 300.0  # every 5 minutes ...
OFFSET_SECONDS = 30.0  # ... 30 s past the boundary, once Amber has published the new price
RUN_LIMIT_SECONDS = 240.0  # as the units' TimeoutStartSec=4min
GRACE_SECONDS = 1.2  # a stopped run's sync gets this long to end after SIGINT
KILL_WAIT_SECONDS = 0.5  # and this long to be gone after SIGKILL
POLL_SECONDS = 0.1  # how often the loop looks at the run and at the stop flag
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


# pure


def next_run(now: float, period: float = PERIOD_SECONDS, offset: float = OFFSET_SECONDS) -> float:
    """The first moment strictly after ``now`` (seconds since the epoch) that lies ``offset``
    seconds past a multiple of ``period``: with the defaults, hh:00:30, hh:05:30, … (every time
    zone in use is a whole number of 5 minutes off UTC, so these are the local times too)."""
    offset %= period
    return math.floor((now - offset) / period) * period + offset + period


def stamped(line: str, moment: dt.datetime) -> str:
    """``line`` with ``moment`` in front (ISO 8601 to the second, with its UTC offset)."""
    return f"{moment.isoformat(timespec='seconds')} {line}"


def exit_code(returncode: int) -> int:
    """A process's exit code as a shell shows it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def describe(code: int) -> str:
    if code > 128 and code - 128 in signal.valid_signals():
        return f"was ended by {signal.Signals(code - 128).name} (exit code {code})"
    return f"exited with code {code}"


# the pieces the loop is given


class Clock(Protocol):
    def time(self) -> float: ...  # the wall clock: the schedule
    def monotonic(self) -> float: ...  # durations: a run's time limit, the grace
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Child(Protocol):
    """One ``sync`` being run."""

    def poll(self) -> int | None: ...  # its exit code once it ended (negative: a signal)
    def interrupt(self) -> None: ...  # SIGINT
    def kill(self) -> None: ...
    def close(self) -> None: ...  # after it ended: the last of its output passed on


@dataclass
class Stop:
    """What the signal handlers set: the signal that asked the schedule to stop."""

    signal: int | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def __call__(self, signum: int, frame: object = None) -> None:
        self.signal = signum  # only a flag: the loop acts on it within POLL_SECONDS

    @contextlib.contextmanager
    def handling(self, signals: Sequence[int] = STOP_SIGNALS) -> Iterator[Stop]:
        """This object handles ``signals`` inside the block (the old handlers come back)."""
        previous = {signum: signal.signal(signum, self) for signum in signals}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@dataclass(frozen=True)
class Ran:
    """How one run ended: its exit code (None: stopped at its time limit, or never started)."""

    code: int | None
    seconds: float
    detail: str


@dataclass
class Foreground:
    """The loop: a run now, then one at each :func:`next_run`, until :attr:`stop` is set."""

    start: Callable[[], Child]
    say: Callable[[str], None]
    record: Callable[[int | None], None]  # each finished run's exit code, as it ends
    stop: Stop = field(default_factory=Stop)
    clock: Clock = field(default_factory=SystemClock)
    period: float = PERIOD_SECONDS
    offset: float = OFFSET_SECONDS
    limit: float = RUN_LIMIT_SECONDS
    grace: float = GRACE_SECONDS

    def run(self) -> None:
        while not self.stop.requested:
            ran = self.run_once()
            if ran is None:  # stopped while it ran
                return
            self.record(ran.code)
            at = next_run(self.clock.time(), self.period, self.offset)
            shown = time.strftime("%H:%M:%S", time.localtime(at))
            self.say(f"sync {ran.detail} after {ran.seconds:.1f} s; next run at {shown}")
            self.wait_until(at)

    def wait_until(self, moment: float) -> None:
        while not self.stop.requested:
            left = moment - self.clock.time()
            if left <= 0:
                return
            self.clock.sleep(min(left, POLL_SECONDS))

    def run_once(self) -> Ran | None:
        """One ``sync``, to its end; None when the schedule was stopped meanwhile."""
        begun = self.clock.monotonic()
        try:
            child = self.start()
        except OSError as error:
            return Ran(None, 0.0, f"could not be started ({error.strerror or error})")
        try:
            while (returncode := child.poll()) is None:
                if self.stop.requested:
                    self.end(child)
                    return None
                if self.clock.monotonic() - begun >= self.limit:
                    self.end(child)
                    detail = f"was still running after {self.limit:.0f} s and was stopped"
                    return Ran(None, self.clock.monotonic() - begun, detail)
                self.clock.sleep(POLL_SECONDS)
        finally:
            child.close()
        code = exit_code(returncode)
        return Ran(code, self.clock.monotonic() - begun, describe(code))

    def end(self, child: Child) -> None:
        """SIGINT, :attr:`grace` to end, then SIGKILL; returns once it has ended (or, should
        it not even die, after :data:`KILL_WAIT_SECONDS`: the init process reaps it then)."""
        child.interrupt()
        deadline = self.clock.monotonic() + self.grace
        while child.poll() is None and self.clock.monotonic() < deadline:
            self.clock.sleep(POLL_SECONDS / 4)
        if child.poll() is None:
            child.kill()
            deadline = self.clock.monotonic() + KILL_WAIT_SECONDS
            while child.poll() is None and self.clock.monotonic() < deadline:
                self.clock.sleep(POLL_SECONDS / 10)


# the real sync and the stamped output


class Lines:
    """Writes whole lines, stamped with the time, to the streams of this process (from several
    threads); output that cannot be written (a closed stream) is dropped, never fatal."""

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self.now = now or (lambda: dt.datetime.now().astimezone())
        self.lock = threading.Lock()

    def write(self, stream: TextIO, line: str) -> None:
        text = stamped(line, self.now()) + "\n"
        with self.lock, contextlib.suppress(OSError, ValueError):
            stream.write(text)
            stream.flush()

    def pump(self, source: IO[bytes], stream: TextIO) -> None:
        """Every line read from ``source`` until it closes, onto ``stream``."""
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(source.readline, b""):
                self.write(stream, raw.decode("utf-8", "replace").rstrip("\r\n"))


class SyncProcess:
    """``argv`` (one ``sync``) in its own session, so that a terminal's Ctrl-C reaches only the
    loop, which passes it on; its output lines stamped onto ``stdout`` and ``stderr``."""

    def __init__(self, argv: Sequence[str], lines: Lines, stdout: TextIO, stderr: TextIO) -> None:
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is printed
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.pumps = [
            threading.Thread(target=lines.pump, args=(source, stream), daemon=True)
            for source, stream in ((self.process.stdout, stdout), (self.process.stderr, stderr))
        ]
        for pump in self.pumps:
            pump.start()

    def poll(self) -> int | None:
        return self.process.poll()

    def interrupt(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close(self) -> None:
        for pump in self.pumps:  # the pipes close as sync exits (unless it left a child)
            pump.join(timeout=0.2)
