"""A fully read HTTP answer, and what the transport and its backends share (User-Agent, origins).

Kept apart from :mod:`regframe.client.transport` so that the backends below it can
build :class:`Reply` objects without importing the layer above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from regframe._version import __version__

__all__ = ["USER_AGENT", "Reply", "origin_of"]

USER_AGENT = f"regframe/{__version__} (+https://pypi.org/project/regframe/)"


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the default port filled in, for same-origin checks.

    Examples
    --------
    >>> origin_of("HTTPS://Registry.example/v2/") == origin_of("https://registry.example:443/x")
    True
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Reply:
    """A fully read HTTP answer.

    ``http_version`` is what the exchange spoke (``"HTTP/2"``, ``"HTTP/1.1"``) where the
    backend knows it, else ``""``.

    Examples
    --------
    >>> headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8"})
    >>> Reply(200, headers, b"{}", "https://r.example/v2/").content_type
    'application/json'
    """

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    url: str
    http_version: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()
