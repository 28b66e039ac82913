"""Frame assembly: ``read_tags`` (reference → DataFrame) and ``to_csv`` (DataFrame → file).

This is the module the public API leans on; the protocol work happens in
:mod:`regframe.client.registry`, version parsing in :mod:`regframe.parsing.versions` and the
``dates=True`` metadata in :mod:`regframe.frame.resolve`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from regframe.client.credentials import Credentials
from regframe.client.registry import RegistryClient
from regframe.client.transport import Transport
from regframe.parsing.reference import parse_reference
from regframe.parsing.versions import COLUMNS as VERSION_COLUMNS
from regframe.parsing.versions import parse_tags, sort_tags

__all__ = ["DATE_COLUMNS", "TAG_COLUMNS", "read_tags", "to_csv"]

TAG_COLUMNS = list(VERSION_COLUMNS)
DATE_COLUMNS = [
    "digest",
    "media_type",
    "platforms",
    "created",
    "created_source",
    "size",
    "resolves_to",
    "error",
]


def read_tags(
    image: str,
    /,
    *,
    dates: bool = False,
    platform: str | None = "linux/amd64",
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    max_workers: int = 16,
    cache: bool | str | os.PathLike[str] = True,
    progress: bool | None = None,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> pd.DataFrame:
    """Read every tag of an image repository into a DataFrame.

    Parameters
    ----------
    image
        Any reference docker accepts: ``python``, ``library/python:3``,
        ``ghcr.io/org/app``, ``localhost:5000/x``, ``host/x@sha256:...``.  A tag
        or digest in it is ignored: the whole repository is listed.
    dates
        Also resolve each tag to its manifest and read the image's build time,
        digest, platforms and size (see the column table in the README).
    platform
        With ``dates=True``: which image of a multi-arch index to describe,
        e.g. ``"linux/arm64/v8"``; ``None`` takes the first real image.
    auth
        ``(username, password)``.  By default credentials come from the docker
        config (``credHelpers``, ``credsStore``, ``auths``), then
        ``$REGISTRY_AUTH_FILE`` / containers ``auth.json`` — and only when the
        registry asks for them.
    insecure
        Allow plain http (implicit for localhost and loopback addresses).
    max_workers
        Concurrent requests per host for ``dates=True``.
    cache
        Where immutable, digest-addressed documents are kept between runs:
        ``True`` for the user cache directory, a path, or ``False`` for none.
    progress
        Show a progress bar (``None``: only when the work is long and a
        terminal or notebook is attached).
    timeout
        Seconds allowed for connecting and for each read.
    session
        A ``requests.Session`` to use (proxies, CA bundles); by default a
        pooled one is made and closed again.

    Returns
    -------
    pandas.DataFrame
        One row per tag, in version order, with the columns ``tag, release,
        major, minor, patch, prerelease, variant, scheme, is_prerelease, prefix,
        build`` (and
        with ``dates=True`` also ``digest, media_type, platforms, created,
        created_source, size, resolves_to, error``).  ``df.attrs`` holds
        ``registry``, ``repository``, ``reference`` and ``fetched_at``.

    Raises
    ------
    InvalidReferenceError
        ``image`` is malformed (raised before any network traffic).
    AuthenticationError, NotFoundError, RateLimitError, RegistryError
        The registry refused or failed; see :mod:`regframe.errors`.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.read_tags("docker.elastic.co/elasticsearch/elasticsearch")  # doctest: +SKIP
    >>> df[df.major == 8].pipe(rf.sort_tags, descending=True).head()  # doctest: +SKIP
    """
    ref = parse_reference(image)
    want = None
    if platform is not None and dates:
        from regframe.client.manifests import parse_platform

        want = parse_platform(platform)  # bad input fails before any network traffic
    transport = Transport(session, timeout=timeout, max_workers=max_workers)
    listing = None
    try:
        if dates:
            from regframe.client.fastpaths import fetch_listing

            # Docker Hub and Quay describe 100 tags per request in their own APIs;
            # None (not applicable, private, API down) falls back to the registry.
            listing = fetch_listing(ref, platform=want, transport=transport)
        if listing is not None:
            # Every tag is prefetched, so add_metadata sends nothing: the client
            # only names the repository and needs no ping (nor credentials).
            client = RegistryClient.offline(ref, transport)
        else:
            client = RegistryClient.open(ref, transport, auth=auth, insecure=insecure)
    except BaseException:
        transport.close()
        raise
    try:
        tags = listing.tags if listing is not None else client.list_tags()
        df = parse_tags(pd.Series(tags, dtype="string"))
        df = sort_tags(df).reset_index(drop=True)
        if dates:
            from regframe.client.fastpaths import gcr_rows
            from regframe.frame.resolve import add_metadata

            if listing is not None:
                prefetched = listing.rows
            else:
                prefetched = gcr_rows(client.gcr_manifests, platform=want)
            df = add_metadata(
                df,
                client,
                platform=platform,
                cache=cache,
                progress=progress,
                max_workers=max_workers,
                prefetched=prefetched or None,
            )
    finally:
        client.close()
    df.attrs.update(
        registry=ref.domain,
        repository=ref.repository,
        reference=str(ref),
        fetched_at=pd.Timestamp.now(tz="UTC"),
    )
    return df


def _iso_utc(s: pd.Series) -> pd.Series:
    """ISO-8601 UTC text (``2024-08-08T10:34:56.123456789Z``), fraction only when non-zero."""
    s = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    base = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    ns = (s.dt.microsecond * 1000 + s.dt.nanosecond).astype("Int64")
    frac = ns.astype("string").str.zfill(9).str.rstrip("0")
    text = base.astype("string") + ("." + frac).where(ns > 0, "") + "Z"
    out: pd.Series = text.where(s.notna(), pd.NA).astype("string")
    return out


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    known = [c for c in TAG_COLUMNS + DATE_COLUMNS if c in df.columns]
    rest = [c for c in df.columns if c not in known]
    out = df.loc[:, known + rest].copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = _iso_utc(series)
        elif series.dtype == object:
            out[col] = series.map(_flatten)
    return out


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return value


def to_csv(
    df: pd.DataFrame,
    path_or_buf: str | os.PathLike[str] | io.TextIOBase | None = None,
    /,
    **kwargs: Any,
) -> str | None:
    """Write a tags or releases frame as CSV with stable columns and ISO-8601 UTC dates.

    Columns come in the documented order (``tag, release, major, minor, patch,
    prerelease, variant, scheme, is_prerelease, prefix, build, digest,
    media_type, platforms, created, created_source, size, resolves_to,
    error``), then any others in
    the frame's order.  Timestamps are written as ``2024-08-08T10:34:56Z``
    (with a fraction only when there is one); list values are comma-joined;
    missing values are empty.  The index is not written unless ``index=True``.

    Parameters
    ----------
    df
        A frame from :func:`read_tags`, :func:`releases` or a filtered slice.
    path_or_buf
        File path or text buffer; ``None`` returns the CSV as a string.
    **kwargs
        Passed on to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    str or None
        The CSV text when ``path_or_buf`` is ``None``.

    Examples
    --------
    >>> import regframe as rf
    >>> print(rf.to_csv(rf.parse_tags(["1.2.3-alpine"])), end="")
    tag,release,major,minor,patch,prerelease,variant,scheme,is_prerelease,prefix,build
    1.2.3-alpine,1.2.3,1,2,3,,alpine,semver,False,,
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    out = _csv_frame(df)
    if isinstance(path_or_buf, str | os.PathLike):
        Path(path_or_buf).parent.mkdir(parents=True, exist_ok=True)
    return out.to_csv(path_or_buf, **kwargs)

