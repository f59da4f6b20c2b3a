"""``history`` exports the runs and both price channels (buy and sell) as JSON, CSV and NDJSON:
what is exported, read back with ``csv`` and ``json``, is what the store holds. The history
keeps ``history.keep_days`` days (0: everything)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.history import History, RunRecord
from synckit import Synced

PRICE_COLUMNS = ["site", "start", "end", "minutes", "kind", "buy", "sell_kind", "sell"]
RUN_COLUMNS = ["site", "at", "outcome", "pushed", "reason", "fingerprint", "error", "exit_code"]


@pytest.fixture
def recorded(synced: Synced) -> Synced:
    """Three syncs, 5 minutes apart, the middle one failing (Amber answers 503)."""
    assert synced.sync().code == 0
    synced.advance(5)
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=503, count=3)
    assert synced.sync().code == ExitCode.SERVICE
    synced.advance(5)
    assert synced.sync().code == 0
    return synced


def export(synced: Synced, *args: str) -> str:
    result = synced.run("history", "--now", synced.now.isoformat(), "--since", "2d", *args)
    assert result.code == 0, result.stderr
    return result.stdout


def stored(synced: Synced) -> tuple[History, str, dt.datetime]:
    since = synced.now - dt.timedelta(days=2)
    return History(synced.site.state / "history.sqlite3"), synced.sandbox.amber_site_id, since


def stored_prices(synced: Synced) -> dict[tuple[dt.datetime, int], dict[str, Any]]:
    """What the store holds, by interval: each channel's kind and price (sell as earned)."""
    history, site, since = stored(synced)
    rows: dict[tuple[dt.datetime, int], dict[str, Any]] = {}
    for channel, sign, kind_key, price_key in (
        ("general", 1, "kind", "buy"),
        ("feedIn", -1, "sell_kind", "sell"),
    ):
        for start, minutes, kind, price in history.prices(site, since, channel):
            row = rows.setdefault((start, minutes), {})
            row.update({kind_key: kind, price_key: sign * price})
    return rows


def _when(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def exported_prices(rows: list[dict[str, Any]]) -> dict[tuple[dt.datetime, int], dict[str, Any]]:
    found = {}
    for row in rows:
        start, end, minutes = _when(row["start"]), _when(row["end"]), int(row["minutes"])
        assert end - start == dt.timedelta(minutes=minutes)
        found[(start, minutes)] = {
            "kind": row["kind"],
            "buy": float(row["buy"]),
            "sell_kind": row["sell_kind"],
            "sell": float(row["sell"]),
        }
    return found


def test_csv_prices_hold_both_channels_as_stored(recorded: Synced) -> None:
    text = export(recorded, "--format", "csv")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == PRICE_COLUMNS
    rows = list(reader)
    assert {row["site"] for row in rows} == {recorded.sandbox.amber_site_id}
    assert rows[0]["start"].endswith("+11:00")  # the site's zone (Sydney, daylight time)
    expected = stored_prices(recorded)
    assert len(expected) > 300 and any(row["sell"] > 0 for row in expected.values())
    assert exported_prices(rows) == expected
    assert [_when(row["start"]) for row in rows] == sorted(_when(row["start"]) for row in rows)


def test_ndjson_prices_and_runs_read_back_as_stored(recorded: Synced) -> None:
    lines = export(recorded, "--format", "ndjson").splitlines()
    assert exported_prices([json.loads(line) for line in lines]) == stored_prices(recorded)

    lines = export(recorded, "--format", "ndjson", "--records", "runs").splitlines()
    runs = [json.loads(line) for line in lines]
    history, _, since = stored(recorded)
    held = history.runs(since, limit=None)
    assert [_run(row) for row in runs] == [_held(run) for run in held]
    assert len(runs) == 3 and runs[1]["outcome"] == "failed" and runs[2]["pushed"] is True
    assert all(set(row) == set(RUN_COLUMNS) for row in runs)


def _run(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        _when(row["at"]),
        row["outcome"],
        row["pushed"],
        row["reason"],
        row["fingerprint"],
        row["error"],
        row["exit_code"],
    )


def _held(run: RunRecord) -> tuple[Any, ...]:
    return (
        run.started_at,
        run.outcome,
        run.pushed,
        run.reason,
        run.fingerprint,
        run.error,
        run.exit_code,
    )


def test_csv_runs_read_back_as_stored(recorded: Synced) -> None:
    reader = csv.DictReader(io.StringIO(export(recorded, "--format", "csv", "--records", "runs")))
    assert reader.fieldnames == RUN_COLUMNS
    rows = list(reader)
    history, _, since = stored(recorded)
    held = history.runs(since, limit=None)
    assert len(rows) == len(held) == 3
    for row, run in zip(rows, held, strict=True):
        assert _when(row["at"]) == run.started_at
        assert (row["outcome"], row["pushed"], row["reason"]) == (
            run.outcome,
            "true" if run.pushed else "false",
            run.reason,
        )
        assert (row["fingerprint"] or None, row["error"] or None) == (run.fingerprint, run.error)
        assert int(row["exit_code"]) == run.exit_code
    assert rows[1]["outcome"] == "failed" and rows[1]["error"]


def test_json_has_both_channels_and_json_is_its_alias(recorded: Synced) -> None:
    document = json.loads(export(recorded, "--json"))
    assert json.loads(export(recorded, "--format", "json")) == document
    assert (document["schema"], document["command"], document["price_unit"]) == (
        1,
        "history",
        "c/kWh",
    )
    (site,) = document["sites"]
    assert exported_prices(site["prices"]) == stored_prices(recorded)
    assert [run["outcome"] for run in site["runs"]][1] == "failed"


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "xml"),
        ("--json", "--format", "csv"),
        ("--records", "runs"),
        ("--format", "json", "--records", "runs"),
        ("--format", "csv", "--records", "bills"),
    ],
)
def test_formats_and_records_that_do_not_fit_are_usage_errors(
    synced: Synced, args: tuple[str, ...]
) -> None:
    result = synced.run("history", *args)
    assert result.code == ExitCode.USAGE, result.stdout + result.stderr
    assert "what to do:" in result.stderr and not result.stdout


def _run_at(moment: dt.datetime) -> RunRecord:
    return RunRecord(moment, "home", "unchanged", False, "nothing moved", None, None, 0)


@pytest.mark.parametrize(("keep_days", "left"), [(10, 2), (30, 3), (0, 3), (None, 3)])
def test_pruning_keeps_the_days_asked_for(tmp_path: Path, keep_days: int | None, left: int) -> None:
    history = History(tmp_path / "history.sqlite3", keep_days=keep_days)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for days_ago in (20, 9, 0):
        history.record_run(_run_at(now - dt.timedelta(days=days_ago)))
    runs = history.runs(now - dt.timedelta(days=365), limit=None)
    assert len(runs) == left
    assert runs[0].started_at == now


def test_sync_prunes_by_history_keep_days(synced: Synced) -> None:
    text = synced.site.config.read_text()
    synced.site.config.write_text(text + "\n[history]\nkeep_days = 1\n")
    assert synced.sync().code == 0
    synced.advance(30 * 60)  # 30 hours on: the first run is past a day
    assert synced.sync().code == 0
    history, site, _ = stored(synced)
    since = synced.now - dt.timedelta(days=30)
    assert [run.started_at for run in history.runs(since)] == [synced.now]
    oldest = min(start for start, *_ in history.prices(site, since))
    assert oldest >= synced.now - dt.timedelta(days=1)
