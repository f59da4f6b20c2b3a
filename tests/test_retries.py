"""Bounded retries (httpbase.call_with_retries): attempts, waits, give-ups and log lines."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable

import pytest

from amber_tesla_sync.support.http import NetworkPolicy, Transient, call_with_retries

POLICY = NetworkPolicy(attempts=3, backoff=1.0, max_wait=30.0)


def scripted(outcomes: list[Exception | str]) -> tuple[Callable[[], str], list[int]]:
    """An attempt that raises or returns each outcome in turn, and the list of its calls."""
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, calls


def test_a_first_success_is_one_call_and_no_wait() -> None:
    attempt, calls = scripted(["ok"])
    slept: list[float] = []
    assert call_with_retries(attempt, POLICY, "fetching", slept.append) == "ok"
    assert (len(calls), slept) == (1, [])


def test_failures_are_retried_with_doubling_waits_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempt, calls = scripted([Transient("HTTP 502"), Transient("timed out"), "ok"])
    slept: list[float] = []
    with caplog.at_level(logging.WARNING):
        assert call_with_retries(attempt, POLICY, "fetching Amber prices", slept.append) == "ok"
    assert (len(calls), slept) == (3, [1.0, 2.0])
    assert [r.getMessage() for r in caplog.records] == [
        "fetching Amber prices failed (HTTP 502); retrying in 1.0 s (attempt 2 of 3)",
        "fetching Amber prices failed (timed out); retrying in 2.0 s (attempt 3 of 3)",
    ]


def test_the_last_failure_is_raised_when_the_attempts_are_used_up() -> None:
    errors = [Transient("HTTP 500"), Transient("HTTP 503"), Transient("HTTP 504")]
    attempt, calls = scripted(list(errors))
    slept: list[float] = []
    with pytest.raises(Transient) as raised:
        call_with_retries(attempt, POLICY, "fetching", slept.append)
    assert raised.value is errors[-1]
    assert (len(calls), slept) == (3, [1.0, 2.0])


def test_a_server_asking_for_a_pause_is_obeyed_unless_it_is_too_long() -> None:
    attempt, calls = scripted([Transient("HTTP 429", retry_after=7.0), "ok"])
    slept: list[float] = []
    assert call_with_retries(attempt, POLICY, "fetching", slept.append) == "ok"
    assert slept == [7.0]
    too_long = Transient("HTTP 429", retry_after=600.0)
    attempt, calls = scripted([too_long, "ok"])
    with pytest.raises(Transient) as raised:
        call_with_retries(attempt, POLICY, "fetching", slept.append)
    assert raised.value is too_long and len(calls) == 1


def test_other_errors_and_a_single_attempt_are_not_retried() -> None:
    attempt, calls = scripted([ValueError("a bug"), "ok"])
    with pytest.raises(ValueError):
        call_with_retries(attempt, POLICY, "fetching", lambda _: None)
    assert len(calls) == 1
    once = NetworkPolicy(attempts=1)
    attempt, calls = scripted([Transient("HTTP 500"), "ok"])
    with pytest.raises(Transient):
        call_with_retries(attempt, once, "fetching", lambda _: None)
    assert len(calls) == 1


PROBE = """
import sys
from amber_tesla_sync.support.http import NetworkPolicy, Transient, call_with_retries
outcomes = [{first}, "ok"]
def attempt():
    outcome = outcomes.pop(0)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
call_with_retries(attempt, NetworkPolicy(backoff=0), "probe", lambda _: None)
print("tenacity" in sys.modules)
"""


@pytest.mark.parametrize(("first", "loaded"), [('"ok"', "False"), ('Transient("x")', "True")])
def test_the_retry_machinery_is_loaded_only_after_a_failure(first: str, loaded: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(first=first)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == loaded
