"""A recording static server on 127.0.0.3 that plays the blob CDN behind registry redirects.

The sandbox registry's ``redirect`` storage middleware answers blob GETs with 307 to this
server, which serves the registry's storage root, so the client under test really follows a
redirect to another host and a test can prove no ``Authorization`` header went along.
"""

from __future__ import annotations

from pathlib import Path

from regframe.testing.recording import QuietHandler, RecordingService

__all__ = ["CDN_HOST", "CDNServer"]

CDN_HOST = "127.0.0.3"


class _CDNHandler(QuietHandler):
    def do_GET(self) -> None:
        path, _ = self.record()
        owner = self.server.owner
        assert isinstance(owner, CDNServer)
        target = (owner.root / path.lstrip("/")).resolve()
        if owner.root not in target.parents or not target.is_file():
            self.send_body(404, b"not found", "text/plain")
            return
        self.send_body(200, target.read_bytes(), "application/octet-stream")

    do_HEAD = do_GET


class CDNServer(RecordingService):
    """Static server for the registry's storage root, standing in for a blob CDN (loopback only).

    The registry's ``redirect`` middleware sends blob GETs to
    ``http://127.0.0.3:PORT/docker/registry/v2/blobs/sha256/XX/HEX/data`` — the
    path of the blob under the filesystem driver's root — so serving that root
    returns the real bytes.  Every request is recorded (:attr:`requests`) so a
    test can prove no ``Authorization`` header followed the redirect.

    Parameters
    ----------
    root
        The directory to serve (the registry's storage root).
    host
        Loopback address to listen on.

    Examples
    --------
    >>> cdn = CDNServer(Path("/tmp"))  # doctest: +SKIP
    >>> cdn.start(); cdn.base_url  # doctest: +SKIP
    'http://127.0.0.3:41234/'
    """

    handler = _CDNHandler
    thread_name = "regframe-sandbox-cdn"

    def __init__(self, root: Path, host: str = CDN_HOST) -> None:
        super().__init__(host)
        self.root = root.resolve()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.3:PORT/``, the middleware's ``baseurl``."""
        return f"http://{self.host}:{self.port}/"
