"""The console script starts without the cyclic collector and turns it back on."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from importlib.metadata import entry_points

import pytest

from amber_tesla_sync import entry
from stubserver import stub_server


def test_collection_is_off_while_the_command_starts_and_back_on_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    # what the entry changes in the process, put back afterwards
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    monkeypatch.setitem(sys.modules, "httpx._main", sys.modules.get("httpx._main"))
    monkeypatch.setattr("amber_tesla_sync.cli.main", lambda: seen.append(gc.isenabled()))
    monkeypatch.setattr(entry, "START_UP_SECONDS", 0.05)
    before = {t.ident for t in threading.enumerate()}
    try:
        entry.main()
        assert seen == [False]
        (timer,) = [t for t in threading.enumerate() if t.ident not in before]
        assert timer.daemon
        timer.join(5)
        assert gc.isenabled()
    finally:
        gc.enable()


def test_the_installed_script_and_python_m_run_the_entry_point() -> None:
    (script,) = entry_points(group="console_scripts", name="amber-tesla-sync")
    assert script.value == "amber_tesla_sync.entry:main"
    done = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("amber-tesla-sync ")


PROBE = """
import sys
{prepare}
import httpx
with httpx.Client() as client:
    status = client.get(sys.argv[1]).status_code
print(status, *(name in sys.modules for name in ("click", "rich", "pygments")))
"""


def probe(prepare: str, url: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(prepare=prepare), url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_httpx_works_without_loading_its_own_command_line_client() -> None:
    with stub_server(lambda method, path: (200, {"ok": True})) as stub:
        # click comes with Apprise, so a plain import of httpx loads its command-line client
        assert probe("", stub.url) == ["200", "True", "True", "True"]
        skipped = "from amber_tesla_sync.entry import skip_unused_imports; skip_unused_imports()"
        assert probe(skipped, stub.url) == ["200", "False", "False", "False"]


def test_pydantic_plugins_are_off_unless_the_user_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    entry.skip_unused_imports()
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    entry.skip_unused_imports()
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == ""
