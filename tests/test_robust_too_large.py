"""An answer larger than the cap (20 MB, compressed or decompressed), seen by ``sync``: from Amber
it is malformed data, too large to be a price list (exit 4, the message naming the cap); from
Tesla it is an unusable answer, like one that is not JSON (exit 8). Nothing is pushed."""

from __future__ import annotations

import json

import pytest

from amber_tesla_sync.errors import ExitCode
from synckit import Synced
from test_robust_bodies import MB, gzip_bomb, serving


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("amber_tesla_sync.support.bounds.MAX_BODY_BYTES", MB)


def pointed(synced: Synced, real: str, stub: str) -> None:
    config = synced.site.config
    text = config.read_text()
    assert f'"{real}"' in text
    config.write_text(text.replace(f'"{real}"', f'"{stub}"'))


@pytest.mark.parametrize("encoding", ["gzip", None])
def test_amber_answering_more_than_the_cap_is_bad_data(
    synced: Synced, small_cap: None, encoding: str | None
) -> None:
    body = gzip_bomb(30) if encoding else json.dumps(["x" * 1000] * 2000).encode()  # 2 MB
    with serving(body, encoding) as url:
        pointed(synced, synced.sandbox.amber_base_url, url + "/v1")
        result = synced.sync()
    assert result.code == ExitCode.BAD_DATA == 4, result.stderr
    assert "Amber's price response is far too large to be real" in result.stderr
    assert "larger than 1 MB (decompressed) was refused" in result.stderr
    assert "Amber may be having problems" not in result.stderr
    assert synced.sandbox.tariff_posts() == []


def test_tesla_answering_more_than_the_cap_is_a_service_problem(
    synced: Synced, small_cap: None
) -> None:
    with serving(gzip_bomb(30), "gzip") as url:
        pointed(synced, synced.sandbox.teslemetry_base_url, url)
        result = synced.sync()
    assert result.code == ExitCode.SERVICE == 8, result.stderr
    assert "larger than 1 MB (decompressed) was refused" in result.stderr
    assert synced.sandbox.tariff_posts() == []
