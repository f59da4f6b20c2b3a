"""Every HTTP client of a run shares one TLS context (the CA bundle is loaded once), made only
when a request goes over HTTPS."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from amber_tesla_sync.amber.client import AmberClient
from amber_tesla_sync.notify import healthcheck
from amber_tesla_sync.support import http as httpbase
from amber_tesla_sync.tesla.connection import TeslaConnection
from amber_tesla_sync.tesla.tokens import StaticToken
from stubserver import stub_server


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ssl.SSLContext]]:
    """The TLS contexts made (httpx makes each with ssl.create_default_context)."""
    contexts: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        contexts.append(real(*args, **kwargs))
        return contexts[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    httpbase.tls_context.cache_clear()
    yield contexts
    httpbase.tls_context.cache_clear()


def test_plain_http_loads_no_ca_bundle(made: list[ssl.SSLContext]) -> None:
    with stub_server(lambda method, path: (200, [])) as stub:
        with AmberClient(stub.url, "amber-token") as amber:
            amber.sites()
        tesla = TeslaConnection("teslemetry", stub.url, StaticToken("tesla-token"))
        tesla.close()
        assert healthcheck.ping(stub.url + "/ping", "start")
        assert [seen.path for seen in stub.seen] == ["/sites", "/ping/start"]
    assert made == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_https_clients_load_the_ca_bundle_once(made: list[ssl.SSLContext]) -> None:
    url = f"https://127.0.0.1:{closed_port()}/"
    for _ in range(2):  # two clients (the healthcheck's pings, say), each over HTTPS
        with pytest.raises(httpx.ConnectError):
            httpbase.bounded_request("GET", url, 5.0)
    assert len(made) == 1
    assert made[0] is httpbase.tls_context()


def test_one_client_sends_each_scheme_on_its_own_transport(made: list[ssl.SSLContext]) -> None:
    with (
        stub_server(lambda method, path: (200, [])) as stub,
        httpbase.make_client("", 5.0) as client,
    ):
        assert client.get(stub.url + "/plain").status_code == 200
        assert made == []
        with pytest.raises(httpx.ConnectError):
            client.get(f"https://127.0.0.1:{closed_port()}/")
    assert len(made) == 1


def test_the_shared_context_verifies_certificates_and_host_names(
    made: list[ssl.SSLContext],
) -> None:
    context = httpbase.tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert httpbase.tls_context() is context
