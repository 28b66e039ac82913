"""Parsers for the HTTP headers the registry protocol leans on.

``WWW-Authenticate`` (RFC 7235), ``Link`` (RFC 8288) and ``Retry-After``
(RFC 9110).  They are hand-written single-pass scanners rather than regular
expressions: these headers come from servers we do not control, and a greedy
regex over quoted strings can backtrack catastrophically on hostile input.
Every parser here is linear in the header length and never raises for bad
input: it skips what it cannot understand and returns what it could.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType

__all__ = [
    "Challenge",
    "parse_link_next",
    "parse_retry_after",
    "parse_www_authenticate",
    "pick_challenge",
]

# RFC 9110 tchar and RFC 7235 token68 alphabets.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_CHAR = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WS = frozenset(" \t\r\n")
_AUTH_VALUE_STOP = _WS | {",", '"'}
_LINK_VALUE_STOP = _AUTH_VALUE_STOP | {";"}


class _Param:
    """A parameter of a :class:`Challenge` read as an attribute: its value, or None."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, challenge: Challenge | None, owner: type | None = None) -> str | None:
        # On the class itself (help(), introspection) there is no value to read.
        return None if challenge is None else challenge.params.get(self.name)


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge from a ``WWW-Authenticate`` header.

    Attributes
    ----------
    scheme
        Lower-cased auth scheme: ``"bearer"``, ``"basic"``...
    params
        Read-only mapping of lower-cased parameter names to their (unquoted)
        values; the first occurrence of a repeated name wins.
    token68
        The ``token68`` form some schemes use instead of parameters
        (``Negotiate abc==``), or None.
    realm, service, scope, error
        The parameter of that name (``error``: ``insufficient_scope``,
        ``invalid_token``), or None.

    Examples
    --------
    >>> c = parse_www_authenticate('Bearer realm="https://auth.docker.io/token"')[0]
    >>> c.scheme, c.realm
    ('bearer', 'https://auth.docker.io/token')
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    token68: str | None = None
    realm = _Param()
    service = _Param()
    scope = _Param()
    error = _Param()

    def __post_init__(self) -> None:
        # Freeze the mapping so a shared Challenge cannot be altered by a caller.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __repr__(self) -> str:
        return (
            f"Challenge(scheme={self.scheme!r}, params={dict(self.params)!r}, "
            f"token68={self.token68!r})"
        )


class _Scanner:
    """Cursor over a header value; every method consumes at least what it inspects."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.end = len(text)

    def at_end(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.end else ""

    def skip_ws(self) -> None:
        while self.pos < self.end and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_ws_and_commas(self) -> None:
        while self.pos < self.end and (self.text[self.pos] in _WS or self.text[self.pos] == ","):
            self.pos += 1

    def take(self, alphabet: frozenset[str]) -> str:
        start = self.pos
        while self.pos < self.end and self.text[self.pos] in alphabet:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted_string(self) -> str:
        """Read a quoted-string starting at ``"``; an unterminated one runs to the end."""
        self.pos += 1  # opening quote
        out: list[str] = []
        while self.pos < self.end:
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and self.pos < self.end:
                out.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                break
            else:
                out.append(char)
        return "".join(out)

    def skip_element(self, stop: str = ",") -> None:
        """Skip to the next ``stop`` outside a quoted string (error recovery)."""
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == stop:
                return
            if char == '"':
                self.quoted_string()
            else:
                self.pos += 1

    def token68_ahead(self) -> int | None:
        """End index of a token68 that fills the rest of this element, else None."""
        i = self.pos
        while i < self.end and self.text[i] in _TOKEN68_CHAR:
            i += 1
        if i == self.pos:
            return None
        while i < self.end and self.text[i] == "=":
            i += 1
        j = i
        while j < self.end and self.text[j] in _WS:
            j += 1
        return i if j >= self.end or self.text[j] == "," else None


def _join(value: str | Iterable[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(v for v in value if isinstance(v, str))


def parse_www_authenticate(value: str | Iterable[str] | None) -> list[Challenge]:
    """Parse every challenge of a ``WWW-Authenticate`` header (RFC 7235).

    Handles several challenges in one value (``Basic realm="x", Bearer
    realm="y",service="z"``), quoted strings with commas and ``\\"`` escapes,
    the ``token68`` form, any letter case, extra whitespace and empty list
    elements.  Several header values may be given as an iterable; they are
    treated as one comma-joined list.  Malformed parts are skipped, never raised.

    Parameters
    ----------
    value
        Header value(s); None or empty gives an empty list.

    Returns
    -------
    list of Challenge
        In header order.

    Examples
    --------
    >>> [c.scheme for c in parse_www_authenticate('Basic realm="a, b", Bearer realm="y"')]
    ['basic', 'bearer']
    """
    scanner = _Scanner(_join(value))
    challenges: list[tuple[str, dict[str, str], str | None]] = []
    while True:
        scanner.skip_ws_and_commas()
        if scanner.at_end():
            break
        name = scanner.take(_TCHAR)
        if not name:
            # Not a token start: drop this element (a quoted string may hide commas).
            if scanner.peek() == '"':
                scanner.quoted_string()
            else:
                scanner.pos += 1
            scanner.skip_element()
            continue
        scanner.skip_ws()
        if scanner.peek() == "=":
            # ``name=value`` after a comma: another parameter of the current challenge.
            value_text = _param_value(scanner)
            if challenges and value_text is not None:
                challenges[-1][1].setdefault(name.lower(), value_text)
            _read_params(scanner, challenges[-1][1] if challenges else {})
            continue
        # A bare token is a new challenge's scheme; the first param (or token68)
        # follows after whitespace, not after a comma.
        params: dict[str, str] = {}
        end = scanner.token68_ahead()
        if end is not None:
            challenges.append((name.lower(), params, scanner.text[scanner.pos : end]))
            scanner.pos = end
            _finish_element(scanner)
            continue
        challenges.append((name.lower(), params, None))
        _read_params(scanner, params)
    return [Challenge(scheme, params, token68) for scheme, params, token68 in challenges]


def _param_value(scanner: _Scanner, stop: frozenset[str] = _AUTH_VALUE_STOP) -> str | None:
    """At ``=``: read ``BWS (quoted-string / bare value)``; None when neither follows.

    A bare value should be an RFC 9110 token, but servers send unquoted URLs
    (``realm=https://h/t``), so it runs to the next character in ``stop``.
    """
    scanner.pos += 1  # '='
    scanner.skip_ws()
    if scanner.peek() == '"':
        return scanner.quoted_string()
    start = scanner.pos
    while scanner.pos < scanner.end and scanner.text[scanner.pos] not in stop:
        scanner.pos += 1
    return scanner.text[start : scanner.pos] or None


def _read_params(scanner: _Scanner, params: dict[str, str]) -> None:
    """Read ``name=value`` pairs up to the next comma.

    RFC 7235 separates parameters with commas; some servers use bare spaces
    (``realm="a" service="b"``), which is accepted too.  Anything else up to the
    next comma is dropped.
    """
    while True:
        scanner.skip_ws()
        if scanner.at_end() or scanner.peek() == ",":
            return
        param = scanner.take(_TCHAR)
        scanner.skip_ws()
        if not param or scanner.peek() != "=":
            _finish_element(scanner)
            return
        value_text = _param_value(scanner)
        if value_text is None:
            _finish_element(scanner)
            return
        params.setdefault(param.lower(), value_text)


def _finish_element(scanner: _Scanner) -> None:
    """Drop anything left before the next comma (garbage after a parameter)."""
    scanner.skip_ws()
    if not scanner.at_end() and scanner.peek() != ",":
        scanner.skip_element()


def pick_challenge(challenges: Iterable[Challenge], *schemes: str) -> Challenge | None:
    """The first challenge of the most preferred scheme offered, or None.

    Parameters
    ----------
    challenges
        Output of :func:`parse_www_authenticate`.
    *schemes
        Scheme names in lower case, most preferred first (``"bearer", "basic"``).

    Returns
    -------
    Challenge or None

    Examples
    --------
    >>> offered = parse_www_authenticate('Basic realm="r", Bearer realm="t"')
    >>> pick_challenge(offered, "bearer", "basic").realm
    't'
    >>> pick_challenge(offered, "negotiate") is None
    True
    """
    offered = list(challenges)
    for scheme in schemes:
        for challenge in offered:
            if challenge.scheme == scheme:
                return challenge
    return None


def parse_link_next(value: str | Iterable[str] | None) -> str | None:
    """The target of the first ``rel="next"`` link in a ``Link`` header (RFC 8288).

    Accepts several links, unquoted ``rel=next``, several relation types
    (``rel="next last"``), parameters in any order and commas inside ``<...>``.
    The URL is returned as written: resolving a relative one is the caller's job.

    Parameters
    ----------
    value
        Header value(s), or None.

    Returns
    -------
    str or None
        The URL, or None when there is no (non-empty) next link.

    Examples
    --------
    >>> parse_link_next('</v2/x/tags/list?n=2&last=b>; rel="next"')
    '/v2/x/tags/list?n=2&last=b'
    """
    scanner = _Scanner(_join(value))
    text = scanner.text
    while True:
        scanner.skip_ws_and_commas()
        if scanner.at_end():
            return None
        if scanner.peek() != "<":
            scanner.skip_element()
            continue
        close = text.find(">", scanner.pos + 1)
        if close == -1:
            return None
        target = text[scanner.pos + 1 : close].strip()
        scanner.pos = close + 1
        is_next = False
        while True:
            scanner.skip_ws()
            if scanner.peek() != ";":
                break
            scanner.pos += 1
            scanner.skip_ws()
            param = scanner.take(_TCHAR).lower()
            scanner.skip_ws()
            if scanner.peek() != "=":
                continue
            param_value = _param_value(scanner, _LINK_VALUE_STOP)
            if param == "rel" and param_value is not None:
                is_next = is_next or "next" in param_value.lower().split()
        if is_next and target:
            return target
        # Skip anything unexpected up to the next link; quotes can hide commas.
        _finish_element(scanner)


_DELAY_SECONDS_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = 60.0
) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header.

    Parameters
    ----------
    value
        ``delay-seconds`` (``"120"``) or an HTTP-date
        (``"Wed, 21 Oct 2015 07:28:00 GMT"``).  None or garbage gives None.
    now
        Reference time for HTTP-dates (default: the current UTC time); a
        naive value is taken as UTC.
    cap
        Upper bound on the result, so a hostile server cannot park a client.

    Returns
    -------
    float or None
        Seconds in ``[0, cap]``; negative delays and past dates give 0.

    Examples
    --------
    >>> parse_retry_after("120", cap=60)
    60.0
    >>> parse_retry_after("Thu, 01 Jan 2015 00:00:10 GMT", now=datetime(2015, 1, 1))
    10.0
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 256:
        return None
    if _DELAY_SECONDS_RE.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = now if now is not None else datetime.now(timezone.utc)
        if current.tzinfo is None:
            current = current.replace(tzinfo=timezone.utc)
        try:
            seconds = (when - current).total_seconds()
        except OverflowError:
            return None
    if math.isnan(seconds):
        return None
    return float(min(max(seconds, 0.0), cap))
