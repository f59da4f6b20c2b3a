"""``run``: the foreground schedule (next-run times at the timer's offsets, no overlap, the time
limit, stopping on a signal) with a fake clock and fake syncs; the health record and its rule;
and the command end to end in a subprocess against the sandbox."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.schedule import foreground, run_health
from amber_tesla_sync.schedule.foreground import (
    Foreground,
    Lines,
    Stop,
    describe,
    exit_code,
    next_run,
    stamped,
)
from amber_tesla_sync.schedule.run_health import Health, HealthBook, after_run, started, verdict
from sandboxkit import SandboxSite

T0 = dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=dt.UTC)  # 16:42:10 in Sydney
MINUTE = 60.0


def at(hour: int, minute: int, second: float = 0.0) -> float:
    return dt.datetime(2026, 1, 15, hour, minute, tzinfo=dt.UTC).timestamp() + second


def clock_time(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%H:%M:%S")


# -- next-run times --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(10, 0, 0), at(10, 0, 30)),
        (at(10, 0, 29.999), at(10, 0, 30)),
        (at(10, 0, 30), at(10, 5, 30)),  # strictly after: a run that ends on time waits a period
        (at(10, 3, 12), at(10, 5, 30)),
        (at(10, 5, 29), at(10, 5, 30)),
        (at(10, 59, 45), at(11, 0, 30)),
        (at(23, 58), at(0, 0, 30) + 24 * 3600),
    ],
)
def test_next_run_is_30_s_past_the_next_5_minute_boundary(now: float, expected: float) -> None:
    assert next_run(now) == expected


@pytest.mark.parametrize("zone", ["Australia/Sydney", "Australia/Adelaide", "Asia/Kathmandu"])
def test_next_run_is_at_the_timers_local_times_in_any_zone(zone: str) -> None:
    """OnCalendar=*:0/5:30 is local time: minute a multiple of 5, second 30 (also at +10:30 and
    +5:45)."""
    now = T0.timestamp()
    for step in range(40):
        moment = now + step * 37.3
        following = next_run(moment)
        local = dt.datetime.fromtimestamp(following, ZoneInfo(zone))
        assert (local.minute % 5, local.second, local.microsecond) == (0, 30, 0)
        assert 0 < following - moment <= 300


def test_a_short_period_for_tests_keeps_the_offset_within_it() -> None:
    assert next_run(at(10, 0, 0.4), period=2) == at(10, 0, 2)
    assert next_run(at(10, 0, 1.0), period=1) == at(10, 0, 2)


# -- the loop, with a fake clock and fake syncs ------------------------------------------------


@dataclass
class FakeClock:
    now: float
    mono: float = 1000.0
    alarms: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    slept: float = 0.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        self.mono += seconds
        self.slept += seconds
        for alarm in [alarm for alarm in self.alarms if alarm[0] <= self.now]:
            self.alarms.remove(alarm)
            alarm[1]()

    def alarm(self, moment: float, action: Callable[[], None]) -> None:
        self.alarms.append((moment, action))


@dataclass
class FakeSync:
    """A sync that ends ``seconds`` after it starts with ``code``; on SIGINT it ends after
    ``stops_in`` seconds with 130, or never (``stops_in=None``) until killed."""

    clock: FakeClock
    seconds: float
    code: int
    stops_in: float | None = 0.05
    started: float = 0.0
    ends: float | None = None
    signals: list[str] = field(default_factory=list)
    closed: bool = False
    unkillable: bool = False  # stuck in the kernel: even SIGKILL takes its time

    def __post_init__(self) -> None:
        self.started = self.clock.now
        self.ends = self.clock.now + self.seconds

    def poll(self) -> int | None:
        if self.ends is not None and self.clock.now >= self.ends:
            return self.code
        return None

    def interrupt(self) -> None:
        self.signals.append("INT")
        if self.stops_in is None:
            self.ends = None
        else:
            self.ends, self.code = self.clock.now + self.stops_in, 130

    def kill(self) -> None:
        self.signals.append("KILL")
        if not self.unkillable:
            self.ends, self.code = self.clock.now, -9

    def close(self) -> None:
        self.closed = True


@dataclass
class Harness:
    clock: FakeClock
    plan: list[tuple[float, int]]  # each run: seconds, exit code
    stops_in: float | None = 0.05
    syncs: list[FakeSync] = field(default_factory=list)
    recorded: list[int | None] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    stop: Stop = field(default_factory=Stop)

    def start(self) -> FakeSync:
        seconds, code = self.plan[len(self.syncs)]
        sync = FakeSync(self.clock, seconds, code, self.stops_in)
        self.syncs.append(sync)
        if len(self.syncs) == len(self.plan):  # the last planned run: stop once it is over
            self.clock.alarm(sync.started + seconds + 1, lambda: self.stop(signal.SIGTERM))
        return sync

    def loop(self, **options: float) -> Foreground:
        return Foreground(
            start=self.start,
            say=self.said.append,
            record=self.recorded.append,
            stop=self.stop,
            clock=self.clock,
            **options,
        )

    def starts(self) -> list[str]:
        return [clock_time(sync.started) for sync in self.syncs]


def test_a_run_at_start_then_one_at_each_of_the_timers_times() -> None:
    h = Harness(FakeClock(at(10, 3, 12)), [(2.0, 0), (3.0, 8), (1.0, 0)])
    h.loop().run()
    assert h.starts() == ["10:03:12", "10:05:30", "10:10:30"]
    assert h.recorded == [0, 8, 0]
    assert all(sync.closed for sync in h.syncs)
    assert re.fullmatch(
        r"sync exited with code 8 after 3\.\d s; next run at \d\d:\d\d:30", h.said[1]
    )


def test_a_long_run_is_never_overlapped_the_next_one_takes_the_next_time() -> None:
    h = Harness(FakeClock(at(10, 0, 30)), [(200.0, 0), (120.0, 0), (1.0, 0)])
    h.loop().run()
    # 10:00:30 + 200 s = 10:03:50 -> 10:05:30; + 120 s = 10:07:30 -> 10:10:30
    assert h.starts() == ["10:00:30", "10:05:30", "10:10:30"]


def test_failures_and_crashes_do_not_stop_the_schedule() -> None:
    h = Harness(FakeClock(at(10, 1)), [(1.0, 8), (1.0, 1), (0.5, -11), (1.0, 0)])
    h.loop().run()
    assert h.recorded == [8, 1, 128 + 11, 0]
    assert "was ended by SIGSEGV (exit code 139)" in h.said[2]


def test_a_sync_that_cannot_be_started_is_a_failed_run_and_the_schedule_goes_on() -> None:
    clock = FakeClock(at(10, 1))
    attempts: list[float] = []
    stop = Stop()

    def start() -> FakeSync:
        attempts.append(clock.now)
        if len(attempts) == 2:
            stop(signal.SIGTERM)
        raise FileNotFoundError(2, "No such file or directory")

    recorded: list[int | None] = []
    said: list[str] = []
    Foreground(start, said.append, recorded.append, stop=stop, clock=clock).run()
    assert [clock_time(moment) for moment in attempts] == ["10:01:00", "10:05:30"]
    assert recorded == [None, None]
    assert "could not be started (No such file or directory)" in said[0]


def test_a_run_past_its_time_limit_is_stopped_and_counted_as_failed() -> None:
    h = Harness(FakeClock(at(10, 0, 30)), [(1000.0, 0), (1.0, 0)])
    h.loop().run()
    assert h.syncs[0].signals == ["INT"]
    assert h.recorded == [None, 0]
    assert clock_time(h.syncs[1].started) == "10:05:30"  # 10:00:30 + 240 s = 10:04:30
    assert "still running after 240 s" in h.said[0]


def test_a_stop_during_a_run_interrupts_it_and_records_nothing() -> None:
    h = Harness(FakeClock(at(10, 0, 30)), [(60.0, 0)])
    h.clock.alarm(at(10, 0, 40), lambda: h.stop(signal.SIGTERM))
    h.loop().run()
    assert h.syncs[0].signals == ["INT"]
    assert h.recorded == []  # an interrupted run says nothing about the schedule's health
    assert h.clock.now - at(10, 0, 40) < 0.5


def test_a_sync_that_ignores_the_interrupt_is_killed_within_2_s() -> None:
    h = Harness(FakeClock(at(10, 0, 30)), [(60.0, 0)], stops_in=None)
    h.clock.alarm(at(10, 0, 40), lambda: h.stop(signal.SIGTERM))
    h.loop().run()
    assert h.syncs[0].signals == ["INT", "KILL"]
    assert 1.0 <= h.clock.now - at(10, 0, 40) < 2.0


def test_a_sync_that_does_not_even_die_at_once_is_left_to_the_init_within_2_s() -> None:
    h = Harness(FakeClock(at(10, 0, 30)), [(60.0, 0)], stops_in=None)
    h.clock.alarm(at(10, 0, 40), lambda: h.stop(signal.SIGTERM))
    original = h.start

    def start() -> FakeSync:
        sync = original()
        sync.unkillable = True
        return sync

    h.start = start  # type: ignore[method-assign]
    h.loop().run()
    assert h.syncs[0].signals == ["INT", "KILL"] and h.syncs[0].closed
    assert h.clock.now - at(10, 0, 40) < 2.0


def test_a_stop_while_waiting_ends_the_loop_at_once() -> None:
    h = Harness(FakeClock(at(10, 0, 31)), [(1.0, 0), (1.0, 0)])
    h.clock.alarm(at(10, 2), lambda: h.stop(signal.SIGINT))
    h.loop().run()
    assert len(h.syncs) == 1
    assert h.clock.now - at(10, 2) <= foreground.POLL_SECONDS


def test_the_signal_handlers_set_the_flag_and_are_put_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stop = Stop()
    with stop.handling():
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not stop.requested and time.monotonic() < deadline:
            time.sleep(0.01)
    assert stop.signal == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


# -- the stamped lines -------------------------------------------------------------------------


def test_each_line_carries_its_time() -> None:
    moment = dt.datetime(2026, 1, 15, 16, 42, 40, 123456, tzinfo=ZoneInfo("Australia/Sydney"))
    assert stamped("pushed", moment) == "2026-01-15T16:42:40+11:00 pushed"
    assert exit_code(-15) == 143 and exit_code(8) == 8
    assert describe(143) == "was ended by SIGTERM (exit code 143)"
    assert describe(6) == "exited with code 6"


def test_the_pump_passes_on_every_line_stamped(tmp_path: Path) -> None:
    moment = dt.datetime(2026, 1, 15, 5, 42, 40, tzinfo=dt.UTC)
    lines = Lines(now=lambda: moment)
    source = tmp_path / "out"
    source.write_bytes(b"one\r\ntwo \xff\nthree")
    target = tmp_path / "log"
    with source.open("rb") as read, target.open("w", encoding="utf-8") as write:
        lines.pump(read, write)
    assert target.read_text(encoding="utf-8").splitlines() == [
        "2026-01-15T05:42:40+00:00 one",
        "2026-01-15T05:42:40+00:00 two \ufffd",
        "2026-01-15T05:42:40+00:00 three",
    ]


# -- the health record and its rule -----------------------------------------------------------


def test_failures_are_counted_in_a_row_and_a_success_or_refusal_resets_them() -> None:
    health = Health(started=T0)
    for minutes, code in enumerate([8, 6, None], start=1):
        health = after_run(health, code, T0 + dt.timedelta(minutes=5 * minutes))
    assert (health.consecutive_failures, health.runs, health.last_success) == (3, 3, None)
    busy = after_run(health, 10, T0 + dt.timedelta(minutes=20))  # another sync was running
    assert busy.consecutive_failures == 3 and busy.last_exit_code == 10
    refused = after_run(busy, 5, T0 + dt.timedelta(minutes=25))
    assert refused.consecutive_failures == 0
    assert refused.last_success == T0 + dt.timedelta(minutes=25)


@pytest.mark.parametrize(
    ("failures", "minutes_quiet", "healthy"),
    [(0, 0, True), (2, 29, True), (3, 1, False), (0, 31, False), (1, 30, True)],
)
def test_the_rule_three_failures_or_thirty_minutes_without_success(
    failures: int, minutes_quiet: int, healthy: bool
) -> None:
    success = T0 + dt.timedelta(minutes=10)
    health = Health(
        started=T0, consecutive_failures=failures, runs=5, last_success=success, last_exit_code=8
    )
    ok, why = verdict(health, success + dt.timedelta(minutes=minutes_quiet))
    assert ok is healthy, why
    if not healthy:
        assert ("3 runs failed" in why) or ("no successful run for 31 minutes" in why), why


def test_the_rule_counts_from_the_start_until_a_first_success() -> None:
    health = started(None, T0)
    assert verdict(health, T0 + dt.timedelta(minutes=29)) == (
        True,
        "started; the first run has not ended yet",
    )
    ok, why = verdict(health, T0 + dt.timedelta(minutes=31))
    assert not ok and "since the schedule's start" in why
    assert verdict(None, T0)[0] is False


def test_a_restart_keeps_the_count_and_gets_its_own_grace() -> None:
    old = Health(started=T0, consecutive_failures=2, runs=9, last_success=T0, last_exit_code=8)
    later = T0 + dt.timedelta(hours=5)
    again = started(old, later)
    assert (again.consecutive_failures, again.last_success, again.started) == (2, T0, later)
    assert verdict(again, later + dt.timedelta(minutes=10))[0] is True
    assert verdict(after_run(again, 8, later), later)[0] is False


def test_the_record_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "state" / run_health.HEALTH_FILE
    moments = iter([T0, T0 + dt.timedelta(seconds=40), T0 + dt.timedelta(minutes=5)])
    said: list[str] = []
    book = HealthBook(path, said.append, now=lambda: next(moments))
    book.start()
    book.record(8)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {
        "started": "2026-01-15T05:42:10+00:00",
        "consecutive_failures": 1,
        "runs": 1,
        "last_run": "2026-01-15T05:42:50+00:00",
        "last_exit_code": 8,
        "last_success": None,
    }
    again = HealthBook(path, said.append, now=lambda: T0 + dt.timedelta(hours=1))
    again.start()
    assert again.health is not None
    assert again.health.consecutive_failures == 1 and again.health.runs == 1
    path.write_text("{not json")
    assert run_health.load(path) is None
    path.write_text('{"started": "2026-01-15T05:42:10"}')  # no offset: not a record of ours
    assert run_health.load(path) is None
    assert said == []


def test_a_record_that_cannot_be_written_is_said_and_the_schedule_goes_on(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    said: list[str] = []
    book = HealthBook(blocked / "state" / run_health.HEALTH_FILE, said.append)
    book.start()
    book.record(0)
    assert len(said) == 2 and "cannot be written" in said[0]
    assert book.health is not None and book.health.runs == 1


def test_doctor_sees_run_as_the_schedule_while_it_runs(
    tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / run_health.HEALTH_FILE
    assert run_health.run_status(path, T0) is None  # never ran here: says nothing
    run_health.save(path, after_run(Health(started=T0), 0, T0 + dt.timedelta(seconds=40)))
    ok, why = run_health.run_status(path, T0 + dt.timedelta(minutes=5)) or (False, "")
    assert ok and why.startswith("`amber-tesla-sync run` keeps the schedule (last success 4 min")
    ok, why = run_health.run_status(path, T0 + dt.timedelta(minutes=16)) or (True, "")
    assert not ok and "last ran 15 minutes ago: it is not running" in why
    # doctor's check: nothing else installed, the record of a running `run` in the state dir
    from amber_tesla_sync.schedule import schedule_status
    from schedulekit import fake_host

    monkeypatch.setenv("AMBER_TESLA_SYNC_STATE_DIR", str(tmp_path))
    host = fake_host(tmp_path, isolated, monkeypatch).host()
    assert schedule_status(host)[0] is False  # the record above is stale by now
    HealthBook(path, print).start()
    installed, description = schedule_status(host)
    assert installed and description.startswith("`amber-tesla-sync run` keeps the schedule")


# -- the command, end to end against the sandbox ----------------------------------------------

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ")
ENDED = "run: sync exited with code"


def start_run(site: SandboxSite, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "amber_tesla_sync", "run", "--every", "1", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=site.env,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], needle: str, count: int) -> list[str]:
    """stderr's lines until ``needle`` was seen ``count`` times (60 s at most)."""
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while sum(needle in line for line in seen) < count:
        assert time.monotonic() < deadline, seen
        line = process.stderr.readline()
        assert line, (seen, process.poll())
        seen.append(line.rstrip("\n"))
    return seen


def stop_timed(process: subprocess.Popen[str], signum: int) -> tuple[int, float]:
    begun = time.monotonic()
    process.send_signal(signum)
    code = process.wait(timeout=10)
    return code, time.monotonic() - begun


def health_check(site: SandboxSite) -> subprocess.CompletedProcess[str]:
    return site.run("run", "--health")


def test_run_syncs_at_start_and_again_then_sigterm_stops_it_within_2_s(
    site: SandboxSite,
) -> None:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    process = start_run(site)
    try:
        seen = read_until(process, ENDED, 2)
    finally:
        code, took = stop_timed(process, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=10)
    lines = seen + stderr.splitlines()
    assert code == 0, lines
    assert took < 2.0
    assert [line for line in lines if ENDED in line][:2] == [
        line for line in lines if "run: sync exited with code 0 after" in line
    ][:2]
    assert lines[-1].endswith("run: stopped by SIGTERM")
    assert all(STAMP.match(line) for line in lines + stdout.splitlines()), lines
    assert any("verified" in line for line in stdout.splitlines()), stdout  # the first push
    assert site.sandbox.tariff_posts(), "no tariff was pushed"
    record = json.loads((site.state / run_health.HEALTH_FILE).read_text())
    assert record["runs"] >= 2 and record["consecutive_failures"] == 0
    check = health_check(site)
    assert check.returncode == 0 and check.stdout.startswith("healthy: last success"), check


def test_sigterm_during_a_sync_interrupts_it_and_stops_within_2_s(site: SandboxSite) -> None:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    site.sandbox.clear_requests()
    site.sandbox.add_fault("/amber/v1/sites", "delay", delay_seconds=8.0, count=5)
    process = start_run(site)
    try:  # until the first sync waits for Amber's answer (a delayed request took the fault)
        deadline = time.monotonic() + 60
        while [fault["remaining"] for fault in site.sandbox.faults()] == [5]:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
    finally:
        code, took = stop_timed(process, signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert code == 0, stderr
    assert took < 2.0, stderr
    assert ENDED not in stderr  # the interrupted run was not counted
    record = json.loads((site.state / run_health.HEALTH_FILE).read_text())
    assert record["runs"] == 0


def test_failing_runs_keep_going_and_make_the_health_check_fail(site: SandboxSite) -> None:
    assert site.login_amber().returncode == 0
    process = start_run(site)  # no Powerwall configured: every sync exits 3
    try:
        seen = read_until(process, ENDED, 3)
    finally:
        code, took = stop_timed(process, signal.SIGINT)
    assert code == 130 and took < 2.0
    ended = [line for line in seen if ENDED in line]
    assert all("run: sync exited with code 3 after" in line for line in ended), seen
    assert any("what to do: run `amber-tesla-sync login" in line for line in seen), seen
    check = health_check(site)
    assert check.returncode == 12, check
    assert check.stdout.startswith("unhealthy: the last 3 runs failed; the last ended with exit")
    assert "what to do:" in check.stdout and "Traceback" not in check.stdout + check.stderr


def test_the_health_check_without_a_record_fails_and_says_what_to_do(site: SandboxSite) -> None:
    check = health_check(site)
    assert check.returncode == 12
    assert check.stdout.startswith("unhealthy: no scheduled run recorded yet")
    assert str(site.state / run_health.HEALTH_FILE) in check.stdout
