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
    "AuthenticationError",
    "CatalogUnavailableError",
    "ExecutorError",
    "HistoryStoreError",
    "HistoryWarning",
    "ImageFailedWarning",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidReferenceError",
    "ManifestError",
    "MetadataWarning",
    "MissingDatesError",
    "NetworkError",
    "NoReleasesError",
    "NotFoundError",
    "NotFoundOrUnauthorizedError",
    "RateLimitError",
    "RegframeError",
    "RegistryError",
]
# Not in __all__ (so not re-exported by ``regframe``): the classes raised and caught inside
# the package, or shown by the command line, the app and regframe.testing — AppError,
# BodyInterrupted, ResponseTooLarge, SandboxError, TransferFailed, SandboxExtraMissingError,
# SandboxUnavailable, TagApiUnusable, UsageError.  Import them by name from here.


class RegframeError(Exception):
    """Base class of every error regframe raises on purpose."""


class InvalidReferenceError(RegframeError, ValueError):
    """An image reference (or tag, or digest) does not follow the distribution grammar.

    Raised before any network traffic.  Deliberately not named ``ReferenceError``
    so the builtin of that name is never shadowed.
    """


class InvalidArgumentError(RegframeError, ValueError):
    """An argument has the right type but a value regframe cannot use.

    An empty image list, a regular expression that does not compile, an
    ``on_error`` other than ``"raise"``/``"skip"``, a frame without the
    attributes :func:`regframe.add_dates` needs, a ``since`` that is no date,
    a negative ``max_age``.  Raised before any network traffic or store access.
    """


class InvalidArgumentTypeError(RegframeError, TypeError):
    """An argument has a type regframe does not accept (e.g. a number in the image list).

    Raised before any network traffic.
    """


class ExecutorError(InvalidArgumentTypeError):
    """The ``executor=`` given cannot run regframe's tasks.

    It is not a :class:`concurrent.futures.Executor`, its workers cannot
    import regframe, a task cannot be sent to it, or its workers died.
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


class CatalogUnavailableError(RegistryError):
    """The registry does not let this identity list its repositories (``/v2/_catalog``).

    Many hosted registries (Docker Hub's registry host, GHCR, ECR Public)
    disable the catalog endpoint or restrict it to administrators.
    """


class RateLimitError(RegistryError):
    """The registry kept answering 429 after the retries regframe allows itself."""


class NetworkError(RegistryError):
    """The registry could not be reached or did not answer; the message says why in plain words.

    Parameters
    ----------
    message
        ``"could not resolve host X"``, ``"connection refused by X"``, ``"TLS certificate
        of X is not trusted"``, ``"X did not answer within N s"`` or another plain sentence.
    reason
        The same as a keyword: ``"resolve"``, ``"refused"``, ``"tls"`` (certificate not
        trusted), ``"handshake"`` (TLS failed otherwise), ``"timeout"`` or ``"other"``.
    url
        The URL that failed, without query credentials or userinfo.
    """

    def __init__(self, message: str, *, reason: str = "other", url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.reason = reason


class ResponseTooLarge(RegistryError):
    """A body exceeded the byte limit its caller set (callers re-raise as a fitting type)."""


class BodyInterrupted(Exception):
    """Internal to the transport: a response body broke off mid-read (the read is retried).

    Deliberately not a :class:`RegframeError`: it never leaves
    :class:`regframe.client.transport.Transport`.
    """


class TransferFailed(Exception):
    """Internal to the transport: one exchange failed before an answer arrived.

    A backend raises it; :class:`regframe.client.transport.Transport` retries by
    ``kind`` (``"connect"``: nothing was sent; ``"read"``: sent, no answer;
    ``"other"``: not worth another try) and raises ``error`` once the budget is spent.
    Deliberately not a :class:`RegframeError`: it never leaves the transport.
    """

    def __init__(self, kind: str, error: RegistryError) -> None:
        super().__init__(str(error))
        self.kind = kind
        self.error = error


class ManifestError(RegframeError):
    """A manifest or config could not be used: too large, unparsable, wrong digest, bad shape."""


class MetadataWarning(UserWarning):
    """Some tags' metadata could not be read; their ``error`` column says why."""


class ImageFailedWarning(UserWarning):
    """An image was left out of a several-images frame (``on_error="skip"``)."""


class TagApiUnusable(RegframeError):
    """A registry's own tag API does not apply or failed; the message says why.

    Internal: :func:`regframe.client.tag_apis.fetch_listing` logs it at debug level and
    falls back to the registry API, so it never reaches a user.
    """


class HistoryStoreError(RegframeError):
    """The tag-history store cannot be used: corrupt, read-only, or written by a newer regframe.

    :func:`regframe.read_tags` turns this into a :class:`HistoryWarning` and
    returns its frame without recording; :func:`regframe.history` raises it.
    The file is never rewritten to "repair" it.
    """


class HistoryWarning(UserWarning):
    """Tag history was not recorded (or not read) for this call; the message says why."""


class NoReleasesError(RegframeError, ValueError):
    """There is no release to work with: no semver/multipart/calver tag survived the filters."""


class MissingDatesError(RegframeError, ValueError):
    """The frame has no ``created`` dates, but the computation needs them.

    Read the tags with ``regframe.read_tags(image, dates=True)``.
    """


class UsageError(Exception):
    """The command line itself is wrong (exit status 2); the message says how.

    Not a :class:`RegframeError`: the command line handles it before any library error.
    """


class AppError(RegframeError):
    """``regframe app`` cannot start: the ``app`` extra is missing or the port is taken."""


# --------------------------------------------------------------------------- test infrastructure
# Raised by :mod:`regframe.testing` only; the library never raises them.


class SandboxExtraMissingError(RegframeError, ImportError):
    """:mod:`regframe.testing` was imported without the ``sandbox`` extra installed.

    The message is one line naming the ``pip install`` to run.
    """


class SandboxError(RegframeError):
    """The sandbox registry (or one of its helper servers) could not be started or used."""


class SandboxUnavailable(SandboxError):
    """The ``docker-registry`` binary (or another prerequisite) is missing on this machine."""
