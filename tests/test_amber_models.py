"""Parsing Amber bodies: every example and capture parses; bad bodies say what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.amber.models import (
    ErrorBody,
    load_intervals_file,
    parse_intervals,
    parse_renewables,
    parse_sites,
    unknown_values,
)
from amber_tesla_sync.errors import DataError
from payloads import interval, utc

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = json.loads((FIXTURES / "amber-examples.json").read_text())
CAPTURES = sorted(p for p in (FIXTURES / "amber").glob("*.json") if "error" not in p.name)


@pytest.mark.parametrize("key", [k for k in EXAMPLES if k.startswith("prices_current")])
def test_example_price_bodies_parse(key: str) -> None:
    body = EXAMPLES[key]["body"]
    parsed = parse_intervals(body)
    assert len(parsed) == len(body)
    assert not unknown_values(parsed)


@pytest.mark.parametrize("key", [k for k in EXAMPLES if k.startswith("sites")])
def test_example_site_bodies_parse(key: str) -> None:
    sites = parse_sites(EXAMPLES[key]["body"])
    assert sites
    assert all(site.interval_length in (5, 30) for site in sites)


def test_every_example_body_parses_with_its_model() -> None:
    parsers = {"sites": parse_sites, "prices": parse_intervals, "renewables": parse_renewables}
    parsed = 0
    for key, block in EXAMPLES.items():
        kind = key.split("_")[0]
        if kind in parsers:
            assert parsers[kind](block["body"]), key
            parsed += 1
    for name, error in EXAMPLES["errors"].items():
        assert ErrorBody.model_validate(error["body"]).message, name
    assert parsed == 5


def test_observed_intervals_parse() -> None:
    for observed in EXAMPLES["intervals__observed_in_public_issues"]:
        assert len(parse_intervals(observed["objects"])) == len(observed["objects"])


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_real_captures_parse(path: Path) -> None:
    parsed = load_intervals_file(path)
    raw = json.loads(path.read_text())
    assert len(parsed) == len(raw)
    for item, original in zip(parsed, raw, strict=True):
        assert item.end == dt.datetime.fromisoformat(original["endTime"])
        # rule 1: start = end − duration, which is startTime minus its extra second
        assert item.start == dt.datetime.fromisoformat(original["startTime"]) - dt.timedelta(
            seconds=1
        )


def test_times_and_spans() -> None:
    item = parse_intervals([interval(utc("2025-07-16T22:30"), 19.5)])[0]
    assert item.start == utc("2025-07-16T22:30")
    assert item.end == utc("2025-07-16T23:00")
    assert item.nem_time == dt.datetime.fromisoformat("2025-07-17T09:00:00+10:00")
    assert item.date == dt.date(2025, 7, 17)


def test_forward_compatible_with_new_values_and_fields() -> None:
    raw = interval(utc("2025-07-16T22:30"), 19.5, spike="volcanic", descriptor="superLow")
    raw["brandNewField"] = {"x": 1}
    raw["channelType"] = "battery"
    item = parse_intervals([raw])[0]
    assert item.spike_status == "volcanic"
    assert unknown_values([item]) == {
        "spikeStatus=volcanic",
        "descriptor=superLow",
        "channelType=battery",
    }


def test_optional_objects_may_be_null_or_absent() -> None:
    raw = interval(utc("2025-07-16T22:30"), 19.5, advanced=None)
    raw["range"] = None
    raw["tariffInformation"] = None
    item = parse_intervals([raw])[0]
    assert item.advanced_price is None
    assert item.range is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"perKwh": "cheap"}, "field 'perKwh'"),
        ({"endTime": "yesterday"}, "field 'endTime'"),
        ({"endTime": "2025-07-16T23:00:00"}, "timezone"),
        ({"duration": 0}, "field 'duration'"),
        ({"perKwh": None}, "field 'perKwh'"),
    ],
)
def test_malformed_intervals_name_the_item_and_field(change: dict[str, Any], expected: str) -> None:
    good = interval(utc("2025-07-16T22:00"), 20.0)
    bad = dict(interval(utc("2025-07-16T22:30"), 19.5), **change)
    with pytest.raises(DataError) as caught:
        parse_intervals([good, bad], source="the test body")
    message = caught.value.message
    assert "the test body" in message
    assert "item 1 (general ForecastInterval" in message
    assert expected in message


def test_missing_required_field() -> None:
    raw = interval(utc("2025-07-16T22:30"), 19.5)
    del raw["channelType"]
    with pytest.raises(DataError, match=r"item 0 .*'channelType'.*Field required"):
        parse_intervals([raw])


def test_not_a_list() -> None:
    with pytest.raises(DataError, match=r"Amber error body.*Internal server error"):
        parse_intervals(
            json.loads((FIXTURES / "amber" / "enkit_error_500_20250530_1310.json").read_text())
        )
    with pytest.raises(DataError, match="expected a JSON array"):
        parse_intervals({"response": []})


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the price file"):
        load_intervals_file(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"type": ')
    with pytest.raises(DataError, match="not valid JSON"):
        load_intervals_file(broken)


def test_sites_with_missing_id_are_rejected() -> None:
    with pytest.raises(DataError, match="'id'"):
        parse_sites([{"nmi": "123", "status": "active"}])
