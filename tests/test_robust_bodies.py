"""An answer's body is capped, compressed and decompressed: a gzip bomb is refused after a small
part of it is inflated (and nothing inflated is kept): Amber's is malformed data (exit 4), Tesla's
the service error of a garbled answer (exit 8). Real answers, compressed or not, read as before."""

from __future__ import annotations

import contextlib
import gzip
import json
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

import stubserver
from amber_tesla_sync.amber.client import AmberClient
from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.support.http import NetworkPolicy
from amber_tesla_sync.tesla.connection import TeslaConnection
from amber_tesla_sync.tesla.tokens import StaticToken

MB = 1024 * 1024
POLICY = NetworkPolicy(timeout=10.0, attempts=2, backoff=0.0)


def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros as one gzip member of about 1 KB per MB, built from one
    compressed megabyte repeated (a full flush makes each one the same bytes)."""
    zeros = bytes(MB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (megabytes * MB) & 0xFFFFFFFF)
    return header + block * megabytes + deflate.flush() + trailer


@contextmanager
def serving(body: bytes, encoding: str | None = None) -> Iterator[str]:
    """Every request is answered 200 with ``body`` (sent as it is, with ``encoding``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stopped reading: that is the point
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    with stubserver.serving(Handler) as url:
        yield url


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("amber_tesla_sync.support.bounds.MAX_BODY_BYTES", MB)


def test_the_bomb_is_what_it_says() -> None:
    bomb = gzip_bomb(3)
    assert len(bomb) < 10_000
    assert gzip.decompress(bomb) == bytes(3 * MB)


def test_a_gzip_bomb_from_amber_is_refused_without_inflating_it(small_cap: None) -> None:
    bomb = gzip_bomb(200)  # 200 MB of zeros in about 200 KB
    assert len(bomb) < 400_000
    with serving(bomb, "gzip") as url, AmberClient(url, "token", POLICY) as client:
        started = time.monotonic()
        tracemalloc.start()
        try:
            with pytest.raises(AppError) as refused:
                client.current_prices("site", 2, 2)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert refused.value.exit_code == ExitCode.BAD_DATA
    assert "larger than 1 MB (decompressed) was refused" in refused.value.message
    assert peak < 12 * MB  # never the 200 MB, and not even a whole read's worth of it
    assert time.monotonic() - started < 5


def test_a_gzip_bomb_from_tesla_is_refused(small_cap: None) -> None:
    with serving(gzip_bomb(50), "gzip") as url:
        connection = TeslaConnection("teslemetry", url, StaticToken("token"), POLICY)
        with pytest.raises(AppError) as refused:
            connection.call("GET", "/api/1/energy_sites/1/site_info")
        connection.close()
    assert refused.value.exit_code == ExitCode.SERVICE
    assert "larger than 1 MB (decompressed) was refused" in refused.value.message


def test_a_plain_answer_over_the_cap_is_refused(small_cap: None) -> None:
    body = json.dumps({"response": ["x" * 100] * 20_000}).encode()  # 2 MB, not compressed
    with serving(body) as url:
        connection = TeslaConnection("teslemetry", url, StaticToken("token"), POLICY)
        with pytest.raises(AppError) as refused:
            connection.call("GET", "/api/1/energy_sites/1/site_info")
        connection.close()
    assert "larger than 1 MB" in refused.value.message


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate", "gzip, deflate", None])
def test_real_answers_read_as_before(small_cap: None, encoding: str | None) -> None:
    payload = {"response": {"site_name": "Home", "filler": "ab" * 200_000}}  # 400 KB
    data = json.dumps(payload).encode()
    if encoding in ("gzip", "gzip, deflate"):
        data = gzip.compress(data)
    if encoding in ("deflate", "gzip, deflate"):
        data = zlib.compress(data)
    if encoding == "raw deflate":
        raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        data, encoding = raw.compress(data) + raw.flush(), "deflate"
    with serving(data, encoding) as url:
        connection = TeslaConnection("teslemetry", url, StaticToken("token"), POLICY)
        assert connection.call("GET", "/api/1/energy_sites/1/site_info") == payload["response"]
        connection.close()
