"""The health record of ``amber-tesla-sync run`` and the rule ``run --health`` applies to it.

``run`` keeps ``run-health.json`` in the state directory: when the schedule started, how many
runs in a row failed, the last run and the last success, and the last run's exit code. Nothing
secret: times and numbers only. A run succeeds when ``sync`` exits 0 or 5 (a refusal: the tool
works, Amber's data did not deserve a push, and the Powerwall keeps its tariff; ``sync`` tells of
a long refusal itself), the same as the healthcheck ping; exit 10 (another ``sync`` was running,
one started by hand) counts neither way; any other exit, a crash, a run killed after its time
limit or a ``sync`` that could not be started is a failure.

The rule (:func:`verdict`): unhealthy when there is no record (``run`` never started with this
state directory), when :data:`MAX_FAILURES` runs in a row failed, or when no run succeeded for
:data:`MAX_SILENCE` since the later of the schedule's start and its last success (a hung or
stopped schedule, or one that fails every other run for half an hour). A restart keeps the count
and the last success, and gives the new process the same grace from its start.

The rule and the record's changes are pure; :func:`load` and :func:`save` do the I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.support.files import atomic_write_text

HEALTH_FILE = "run-health.json"
MAX_FAILURES = 3
MAX_SILENCE = dt.timedelta(minutes=30)
PASSING = frozenset({0, 5})  # OK, REFUSED (as the healthcheck ping counts them)
NEUTRAL = frozenset({10})  # BUSY: another sync was running


@dataclass(frozen=True)
class Health:
    """What ``run`` remembers of its runs (the whole of ``run-health.json``)."""

    started: dt.datetime
    consecutive_failures: int = 0
    runs: int = 0
    last_run: dt.datetime | None = None
    last_exit_code: int | None = None
    last_success: dt.datetime | None = None

    def to_json(self) -> dict[str, object]:
        def shown(value: object) -> object:
            return value.isoformat() if isinstance(value, dt.datetime) else value

        return {key: shown(value) for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: object) -> Health | None:
        """The record in ``data``, or None when it is not one (damaged, another shape)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                started=_moment(data["started"]),
                consecutive_failures=int(data.get("consecutive_failures", 0)),
                runs=int(data.get("runs", 0)),
                last_run=_maybe_moment(data.get("last_run")),
                last_exit_code=_maybe_int(data.get("last_exit_code")),
                last_success=_maybe_moment(data.get("last_success")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _moment(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError(value)
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def _maybe_moment(value: object) -> dt.datetime | None:
    return None if value is None else _moment(value)


def _maybe_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


# pure


def started(previous: Health | None, now: dt.datetime) -> Health:
    """The record of a schedule starting at ``now``: the count and the last success kept."""
    if previous is None:
        return Health(started=now)
    return replace(previous, started=now)


def after_run(health: Health, code: int | None, at: dt.datetime) -> Health:
    """The record after a run that ended at ``at`` with exit ``code`` (None: it never ended by
    itself, or could not be started)."""
    ran = replace(health, runs=health.runs + 1, last_run=at, last_exit_code=code)
    if code in PASSING:
        return replace(ran, consecutive_failures=0, last_success=at)
    if code in NEUTRAL:
        return ran
    return replace(ran, consecutive_failures=health.consecutive_failures + 1)


def verdict(health: Health | None, now: dt.datetime) -> tuple[bool, str]:
    """Whether the schedule is healthy at ``now``, and one line saying why."""
    if health is None:
        return False, "no scheduled run recorded yet (is `amber-tesla-sync run` running?)"
    last = f"the last ended with exit code {health.last_exit_code}"
    if health.consecutive_failures >= MAX_FAILURES:
        return False, f"the last {health.consecutive_failures} runs failed; {last}"
    since = max(health.started, health.last_success or health.started)
    quiet = now - since
    if quiet > MAX_SILENCE:
        where = "the schedule's start" if since == health.started else "the last success"
        return False, f"no successful run for {_minutes(quiet)} (since {where}); {last}"
    if health.last_success is None:
        if health.runs == 0:
            return True, "started; the first run has not ended yet"
        return True, f"no run succeeded yet ({health.consecutive_failures} failed)"
    failing = (
        f"; the last {health.consecutive_failures} failed" if health.consecutive_failures else ""
    )
    return True, f"last success {_minutes(now - health.last_success)} ago{failing}"


def _minutes(span: dt.timedelta) -> str:
    minutes = int(max(span.total_seconds(), 0) // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


# I/O


def health_path(directory: Path | None = None) -> Path:
    return (directory or state_dir()) / HEALTH_FILE


def load(path: Path) -> Health | None:
    """The record at ``path``; None when there is none or it cannot be read as one."""
    try:
        return Health.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def save(path: Path, health: Health) -> None:
    atomic_write_text(path, json.dumps(health.to_json(), indent=2) + "\n", mode=0o600)


class HealthBook:
    """The record on disk as ``run`` keeps it: :meth:`start` when the schedule starts,
    :meth:`record` after each run. A record that cannot be written is told through ``say`` and
    never stops the schedule (``sync`` itself fails then, and says why)."""

    def __init__(
        self,
        path: Path,
        say: Callable[[str], None],
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.path = path
        self.say = say
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.health: Health | None = None  # until start()

    def start(self) -> None:
        self.health = started(load(self.path), self.now())
        self._save()

    def record(self, code: int | None) -> None:
        moment = self.now()
        self.health = after_run(self.health or Health(started=moment), code, moment)
        self._save()

    def _save(self) -> None:
        assert self.health is not None
        try:
            save(self.path, self.health)
        except OSError as error:
            self.say(f"the health record {self.path} cannot be written ({error.strerror or error})")


STALE_AFTER = dt.timedelta(minutes=15)  # three missed runs: `run` is no longer running


def run_status(path: Path | None = None, now: dt.datetime | None = None) -> tuple[bool, str] | None:
    """For ``doctor``'s scheduler check: ``amber-tesla-sync run`` as the schedule (a container's
    command), judged by its record; None when it never ran with this state directory."""
    health = load(path or health_path())
    if health is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    last = max(health.started, health.last_run or health.started)
    if now - last > STALE_AFTER:
        return False, (
            f"`amber-tesla-sync run` last ran {_minutes(now - last)} ago: it is not running"
        )
    return True, f"`amber-tesla-sync run` keeps the schedule ({verdict(health, now)[1]})"
