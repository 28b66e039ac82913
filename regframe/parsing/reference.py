"""Image references, parsed and normalised the way docker's ``distribution/reference`` does.

The grammar (from ``distribution/reference/regexp.go``)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain '/'] path-component ['/' path-component]*
    domain           := host [':' port-number]
    host             := domain-name | IPv4address | '[' IPv6address ']'
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" encoded

Normalisation (``ParseNormalizedNamed``): the first component is a host only if it
contains ``.`` or ``:`` or is ``localhost``; ``docker.io`` and ``index.docker.io``
mean Docker Hub, whose API lives at ``registry-1.docker.io``; one-component names
on Docker Hub live under ``library/``.

Deliberate differences from docker, all stricter or friendlier:

* the host is lower-cased (host names are case-insensitive, and credentials and
  caches are keyed by it);
* a first component with upper case but no ``.``/``:`` (``Foo/bar``) is rejected
  as "upper case in the repository path" instead of silently becoming a host;
* ports must be 1-65535 and bracketed IPv6 literals must be real addresses;
* ``registry-1.docker.io/python`` is treated like ``docker.io/python``;
* only the digest algorithms docker can verify (sha256, sha384, sha512) with
  lowercase hex of the exact length are accepted (as ``go-digest`` does).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from regframe.errors import InvalidReferenceError, RegframeError

__all__ = [
    "DIGEST_HEX_LENGTHS",
    "DOCKER_HUB_DOMAIN",
    "DOCKER_HUB_HOSTS",
    "DOCKER_HUB_REGISTRY",
    "NAME_TOTAL_LENGTH_MAX",
    "Reference",
    "digest_problem",
    "is_loopback_host",
    "parse_reference",
    "validate_digest",
    "validate_tag",
]

#: Host users write (and docker prints) for Docker Hub.
DOCKER_HUB_DOMAIN = "docker.io"
#: Host that actually serves Docker Hub's ``/v2/`` API.
DOCKER_HUB_REGISTRY = "registry-1.docker.io"
#: Every host name that means Docker Hub, in the order docker's config files are searched.
DOCKER_HUB_HOSTS = ("index.docker.io", DOCKER_HUB_DOMAIN, DOCKER_HUB_REGISTRY)
_DOCKER_HUB_ALIASES = frozenset(DOCKER_HUB_HOSTS)
#: ``distribution/reference.NameTotalLengthMax``.
NAME_TOTAL_LENGTH_MAX = 255
_TAG_LENGTH_MAX = 128

# Every pattern below is anchored and has no nested or overlapping quantifiers:
# separators and alphanumerics are disjoint character sets, so matching is linear.
_ALNUM = "[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT_RE = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_ALGORITHM_RE = re.compile(r"[a-z][a-z0-9]*(?:[+._-][a-z][a-z0-9]*)*")
_HEX_RE = re.compile(r"[0-9a-f]+")
_ANY_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_IDENTIFIER_RE = re.compile(r"[0-9a-f]{64}")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_BAD_SEPARATOR_RE = re.compile(r"[._-]{2,}")
_IPV6_CHARS_RE = re.compile(r"[0-9a-f:]+")

#: Lengths of the hex encodings docker (go-digest) can verify, by algorithm.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
# Every digest a registry sends passes here (16,800 times in a cold read of 2,000 tags,
# five a request): one match for the valid forms; the step-by-step checks below only run
# to say what is wrong.
_VALID_DIGEST_RE = re.compile(
    "|".join(f"{algorithm}:[0-9a-f]{{{n}}}" for algorithm, n in DIGEST_HEX_LENGTHS.items())
)


def _quote(text: str, limit: int = 300) -> str:
    """``repr`` of ``text``, cut so hostile multi-kilobyte input stays out of messages."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def _error(image: str, problem: str) -> InvalidReferenceError:
    return InvalidReferenceError(f"invalid image reference {_quote(image)}: {problem}")


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference.

    Attributes
    ----------
    registry
        Host (and port) that serves the ``/v2/`` API, lower-cased;
        ``registry-1.docker.io`` for Docker Hub.
    repository
        Repository path, e.g. ``library/python``.
    tag
        Tag written in the reference, or None.  Kept, but listing ignores it.
    digest
        Digest written in the reference (``sha256:...``), or None.

    Examples
    --------
    >>> ref = parse_reference("python:3")
    >>> ref.registry, ref.repository, ref.tag
    ('registry-1.docker.io', 'library/python', '3')
    >>> str(ref)
    'docker.io/library/python:3'
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def is_docker_hub(self) -> bool:
        """True when the registry is Docker Hub."""
        return self.registry in _DOCKER_HUB_ALIASES

    @property
    def domain(self) -> str:
        """Host as users write it: ``docker.io`` for Docker Hub, else :attr:`registry`."""
        return DOCKER_HUB_DOMAIN if self.is_docker_hub else self.registry

    @property
    def host(self) -> str:
        """:attr:`registry` without the port (IPv6 literals keep their brackets)."""
        return _split_port(self.registry)[0]

    @property
    def port(self) -> int | None:
        """Port written in :attr:`registry`, or None."""
        port = _split_port(self.registry)[1]
        return int(port) if port else None

    @property
    def name(self) -> str:
        """``domain/repository``, the normalised name without tag or digest."""
        return f"{self.domain}/{self.repository}"

    @property
    def is_loopback(self) -> bool:
        """True for ``localhost``, ``127.0.0.0/8`` and ``[::1]`` (any port)."""
        return is_loopback_host(self.host)

    @property
    def scheme_default(self) -> str:
        """``"http"`` for loopback registries (as docker allows), else ``"https"``."""
        return "http" if self.is_loopback else "https"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _split_port(hostport: str) -> tuple[str, str | None]:
    """Split ``host:port`` / ``[v6]:port``; the port is None when absent."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            return hostport, None
        rest = hostport[end + 1 :]
        return hostport[: end + 1], (rest[1:] if rest.startswith(":") else None)
    host, sep, port = hostport.partition(":")
    return host, (port if sep else None)


def is_loopback_host(host: str) -> bool:
    """Tell whether *host* (no port; IPv6 with or without brackets) is this machine.

    The one loopback rule in regframe: ``localhost`` (any case) and every address in
    ``127.0.0.0/8`` or ``::1``.  Names that merely resolve to loopback do not count: the
    answer must not depend on DNS.

    Parameters
    ----------
    host
        ``"localhost"``, ``"127.0.0.2"``, ``"[::1]"``, ``"::1"``, ``"example.com"``...

    Returns
    -------
    bool

    Examples
    --------
    >>> is_loopback_host("127.0.0.2"), is_loopback_host("[::1]"), is_loopback_host("10.0.0.1")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def digest_problem(digest: object) -> str | None:
    """Say what is wrong with a content digest, or ``None`` when it is one docker can verify.

    The one digest grammar in regframe: ``algorithm:encoded`` with ``sha256``, ``sha384`` or
    ``sha512`` and lowercase hex of exactly the algorithm's length (as ``go-digest`` checks).
    :func:`validate_digest` raises it for user input; the registry client raises it as a
    :class:`~regframe.errors.ManifestError` for a registry's answer.

    Parameters
    ----------
    digest
        Anything; only a string can pass.

    Returns
    -------
    str | None
        A message starting ``invalid digest``, or ``None``.

    Examples
    --------
    >>> digest_problem("sha256:" + "ab" * 32) is None
    True
    >>> digest_problem("sha256:../../x")
    "invalid digest 'sha256:../../x': non-hex characters in the encoded part"
    """
    if not isinstance(digest, str):
        return f"invalid digest: expected a string, got {type(digest).__name__}"
    if _VALID_DIGEST_RE.fullmatch(digest):
        return None
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded:
        return f"invalid digest {_quote(digest, 80)}: expected 'algorithm:hex'"
    if not _ALGORITHM_RE.fullmatch(algorithm):
        return f"invalid digest {_quote(digest, 80)}: malformed algorithm {_quote(algorithm, 80)}"
    expected = DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        return (
            f"invalid digest {_quote(digest, 80)}: unsupported algorithm {_quote(algorithm, 80)} "
            f"(supported: {', '.join(sorted(DIGEST_HEX_LENGTHS))})"
        )
    if not _HEX_RE.fullmatch(encoded):
        problem = "uppercase hex" if _ANY_HEX_RE.fullmatch(encoded) else "non-hex characters"
        return f"invalid digest {_quote(digest, 80)}: {problem} in the encoded part"
    if len(encoded) != expected:
        return (
            f"invalid digest {_quote(digest, 80)}: {algorithm} needs {expected} hex digits, "
            f"got {len(encoded)}"
        )
    return None


def validate_digest(
    digest: object, *, what: str = "digest", error: type[RegframeError] = InvalidReferenceError
) -> str:
    """Check that ``digest`` is ``algorithm:encoded`` with a verifiable algorithm.

    Use it on every digest a registry sends before it goes into a URL or a
    cache path: ``sha256:../../x`` must never reach ``/v2/NAME/manifests/``.

    Parameters
    ----------
    digest
        Candidate digest, e.g. ``sha256:`` followed by 64 lowercase hex digits.
    what
        Names the value in the error message (e.g. ``"config digest"``).
    error
        The exception raised: :class:`~regframe.errors.InvalidReferenceError` for a
        digest the user wrote; :func:`regframe.client.digests.validate_digest` raises
        :class:`~regframe.errors.ManifestError` for one a registry sent.

    Returns
    -------
    str
        The digest, unchanged.

    Raises
    ------
    InvalidReferenceError
        If the algorithm is unknown or unsupported, or the encoded part has the
        wrong length or is not lowercase hex (or ``error``, when given).

    Examples
    --------
    >>> validate_digest("sha256:" + "ab" * 32) == "sha256:" + "ab" * 32
    True
    """
    problem = digest_problem(digest)
    if problem is not None:
        raise error(problem.replace("invalid digest", f"invalid {what}", 1))
    assert isinstance(digest, str)  # narrowed by digest_problem; keeps mypy honest
    return digest


def validate_tag(tag: str) -> str:
    """Check that ``tag`` follows ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``.

    The distribution spec's tag grammar.  A reference's tag is checked when it is
    parsed, and a listed tag before its manifest is requested: one that fails gets
    an ``error`` in its row and is never put into a URL.

    Parameters
    ----------
    tag
        Candidate tag.

    Returns
    -------
    str
        The tag, unchanged.

    Raises
    ------
    InvalidReferenceError
        If the tag is empty, longer than 128 characters, starts with ``.`` or
        ``-``, or contains other characters.

    Examples
    --------
    >>> validate_tag("3.13.0rc2-slim-bookworm")
    '3.13.0rc2-slim-bookworm'
    """
    if not isinstance(tag, str):
        raise InvalidReferenceError(f"invalid tag: expected a string, got {type(tag).__name__}")
    if not tag:
        raise InvalidReferenceError("invalid tag '': tags cannot be empty")
    if len(tag) > _TAG_LENGTH_MAX:
        raise InvalidReferenceError(
            f"invalid tag {_quote(tag, 40)}: {len(tag)} characters, "
            f"at most {_TAG_LENGTH_MAX} allowed"
        )
    if tag[0] in ".-":
        raise InvalidReferenceError(f"invalid tag {_quote(tag, 80)}: cannot start with {tag[0]!r}")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(
            f"invalid tag {_quote(tag, 80)}: only letters, digits, '_', '.' and '-' are allowed"
        )
    return tag


def _check_path_component(image: str, component: str) -> None:
    if not component:
        raise _error(image, "empty path component (leading, trailing or double '/')")
    if _PATH_COMPONENT_RE.fullmatch(component):
        return
    if component.lower() != component:
        raise _error(image, f"repository path must be lowercase ({_quote(component, 80)})")
    if component[0] in "._-":
        raise _error(
            image, f"path component {_quote(component, 80)} cannot start with {component[0]!r}"
        )
    if component[-1] in "._-":
        raise _error(
            image, f"path component {_quote(component, 80)} cannot end with {component[-1]!r}"
        )
    bad = _BAD_SEPARATOR_RE.search(component)
    if bad:
        raise _error(
            image,
            f"bad separator {_quote(bad.group(), 20)} in {_quote(component, 80)} "
            "(use one '.', one or two '_', or dashes)",
        )
    raise _error(image, f"invalid characters in path component {_quote(component, 80)}")


def _check_domain(image: str, domain: str) -> str:
    """Validate ``host[:port]`` and return it lower-cased."""
    domain = domain.lower()
    host, port = _split_port(domain)
    if port is not None:
        if not port:
            raise _error(image, f"empty port in {_quote(domain, 80)}")
        if not port.isascii() or not port.isdigit():
            raise _error(image, f"port {_quote(port, 80)} is not a number")
        # Length first: int() refuses strings of more than 4300 digits.
        if len(port) > 5 or not 0 < int(port) <= 65535:
            raise _error(image, f"port {_quote(port, 20)} is out of range 1-65535")
    if not host:
        raise _error(image, "empty registry host")
    if host.startswith("["):
        if not host.endswith("]"):
            raise _error(image, f"unterminated IPv6 literal {_quote(host, 80)}")
        try:
            # docker allows only hex and ':' inside the brackets (no zone ids).
            if not _IPV6_CHARS_RE.fullmatch(host[1:-1]):
                raise ValueError(host)
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _error(image, f"{_quote(host, 80)} is not a valid IPv6 address") from None
        return domain
    for component in host.split("."):
        if not _DOMAIN_COMPONENT_RE.fullmatch(component):
            raise _error(image, f"invalid registry host {_quote(host, 80)}")
    return domain


def parse_reference(image: str) -> Reference:
    """Parse and normalise an image reference the way ``docker pull`` does.

    Parameters
    ----------
    image
        Any reference docker accepts: ``python``, ``library/python:3``,
        ``ghcr.io/owner/repo``, ``localhost:5000/x``, ``[::1]:5000/x``,
        ``host/x@sha256:...`` or ``host/x:tag@sha256:...``.

    Returns
    -------
    Reference
        The normalised reference; no network I/O is done.

    Raises
    ------
    InvalidReferenceError
        For any malformed reference; the message names the problem and quotes
        the input.

    Examples
    --------
    >>> ref = parse_reference("docker.elastic.co/elasticsearch/elasticsearch:8.15.0")
    >>> ref.registry, ref.repository, ref.tag
    ('docker.elastic.co', 'elasticsearch/elasticsearch', '8.15.0')
    >>> parse_reference("python").repository
    'library/python'
    """
    _check_text(image)
    remainder, digest = _split_digest(image)
    name, tag = _split_tag(image, remainder)
    if _IDENTIFIER_RE.fullmatch(name) and tag is None and digest is None:
        raise _error(image, "a 64-character hex string is an image ID, not a reference")
    registry, path = _split_registry(image, name)
    for component in path.split("/"):
        _check_path_component(image, component)
    domain = DOCKER_HUB_DOMAIN if registry == DOCKER_HUB_REGISTRY else registry
    total = len(domain) + 1 + len(path)
    if total > NAME_TOTAL_LENGTH_MAX:
        raise _error(
            image, f"name is {total} characters long, at most {NAME_TOTAL_LENGTH_MAX} allowed"
        )
    return Reference(registry=registry, repository=path, tag=tag, digest=digest)


def _check_text(image: object) -> None:
    """A non-empty printable ASCII string without a URL scheme, or ``InvalidReferenceError``."""
    if not isinstance(image, str):
        raise InvalidReferenceError(
            f"invalid image reference: expected a string, got {type(image).__name__}"
        )
    if not image or image.isspace():
        raise _error(image, "reference is empty")
    if not image.isascii():
        raise _error(image, "non-ASCII characters are not allowed")
    if any(c.isspace() or not c.isprintable() for c in image):
        raise _error(image, "whitespace or control characters are not allowed")
    scheme = _SCHEME_RE.match(image)
    if scheme:
        raise _error(
            image,
            f"drop the scheme {scheme.group()!r}: write {_quote(image[scheme.end() :], 80)} "
            "(use insecure=True for a plain-http registry)",
        )


def _split_digest(image: str) -> tuple[str, str | None]:
    """``(name[:tag], digest)``, the digest checked; ``None`` without an ``@``."""
    remainder, at, digest = image.partition("@")
    if not at:
        return remainder, None
    if "@" in digest:
        raise _error(image, "more than one '@'")
    try:
        validate_digest(digest)
    except InvalidReferenceError as exc:
        raise _error(image, str(exc)) from None
    return remainder, digest


def _split_tag(image: str, remainder: str) -> tuple[str, str | None]:
    """``(name, tag)``, the tag checked; a ``:`` before the last ``/`` belongs to host:port."""
    name, tag = remainder, None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/") and not remainder.endswith("]"):
        name, tag = remainder[:colon], remainder[colon + 1 :]
        try:
            validate_tag(tag)
        except InvalidReferenceError as exc:
            raise _error(image, str(exc)) from None
    if not name:
        raise _error(image, "missing repository name")
    return name, tag


def _split_registry(image: str, name: str) -> tuple[str, str]:
    """``(registry, path)`` the way docker splits them; Docker Hub names get ``library/``."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = _check_domain(image, first), rest
    else:
        registry, path = DOCKER_HUB_REGISTRY, name
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB_REGISTRY
        if path and "/" not in path:
            path = f"library/{path}"
    return registry, path
