"""`amber-tesla-sync tariff`: offline preview, --json, refusals, errors; output snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from amber_tesla_sync import __version__
from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.tariff import TariffPlan, validate_request_body
from conftest import CliRunner
from foldkit import run_fold
from payloads import site_payload, utc, without
from snapkit import check_text, pinned_terminal

FIXTURES = Path(__file__).parent / "fixtures"
GLOBIRD = FIXTURES / "amber" / "globird_amber_forecast_5min_site_20250628.json"
GLOBIRD_ARGS = (
    "--prices",
    str(GLOBIRD),
    "--timezone",
    "Australia/Sydney",
    "--now",
    "2025-06-28T16:27:00+10:00",
)


def write(tmp_path: Path, payload: object, name: str = "prices.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return path


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The terminal of the output snapshots (see snapkit)."""
    with pinned_terminal(monkeypatch):
        yield


def test_json_is_exactly_the_body_sync_would_post(cli: CliRunner) -> None:
    result = cli("tariff", *GLOBIRD_ARGS, "--json")
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)["tesla_request"]
    expected = run_fold(
        json.loads(GLOBIRD.read_text()), "Australia/Sydney", utc("2025-06-28T06:27")
    )
    assert isinstance(expected, TariffPlan)
    assert body == expected.body
    assert validate_request_body(body) == []
    assert result.stderr == ""


def test_naive_now_is_local_time(cli: CliRunner) -> None:
    local = cli("tariff", *GLOBIRD_ARGS[:4], "--now", "2025-06-28T16:27:00", "--json")
    aware = cli("tariff", *GLOBIRD_ARGS, "--json")
    assert local.code == 0
    assert local.stdout == aware.stdout


@pytest.mark.usefixtures("pinned")
def test_table_chart_and_summary_snapshot(cli: CliRunner) -> None:
    result = cli("tariff", *GLOBIRD_ARGS)
    assert result.code == 0, result.stderr
    assert "16:00 │ Sat 16:00" in result.stdout
    assert "Summary: cheapest buy" in result.stdout
    check_text("tariff_5min_site", result.stdout)


@pytest.mark.usefixtures("pinned")
def test_estimates_gaps_and_clamps_are_explained(cli: CliRunner, tmp_path: Path) -> None:
    now = utc("2025-07-17T08:00:00+10:00")
    payload = site_payload(
        now, hours_back=24, hours_ahead=14, buy=lambda s: -3.0 if s.hour == 1 else 22.0
    )
    payload = without(payload, utc("2025-07-17T04:00"), utc("2025-07-17T04:30"))
    result = cli(
        "tariff",
        "--prices",
        str(write(tmp_path, payload)),
        "--timezone",
        "Australia/Brisbane",
        "--now",
        "2025-07-17T08:00:00+10:00",
    )
    assert result.code == 0, result.stderr
    check_text("tariff_estimates_gaps", result.stdout, tmp=tmp_path)
    assert "E/E" in result.stdout
    assert "G/F" in result.stdout
    assert "buy<0→0" in result.stdout
    assert "20 of 48 slots estimated beyond the forecast horizon" in result.stdout
    assert "2 gaps filled" in result.stdout


def test_refusal_lists_the_missing_slots_and_exits_5(cli: CliRunner, tmp_path: Path) -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    missing = [
        utc("2025-07-17T06:00") + i * (utc("2025-07-17T06:30") - utc("2025-07-17T06:00"))
        for i in range(6)
    ]
    prices = write(tmp_path, without(site_payload(now), *missing))
    for extra in ((), ("--json",)):
        result = cli(
            "tariff",
            "--prices",
            str(prices),
            "--timezone",
            "Australia/Brisbane",
            "--now",
            "2025-07-17T12:05:00+10:00",
            *extra,
        )
        assert result.code == ExitCode.REFUSED == 5
        assert result.stdout == ""
        assert "6 general slots have no data (at most 4 may be filled)" in result.stderr
        assert "Thu 16:00, Thu 16:30, Thu 17:00, Thu 17:30, Thu 18:00, Thu 18:30" in result.stderr
        assert "The Powerwall keeps its current tariff" in result.stderr
        assert "Traceback" not in result.stderr
    allowed = cli(
        "tariff",
        "--prices",
        str(prices),
        "--timezone",
        "Australia/Brisbane",
        "--now",
        "2025-07-17T12:05:00+10:00",
        "--max-gap-slots",
        "6",
        "--json",
    )
    assert allowed.code == 0


def test_options_come_from_config_and_flags(cli: CliRunner, tmp_path: Path) -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    prices = write(tmp_path, site_payload(now, buy=20.0, sell=-30.0))
    config = tmp_path / "config.toml"
    config.write_text(
        '[site]\ntimezone = "Australia/Brisbane"\n[tariff]\nallow_sell_above_buy = true\n'
    )
    args = (
        "--config",
        str(config),
        "tariff",
        "--prices",
        str(prices),
        "--now",
        "2025-07-17T12:05:00+10:00",
        "--json",
    )
    body = json.loads(cli(*args).stdout)["tesla_request"]
    sell = body["tou_settings"]["tariff_content_v2"]["sell_tariff"]["energy_charges"]["Summer"][
        "rates"
    ]
    assert set(sell.values()) == {0.3}
    capped = json.loads(cli(*args, "--cap-sell-at-buy").stdout)["tesla_request"]
    sell = capped["tou_settings"]["tariff_content_v2"]["sell_tariff"]["energy_charges"]["Summer"][
        "rates"
    ]
    assert set(sell.values()) == {0.2}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--timezone", "Australia/Sydney"), ExitCode.CONFIG, "no Amber site is configured"),
        (
            ("--prices", "{missing}", "--timezone", "UTC"),
            ExitCode.BAD_DATA,
            "cannot read the price file",
        ),
        (("--prices", "{prices}"), ExitCode.USAGE, "no time zone for the site"),
        (
            ("--prices", "{prices}", "--timezone", "Mars/Base"),
            ExitCode.USAGE,
            "not a known IANA time zone",
        ),
        (
            ("--prices", "{prices}", "--timezone", "Asia/Kathmandu"),
            ExitCode.USAGE,
            "not a whole number of half-hours",
        ),
        (
            ("--prices", "{prices}", "--timezone", "UTC", "--now", "soon"),
            ExitCode.USAGE,
            "not an ISO 8601",
        ),
        (
            ("--prices", "{prices}", "--timezone", "UTC", "--forecast-price", "mid"),
            ExitCode.USAGE,
            "not one of",
        ),
        (("--prices", "{broken}", "--timezone", "UTC"), ExitCode.BAD_DATA, "not valid JSON"),
        (("--prices", "{error}", "--timezone", "UTC"), ExitCode.BAD_DATA, "Amber error body"),
        (("--prices", "{malformed}", "--timezone", "UTC"), ExitCode.BAD_DATA, "field 'perKwh'"),
    ],
)
def test_errors_say_what_and_what_next(
    cli: CliRunner, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = site_payload(now)
    malformed = [dict(payload[0], perKwh="n/a"), *payload[1:]]
    paths = {
        "missing": str(tmp_path / "missing.json"),
        "prices": str(write(tmp_path, payload)),
        "broken": str(write(tmp_path, [], "broken.json")).replace("broken", "broken"),
        "error": str(FIXTURES / "amber" / "enkit_error_500_20250530_1310.json"),
        "malformed": str(write(tmp_path, malformed, "malformed.json")),
    }
    (tmp_path / "broken.json").write_text("[{")
    result = cli("tariff", *(arg.format(**paths) for arg in args))
    assert result.code == code, result.stderr
    assert message in result.stderr
    assert "what to do:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"amber-tesla-sync {__version__}"


def test_a_real_process_refuses_without_a_traceback(tmp_path: Path) -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = [i for i in site_payload(now) if i["channelType"] == "feedIn"]
    prices = write(tmp_path, payload)
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "amber_tesla_sync",
            "tariff",
            "--prices",
            str(prices),
            "--timezone",
            "Australia/Brisbane",
            "--now",
            "2025-07-17T12:05:00+10:00",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 5
    assert "no general prices for any of the coming 48 slots" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    result = cli("tariff", "--max-gap-slots", "many")
    assert result.code == 2
    assert "Traceback" not in result.stderr
