"""The exception tree every regframe failure is expressed in.

Users catch :class:`RegframeError` for "anything regframe could not do"; the
subclasses say why.  Registry-side failures all derive from
:class:`RegistryError` so they carry the status code, the URL (never with
credentials in it) and the registry's own ``errors`` list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "AppError",
    "AuthenticationError",
    "InvalidReferenceError",
    "ManifestError",
    "NotFoundError",
    "NotFoundOrUnauthorizedError",
    "RateLimitError",
    "RegframeError",
    "RegistryError",
]


class RegframeError(Exception):
    """Base class of every error regframe raises on purpose."""


class InvalidReferenceError(RegframeError, ValueError):
    """An image reference (or tag, or digest) does not follow the distribution grammar.

    Raised before any network traffic.  Deliberately not named ``ReferenceError``
    so the builtin of that name is never shadowed.
    """


class RegistryError(RegframeError):
    """A registry (or its token server) answered with something regframe cannot use.

    Parameters
    ----------
    message
        Human readable explanation, free of credentials.
    status_code
        HTTP status of the failing answer, if there was one.
    url
        The URL that failed, without query credentials or userinfo.
    errors
        The registry's ``errors`` list (``[{"code": ..., "message": ...}]``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        url: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url
        self.errors: list[dict[str, Any]] = [dict(e) for e in (errors or [])]

    @property
    def codes(self) -> list[str]:
        """The ``code`` of every entry in :attr:`errors` (e.g. ``NAME_UNKNOWN``)."""
        return [str(e.get("code", "")) for e in self.errors]


class AuthenticationError(RegistryError):
    """Credentials are missing, wrong, or the token dance could not be completed."""


class NotFoundError(RegistryError):
    """The repository, tag or blob does not exist (or is hidden from this identity)."""


class NotFoundOrUnauthorizedError(AuthenticationError, NotFoundError):
    """Access was refused in a way that cannot tell "missing" from "private".

    Docker Hub, GHCR and CNCF distribution with token auth answer an anonymous
    request for a repository that does not exist exactly as they answer one
    for a private repository (401 ``insufficient_scope``).  The message says
    both; ``except NotFoundError`` and ``except AuthenticationError`` both
    catch it.
    """


class RateLimitError(RegistryError):
    """The registry kept answering 429 after the retries regframe allows itself."""


class ManifestError(RegframeError):
    """A manifest or config could not be used: too large, unparsable, wrong digest, bad shape."""


class AppError(RegframeError):
    """``regframe app`` cannot start: the ``app`` extra is missing or the port is taken."""
