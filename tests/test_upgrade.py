"""An upgrade keeps everything: the state file and the history database written by the release
at commit 022ca18 (tests/fixtures/upgrade-022ca18, made by that release's own sync) are brought
up to this version in place, a copy of each kept first; the owner's export rule saved while
curtailing survives and is restored. A file of a newer version is refused (exit 14) and left
byte for byte as it was, by every command that reads it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.history_schema import HISTORY_SCHEMA
from amber_tesla_sync.store.state_schema import STATE_SCHEMA
from synckit import Synced, flat

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade-022ca18"
OLD_STATE = (FIXTURES / "state.json").read_bytes()
OLD_HISTORY = gzip.decompress((FIXTURES / "history.sqlite3.gz").read_bytes())
# the old release's last run (its curtailment began then)
OLD_END = dt.datetime.fromisoformat(
    next(iter(json.loads(OLD_STATE)["sync"].values()))["last_run_at"]
)


def install(synced: Synced, state: bool = True, history: bool = True) -> None:
    """The old release's files in the sandbox's state directory, its Powerwall as that release
    left it (curtailing: export rule `never`), the clock 5 minutes after its last run."""
    folder = synced.site.state
    folder.mkdir(parents=True, exist_ok=True)
    if state:
        (folder / "state.json").write_bytes(OLD_STATE)
    if history:
        (folder / "history.sqlite3").write_bytes(OLD_HISTORY)
    text = synced.site.config.read_text()
    synced.site.config.write_text(
        text + '\n[sync]\ncurtail_exports = true\ncurtail_rule = "never"\n'
    )
    synced.sandbox.set_energy_site(customer_preferred_export_rule="never")
    synced.at(OLD_END + dt.timedelta(minutes=5))


def site_state(folder: Path) -> dict[str, Any]:
    state = json.loads((folder / "state.json").read_text())
    found: dict[str, Any] = next(iter(state["sync"].values()))
    return found


def old_rows(query: str) -> list[Any]:
    with sqlite3.connect(":memory:") as db:
        db.deserialize(OLD_HISTORY)
        return db.execute(query).fetchall()


def old_rows_dump() -> list[str]:
    with sqlite3.connect(":memory:") as db:
        db.deserialize(OLD_HISTORY)
        return list(db.iterdump())


def test_the_fixture_is_what_022ca18_wrote() -> None:
    """The files are of the version before schema versions: no field, no user_version, no
    foreign_tariff column; curtailing with the owner's rule saved; a week of runs."""
    state = json.loads(OLD_STATE)
    assert "schema" not in state and "restores" not in site_state(FIXTURES)
    assert site_state(FIXTURES)["curtailment"]["user_rule"] == "pv_only"
    assert old_rows("PRAGMA user_version") == [(0,)]
    assert "foreign_tariff" not in {row[1] for row in old_rows("PRAGMA table_info(runs)")}
    first, last = old_rows("SELECT min(started_at), max(started_at) FROM runs")[0]
    assert dt.datetime.fromisoformat(last) - dt.datetime.fromisoformat(first) >= dt.timedelta(6)


def test_the_old_state_upgrades_and_the_owners_rule_comes_back(synced: Synced) -> None:
    install(synced)
    folder = synced.site.state
    shown = synced.run("status", "--now", synced.now.isoformat())
    assert shown.code == 0, shown.stderr
    assert (folder / "state.json.v1.bak").read_bytes() == OLD_STATE
    upgraded = json.loads((folder / "state.json").read_text())
    assert upgraded["schema"] == STATE_SCHEMA
    assert site_state(folder)["curtailment"] == site_state(FIXTURES)["curtailment"]

    # feed-in pays 20 c/kWh again: far enough past the threshold to end curtailing at once
    synced.serve_prices(flat(synced.amber_prices(), buy=30.0, feed_in=-20.0))
    result = synced.sync_json()
    assert result["_code"] == 0, result
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "pv_only"
    assert site_state(folder)["curtailment"]["active"] is False
    assert site_state(folder)["restores"] == {}
    assert sorted(path.name for path in folder.glob("state.json.*")) == ["state.json.v1.bak"]


def test_a_sync_upgrades_the_old_state_itself(synced: Synced) -> None:
    """The first command after the upgrade is the timer's sync: it holds the run lock, keeps the
    copy, and writes the file in the new form with its own save."""
    install(synced, history=False)
    synced.serve_prices(flat(synced.amber_prices(), buy=30.0, feed_in=40.0))  # still costly
    assert synced.sync().code == 0
    folder = synced.site.state
    assert (folder / "state.json.v1.bak").read_bytes() == OLD_STATE
    assert json.loads((folder / "state.json").read_text())["schema"] == STATE_SCHEMA
    curtailment = site_state(folder)["curtailment"]
    assert (curtailment["active"], curtailment["user_rule"]) == (True, "pv_only")
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "never"


def test_the_old_history_upgrades_and_reads_back(synced: Synced) -> None:
    install(synced)
    folder = synced.site.state
    since = (OLD_END - dt.timedelta(days=10)).isoformat()
    args = ("--now", synced.now.isoformat(), "--since", since)
    result = synced.run("history", "--format", "json", *args)
    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)["sites"][0]
    with sqlite3.connect(folder / "history.sqlite3.v1.bak") as db:  # the file as it was
        assert list(db.iterdump()) == old_rows_dump()
    with sqlite3.connect(folder / "history.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (HISTORY_SCHEMA,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    runs = old_rows("SELECT started_at, outcome, pushed, reason FROM runs ORDER BY id DESC")
    assert [(r["outcome"], r["pushed"], r["reason"]) for r in shown["runs"]] == [
        (outcome, bool(pushed), reason) for _, outcome, pushed, reason in runs
    ]
    assert [dt.datetime.fromisoformat(r["at"]) for r in shown["runs"]] == [
        dt.datetime.fromisoformat(at) for at, *_ in runs
    ]
    foreign = History(folder / "history.sqlite3").runs(OLD_END - dt.timedelta(8), limit=None)
    assert {r.foreign for r in foreign} == {None, "code 'OTHER_TOOL:PLAN'"}

    prices = old_rows("SELECT channel, start, duration, per_kwh FROM prices")
    buy = {(start, n): price for channel, start, n, price in prices if channel == "general"}
    sell = {(start, n): -price for channel, start, n, price in prices if channel == "feedIn"}
    assert len(buy) > 2000 and len(sell) > 2000
    assert {(_utc(r["start"]), r["minutes"]): r["buy"] for r in shown["prices"]} == buy
    assert {(_utc(r["start"]), r["minutes"]): r["sell"] for r in shown["prices"]} == sell

    report = synced.run("report", "--now", synced.now.isoformat(), "--json", "--days", "1")
    assert report.code == 0, report.stderr
    (day,) = json.loads(report.stdout)["sites"][0]["days"]
    assert day["tariff"]["tool_share"] > 0.9  # the old runs say the tool's tariff ran all day


def _utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_history_of_the_version_without_schema_but_with_its_column_upgrades(
    tmp_path: Path,
) -> None:
    """Files written just before versions were recorded have the foreign_tariff column but no
    user_version: they are version 1 and upgrade without losing a row."""
    path = tmp_path / "state" / "history.sqlite3"
    path.parent.mkdir()
    path.write_bytes(OLD_HISTORY)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE runs ADD COLUMN foreign_tariff TEXT")
        db.execute("UPDATE runs SET foreign_tariff = 'kept' WHERE id = 1")
    db.close()
    runs = History(path).runs(OLD_END - dt.timedelta(days=8), limit=None)
    assert len(runs) == old_rows("SELECT count(*) FROM runs")[0][0]
    assert runs[-1].foreign == "kept"
    assert (path.parent / "history.sqlite3.v1.bak").exists()
    History(path).runs(OLD_END)  # once upgraded, opening it again keeps no further copy
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "history.sqlite3",
        "history.sqlite3.v1.bak",
    ]


def newer_state(synced: Synced) -> Path:
    path = synced.site.state / "state.json"
    state = json.loads(path.read_text())
    state["schema"] = STATE_SCHEMA + 1
    state["sync"] = {"a layout": ["this version", "does not know"]}
    path.write_text(json.dumps(state))
    return path


def newer_history(synced: Synced) -> Path:
    path = synced.site.state / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {HISTORY_SCHEMA + 1}")
        db.execute("CREATE TABLE of_the_future (x)")
    db.close()
    return path


COMMANDS = [
    pytest.param(("sync",), ExitCode.LOCAL_FILES, id="sync"),
    pytest.param(("status",), ExitCode.LOCAL_FILES, id="status"),
    pytest.param(("history", "--format", "csv"), ExitCode.LOCAL_FILES, id="history"),
    pytest.param(("report", "--days", "1"), ExitCode.LOCAL_FILES, id="report"),
    # doctor reports it among its checks, with the same message, and fails as for any problem
    pytest.param(("doctor",), ExitCode.CHECKS_FAILED, id="doctor"),
]


@pytest.mark.parametrize(("command", "code"), COMMANDS)
@pytest.mark.parametrize("make", [newer_state, newer_history], ids=["state", "history"])
def test_a_file_of_a_newer_version_is_refused_and_left_as_it_is(
    synced: Synced, make: Any, command: tuple[str, ...], code: int
) -> None:
    assert synced.sync().code == 0
    posts = len(synced.sandbox.tariff_posts())
    path = make(synced)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    before = path.read_bytes()
    synced.advance(60)

    now = () if command == ("doctor",) else ("--now", synced.now.isoformat())
    result = synced.run(*command, *now)
    assert result.code == code, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "written by a newer amber-tesla-sync" in said and str(path) in said
    assert (
        f"this version knows up to {HISTORY_SCHEMA if 'history' in path.name else STATE_SCHEMA}"
        in said
    )
    assert "upgrade amber-tesla-sync" in said and "bug" not in said
    assert path.read_bytes() == before and path.stat().st_mtime == 1_000_000_000
    assert not list(path.parent.glob(f"{path.name}.*"))  # no copy, nothing moved aside
    assert len(synced.sandbox.tariff_posts()) == posts


@pytest.mark.parametrize("content", [b"\x00\xff garbage", b'{"schema": "two", "sync": {}}'])
def test_a_damaged_state_file_is_still_moved_aside(synced: Synced, content: bytes) -> None:
    path = synced.site.state / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    result = synced.sync()
    assert result.code == 0, result.stdout + result.stderr
    assert "was damaged" in result.stderr and "moved it to" in result.stderr
    (aside,) = path.parent.glob("state.json.damaged-*")
    assert aside.read_bytes() == content
    assert json.loads(path.read_text())["schema"] == STATE_SCHEMA
    assert not list(path.parent.glob("state.json.v*.bak"))
