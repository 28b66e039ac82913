"""One HTTP exchange as the transport and its backends pass it: :class:`Request` out,
:class:`Reply` back, and what both sides share (User-Agent, origins).

Kept apart from :mod:`regframe.client.transport` so that the backends below it can
read requests and build replies without importing the layer above them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload
from urllib.parse import urlsplit

from regframe._version import __version__
from regframe.client.redact import redact_url

__all__ = ["DEFAULT_LIMIT", "USER_AGENT", "Headers", "Reply", "Request", "host_key", "origin_of"]

_T = TypeVar("_T")

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


def host_key(url: str) -> str:
    """``url``'s lowercased ``host[:port]`` (with any userinfo), as ``urlsplit`` gives it.

    The transport asks it of every request (the per-host limit, the proxy), and a
    ``urlsplit`` of each whole URL was 3 % of a cold read's CPU (py-spy): the part
    before the path is split once and remembered.

    Examples
    --------
    >>> host_key("https://Registry.example:5000/v2/x/manifests/1.0?n=1")
    'registry.example:5000'
    """
    if "\t" in url or "\r" in url or "\n" in url:  # urlsplit drops them before it splits
        return _netloc(url)
    start = url.find("//") + 2
    end = min((i for i in (url.find(c, start) for c in "/?#") if i >= 0), default=len(url))
    return _netloc(url[:end])


@functools.lru_cache(maxsize=512)
def _netloc(prefix: str) -> str:
    return urlsplit(prefix).netloc.lower()


class Headers(Mapping[str, str]):
    """An answer's header fields, looked up by name in any case; repeats already joined.

    What the libcurl backend returns (``requests`` has its own ``CaseInsensitiveDict``,
    which costs more to build: its names are lowered a second time, one Python call each).

    Parameters
    ----------
    fields
        ``{lowercased name: (name as sent, value)}``.

    Examples
    --------
    >>> h = Headers({"content-type": ("content-type", "application/json")})
    >>> h["Content-Type"], h.get("LINK"), "CONTENT-TYPE" in h, h
    ('application/json', None, True, Headers(['content-type']))
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, tuple[str, str]]) -> None:
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][1]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        # Mapping.get would raise and catch KeyError for every name not sent.
        found = self._fields.get(name.lower())
        return default if found is None else found[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        # Names only: a value may be a cookie or a token.
        return f"Headers({list(self)!r})"


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
    >>> headers = {"Content-Type": "application/json; charset=utf-8"}
    >>> Reply(200, headers, b"{}", "https://r.example/v2/").content_type
    'application/json'
    """

    status: int
    #: By name in any case (``requests``' ``CaseInsensitiveDict`` or :class:`Headers`).
    headers: Mapping[str, str]
    body: bytes
    url: str
    http_version: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()
