"""journald: with JOURNAL_STREAM naming stderr's device and inode, every log line carries its
syslog priority; the cron line keeps the exit code visible, with its priority, through logger."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from amber_tesla_sync.schedule import cron_line
from synckit import Synced


def run_with_stderr_file(
    synced: Synced, path: Path, args: list[str], journal: str | None
) -> tuple[int, str]:
    env = {**synced.site.env}
    env.pop("JOURNAL_STREAM", None)
    env.pop("AMBER_TESLA_SYNC_LOG_PREFIX", None)
    with path.open("w") as stderr:
        if journal == "match":
            found = os.fstat(stderr.fileno())
            env["JOURNAL_STREAM"] = f"{found.st_dev}:{found.st_ino}"
        elif journal == "other":
            env["JOURNAL_STREAM"] = "1:2"
        result = subprocess.run(
            [sys.executable, "-m", "amber_tesla_sync", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
            timeout=120,
            check=False,
        )
    return result.returncode, path.read_text()


def test_log_lines_carry_their_priority_when_stderr_is_the_journal(
    synced: Synced, tmp_path: Path
) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    args = ["-v", "sync", "--now", synced.now.isoformat()]
    code, text = run_with_stderr_file(synced, tmp_path / "ok.txt", args, "match")
    assert code == 0, text
    lines = text.splitlines()
    assert lines and all(re.match(r"<[3467]>", line) for line in lines), lines
    assert any(line.startswith("<6>INFO ") for line in lines)
    assert any(
        line.startswith("<4>WARNING ") and "export rule is pv_only" in line for line in lines
    )

    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=500, count=3)
    code, text = run_with_stderr_file(synced, tmp_path / "fail.txt", args, "match")
    assert code == 8
    assert any(
        line.startswith("<3>ERROR ") and "fetching Amber prices" in line
        for line in text.splitlines()
    )

    # an error that ends the command (no Tesla login) is reported with <3> on each line
    assert synced.run("logout", "teslemetry").code == 0
    code, text = run_with_stderr_file(
        synced, tmp_path / "auth.txt", ["status", "--site", "nope"], "match"
    )
    assert code == 2
    assert text.splitlines()[0].startswith("<3>amber-tesla-sync: error: ")
    assert text.splitlines()[1].startswith("<3>  what to do: ")


def test_no_prefixes_when_stderr_is_not_the_journal(synced: Synced, tmp_path: Path) -> None:
    args = ["-v", "sync", "--now", synced.now.isoformat()]
    for journal in (None, "other"):
        code, text = run_with_stderr_file(synced, tmp_path / f"{journal}.txt", args, journal)
        assert code == 0
        assert text.strip() and not re.search(r"^<\d>", text, re.MULTILINE), text


def test_the_cron_line_logs_the_exit_code_with_priorities(tmp_path: Path) -> None:
    """The cron line's shell, run for real by /bin/sh, with a stand-in program and logger."""
    program = tmp_path / "amber-tesla-sync"
    program.write_text(
        "#!/bin/sh\n"
        'echo "out: prefix=$AMBER_TESLA_SYNC_LOG_PREFIX"\n'
        'echo "<4>WARNING x: careful" >&2\n'
        "exit 8\n"
    )
    program.chmod(0o755)
    log = tmp_path / "logger.txt"
    logger = tmp_path / "bin" / "logger"
    logger.parent.mkdir()
    logger.write_text(f'#!/bin/sh\necho "args: $*" >> {log}\ncat >> {log}\n')
    logger.chmod(0o755)
    line = cron_line([str(program), "sync"])
    shell = line.split("sleep 30 && ", 1)[1].rsplit("  #", 1)[0].replace("\\%", "%")
    env = {"PATH": f"{logger.parent}:/usr/bin:/bin"}
    subprocess.run(["/bin/sh", "-c", shell], env=env, check=True, timeout=30)
    got = log.read_text().splitlines()
    assert got == [  # each line at its priority, the prefix taken off (no --prio-prefix)
        "args: -t amber-tesla-sync -p user.info -- out: prefix=1",
        "args: -t amber-tesla-sync -p user.warning -- WARNING x: careful",
        "args: -t amber-tesla-sync -p user.err -- amber-tesla-sync exited with code 8",
    ]
