"""``list_repositories``: a registry's (or namespace's) repositories, ready for read_tags.

Validates ``where`` before any network traffic, picks the source (the
registry's ``/v2/_catalog``, or Docker Hub's namespace API for ``docker.io``)
and returns ``repository`` and ``image`` columns.
"""

from __future__ import annotations

import logging

import pandas as pd
import requests

from regframe.client.catalog import catalog_repositories, hub_repositories
from regframe.client.credentials import Credentials
from regframe.client.transport import Transport
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError, InvalidReferenceError
from regframe.parsing.reference import Reference, parse_reference

__all__ = ["list_repositories", "parse_where"]

log = logging.getLogger(__name__)


def parse_where(where: object) -> tuple[Reference, str]:
    """``(registry reference, namespace)`` for ``where``; raises on bad input.

    Examples
    --------
    >>> ref, ns = parse_where("quay.io/prometheus")
    >>> ref.registry, ns
    ('quay.io', 'prometheus')
    >>> parse_where("localhost:5000")[1]
    ''
    >>> parse_where("bitnami")[0].domain, parse_where("bitnami")[1]
    ('docker.io', 'bitnami')
    """
    if not isinstance(where, str):
        raise InvalidArgumentTypeError(
            f"where must be a registry or registry/namespace string, not {type(where).__name__}"
        )
    text = where.strip().rstrip("/")
    if not text:
        raise InvalidArgumentError("where is empty: name a registry such as 'ghcr.io'")
    if "://" in text:
        raise InvalidArgumentError(
            f"give the registry without a URL scheme ({where!r} → {text.split('://', 1)[1]!r})"
        )
    if any(c in text for c in "@ \t") or ":" in text.partition("/")[2]:
        raise InvalidArgumentError(
            f"{where!r} is not a registry or registry/namespace (no tag or digest here)"
        )
    # The probe name only lets the reference grammar check host and namespace.
    try:
        ref = parse_reference(f"{text}/x")
    except InvalidReferenceError as exc:
        raise InvalidReferenceError(str(exc).replace(repr(f"{text}/x"), repr(text))) from None
    first, _, rest = text.partition("/")
    host_given = "." in first or ":" in first or first == "localhost"
    namespace = rest if host_given else text
    if ref.is_docker_hub:
        if not namespace:
            raise InvalidArgumentError(
                "Docker Hub cannot be listed whole; name a namespace such as 'docker.io/bitnami'"
            )
        if "/" in namespace:
            raise InvalidArgumentError(
                f"Docker Hub namespaces have one level ({namespace!r} has several)"
            )
    return ref, namespace


def list_repositories(
    where: str,
    /,
    *,
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> pd.DataFrame:
    """The repositories of a registry, or of one namespace in it, ready for :func:`read_tags`.

    Parameters
    ----------
    where
        A registry (``ghcr.io``, ``localhost:5000``) or a registry and
        namespace (``quay.io/prometheus``, ``docker.io/bitnami``; a bare
        ``bitnami`` means Docker Hub).
    auth
        ``(username, password)`` for the registry's catalog; by default the
        docker config's credentials, as for :func:`read_tags`.  Docker Hub's
        namespace API is asked anonymously and lists public repositories.
    insecure
        Allow plain http (implicit for localhost and loopback addresses).
    timeout
        Seconds allowed for connecting and for each read.
    session
        A ``requests.Session`` to use; by default a pooled one is made and closed.

    Returns
    -------
    pandas.DataFrame
        Columns ``repository`` (``prometheus/alertmanager``) and ``image``
        (``quay.io/prometheus/alertmanager``), both string, sorted by
        repository.  ``df.attrs`` holds ``registry``, ``namespace`` and
        ``fetched_at``.

    Raises
    ------
    InvalidArgumentError, InvalidArgumentTypeError, InvalidReferenceError
        ``where`` is not a registry or registry/namespace (before any network traffic).
    CatalogUnavailableError
        The registry disables ``/v2/_catalog`` or keeps it for other accounts.
    NotFoundError, AuthenticationError, RateLimitError, RegistryError
        As for :func:`read_tags`.

    Examples
    --------
    >>> import regframe as rf
    >>> repos = rf.list_repositories("localhost:5000/myorg")  # doctest: +SKIP
    >>> df = rf.read_tags(repos.image.tolist(), dates=True, on_error="skip")  # doctest: +SKIP
    """
    ref, namespace = parse_where(where)
    transport = Transport(session, timeout=timeout)
    try:
        if ref.is_docker_hub:
            names = hub_repositories(namespace, transport)
        else:
            names = catalog_repositories(
                ref, transport, namespace=namespace, auth=auth, insecure=insecure
            )
    finally:
        transport.close()
    names = sorted(names)
    log.debug("%s lists %d repositories", where, len(names))
    df = pd.DataFrame(
        {
            "repository": pd.Series(names, dtype="string"),
            "image": pd.Series([f"{ref.domain}/{n}" for n in names], dtype="string"),
        }
    )
    df.attrs = {
        "registry": ref.domain,
        "namespace": namespace,
        "fetched_at": pd.Timestamp.now(tz="UTC"),
    }
    return df


