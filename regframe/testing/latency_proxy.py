"""A TCP proxy that adds a round-trip time to a loopback link, keeping throughput.

Loopback has no kernel latency shaping (``tc netem`` is missing on these machines), so the
benchmark and the tests put :class:`LatencyProxy` in front of the local registry to make it
behave like a distant one: every chunk is delayed by ``delay / 2`` in each direction.
"""

from __future__ import annotations

import asyncio
import contextlib

from regframe.testing.loop_server import CHUNK, LoopServer, close_quietly, reset_connection

__all__ = ["LatencyProxy"]

# Bounds the bytes a slow reader can make a pipe hold (64 KiB chunks); the
# bandwidth-delay product of a loopback link at 50 ms fits comfortably.
_QUEUE_CHUNKS = 1024


class LatencyProxy(LoopServer):
    """TCP proxy that adds ``delay / 2`` to every chunk in each direction.

    A request/response round trip through it costs about ``delay`` more than
    direct, like a link with that RTT.  Chunks are queued with release
    timestamps, so reading continues while earlier data waits: throughput is
    kept and hundreds of concurrent connections do not serialise.

    Parameters
    ----------
    upstream : tuple of (str, int)
        Loopback ``(host, port)`` to forward to.
    delay : float
        Added round-trip time in seconds (``0.050`` for 50 ms).
    handshake : bool, default False
        Also charge one extra round trip per new connection, as a TCP
        handshake to a distant host would.
    listen_host : str, default "127.0.0.1"
        Loopback address to listen on.

    Examples
    --------
    >>> with LatencyProxy(("127.0.0.1", 5000), delay=0.05) as proxy:  # doctest: +SKIP
    ...     requests.get(f"{proxy.url}/v2/")
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        delay: float,
        handshake: bool = False,
        listen_host: str = "127.0.0.1",
    ) -> None:
        super().__init__(upstream, listen_host)
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self.delay = float(delay)
        self.handshake = handshake
        self._stats = {"connections": 0, "active": 0, "bytes_to_upstream": 0, "bytes_to_client": 0}

    @property
    def stats(self) -> dict[str, int]:
        """Counts: ``connections`` accepted, ``active`` now, bytes each way."""
        return dict(self._stats)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream, limit=CHUNK)
        except OSError:
            reset_connection(writer)
            return
        self._stats["connections"] += 1
        self._stats["active"] += 1
        # SYN and SYN-ACK each take delay/2 before the client can send its first byte.
        first_release = accepted + (1.5 * self.delay if self.handshake else 0.0)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, "bytes_to_upstream", first_release),
                self._pipe(up_reader, writer, "bytes_to_client", 0.0),
            )
        finally:
            self._stats["active"] -= 1
            close_quietly(up_writer)

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        counter: str,
        not_before: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        # b"" is EOF, None is a reset/error on the reading side.
        queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(_QUEUE_CHUNKS)

        async def pump() -> None:
            data: bytes | None
            while True:
                try:
                    data = await src.read(CHUNK)
                except (ConnectionError, OSError):
                    data = None
                await queue.put((max(loop.time() + self.delay / 2, not_before), data))
                if not data:
                    return

        pumper = asyncio.ensure_future(pump())
        try:
            while True:
                release, data = await queue.get()
                wait = release - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    reset_connection(dst)
                    return
                if not data:
                    with contextlib.suppress(OSError, RuntimeError):
                        if dst.can_write_eof():
                            dst.write_eof()
                    return
                dst.write(data)
                await dst.drain()
                self._stats[counter] += len(data)
        except (ConnectionError, OSError):
            reset_connection(dst)
        finally:
            pumper.cancel()
