"""Running out of memory is no bug: wherever it happens, the command ends with one message that
says so and what to do, and exit code 18 (never 1, never a traceback). The case found: a state
file that is a link to ``/dev/full`` reads as endless zeros, in a process whose memory is capped
(as systemd's ``MemoryMax=`` or ``ulimit -v`` would): the state is now read up to a cap, and a
real failed allocation inside a command stands for every other way to run out."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys

import pytest

from amber_tesla_sync import entry
from amber_tesla_sync.errors import OUT_OF_MEMORY, ExitCode
from sandboxkit import SandboxSite

LIMIT = 400 * 1024 * 1024  # address space: far above what a command needs, far below endless


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run_capped(site: SandboxSite, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        capture_output=True,
        text=True,
        env=site.env,
        timeout=120,
        check=False,
        preexec_fn=capped,
    )


@pytest.fixture
def endless_state(site: SandboxSite) -> SandboxSite:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    state = site.state / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.unlink(missing_ok=True)
    state.symlink_to("/dev/full")
    return site


@pytest.mark.parametrize("command", [("sync",), ("status",)])
def test_an_endless_state_file_is_damage_not_a_memory_error(
    endless_state: SandboxSite, command: tuple[str, ...]
) -> None:
    """The state is read up to a cap: a file without end (a link to /dev/full) is set aside as
    damaged, with a warning, and the command goes on under the memory cap."""
    done = run_capped(endless_state, *command)
    assert done.returncode == 0, done.stderr
    assert "was damaged (larger than 16 MiB)" in done.stderr
    assert not (endless_state.state / "state.json").is_symlink()
    assert "Traceback" not in done.stderr


# a real allocation that fails inside a command: the state's loading asks for a terabyte
ALLOCATING = """
import sys, resource
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import amber_tesla_sync.store.state as state
def load_state(path=None):
    return bytearray(2**40)
state.load_state = load_state
import amber_tesla_sync.sync.run, amber_tesla_sync.sync.watched, amber_tesla_sync.status.gather
for name, module in list(sys.modules.items()):
    if name.startswith("amber_tesla_sync.") and hasattr(module, "load_state"):
        module.load_state = load_state
from amber_tesla_sync import entry
sys.argv = ["amber-tesla-sync", *sys.argv[1:]]
entry.main()
"""


def run_allocating(site: SandboxSite, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ALLOCATING.format(limit=LIMIT), *args],
        capture_output=True,
        text=True,
        env=site.env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [("sync",), ("status",), ("sync", "--json")])
def test_running_out_of_memory_ends_with_its_own_exit_code(
    site: SandboxSite, command: tuple[str, ...]
) -> None:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    done = run_allocating(site, *command)
    assert done.returncode == ExitCode.OUT_OF_MEMORY == 18, done.stderr
    assert done.stderr.count("error: ran out of memory") == 1, done.stderr
    assert "MemoryMax=" in done.stderr  # what to do
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr


def test_with_v_the_traceback_is_shown_too(site: SandboxSite) -> None:
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    done = run_allocating(site, "-v", "sync")
    assert done.returncode == 18, done.stderr
    assert "Traceback" in done.stderr and "MemoryError" in done.stderr
    assert "error: ran out of memory" in done.stderr


def test_the_same_command_without_the_cap_is_not_hit(site: SandboxSite) -> None:
    """The cap alone changes nothing: with an ordinary state file a sync works under it."""
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    done = run_capped(site, "sync")
    assert done.returncode == 0, done.stderr
    assert run_capped(site, "status").returncode == 0


def _raises_memory_error(*_: object, **__: object) -> None:
    raise MemoryError


def test_a_memory_error_anywhere_in_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("amber_tesla_sync.cli.main", _raises_memory_error)
    monkeypatch.setattr(sys, "argv", ["amber-tesla-sync", "status"])
    with pytest.raises(SystemExit) as ended:
        entry.main()
    assert ended.value.code == 18
    err = capsys.readouterr().err
    assert err.startswith(f"amber-tesla-sync: error: {OUT_OF_MEMORY[:30]}")
    assert "what to do: free some memory" in err


def test_when_even_the_report_needs_memory_a_plain_line_is_written(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("amber_tesla_sync.cli.main", _raises_memory_error)
    monkeypatch.setattr("amber_tesla_sync.render.terminal_ui.report", _raises_memory_error)
    monkeypatch.setattr(sys, "argv", ["amber-tesla-sync", "sync"])
    with pytest.raises(SystemExit) as ended:
        entry.main()
    assert ended.value.code == 18
    assert capfd.readouterr().err == entry.OUT_OF_MEMORY_TEXT.decode()
    assert entry.OUT_OF_MEMORY_TEXT.startswith(b"amber-tesla-sync: error: ran out of memory")


def test_the_cli_leaves_a_memory_error_to_the_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """cli.main does not turn it into an internal error (exit 1) on its way out."""
    from amber_tesla_sync import cli

    monkeypatch.setattr(cli, "chosen_app", lambda *_: lambda **_: _raises_memory_error())
    with pytest.raises(MemoryError):
        cli.main(["status"])


def test_the_healthcheck_hears_out_of_memory_not_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from amber_tesla_sync.settings.config import Config
    from amber_tesla_sync.sync import watched
    from amber_tesla_sync.sync.outcome import SyncOptions

    pings: list[tuple[str, str]] = []
    monkeypatch.setattr(
        watched.healthcheck, "ping", lambda url, signal, summary="": pings.append((signal, summary))
    )
    monkeypatch.setattr(watched, "targets", lambda config, site: [])
    config = Config.model_validate({"notify": {"healthcheck_url": "https://hc.example/x"}})
    ctx = SimpleNamespace(config=config)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(MemoryError):
        watched.watched_sync(ctx, None, now, SyncOptions(), sync=_raises_memory_error)  # type: ignore[arg-type]
    assert pings == [("start", ""), ("fail", "ran out of memory")]
