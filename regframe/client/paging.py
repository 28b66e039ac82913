"""Following ``Link: <…>; rel="next"`` pages safely: same origin only, no loops, bounded.

One rule for every paginated registry list (tags, the catalog): a relative or
absolute next link is followed only on the origin (scheme, host, port) of the
page that sent it, a repeated URL or ``last`` cursor ends in an error instead
of a loop, and a listing that goes on past ``max_pages`` pages ends in an error too.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

from regframe.client.headers import parse_link_next
from regframe.client.redact import redact_url
from regframe.client.transport import origin_of
from regframe.errors import RegistryError

__all__ = ["Pager"]


class Pager:
    """Remembers the pages of one listing and says where the next one is.

    Parameters
    ----------
    domain
        Registry name for messages.
    what
        What is being listed, for messages (``"repositories"``).
    max_pages
        Pages a listing may have; a next link after that many is an error.
        ``None``: the caller counts.

    Examples
    --------
    >>> p = Pager("r.example", "repositories")
    >>> p.next_url("https://r.example/v2/_catalog?n=2", '</v2/_catalog?n=2&last=b>; rel="next"')
    'https://r.example/v2/_catalog?n=2&last=b'
    >>> p.next_url("https://r.example/v2/_catalog?n=2&last=b", None) is None
    True
    """

    def __init__(self, domain: str, what: str, *, max_pages: int | None = None) -> None:
        self.domain = domain
        self.what = what
        self.max_pages = max_pages
        self._urls: set[str] = set()
        self._cursors: set[str] = set()

    def next_url(self, url: str, link_header: str | None, *, count: int = 0) -> str | None:
        """The absolute URL of the page after ``url`` (whose answer carried ``link_header``).

        Raises
        ------
        RegistryError
            The link leaves the origin, repeats a page already fetched, or asks for
            one page more than ``max_pages``.
        """
        return self.follow(url, parse_link_next(link_header), count=count)

    def follow(self, url: str, link: str | None, *, count: int = 0) -> str | None:
        """Like :meth:`next_url` for a next link given as such (a JSON ``next`` field)."""
        self._urls.add(url)
        cursor = _cursor(url)
        if cursor is not None:
            self._cursors.add(cursor)
        if not link:
            return None
        if self.max_pages is not None and len(self._urls) >= self.max_pages:
            raise RegistryError(
                f"{self.domain} returned more than {self.max_pages} pages of {self.what}; "
                "stopping",
                url=redact_url(url),
            )
        nxt = urljoin(url, link)
        if origin_of(nxt) != origin_of(url):
            raise RegistryError(
                f"{self.domain} sent a pagination link to another host or scheme "
                f"({redact_url(nxt)}); refusing to follow it",
                url=redact_url(url),
            )
        nxt_cursor = _cursor(nxt)
        if nxt in self._urls or (nxt_cursor is not None and nxt_cursor in self._cursors):
            raise RegistryError(
                f"{self.domain} pagination loops (page link repeats after {count} {self.what})",
                url=redact_url(nxt),
            )
        return nxt


def _cursor(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("last")
    return values[0] if values else None
