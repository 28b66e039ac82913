"""An HTTP/1.1 proxy that injects per-request faults (resets, stalls, 503, 429, truncation).

:class:`FaultProxy` sits in front of a loopback registry and, for each request, draws from a
seeded RNG whether to reset the connection, stall, answer 503 or 429 (with ``Retry-After``) or
cut the body short, so fault counts are reproducible.  Everything else is relayed verbatim.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any, Literal

from regframe.testing.loop_server import (
    CHUNK,
    HEAD_LIMIT,
    LoopServer,
    close_quietly,
    reset_connection,
)

__all__ = ["FaultProxy"]

logger = logging.getLogger(__name__)

_FAULT_KINDS = ("reset", "stall", "error503", "rate429", "truncate")


class _Request:
    """One parsed HTTP/1.1 request, kept as raw bytes for verbatim forwarding."""

    __slots__ = ("body", "close", "head", "method", "target")

    def __init__(self, method: str, target: str, head: bytes, body: bytes, close: bool) -> None:
        self.method = method
        self.target = target
        self.head = head
        self.body = body
        self.close = close


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    # Later duplicates win; only framing headers are consulted here.
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return headers


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[tuple[bytes, int, bytes]]:
    """A chunked body chunk by chunk, raw: each size line, its size, and what follows it.

    After a chunk's size line come its data and CRLF; after the last one's (size 0), the
    trailers and the empty line that ends the body.
    """
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            trailers = bytearray()
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                trailers += trailer
            yield line, 0, bytes(trailers) + b"\r\n"
            return
        yield line, size, await reader.readexactly(size + 2)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Read a chunked body and return it raw (sizes, data and trailers)."""
    return b"".join([line + rest async for line, _, rest in _chunks(reader)])


def _status_response(status: int, *, head_only: bool, extra: dict[str, str]) -> bytes:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"
    code = {
        401: "UNAUTHORIZED",
        403: "DENIED",
        404: "NAME_UNKNOWN",
        429: "TOOMANYREQUESTS",
    }.get(status, "UNAVAILABLE" if status >= 500 else "UNKNOWN")
    body = json.dumps(
        {"errors": [{"code": code, "message": f"injected by FaultProxy: {status} {phrase}"}]}
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "Docker-Distribution-Api-Version": "registry/2.0",
        **extra,
    }
    lines = [f"HTTP/1.1 {status} {phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


class FaultProxy(LoopServer):
    """HTTP/1.1 proxy that injects faults per request, drawn from a seeded RNG.

    Each request whose target matches ``paths`` draws one uniform number; the
    fault probabilities partition ``[0, 1)`` in the order reset, stall,
    error503, rate429, truncate, so each fault fires at its own rate and
    their sum must be at most 1.  Sequential requests with the same seed give
    the same faults.  Requests and responses are otherwise relayed verbatim
    (keep-alive on both sides, chunked bodies, HEAD, redirects).

    Parameters
    ----------
    upstream : tuple of (str, int)
        Loopback ``(host, port)`` of a plain-HTTP server.
    seed : int, default 0
        Seed of the fault RNG.
    reset : float
        Probability of resetting the client connection (RST, SO_LINGER 0).
    reset_when : {"either", "before", "after"}
        Reset before forwarding, after the upstream has answered (the request
        took effect but the client never learns), or either at random.
    stall : float
        Probability of holding the request ``stall_seconds`` and then closing.
    stall_seconds : float, default 5.0
    error503 : float
        Probability of starting a burst of 503 answers.
    burst503 : int, default 1
        Number of consecutive matching requests answered 503 per burst.
    rate429 : float
        Probability of answering 429.
    retry_after : str or None, default "1"
        ``Retry-After`` on 429: seconds as given, ``"date"`` for an HTTP-date
        ``retry_after_date_in`` seconds from now, ``None`` for no header.
    retry_after_date_in : float, default 2.0
    truncate : float
        Probability of cutting the response body in half (headers promise the
        full length, then the connection closes).  Only counted when the
        response has a body to cut.
    paths : str or None
        Regex searched in the request target; other requests pass untouched
        and draw nothing from the RNG.
    listen_host : str, default "127.0.0.1"

    Examples
    --------
    >>> with FaultProxy(("127.0.0.1", 5000), reset=0.1, error503=0.1, rate429=0.03) as p:
    ...     requests.get(f"{p.url}/v2/")  # doctest: +SKIP
    >>> p.stats["reset"]  # doctest: +SKIP
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        seed: int = 0,
        reset: float = 0.0,
        reset_when: Literal["either", "before", "after"] = "either",
        stall: float = 0.0,
        stall_seconds: float = 5.0,
        error503: float = 0.0,
        burst503: int = 1,
        rate429: float = 0.0,
        retry_after: str | None = "1",
        retry_after_date_in: float = 2.0,
        truncate: float = 0.0,
        paths: str | None = None,
        listen_host: str = "127.0.0.1",
    ) -> None:
        super().__init__(upstream, listen_host)
        self._lock = threading.Lock()
        # Reproducible fault schedules are the point; this is not security-relevant.
        self._rng = random.Random(seed)
        self._knobs: dict[str, Any] = {}
        self._paths: re.Pattern[str] | None = None
        self._burst_left = 0
        self._always: int | None = None
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "requests",
                "forwarded",
                *_FAULT_KINDS,
                "always",
                "client_connections",
                "upstream_connections",
            ),
            0,
        )
        self.set(
            reset=reset,
            reset_when=reset_when,
            stall=stall,
            stall_seconds=stall_seconds,
            error503=error503,
            burst503=burst503,
            rate429=rate429,
            retry_after=retry_after,
            retry_after_date_in=retry_after_date_in,
            truncate=truncate,
            paths=paths,
        )

    @property
    def stats(self) -> dict[str, int]:
        """Counts per fault kind plus ``requests``, ``forwarded`` and connections."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            for key in self._stats:
                self._stats[key] = 0

    def set(self, **knobs: Any) -> None:
        """Change fault knobs at runtime (same names as the constructor).

        Examples
        --------
        >>> proxy.set(error503=0.0, rate429=0.5, retry_after="date")  # doctest: +SKIP
        """
        allowed = {
            "reset",
            "reset_when",
            "stall",
            "stall_seconds",
            "error503",
            "burst503",
            "rate429",
            "retry_after",
            "retry_after_date_in",
            "truncate",
            "paths",
            "seed",
        }
        unknown = set(knobs) - allowed
        if unknown:
            raise TypeError(f"unknown FaultProxy knob(s): {', '.join(sorted(unknown))}")
        with self._lock:
            merged = {**self._knobs, **knobs}
            if sum(float(merged.get(kind, 0.0)) for kind in _FAULT_KINDS) > 1.0 + 1e-9:
                raise ValueError("fault probabilities must sum to at most 1")
            if any(float(merged.get(kind, 0.0)) < 0 for kind in _FAULT_KINDS):
                raise ValueError("fault probabilities must be >= 0")
            if merged.get("reset_when") not in ("either", "before", "after"):
                raise ValueError("reset_when must be 'either', 'before' or 'after'")
            if int(merged.get("burst503", 1)) < 1:
                raise ValueError("burst503 must be >= 1")
            if "seed" in knobs:
                self._rng.seed(knobs["seed"])
                merged.pop("seed")
            if "paths" in knobs:
                self._paths = re.compile(knobs["paths"]) if knobs["paths"] else None
            self._knobs = merged

    def always(self, status: int | None) -> None:
        """Answer every request with *status* (``None`` returns to normal).

        Examples
        --------
        >>> proxy.always(503)  # a registry that always fails  # doctest: +SKIP
        """
        with self._lock:
            self._always = None if status is None else int(status)

    def _decide(self, target: str) -> tuple[str | None, bool]:
        """Return the fault for one request and, for resets, whether to forward first."""
        with self._lock:
            self._stats["requests"] += 1
            if self._always is not None:
                return "always", False
            if self._paths is not None and not self._paths.search(target):
                return None, False
            if self._burst_left > 0:
                self._burst_left -= 1
                return "error503", False
            draw = self._rng.random()
            for kind in _FAULT_KINDS:
                probability = float(self._knobs[kind])
                if draw < probability:
                    after = False
                    if kind == "reset":
                        when = self._knobs["reset_when"]
                        after = when == "after" or (when == "either" and self._rng.random() < 0.5)
                    if kind == "error503":
                        self._burst_left = int(self._knobs["burst503"]) - 1
                    return kind, after
                draw -= probability
            return None, False

    def _count(self, key: str) -> None:
        with self._lock:
            self._stats[key] += 1

    def _retry_after(self) -> dict[str, str]:
        value = self._knobs["retry_after"]
        if value is None:
            return {}
        if value == "date":
            when = time.time() + float(self._knobs["retry_after_date_in"])
            return {"Retry-After": email.utils.formatdate(when, usegmt=True)}
        return {"Retry-After": str(value)}

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise
            return None
        lines = head.split(b"\r\n")
        method, target, version = lines[0].decode("latin-1").split(" ", 2)
        headers = _parse_headers(lines[1:])
        connection = headers.get("connection", "").lower()
        close = "close" in connection or version.strip() == "HTTP/1.0"
        if headers.get("expect", "").lower() == "100-continue":
            # We read the body before the upstream sees the request, so answer
            # the expectation ourselves and do not forward it.
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            head = b"\r\n".join(line for line in lines if not line.lower().startswith(b"expect:"))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = b""
        return _Request(method.upper(), target, head, body, close)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count("client_connections")
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await self._read_request(reader, writer)
                if request is None:
                    return
                fault, after = self._decide(request.target)
                if fault is not None:
                    logger.debug("injecting %s into %s %s", fault, request.method, request.target)
                head_only = request.method == "HEAD"
                if fault == "reset" and not after:
                    self._count("reset")
                    reset_connection(writer)
                    return
                if fault == "stall":
                    self._count("stall")
                    await asyncio.sleep(float(self._knobs["stall_seconds"]))
                    return
                if fault in ("always", "error503", "rate429"):
                    if fault == "always":
                        status = self._always if self._always is not None else 503
                    else:
                        status = 503 if fault == "error503" else 429
                    extra = self._retry_after() if status == 429 else {}
                    self._count(fault)
                    writer.write(_status_response(status, head_only=head_only, extra=extra))
                    await writer.drain()
                    if request.close:
                        return
                    continue
                upstream, keep = await self._forward(request, upstream, writer, fault, after)
                if not keep or request.close:
                    return
        finally:
            if upstream is not None:
                close_quietly(upstream[1])

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        connection = await asyncio.open_connection(*self.upstream, limit=HEAD_LIMIT)
        self._count("upstream_connections")
        return connection

    async def _send_upstream(
        self,
        request: _Request,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], int, dict[str, str], bytes]:
        """Send *request* and read the final response head, reconnecting once if stale."""
        for attempt in (0, 1):
            reused = upstream is not None
            if upstream is None:
                upstream = await self._open_upstream()
            up_reader, up_writer = upstream
            try:
                up_writer.write(request.head + request.body)
                await up_writer.drain()
                return (upstream, *await self._read_response_head(up_reader))
            except (ConnectionError, asyncio.IncompleteReadError):
                # An idle keep-alive connection the upstream already closed.
                close_quietly(up_writer)
                upstream = None
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _read_response_head(
        reader: asyncio.StreamReader,
    ) -> tuple[int, dict[str, str], bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        return status, _parse_headers(lines[1:]), head

    async def _forward(
        self,
        request: _Request,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
        writer: asyncio.StreamWriter,
        fault: str | None,
        reset_after: bool,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, bool]:
        """Relay one request; return the upstream connection to reuse and keep-alive."""
        try:
            upstream, status, headers, head = await self._send_upstream(request, upstream)
            up_reader, up_writer = upstream
            # Interim 1xx answers are relayed; the final response follows.
            while 100 <= status < 200 and status != 101:
                writer.write(head)
                status, headers, head = await self._read_response_head(up_reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            if upstream is not None:
                close_quietly(upstream[1])
            writer.write(_status_response(502, head_only=request.method == "HEAD", extra={}))
            await writer.drain()
            return None, False
        self._count("forwarded")
        if fault == "reset" and reset_after:
            self._count("reset")
            reset_connection(up_writer)
            reset_connection(writer)
            return None, False

        no_body = request.method == "HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = None if chunked else headers.get("content-length")
        upstream_close = "close" in headers.get("connection", "").lower()
        to_eof = not no_body and not chunked and length is None
        want_cut = fault == "truncate"

        writer.write(head)
        if no_body:
            cut = False
        elif chunked:
            cut = await self._relay_chunked(up_reader, writer, want_cut)
        elif length is not None:
            cut = want_cut and int(length) > 0
            await self._relay_exact(up_reader, writer, int(length), cut)
        else:
            cut = await self._relay_to_eof(up_reader, writer, want_cut)
        await writer.drain()
        if cut:
            self._count("truncate")
            close_quietly(up_writer)
            return None, False
        if upstream_close or to_eof:
            close_quietly(up_writer)
            return None, not to_eof
        return upstream, True

    @staticmethod
    async def _relay_exact(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int, cut: bool
    ) -> None:
        remaining = length // 2 if cut else length
        while remaining > 0:
            data = await reader.read(min(remaining, CHUNK))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            writer.write(data)
            remaining -= len(data)
            await writer.drain()

    @staticmethod
    async def _relay_chunked(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: bool
    ) -> bool:
        """Relay a chunked body; with *cut*, stop half-way through the first chunk."""
        async for line, size, rest in _chunks(reader):
            if cut and size:
                # The size line promised the whole chunk; deliver half and stop.
                writer.write(line + rest[: size // 2])
                return True
            writer.write(line + rest)
            await writer.drain()
        return False

    @staticmethod
    async def _relay_to_eof(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: bool
    ) -> bool:
        """Relay a body framed by connection close; with *cut*, send half the first read."""
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return False
            writer.write(data[: max(1, len(data) // 2)] if cut else data)
            await writer.drain()
            if cut:
                return True
