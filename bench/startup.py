"""Start-up cost of the command line, in whole processes, against a baseline run in the same run.

    python bench/startup.py [--runs 9]

Each case is run ``--runs`` times as a fresh process of this interpreter, the cases in turn (so a
machine that slows down slows them alike); the median CPU time (user + system) and the median peak
RSS (in MiB, 2**20 bytes) are reported, and their ratio to the baseline,
``python -c "import typer, httpx, pydantic, rich"`` (the libraries the tool is built on), run the
same way in the same run. The tool is run as the installed ``amber-tesla-sync`` script runs it,
with its bytecode compiled (as an installed wheel has it). Cases:

  * the least any sync does with these libraries, for reference (``bench/least_sync.py``): a
    Typer command with two options, one pydantic model validated and one GET through httpx to
    the same sandbox, started as the tool starts; the idle ``sync``'s margin over it is the
    tool's own work;
  * ``--version``;
  * an offline ``tariff`` (``tariff --sample``: the shipped sample prices, no network);
  * an idle ``sync``: a sync with nothing to do, against the built-in sandbox running in this
    process (so its work is not counted): one Amber request, no Tesla request. It runs the way
    a systemd timer runs it: the file secret store, and the settings file and state directory
    given by the environment.

Targets: ``--version`` ≤ 1.2× the baseline's CPU and ≤ 35 MiB; the offline ``tariff`` ≤ 2× and
≤ 45 MiB; the idle ``sync`` ≤ 1.5× and ≤ 40 MiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from amber_tesla_sync.sandbox import Sandbox


def console_entry() -> str:
    """What the installed ``amber-tesla-sync`` script runs, as a ``python -c`` program."""
    (script,) = entry_points(group="console_scripts", name="amber-tesla-sync")
    module, function = script.value.split(":")
    name = "sys.argv[0] = 'amber-tesla-sync'"
    return f"import sys; from {module} import {function}; {name}; {function}()"


ENTRY = console_entry()
BASELINE = "import typer, httpx, pydantic, rich"
# The least any sync does with these libraries, started as the tool starts: bench/least_sync.py.
LEAST = str(Path(__file__).with_name("least_sync.py"))
NOW = dt.datetime(2026, 1, 15, 5, 42, 30, tzinfo=dt.UTC)


@dataclass
class Case:
    name: str
    argv: list[str]
    cpu_limit: float | None = None  # ratio to the baseline
    rss_limit_mib: float | None = None


@dataclass
class Measured:
    cpu_seconds: float
    rss_mib: float


# Peak RSS is read with wait4() by a small launcher process: a child forked from this process
# (which holds the sandbox) would report this process's size as its own peak.
LAUNCHER = """
import json, os, sys
argv = json.loads(sys.argv[1])
null = os.open(os.devnull, os.O_WRONLY)
errors = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, errors, 2)]
pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss]))
"""


def run_once(argv: list[str], env: dict[str, str], workdir: str) -> tuple[float, float]:
    """One process: (user + system CPU seconds, peak RSS in MiB)."""
    errors = Path(workdir) / "stderr.txt"
    launched = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, json.dumps(argv), str(errors)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, cpu, maxrss = json.loads(launched.stdout)
    if code != 0:
        raise SystemExit(f"{argv} failed ({code}): {errors.read_text()}")
    rss_kib = maxrss / (1024 if sys.platform == "darwin" else 1)  # bytes there, KiB here
    return cpu, rss_kib / 1024


def measure(argvs: list[list[str]], env: dict[str, str], runs: int, workdir: str) -> list[Measured]:
    """Median CPU and peak RSS of each command, run ``runs`` times in turn (interleaved, so a
    machine that slows down during the run slows every case alike)."""
    for argv in argvs:
        run_once(argv, env, workdir)  # warm the file cache and the bytecode cache
    samples: list[list[tuple[float, float]]] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, taken in zip(argvs, samples, strict=True):
            taken.append(run_once(argv, env, workdir))
    return [
        Measured(
            statistics.median(cpu for cpu, _ in taken), statistics.median(rss for _, rss in taken)
        )
        for taken in samples
    ]


def sandbox_config(sandbox: Sandbox) -> str:
    return f"""
[amber]
base_url = "{sandbox.amber_base_url}"
[tesla]
teslemetry_url = "{sandbox.teslemetry_base_url}"
fleet_api_url = "{sandbox.fleet_na_base_url}"
[secrets]
store = "file"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="processes per case (median)")
    runs = parser.parse_args().runs
    python = sys.executable
    sandbox = Sandbox(seed=3, amber_rate_limit=None)  # the runs are many; no 429s
    with sandbox, tempfile.TemporaryDirectory() as workdir:
        sandbox.set_time(NOW)
        config = Path(workdir) / "config.toml"
        config.write_text(sandbox_config(sandbox))
        env = {
            **os.environ,
            "HOME": workdir,
            "AMBER_TESLA_SYNC_CONFIG": str(config),
            "AMBER_TESLA_SYNC_STATE_DIR": str(Path(workdir) / "state"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "COLUMNS": "100",
        }
        # an installed wheel has its bytecode compiled; let the warm-up run write it here too
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [python, "-c", ENTRY]
        c = sandbox.credentials
        for args, secret in (
            (["login", "amber", "--token-stdin", "--site", sandbox.amber_site_id], c.amber_token),
            (["login", "teslemetry", "--token-stdin"], c.teslemetry_token),
        ):
            subprocess.run([*cli, *args], input=secret + "\n", env=env, text=True, check=True)
        now = ["--now", NOW.isoformat()]
        subprocess.run([*cli, "sync", *now], env=env, check=True, capture_output=True)
        sandbox.clear_requests()
        renewables = sandbox.amber_base_url.rstrip("/") + "/state/nsw/renewables/current"
        least = ["sync", renewables, "--now", NOW.isoformat(), "--dry-run"]
        cases = [
            Case("baseline: import typer, httpx, pydantic, rich", [python, "-c", BASELINE]),
            Case("least sync: a Typer command, one model, one GET", [python, LEAST, *least]),
            Case("--version", [*cli, "--version"], 1.2, 35),
            Case("tariff --sample (offline)", [*cli, "tariff", "--sample"], 2.0, 45),
            Case("sync, nothing to do", [*cli, "sync", *now], 1.5, 40),
        ]
        measured = measure([case.argv for case in cases], env, runs, workdir)
        results = list(zip(cases, measured, strict=True))
        tesla = [r for r in sandbox.requests() if r.get("service") in ("fleet", "teslemetry")]
        if tesla:
            raise SystemExit(f"the idle sync made {len(tesla)} Tesla requests")
    base = results[0][1]
    print(f"{runs} runs per case, medians; Python {sys.version.split()[0]} on {sys.platform}")
    print("| case | CPU s | × baseline | peak RSS MiB | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    failed = False
    for case, got in results:
        ratio = got.cpu_seconds / base.cpu_seconds
        target = ""
        if case.cpu_limit is not None and case.rss_limit_mib is not None:
            ok = ratio <= case.cpu_limit and got.rss_mib <= case.rss_limit_mib
            failed |= not ok
            target = (
                f"≤ {case.cpu_limit}×, ≤ {case.rss_limit_mib:.0f} MiB: {'met' if ok else 'MISSED'}"
            )
        print(
            f"| {case.name} | {got.cpu_seconds:.3f} | {ratio:.2f} | {got.rss_mib:.1f} | {target} |"
        )
    if failed:
        print("some targets were missed", file=sys.stderr)


if __name__ == "__main__":
    main()
