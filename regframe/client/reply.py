"""One HTTP exchange as the transport and its backends pass it: :class:`Request` out,
:class:`Reply` back, and what both sides share (User-Agent, origins).

Kept apart from :mod:`regframe.client.transport` so that the backends below it can
read requests and build replies without importing the layer above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from regframe._version import __version__
from regframe.client.redact import redact_url

__all__ = ["DEFAULT_LIMIT", "USER_AGENT", "Reply", "Request", "origin_of"]

USER_AGENT = f"regframe/{__version__} (+https://pypi.org/project/regframe/)"
#: Bytes an answer may have unless the caller says otherwise: manifests, configs and
#: token answers are small; anything larger is an attack or a bug.
DEFAULT_LIMIT = 4 * 1024 * 1024


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


@dataclass(frozen=True, slots=True)
class Request:
    """One request as a backend sends it: a single exchange, no redirects, no retries.

    :class:`~regframe.client.transport.Transport` makes one per hop of a redirect
    chain (``Authorization`` already dropped where the chain left the first origin);
    ``auth`` is HTTP basic credentials, ``limit`` the most bytes the answer's body
    may have.  Its repr names the method and the redacted URL only: headers and
    ``auth`` carry credentials.

    Examples
    --------
    >>> request = Request("GET", "https://r.example/v2/?sig=x", {"Authorization": "Bearer t"})
    >>> request, request.limit
    (Request(GET https://r.example/v2/), 4194304)
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    auth: tuple[str, str] | None = None
    limit: int = DEFAULT_LIMIT

    def __repr__(self) -> str:
        return f"Request({self.method} {redact_url(self.url)})"


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
