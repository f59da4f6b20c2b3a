"""The Prometheus textfile: what `sync` writes parses with prometheus_client's own parser, with
the documented names, labels and HELP/TYPE lines; it is replaced atomically (a reader never sees
half a file); a directory that is missing costs one warning; doctor checks it."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.publish.exposition import exposition
from amber_tesla_sync.publish.figures import (
    OUTCOMES,
    RunFigures,
    SiteFigures,
    TariffSlot,
    TeslaRequests,
)
from amber_tesla_sync.publish.textfile import write_textfile
from synckit import Synced

SYDNEY = ZoneInfo("Australia/Sydney")
NOW = dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=dt.UTC)
DOCUMENTED = {  # the README's table of metrics
    "amber_tesla_sync_price_dollars_per_kwh": {"site", "channel"},
    "amber_tesla_sync_renewables_ratio": {"site"},
    "amber_tesla_sync_tariff_price_dollars_per_kwh": {"site", "channel", "slot_start"},
    "amber_tesla_sync_tariff_pushed_timestamp_seconds": {"site"},
    "amber_tesla_sync_last_outcome": {"site", "outcome"},
    "amber_tesla_sync_last_run_timestamp_seconds": {"site"},
    "amber_tesla_sync_last_success_timestamp_seconds": {"site"},
    "amber_tesla_sync_refused": {"site"},
    "amber_tesla_sync_refusing_since_timestamp_seconds": {"site"},
    "amber_tesla_sync_powerwall_backup_reserve_ratio": {"site"},
    "amber_tesla_sync_powerwall_info": {"site", "mode", "export_rule"},
    "amber_tesla_sync_run_tesla_requests": {"backend", "kind"},
    "amber_tesla_sync_run_fleet_cost_dollars": set(),
    "amber_tesla_sync_run_duration_seconds": set(),
    "amber_tesla_sync_run_timestamp_seconds": set(),
    "amber_tesla_sync_run_exit_code": set(),
}


def parsed(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Metric name → (labels, value) of every sample, through prometheus_client's parser."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation, family.name
        found[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return found


def configure(synced: Synced, path: Path) -> None:
    """``[metrics]`` with ``path`` (replacing the one set before)."""
    text = synced.site.config.read_text().split("\n[metrics]\n")[0]
    synced.site.config.write_text(text + f'\n[metrics]\ntextfile = "{path}"\n')


def only(samples: list[tuple[dict[str, str], float]], **labels: str) -> float:
    values = [v for found, v in samples if all(found.get(k) == w for k, w in labels.items())]
    assert len(values) == 1, (labels, samples)
    return values[0]


def test_a_sync_writes_the_textfile(synced: Synced, tmp_path: Path) -> None:
    textfile = tmp_path / "textfile" / "amber_tesla_sync.prom"
    textfile.parent.mkdir()
    configure(synced, textfile)
    summary = synced.sync_json()
    assert summary["_code"] == 0
    assert stat.S_IMODE(textfile.stat().st_mode) == 0o644  # node_exporter reads it
    text = textfile.read_text()
    metrics = parsed(text)
    for name, labels in DOCUMENTED.items():
        if name == "amber_tesla_sync_refusing_since_timestamp_seconds":
            assert name not in metrics  # not refusing
            continue
        assert name in metrics, name
        assert all(set(found) == labels for found, _ in metrics[name]), name
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    site = summary["sites"][0]["site"]
    general = next(
        i
        for i in synced.amber_prices()
        if i["type"] == "CurrentInterval" and i["channelType"] == "general"
    )
    buy = only(metrics["amber_tesla_sync_price_dollars_per_kwh"], site=site, channel="buy")
    assert buy == pytest.approx(general["perKwh"] / 100)
    assert only(metrics["amber_tesla_sync_last_outcome"], outcome="verified") == 1
    assert sum(v for _, v in metrics["amber_tesla_sync_last_outcome"]) == 1
    assert len(metrics["amber_tesla_sync_last_outcome"]) == len(OUTCOMES)
    success = only(metrics["amber_tesla_sync_last_success_timestamp_seconds"], site=site)
    assert success == synced.now.timestamp()
    tariff = metrics["amber_tesla_sync_tariff_price_dollars_per_kwh"]
    assert len(tariff) == 96
    stored = synced.stored_rates()
    assert only(tariff, channel="buy", slot_start="17:00") == stored["PERIOD_17_00"]
    reads, writes = summary["tesla_requests"]["read"], summary["tesla_requests"]["write"]
    requests = metrics["amber_tesla_sync_run_tesla_requests"]
    assert only(requests, backend="teslemetry", kind="read") == reads
    assert only(requests, backend="teslemetry", kind="write") == writes
    assert only(metrics["amber_tesla_sync_run_fleet_cost_dollars"]) == 0  # Teslemetry only
    assert only(metrics["amber_tesla_sync_run_duration_seconds"]) > 0
    assert only(metrics["amber_tesla_sync_run_exit_code"]) == 0
    assert only(metrics["amber_tesla_sync_refused"], site=site) == 0


def test_a_refusal_in_the_textfile(synced: Synced, tmp_path: Path) -> None:
    textfile = tmp_path / "amber_tesla_sync.prom"
    configure(synced, textfile)
    assert synced.sync().code == 0
    good = synced.now
    synced.advance(5)
    synced.serve_prices(
        [i for i in synced.amber_prices() if i["type"] == "CurrentInterval"], count=3
    )
    assert synced.sync().code == ExitCode.REFUSED
    metrics = parsed(textfile.read_text())
    assert only(metrics["amber_tesla_sync_refused"]) == 1
    assert only(metrics["amber_tesla_sync_last_outcome"], outcome="refused") == 1
    assert only(metrics["amber_tesla_sync_last_success_timestamp_seconds"]) == good.timestamp()
    since = only(metrics["amber_tesla_sync_refusing_since_timestamp_seconds"])
    assert since == synced.now.timestamp()
    assert only(metrics["amber_tesla_sync_run_exit_code"]) == ExitCode.REFUSED


def test_a_missing_directory_costs_one_warning(synced: Synced, tmp_path: Path) -> None:
    textfile = tmp_path / "no-such-dir" / "amber_tesla_sync.prom"
    configure(synced, textfile)
    result = synced.sync()
    assert result.code == 0
    lines = [line for line in result.stderr.splitlines() if "metrics" in line]
    assert len(lines) == 1 and "does not exist" in lines[0], result.stderr
    assert not textfile.parent.exists()  # node_exporter's directory is not made up


def test_doctor_checks_the_textfile_directory(synced: Synced, tmp_path: Path) -> None:
    configure(synced, tmp_path / "amber_tesla_sync.prom")
    checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert checks["metrics textfile"]["ok"] is True
    assert not list(tmp_path.glob(".amber_tesla_sync.prom.*"))  # the probe is gone
    configure(synced, tmp_path / "gone" / "amber_tesla_sync.prom")
    checks = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert checks["metrics textfile"]["ok"] is False
    assert "does not exist" in checks["metrics textfile"]["detail"]


def test_a_wrong_suffix_is_a_configuration_error(synced: Synced, tmp_path: Path) -> None:
    configure(synced, tmp_path / "metrics.txt")  # node_exporter would never read it
    result = synced.sync()
    assert result.code == ExitCode.CONFIG
    assert "metrics.textfile" in result.stderr


def figures(key: str, outcome: str = "verified") -> SiteFigures:
    start = NOW.replace(minute=30, second=0)
    slots = tuple(
        TariffSlot(
            (start + dt.timedelta(minutes=30 * i)).astimezone(SYDNEY),
            (start + dt.timedelta(minutes=30 * (i + 1))).astimezone(SYDNEY),
            f"{(start + dt.timedelta(minutes=30 * i)).astimezone(SYDNEY):%H:%M}",
            0.1 + i / 1000,
            0.05,
        )
        for i in range(48)
    )
    return SiteFigures(key, key, "01J", 1, outcome, NOW, "why", 0, tariff=slots)


def test_label_values_are_escaped() -> None:
    awkward = 'the "beach" house\\\nnorth'
    run = RunFigures(NOW, 0.5, 0, (figures(awkward),), (TeslaRequests("fleet", 4, 1),))
    metrics = parsed(exposition(run))
    assert only(metrics["amber_tesla_sync_last_outcome"], site=awkward, outcome="verified") == 1
    assert only(metrics["amber_tesla_sync_run_fleet_cost_dollars"]) == pytest.approx(0.009)
    assert {
        labels["slot_start"]
        for labels, _ in metrics["amber_tesla_sync_tariff_price_dollars_per_kwh"]
    } == {f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)}


def test_the_textfile_is_replaced_atomically_while_it_is_read(tmp_path: Path) -> None:
    directory = tmp_path / "textfile"
    directory.mkdir()
    textfile = directory / "amber_tesla_sync.prom"
    # two runs of very different sizes: a torn read would be neither
    texts = [
        exposition(RunFigures(NOW, 1.0, 0, (figures("a"),))),
        exposition(
            RunFigures(NOW, 2.0, 5, tuple(figures(f"site-{n}", "refused") for n in range(20)))
        ),
    ]
    assert len(texts[1]) > 10 * len(texts[0])
    write_textfile(textfile, texts[0])
    seen: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append(textfile.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(200):
            write_textfile(textfile, texts[n % 2])
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 20
    assert all(text in texts for text in seen)
    assert set(seen) == set(texts)  # both were read whole
    assert [p.name for p in directory.iterdir()] == [textfile.name]  # no temporary left over
    parsed(seen[-1])


def test_the_readme_documents_every_metric() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("| metric | labels | meaning |")
    rows = readme[start : readme.index("\n\n", start)].splitlines()[2:]
    documented = {row.split("`")[1]: row.split(" | ")[1] for row in rows}
    assert set(documented) == set(DOCUMENTED)
    for name, labels in DOCUMENTED.items():
        assert all(f"`{label}`" in documented[name] for label in labels), name
