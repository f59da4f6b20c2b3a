"""The sandbox's Amber responses validate against Amber's OpenAPI 2.0.0 spec.

Test-only dependencies: ``openapi-schema-validator`` (OpenAPI 3.0 schema dialect, on top of
``jsonschema``) and ``pyyaml``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from amber_tesla_sync.sandbox import Sandbox

NEM = timezone(timedelta(hours=10))
SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "amber-openapi.yml"

MOMENTS = [
    datetime(2025, 1, 15, 1, 0, 10, tzinfo=UTC),  # summer midday NEM
    datetime(2025, 6, 28, 6, 21, 40, tzinfo=UTC),  # winter afternoon, 5-minute estimate over
    datetime(2025, 4, 5, 15, 59, 50, tzinfo=UTC),  # seconds before AEDT ends (Sydney 02:59:50)
    datetime(2025, 4, 5, 16, 30, 5, tzinfo=UTC),  # the repeated hour in Sydney
    datetime(2025, 10, 4, 15, 45, 0, tzinfo=UTC),  # AEDT starts at 16:00 UTC
    datetime(2025, 10, 4, 17, 5, 20, tzinfo=UTC),
    datetime(2025, 2, 28, 13, 55, 0, tzinfo=UTC),  # NEM midnight, month end
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _validator(spec: dict[str, Any], operation: str) -> OAS30Validator:
    path, method = {
        "sites": ("/sites", "get"),
        "prices": ("/sites/{siteId}/prices/current", "get"),
        "prices_by_date": ("/sites/{siteId}/prices", "get"),
        "usage": ("/sites/{siteId}/usage", "get"),
    }[operation]
    response = spec["paths"][path][method]["responses"]["200"]
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = spec["components"]
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def _errors(validator: OAS30Validator, body: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(body)]


def test_spec_fixture_is_amber_2_0_0(spec: dict[str, Any]) -> None:
    assert spec["info"]["version"] == "2.0.0"
    assert "/sites/{siteId}/prices/current" in spec["paths"]


def test_sites_validate(spec: dict[str, Any], amber: httpx.Client) -> None:
    response = amber.get("/sites")
    validator = _validator(spec, "sites")
    assert _errors(validator, response.json()) == []
    headers = spec["paths"]["/sites"]["get"]["responses"]["200"]["headers"]
    assert len(headers) == 4
    for name in headers:
        ref = headers[name]["$ref"].rsplit("/", 1)[-1]
        kind = spec["components"]["headers"][ref]["schema"]["type"]
        value = response.headers[name]
        if kind == "integer":
            assert value.isdigit(), (name, value)


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y%m%dT%H%M%S"))
def test_prices_current_validate(
    spec: dict[str, Any], amber: httpx.Client, sandbox: Sandbox, moment: datetime
) -> None:
    sandbox.set_time(moment)
    validator = _validator(spec, "prices")
    checked = 0
    for site in sandbox.amber_site_ids:
        for params in ({}, {"next": 288, "previous": 24}, {"next": 48, "resolution": 30}):
            response = amber.get(f"/sites/{site}/prices/current", params=params)
            assert response.status_code == 200
            body = response.json()
            assert body, (site, params)
            assert _errors(validator, body) == []
            checked += len(body)
    assert checked > 500


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y%m%dT%H%M%S"))
def test_prices_by_date_usage_and_renewables_validate(
    spec: dict[str, Any], amber: httpx.Client, sandbox: Sandbox, moment: datetime
) -> None:
    sandbox.set_time(moment)
    day = moment.astimezone(NEM).date()
    checked = 0
    prices = _validator(spec, "prices_by_date")
    usage = _validator(spec, "usage")
    for site in sandbox.amber_site_ids:
        for params in (
            {},
            {"startDate": str(day - timedelta(days=1)), "endDate": str(day + timedelta(days=1))},
            {"startDate": str(day), "endDate": str(day), "resolution": 30},
        ):
            body = amber.get(f"/sites/{site}/prices", params=params).json()
            assert body and _errors(prices, body) == []
            checked += len(body)
        span = {"startDate": str(day - timedelta(days=3)), "endDate": str(day - timedelta(days=1))}
        response = amber.get(f"/sites/{site}/usage", params=span)
        assert response.status_code == 200 and _errors(usage, response.json()) == []
        checked += len(response.json())
    assert checked > 2000
    # The spec's Renewable is a oneOf of three schemas that differ only in an example, so every
    # body (live ones too) matches all three and fails oneOf: check each item against the schema
    # its type names, and the array against the response's own schema minus the oneOf.
    listing = spec["paths"]["/state/{state}/renewables/current"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/Renewable")
    for state in ("nsw", "vic", "sa", "qld"):
        for params in ({}, {"next": 48, "previous": 12, "resolution": 5}):
            response = httpx.get(
                f"{sandbox.amber_base_url}/state/{state}/renewables/current", params=params
            )
            assert response.status_code == 200 and response.json()
            for item in response.json():
                schema = {"$ref": f"#/components/schemas/{item['type']}"}
                item_validator = OAS30Validator(
                    {**schema, "components": spec["components"]},
                    format_checker=oas30_format_checker,
                )
                assert _errors(item_validator, item) == []
                descriptors = spec["components"]["schemas"]["RenewableDescriptor"]["enum"]
                assert item["descriptor"] in descriptors


def test_validator_rejects_a_broken_interval(spec: dict[str, Any], amber: httpx.Client) -> None:
    """The check has teeth: a body missing a required field or with a bad enum fails."""
    validator = _validator(spec, "prices")
    body = amber.get(f"/sites/{amber.get('/sites').json()[0]['id']}/prices/current").json()
    broken = [dict(body[0])]
    del broken[0]["perKwh"]
    assert _errors(validator, broken)
    wrong_enum = [dict(body[0], spikeStatus="maybe")]
    assert _errors(validator, wrong_enum)
    bad_date = [dict(body[0], date="15/01/2025")]
    assert _errors(validator, bad_date)
