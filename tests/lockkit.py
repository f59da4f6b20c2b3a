"""Many processes sharing one secret store from several state directories: some refresh the Fleet
token over and over, others rewrite another secret (as `login teslemetry` does) at the same time.

Children are forked from a forkserver that has the package imported, so they start together.
Every loop is bounded; everything goes to the sandbox on 127.0.0.1.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.store.secrets import TESLEMETRY_TOKEN
from amber_tesla_sync.sync.context import AppContext
from e2ekit import wait_until


@dataclass(frozen=True)
class Job:
    kind: str  # "refresh" (rounds of token refreshes) or "write" (rounds of another secret)
    config: str
    state: str
    work: str
    rounds: int


def _child(job: Job) -> None:
    os.environ["AMBER_TESLA_SYNC_CONFIG"] = job.config
    os.environ["AMBER_TESLA_SYNC_STATE_DIR"] = job.state
    ctx = AppContext(load_config(Path(job.config)))
    folder = Path(job.work)
    (folder / "ready" / str(os.getpid())).touch()
    while not (folder / "go").exists():
        time.sleep(0.002)
    done = 0
    if job.kind == "refresh":
        tokens = ctx.fleet_tokens()
        tokens.margin = 10**9  # every call finds the token due: every call refreshes
        for _ in range(job.rounds):
            tokens.token()
        done = tokens.refreshes
    else:
        for round_ in range(job.rounds):
            ctx.store.set(TESLEMETRY_TOKEN, f"teslemetry-{os.getpid()}-{round_}")
            done += 1
    (folder / "done" / str(os.getpid())).write_text(str(done), encoding="utf-8")


def run_jobs(jobs: list[Job], work: Path) -> tuple[list[int | None], int]:
    """Run every job in its own process, started together; (exit codes, units of work done)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["amber_tesla_sync.sync.context", "lockkit"])
    for name in ("ready", "done"):
        (work / name).mkdir(exist_ok=True)
    processes = [context.Process(target=_child, args=(job,)) for job in jobs]
    for process in processes:
        process.start()
    try:
        wait_until(lambda: len(list((work / "ready").iterdir())) == len(jobs), timeout=90)
        (work / "go").touch()
        for process in processes:
            process.join(timeout=120)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    done = sum(int(path.read_text()) for path in (work / "done").iterdir())
    return [process.exitcode for process in processes], done
