"""How the command line behaves everywhere: errors, help, completion, pipes, -q, logout's
question, config get/keys/init, and a --config that does not exist."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amber_tesla_sync.cli.commands import whole_app
from amber_tesla_sync.errors import ExitCode
from conftest import CliRunner
from synckit import Synced

EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"
COMMON = ("sync", "status", "tariff", "history", "doctor", "logout", "config set")


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("sync", "--bogus"), ("tariff", "--max-gap-slots", "99"), ("no-such-command",)],
)
def test_usage_errors_read_like_every_other_error(cli: CliRunner, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == ExitCode.USAGE
    assert result.stderr.startswith("amber-tesla-sync: error: ")
    assert "what to do: see `amber-tesla-sync" in result.stderr and "--help`" in result.stderr
    assert not any(box in result.stderr for box in "╭╰│")
    assert result.stdout == ""


def test_runtime_errors_have_the_same_shape(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("tariff", "--prices", str(tmp_path / "absent.json"), "--timezone", "UTC")
    assert result.code != 0
    assert result.stderr.startswith("amber-tesla-sync: error: ")
    assert "\n  what to do: " in result.stderr


def test_a_closed_pipe_ends_quietly_with_0() -> None:
    """``amber-tesla-sync tariff --sample | head -1``: the reader leaves early."""
    fcntl = pytest.importorskip("fcntl")  # the pipe size is set with a Linux fcntl
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ: smaller than the output
    process = subprocess.Popen(
        [sys.executable, "-m", "amber_tesla_sync", "tariff", "--sample"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(write_end)
    assert os.read(read_end, 64)
    os.close(read_end)
    assert process.wait(timeout=60) == 0
    assert process.stderr is not None
    assert process.stderr.read() == b""


# -- help and completion ----------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMON)
def test_help_has_examples_and_no_type_markers(cli: CliRunner, command: str) -> None:
    result = cli(*command.split(), "--help")
    assert result.code == 0, result.stderr
    assert "Examples:" in result.stdout
    assert "amber-tesla-sync " + command.split(maxsplit=1)[0] in result.stdout.split("Examples:")[1]
    assert "<bool>" not in result.stdout
    assert "╭" not in result.stdout


def test_bare_group_shows_its_help(cli: CliRunner) -> None:
    result = cli("config")
    assert result.code == 0
    assert "Commands:" in result.stdout and "keys" in result.stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o default -F"), ("zsh", "compdef"), ("fish", "complete --command")],
    ids=["bash", "zsh", "fish"],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    result = run_process("completion", shell)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert "_AMBER_TESLA_SYNC_COMPLETE" in result.stdout


def test_completion_completes_commands_and_subcommands() -> None:
    env = {"_AMBER_TESLA_SYNC_COMPLETE": "complete_bash", "COMP_CWORD": "2"}
    result = run_process(env={**env, "COMP_WORDS": "amber-tesla-sync config s"})
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"show", "set"}
    env["COMP_CWORD"] = "1"
    result = run_process(env={**env, "COMP_WORDS": "amber-tesla-sync sy"})
    assert result.stdout.split() == ["sync"]
    env["COMP_CWORD"] = "3"
    result = run_process(env={**env, "COMP_WORDS": "amber-tesla-sync config set tariff.m"})
    assert set(result.stdout.split()) == {"tariff.max_gap_slots", "tariff.min_horizon_hours"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("amber-tesla-sync logout ", {"amber", "teslemetry", "fleet", "all"}),
        ("amber-tesla-sync logout t", {"teslemetry"}),
        ("amber-tesla-sync completion ", {"bash", "zsh", "fish"}),
        ("amber-tesla-sync tariff --forecast-price p", {"predicted", "per_kwh"}),
    ],
)
def test_completion_offers_the_values_an_argument_takes(words: str, expected: set[str]) -> None:
    env = {
        "_AMBER_TESLA_SYNC_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = run_process(env=env)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == expected


def test_every_command_is_registered_without_importing_its_work() -> None:
    code = (
        "import sys; import amber_tesla_sync.cli; "
        "heavy = [m for m in ('httpx', 'pydantic', 'amber_tesla_sync.sandbox', "
        "'amber_tesla_sync.demo', 'amber_tesla_sync.amber.models', 'cryptography', 'keyring') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    app = whole_app()
    names = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert {"sync", "status", "tariff", "doctor", "demo", "logout"} <= names


# -- -q ---------------------------------------------------------------------------------------


def test_quiet_prints_nothing_on_success_and_the_error_on_failure(synced: Synced) -> None:
    loud = synced.sync()
    assert loud.code == 0 and loud.stdout
    quiet = synced.run("-q", "sync", "--now", synced.now.isoformat(), "--force")
    assert quiet.code == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    after = synced.run("sync", "-q", "--now", synced.now.isoformat(), "--site", "nowhere")
    assert after.code == ExitCode.USAGE
    assert "no configured site 'nowhere'" in after.stderr


# -- logout -------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_logout_without_a_service_refuses_without_a_terminal(synced: Synced) -> None:
    result = synced.run("logout")
    assert result.code == ExitCode.USAGE
    assert "no terminal to ask" in result.stderr and "logout all" in result.stderr
    assert synced.site.secrets_file.exists()
    assert synced.run("status", "--json", "--now", synced.now.isoformat()).code == 0


@pytest.mark.parametrize(("answer", "removed"), [("n\n", False), ("\n", False), ("y\n", True)])
def test_logout_without_a_service_asks_on_a_terminal(
    synced: Synced, monkeypatch: pytest.MonkeyPatch, answer: str, removed: bool
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    result = synced.cli("logout")
    assert result.code == 0, result.stderr
    assert "Forget every saved token" in result.stderr
    assert ("Removed: " in result.stderr) is removed
    assert ("Nothing removed." in result.stderr) is not removed
    tokens = synced.site.secrets_file.read_text() if synced.site.secrets_file.exists() else ""
    assert ("amber_token" in tokens) is not removed


# -- config get / keys / init and a missing --config --------------------------------------------


def test_config_get_keys_and_did_you_mean(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[tariff]\nmax_gap_slots = 6\n")
    assert cli("--config", str(config), "config", "get", "tariff.max_gap_slots").stdout == "6\n"
    got = cli("--config", str(config), "config", "get", "sync.curtail_exports")
    assert got.stdout == "false\n"
    wrong = cli("--config", str(config), "config", "get", "tariff.max_gaps")
    assert wrong.code == ExitCode.CONFIG
    assert "did you mean 'tariff.max_gap_slots'?" in wrong.stderr
    unset = cli("config", "unset", "sync.settle_minutes")  # the default file: absent
    assert unset.code == 0 and "nothing to remove" in unset.stdout
    assert not (tmp_path / "home" / ".config" / "amber-tesla-sync" / "config.toml").exists()
    keys = cli("config", "keys").stdout.splitlines()
    line = next(line for line in keys if line.startswith("tariff.max_gap_slots "))
    assert " 4 " in line and "missing slots per channel" in line
    # every key with its default and description (a long default puts them on two lines)
    rows = [line for line in keys if not line.startswith(" ")]
    assert all(len(line.split()) >= 3 or "://" in line for line in rows)


def test_file_errors_name_the_line(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# settings\n\n[sync]\nsettle_minutes = 10\nnear_tolerance = 0.5\n")
    result = cli("--config", str(config), "status")
    assert result.code == ExitCode.CONFIG
    assert "line 5: unknown key 'sync.near_tolerance'" in result.stderr
    assert "did you mean 'near_tolerance_cents'?" in result.stderr
    config.write_text("[sync]\n\nsettle_minutes = 'ten'\n")
    result = cli("--config", str(config), "status")
    assert "line 3: key 'sync.settle_minutes'" in result.stderr


def test_a_missing_explicit_config_is_an_error_except_for_commands_that_create_it(
    cli: CliRunner, tmp_path: Path
) -> None:
    absent = tmp_path / "typo" / "config.toml"
    for args in (("status",), ("config", "show"), ("sync",), ("doctor",), ("config", "get", "x.y")):
        result = cli("--config", str(absent), *args)
        assert result.code == ExitCode.CONFIG, args
        assert "does not exist" in result.stderr and "config init" in result.stderr
    assert cli("--config", str(absent), "config", "path").code == 0
    assert cli("--config", str(absent), "config", "init").code == 0
    assert absent.read_text() == EXAMPLE.read_text()
    assert cli("--config", str(absent), "config", "init").code == ExitCode.CONFIG  # no overwrite
    other = tmp_path / "other.toml"
    assert cli("--config", str(other), "config", "set", "tariff.max_gap_slots", "5").code == 0
    assert other.read_text() == "[tariff]\nmax_gap_slots = 5\n"


def test_tariff_sample_works_from_anywhere(cli: CliRunner, tmp_path: Path) -> None:
    os.chdir(tmp_path)
    result = cli("tariff", "--sample")
    assert result.code == 0, result.stderr
    assert "Tariff for the next 24 h (Australia/Sydney, from Thu 16:42)" in result.stdout


def test_an_interrupt_ends_with_130_and_no_traceback(tmp_path: Path) -> None:
    """Ctrl-C while the tool waits (here for a token on standard input): exit 130, as the README's
    table says."""
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    waiting = subprocess.Popen(
        [sys.executable, "-m", "amber_tesla_sync", "login", "amber", "--token-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wchan = Path(f"/proc/{waiting.pid}/wchan")
    deadline = time.monotonic() + 30
    while "pipe" not in wchan.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)  # until it blocks reading the token
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 130, (out, err)
    assert "Traceback" not in err


@pytest.mark.parametrize("columns", [40, 80, 100, 160])
def test_config_keys_fits_the_terminal(cli: CliRunner, columns: int, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli("config", "keys")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("tariff.max_gap_slots") for line in lines)
    # only a default that cannot be broken (a URL) may run past the edge
    assert [line for line in lines if len(line) > columns and "://" not in line] == []


@pytest.mark.parametrize("columns", [40, 60, 100])
def test_the_tariff_table_cuts_no_price_on_a_narrow_terminal(columns: int) -> None:
    result = run_process("tariff", "--sample", env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line[:5].count(":") == 1 and "│" in line]
    assert len(rows) == 48
    for row in rows:
        cells = [cell.strip() for cell in row.split("│")]
        assert "…" not in "".join(cells[:4]), row  # slot, (start,) buy and sell whole
        assert all(len(line) <= columns for line in result.stdout.splitlines()[:60] if "│" in line)


def test_a_global_flag_in_the_place_of_an_options_value_is_that_value() -> None:
    from amber_tesla_sync.cli import hoist_verbose

    assert hoist_verbose(["history", "--since", "-v"]) == ["history", "--since", "-v"]
    assert hoist_verbose(["history", "--since", "7d", "-v"]) == ["-v", "history", "--since", "7d"]
    assert hoist_verbose(["status", "--json", "-q"]) == ["-q", "status", "--json"]
    result = run_process("history", "--since", "-v")
    assert result.returncode == ExitCode.USAGE
    assert "--since '-v'" in result.stderr  # the value the user gave is the one judged
