"""Bounds on every request: a total deadline, and a cap on the answer's body.

httpx's timeouts apply to each read of the socket, so a server that sends one byte every few
seconds could hold a request (and the run, and its lock) for as long as it likes. Here every wait
of a request (connecting, each write and read) is shortened to what is left of its deadline: the
request's own (``NetworkPolicy.timeout``, in all) or, inside :func:`run_deadline`, the run's, if
that comes first. ``sync`` runs inside one (:data:`RUN_SECONDS`): after it, no request, retry or
wait is started, and the run ends with a service error (exit 8), releasing its lock.

An answer is read whole here, and refused once it, or what it inflates to, passes
:data:`MAX_BODY_BYTES`: the inflated size is measured as it grows, in bounded steps, and nothing
inflated is kept (httpx decodes the body again when it is read, now known to be small).
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx

MAX_BODY_BYTES = 20 * 1024 * 1024  # an answer's body, compressed or not (real ones: < 1 MB)
RUN_SECONDS = 120.0  # a sync run's requests end by then (the timer starts one every 5 minutes)


class _RunClock:
    ends: float | None = None  # time.monotonic() when the run's requests must have ended
    seconds = 0.0


_RUN = _RunClock()
_REQUEST_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "request_ends", default=None
)


@contextlib.contextmanager
def run_deadline(seconds: float | None = None) -> Iterator[None]:
    """Every request made inside ends within ``seconds`` (:data:`RUN_SECONDS`) from now, and
    no retry is started or waited for after that: the run ends with a service error."""
    saved = (_RUN.ends, _RUN.seconds)
    _RUN.seconds = RUN_SECONDS if seconds is None else seconds
    _RUN.ends = time.monotonic() + _RUN.seconds
    try:
        yield
    finally:
        _RUN.ends, _RUN.seconds = saved


def run_left() -> float | None:
    return None if _RUN.ends is None else _RUN.ends - time.monotonic()


class DeadlinePassed(httpx.TimeoutException):
    """A request's (or the run's) deadline passed before the whole answer was in."""

    def __init__(self, description: str, request: httpx.Request, run: bool) -> None:
        super().__init__(description, request=request)
        self.description = description
        self.run = run


class BodyTooLarge(httpx.DecodingError):
    def __init__(self, request: httpx.Request) -> None:
        self.description = (
            f"an answer larger than {MAX_BODY_BYTES / 2**20:g} MB (decompressed) was refused"
        )
        super().__init__(self.description, request=request)


class Bounded(httpx.BaseTransport):
    """A transport whose requests end by a deadline (each read of the socket waits only as long
    as is left) and whose answers are read whole, within :data:`MAX_BODY_BYTES`. With
    ``within_run`` false a request keeps its own deadline inside :func:`run_deadline` (a
    healthcheck ping that tells of a run which ran out of time)."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float, within_run: bool = True) -> None:
        self.inner = inner
        self.seconds = seconds
        self.within_run = within_run
        pool = getattr(inner, "_pool", None)  # httpcore's pool: reads go through its backend
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ends = time.monotonic() + self.seconds
        left = run_left() if self.within_run else None
        run = left is not None and left < self.seconds
        if run and left is not None:
            ends = time.monotonic() + left
        token = _REQUEST_ENDS.set(ends)
        try:
            if time.monotonic() >= ends:
                raise TimeoutError
            response = self.inner.handle_request(request)
            try:
                body = _read_capped(response, request)
            finally:
                response.close()
        except (httpx.TimeoutException, TimeoutError) as error:
            if time.monotonic() < ends and not isinstance(error, TimeoutError):
                raise
            why = (
                f"stopped: a sync may take {_RUN.seconds:g} s in all, and that time is up"
                if run
                else f"timed out (no complete answer within {self.seconds:g} s)"
            )
            raise DeadlinePassed(why, request, run) from error
        finally:
            _REQUEST_ENDS.reset(token)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


def _read_capped(response: httpx.Response, request: httpx.Request) -> bytes:
    """The raw body, refused once it, or what it inflates to, passes :data:`MAX_BODY_BYTES`."""
    assert isinstance(response.stream, httpx.SyncByteStream)
    inflated = _Inflated(response.headers.get_list("content-encoding", split_commas=True))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.stream:
        size += len(chunk)
        if size > MAX_BODY_BYTES or not inflated.fits(chunk, request):
            raise BodyTooLarge(request)
        chunks.append(chunk)
    if not inflated.fits(b"", request, final=True):
        raise BodyTooLarge(request)
    return b"".join(chunks)


class _Inflated:
    """How far the body inflates (gzip, deflate, as httpx decodes them), without keeping it."""

    def __init__(self, encodings: list[str]) -> None:
        names = [name.strip().lower() for name in encodings]
        # decoded last to first; httpx skips the encodings it does not know, and so does this
        self.stages = [_Stage(name) for name in reversed(names) if name in ("gzip", "deflate")]
        self.size = 0

    def fits(self, data: bytes, request: httpx.Request, final: bool = False) -> bool:
        for stage in self.stages:
            data = stage.feed(data, MAX_BODY_BYTES + 1, request, final)
        if self.stages:
            self.size += len(data)
        return self.size <= MAX_BODY_BYTES


class _Stage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.first = True
        self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | (16 if name == "gzip" else 0))

    def feed(self, data: bytes, limit: int, request: httpx.Request, final: bool) -> bytes:
        """At most ``limit`` bytes of what ``data`` inflates to (more means too large anyway)."""
        try:
            out = self.decompressor.decompress(data, limit)
            if final and len(out) < limit:
                out += self.decompressor.flush()
        except zlib.error as error:
            if self.name == "deflate" and self.first:  # raw deflate, without the zlib header
                self.decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                self.first = False
                return self.feed(data, limit, request, final)
            raise httpx.DecodingError(str(error), request=request) from error
        self.first = self.first and not data
        return out


class _Stream(httpcore.NetworkStream):
    """A connection whose every wait ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self.inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self.inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout``, shortened to what is left of the current request's deadline."""
    ends = _REQUEST_ENDS.get()
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        raise late("the deadline passed")
    return left if timeout is None else min(timeout, left)
