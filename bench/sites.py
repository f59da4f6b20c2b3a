"""How the wall time of one `sync` grows with the number of sites: one site against ten, each
site an Amber site and a Powerwall of its own, every answer of every site held back 300 ms by
the sandbox (its ``delay`` faults on the site's Amber prices and on its Powerwall's requests).

    python bench/sites.py [--runs 5] [--sites 10] [--delay 0.3]

Whole processes (`python -m amber_tesla_sync sync`), timed from start to exit, the two cases
interleaved; the median of each and the ratio of the many-site run to the one-site run in the
same bench run. Two kinds of run: nothing to push (one Amber round trip per site) and a forced
push (the Amber round trip, the push and its read-back on each Powerwall). The target: a run of
ten sites takes at most 1.5 times the wall time of a run of one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from amber_tesla_sync.sandbox import Sandbox

NOW = dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=dt.UTC)
TARGET = 1.5


def home(sandbox: Sandbox, root: Path, count: int) -> dict[str, str]:
    """A logged-in home whose config links ``count`` Amber sites to as many Powerwalls."""
    root.mkdir()
    amber = [sandbox.amber_site_ids[i] for i in (0, 1)] + sandbox.amber_site_ids[3:]
    links = "".join(
        f'\n[[sites]]\nname = "site-{n + 1}"\namber_site_id = "{amber[n]}"\n'
        f'energy_site_id = {sandbox.energy_site_ids[n]}\ntimezone = "Australia/Sydney"\n'
        for n in range(count)
    )
    config = root / "config.toml"
    config.write_text(
        f'[amber]\nbase_url = "{sandbox.amber_base_url}"\n'
        f'[tesla]\nteslemetry_url = "{sandbox.teslemetry_base_url}"\n'
        f'fleet_api_url = "{sandbox.fleet_na_base_url}"\n'
        f'[secrets]\nstore = "file"\n{links}'
    )
    env = {
        **os.environ,
        "HOME": str(root),
        "AMBER_TESLA_SYNC_CONFIG": str(config),
        "AMBER_TESLA_SYNC_STATE_DIR": str(root / "state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    c = sandbox.credentials
    for args, secret in (
        (["login", "amber", "--token-stdin", "--site", sandbox.amber_site_id], c.amber_token),
        (["login", "teslemetry", "--token-stdin"], c.teslemetry_token),
    ):
        cli(args, env, secret + "\n")
    cli(["sync", "--now", NOW.isoformat()], env)  # the first push: later runs are steady
    return env


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    """One process; its wall time in seconds (a failure ends the bench)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    taken = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return taken


def slow_down(sandbox: Sandbox, count: int, delay: float) -> None:
    """Every answer about the first ``count`` sites held back ``delay`` seconds (until cleared)."""
    amber = [sandbox.amber_site_ids[i] for i in (0, 1)] + sandbox.amber_site_ids[3:]
    for n in range(count):
        path = f"/amber/v1/sites/{amber[n]}/prices/current"
        sandbox.add_fault(path, "delay", delay_seconds=delay, count=10_000)
        powerwall = f"/teslemetry/api/1/energy_sites/{sandbox.energy_site_ids[n]}/"
        sandbox.add_fault(powerwall, "delay", delay_seconds=delay, count=10_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per case (median)")
    parser.add_argument("--sites", type=int, default=10, help="sites in the many-site run")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds every answer waits")
    options = parser.parse_args()
    many = options.sites
    sandbox = Sandbox(
        seed=3,
        amber_rate_limit=None,
        teslemetry_rate_limit=None,
        powerwalls=many,
        extra_amber_sites=max(many - 2, 0),
    )
    now = ["--now", NOW.isoformat()]
    cases = {"nothing to push": ["sync", *now], "forced push": ["sync", "--force", *now]}
    times: dict[tuple[str, int], list[float]] = {}
    with sandbox, tempfile.TemporaryDirectory() as workdir:
        sandbox.set_time(NOW)
        homes = {
            count: home(sandbox, Path(workdir) / f"sites-{count}", count) for count in (1, many)
        }
        slow_down(sandbox, many, options.delay)
        for _ in range(options.runs):
            for name, args in cases.items():
                for count, env in homes.items():
                    times.setdefault((name, count), []).append(cli(args, env))
    print(
        f"{options.runs} runs per case, medians of whole processes; every answer held back "
        f"{options.delay * 1000:.0f} ms; Python {sys.version.split()[0]} on {sys.platform}"
    )
    print(f"| run | 1 site s | {many} sites s | × one site | target ≤ {TARGET}× |")
    print("| --- | ---: | ---: | ---: | --- |")
    missed = False
    for name in cases:
        one = statistics.median(times[(name, 1)])
        several = statistics.median(times[(name, many)])
        ratio = several / one
        missed |= ratio > TARGET
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(f"| {name} | {one:.2f} | {several:.2f} | {ratio:.2f} | {verdict} |")
    if missed:
        raise SystemExit("the target was missed")


if __name__ == "__main__":
    main()
