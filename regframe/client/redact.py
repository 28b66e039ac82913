"""The one way a URL may appear in an error message, an error's ``url`` or a log line.

A registry URL can carry secrets in three places: userinfo (``https://user:pass@host``),
the query (signed CDN redirects carry ``X-Amz-Signature``/``sig=`` tokens; pagination
cursors can be long) and the fragment.  :func:`redact_url` drops all three and keeps scheme,
host, port and path — enough to tell which request failed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["redact_host", "redact_url"]


def redact_url(url: str) -> str:
    """Return *url* without userinfo, query or fragment, safe to show and to log.

    Parameters
    ----------
    url
        Any URL, absolute or not; it need not be well formed.

    Returns
    -------
    str
        ``scheme://host[:port]/path``; ``"<unparsable URL>"`` when even that cannot be
        taken apart (a broken IPv6 literal), so nothing of the original leaks.

    Examples
    --------
    >>> redact_url("https://user:secret@cdn.example:8443/blobs/x?X-Amz-Signature=abc#frag")
    'https://cdn.example:8443/blobs/x'
    >>> redact_url("http://[::1]:5000/v2/")
    'http://[::1]:5000/v2/'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redact_host(url: str) -> str:
    """Return the ``host[:port]`` of *url* without userinfo, for "could not reach HOST" messages.

    Parameters
    ----------
    url
        Any URL.

    Returns
    -------
    str
        e.g. ``"cdn.example:8443"`` or ``"[::1]:5000"``; ``"<unparsable URL>"`` as in
        :func:`redact_url`.

    Examples
    --------
    >>> redact_host("https://user:secret@cdn.example:8443/blobs/x?sig=1")
    'cdn.example:8443'
    """
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return "<unparsable URL>"
