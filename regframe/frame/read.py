"""Frame assembly: ``read_tags`` (reference → DataFrame) and ``to_csv`` (DataFrame → file).

This is the module the public API leans on; the protocol work happens in
:mod:`regframe.client.registry`, version parsing in :mod:`regframe.parsing.versions`, the
``dates=True`` metadata in :mod:`regframe.frame.resolve` and the column lists and typed
columns in :mod:`regframe.frame.columns`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from regframe.client.credentials import Credentials
from regframe.client.progress import Progress, ProgressOption
from regframe.client.registry import RegistryClient
from regframe.client.transport import Transport
from regframe.frame.columns import DATE_COLUMNS, LABEL_COLUMNS, TAG_COLUMNS
from regframe.frame.history import frame_from_store, record_frame
from regframe.frame.match import Match
from regframe.parsing.reference import Reference, parse_reference
from regframe.parsing.versions import parse_tags, sort_tags

if TYPE_CHECKING:
    from regframe.client.tag_apis import ApiListing
    from regframe.frame.many import Options

__all__ = [
    "empty_tags_frame",
    "read_one",
    "read_tags",
    "to_csv",
    "to_json",
]

log = logging.getLogger(__name__)



def read_tags(
    images: str | Iterable[str],
    /,
    *,
    dates: bool = False,
    match: Match | None = None,
    labels: bool = False,
    platform: str | None = "linux/amd64",
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    max_workers: int = 16,
    cache: bool | str | os.PathLike[str] = True,
    on_error: str = "raise",
    executor: Executor | None = None,
    progress: ProgressOption = None,
    timeout: float = 30.0,
    session: requests.Session | None = None,
    max_age: float | str | dt.timedelta | None = None,
    history: bool | str | os.PathLike[str] = True,
) -> pd.DataFrame:
    """Read the tags of one image repository, or of several, into a DataFrame.

    Parameters
    ----------
    images
        One reference docker accepts (``python``, ``library/python:3``,
        ``ghcr.io/org/app``, ``localhost:5000/x``, ``host/x@sha256:...``), or a
        list of them.  A tag or digest in a reference is ignored: the whole
        repository is listed.  With a list the frame starts with an ``image``
        column (each reference as given); duplicates are read once.
    dates
        Also resolve each tag to its manifest and read the image's build time,
        digest, platforms and size (see the column table in the README).
    match
        Keep only some tags, decided after listing and parsing and before any
        manifest request: a regular expression searched in each tag
        (``r"^3\\.1[23]\\."``), a collection of tags, or a callable taking the
        parsed tags frame and returning a boolean mask
        (``lambda f: f.major.eq(3) & f.minor.ge(12)``).
    labels
        Also read each image's config labels (implies ``dates``): ``revision``,
        ``source``, ``image_version`` (the OCI keys, from the labels, else the
        manifest or index annotations) and ``labels`` (a dict per row).
        Configs are read once per digest and cached; with a registry tag API
        (Docker Hub, Quay) the dates still come from it and only each image's
        manifest and config are read.
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
        Concurrent requests per host, shared by all the images of one call.
    cache
        Where immutable, digest-addressed documents are kept between runs:
        ``True`` for the user cache directory, a path, or ``False`` for none.
    on_error
        With several images: ``"raise"`` raises the first failure;
        ``"skip"`` leaves a failing image out, warns once per image and
        records ``df.attrs["failed"] = {image: message}``.
    executor
        Any :class:`concurrent.futures.Executor` (a process pool,
        ``dask.distributed.Client.get_executor()``): one picklable task per
        image is submitted to it.  By default images are read on threads of
        this process.  Workers look up their own credentials unless ``auth``
        is given (which is then sent to them), and each worker applies
        ``max_workers`` on its own.
    progress
        ``None``: a ``tqdm.auto`` bar when the work is long and a terminal or
        notebook is attached; ``True``/``False``: always/never a bar; or a
        callable ``progress(done, total)``, called with two ints from the
        calling thread whenever they change (no bar is drawn).  The count
        covers every request: tag-list pages (a registry's own tag API pages
        included), then one per tag and per manifest or config, and
        ``total`` grows as that work is discovered.  With several images,
        one step per image.
    timeout
        Seconds allowed for connecting and for each read.
    session
        A ``requests.Session`` to use (proxies, CA bundles); by default a
        pooled one is made and closed again.  Cannot be combined with
        ``executor``.
    max_age
        Seconds, a ``timedelta`` or text such as ``"15min"``: when the history
        store recorded every tag of a repository (same platform) less than
        ``max_age`` ago, answer from the store with no network request at all
        (``df.attrs["fetched_at"]`` is then that recording's time).  ``None``
        always asks the registry.
    history
        Where ``dates=True`` reads are recorded (see :func:`regframe.history`):
        ``True`` for ``$REGFRAME_HISTORY`` or the user data directory's
        ``regframe/history.sqlite``, a path, or ``False`` to record nothing.
        A store that cannot be used gives a :class:`~regframe.errors.HistoryWarning`
        and the frame is returned anyway.

    Returns
    -------
    pandas.DataFrame
        One row per tag, in version order, with the columns ``tag, release,
        major, minor, patch, prerelease, variant, scheme, is_prerelease, prefix,
        build`` (and with ``dates=True`` also ``digest, media_type, platforms,
        created, created_source, pushed, pushed_source, size, resolves_to, error,
        date_note, attested``; with
        ``labels=True`` also ``revision, source, image_version, labels``).  For one image
        ``df.attrs`` holds ``registry``, ``repository``, ``reference`` and
        ``fetched_at`` (a recorded read also ``history``: ``store``, and the
        ``new``, ``moved`` and ``gone`` tags since ``previous_snapshot``); for
        a list, ``images`` (normalised references of the images read),
        ``failed`` and ``fetched_at``, and the images come in input order,
        each in version order.

    Raises
    ------
    InvalidReferenceError
        A reference is malformed (raised before any network traffic).
    InvalidArgumentError, InvalidArgumentTypeError
        Another argument cannot be used: an empty list, something other than
        a string in it, a ``match`` that is not a valid regular expression or
        of a wrong type, an unknown ``on_error``, a negative or unreadable
        ``max_age`` or one given with ``history=False`` (all before any
        network traffic).
    ExecutorError
        ``executor`` is not an executor, or its workers cannot run regframe.
    AuthenticationError, NotFoundError, RateLimitError, RegistryError
        The registry refused or failed; see :mod:`regframe.errors`.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.read_tags("docker.elastic.co/elasticsearch/elasticsearch")  # doctest: +SKIP
    >>> df[df.major == 8].pipe(rf.sort_tags, descending=True).head()  # doctest: +SKIP
    >>> rf.read_tags("python", dates=True, match=r"^3\\.1[23]\\.")  # doctest: +SKIP
    >>> rf.read_tags(["python", "pypy"], dates=True, on_error="skip")  # doctest: +SKIP
    """
    from regframe.frame import many

    options = many.Options.validated(
        dates=dates,
        labels=labels,
        match=match,
        platform=platform,
        auth=auth,
        insecure=insecure,
        max_workers=max_workers,
        cache=cache,
        timeout=timeout,
        max_age=max_age,
        history=history,
    )
    many.check_on_error(on_error)
    many.check_executor(executor, session)
    Progress.of(progress)  # a wrong type fails here, before any network traffic
    if isinstance(images, str):
        ref = parse_reference(images)
        if executor is not None:
            return many.submit_one(images, options, executor)
        transport = Transport(session, timeout=timeout, max_workers=max_workers)
        return read_one(ref, transport, options, progress=progress)
    return many.read_many(
        images,
        options,
        on_error=on_error,
        executor=executor,
        progress=progress,
        session=session,
    )


def read_one(
    ref: Reference,
    transport: Transport,
    options: Options,
    *,
    progress: ProgressOption | Progress = None,
) -> pd.DataFrame:
    """Read one repository through ``transport`` (closed afterwards) with validated ``options``.

    :func:`read_tags` for one image, after its arguments were checked; the several-images
    path (:mod:`regframe.frame.many`) calls it once per image.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> from regframe.frame.many import Options
    >>> from regframe.parsing.reference import parse_reference
    >>> read_one(parse_reference("localhost:5000/app"), Transport(),  # doctest: +SKIP
    ...          Options.validated(dates=True))
    """
    dates = options.dates
    want = options.want
    if options.max_age is not None:
        stored = _from_store(ref, options)
        if stored is not None:
            transport.close()
            return stored
    listing = None
    steps = Progress.of(progress)
    try:
        if dates:
            from regframe.client.tag_apis import fetch_listing

            # Docker Hub and Quay describe 100 tags per request in their own APIs;
            # None (not applicable, private, API down) falls back to the registry.
            listing = fetch_listing(ref, platform=want, transport=transport, progress=steps)
        if listing is not None and not options.labels:
            # Every tag is prefetched, so add_metadata sends nothing: the client
            # only names the repository and needs no ping (nor credentials).
            client = RegistryClient.offline(ref, transport)
        else:
            client = RegistryClient.open(
                ref, transport, auth=options.auth, insecure=options.insecure
            )
    except BaseException:
        transport.close()
        steps.close()
        raise
    try:
        if listing is not None:
            tags, prefetched = listing.tags, listing.rows
            log.debug("%s: %d tags from the %s tag API", ref, len(tags), listing.source)
        else:
            found = client.list_tags(progress=steps)
            tags, prefetched = found.tags, {}
            if dates:
                from regframe.client.tag_apis import gcr_rows

                prefetched = gcr_rows(found.gcr_manifests, platform=want)
            log.debug("%s: %d tags listed, %d described by the listing", ref, len(tags),
                      len(prefetched))  # fmt: skip
        df = parse_tags(pd.Series(tags, dtype="string"))
        df = sort_tags(df).reset_index(drop=True)
        if options.match is not None:
            # Before any manifest request: the filter decides what is worth asking about.
            df = options.match.apply(df)
        if dates:
            from regframe.frame.resolve import add_metadata

            df = add_metadata(
                df,
                client,
                platform=options.platform,
                cache=options.cache,
                progress=steps,
                max_workers=options.max_workers,
                prefetched=prefetched or None,
                labels=options.labels,
            )
    finally:
        client.close()
        steps.close()
    fetched_at = pd.Timestamp.now(tz="UTC")
    df.attrs.update(
        registry=ref.domain,
        repository=ref.repository,
        reference=str(ref),
        fetched_at=fetched_at,
    )
    if dates:
        record_frame(
            df,
            registry=ref.domain,
            repository=ref.repository,
            platform=options.platform,
            history=options.history,
            seen=fetched_at,
            # A filtered read saw only some tags: the others are not gone.
            complete=options.match is None,
            # Registries that keep history (Quay) say since when each tag points where.
            **(_registry_history(listing) if listing is not None else {}),
        )
    return df


def _registry_history(listing: ApiListing) -> dict[str, Any]:
    """``record_frame`` arguments for a tag API that reports start times and past revisions."""
    if not listing.started and not listing.history:
        return {}
    from regframe.frame.history_store import Revision

    revisions = [
        Revision(r.tag, r.digest, r.start, r.end, source=listing.source) for r in listing.history
    ]
    return {"since": dict(listing.started), "revisions": revisions, "source": listing.source}


def _from_store(ref: Reference, options: Options) -> pd.DataFrame | None:
    """The frame as recorded less than ``max_age`` ago, filtered as asked, or ``None``."""
    assert options.max_age is not None
    if options.labels:
        return None  # the store keeps digests and dates, not labels: read them
    stored = frame_from_store(
        registry=ref.domain,
        repository=ref.repository,
        platform=options.platform,
        history=options.history,
        max_age=options.max_age,
    )
    if stored is None:
        return None
    snapshot = stored.attrs["history_snapshot"]
    out = stored if options.dates else stored.loc[:, TAG_COLUMNS].copy()
    if options.match is not None:
        out = options.match.apply(out)
    out = out.reset_index(drop=True)
    out.attrs = {
        "registry": ref.domain,
        "repository": ref.repository,
        "reference": str(ref),
        "fetched_at": snapshot,
    }
    return out


def empty_tags_frame(*, dates: bool = False, labels: bool = False) -> pd.DataFrame:
    """A tags frame with every column and no rows (what a repository without tags gives).

    Examples
    --------
    >>> list(empty_tags_frame(dates=True).columns[-3:])
    ['error', 'date_note', 'attested']
    """
    df = parse_tags(pd.Series([], dtype="string"))
    if dates:
        from regframe.frame.columns import assemble_metadata

        df = assemble_metadata(df, [], labels=labels)
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


def _ordered_columns(df: pd.DataFrame) -> list[Any]:
    """``image`` (several images) first, then the documented columns, then the frame's others."""
    known = [c for c in ["image", *TAG_COLUMNS, *DATE_COLUMNS, *LABEL_COLUMNS] if c in df.columns]
    return known + [c for c in df.columns if c not in known]


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.loc[:, _ordered_columns(df)].copy()
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
    if isinstance(value, Mapping):
        # labels: one cell, stable across runs (sorted keys) and as short as JSON gets
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
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
    media_type, platforms, created, created_source, pushed, pushed_source, size,
    resolves_to, error, date_note, attested``), then any others in the frame's
    order; a several-images frame starts with ``image``.  Timestamps are written
    as ``2024-08-08T10:34:56Z`` (with a fraction only when there is one); list
    values are comma-joined; ``labels`` (a dict per row) is compact JSON with
    sorted keys; missing values are empty.  The index is not written unless ``index=True``.

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



def _json_value(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else value


def to_json(
    df: pd.DataFrame,
    path_or_buf: str | os.PathLike[str] | io.TextIOBase | None = None,
    /,
) -> str | None:
    """Write a tags or releases frame as a JSON array of records.

    Columns come in the same order as :func:`to_csv`; timestamps are ISO-8601 UTC
    text (``"2024-08-08T10:34:56Z"``), missing values are ``null``, list values
    (``platforms``) stay arrays.

    Parameters
    ----------
    df
        A frame from :func:`read_tags`, :func:`releases` or a filtered slice.
    path_or_buf
        File path or text buffer; ``None`` returns the JSON as a string.

    Returns
    -------
    str or None
        The JSON text when ``path_or_buf`` is ``None``.

    Examples
    --------
    >>> import regframe as rf
    >>> from regframe.frame.read import to_json
    >>> print(to_json(rf.parse_tags(["1.2"]).loc[:, ["tag", "patch", "variant"]]))
    [{"tag": "1.2", "patch": null, "variant": null}]
    """
    frame = df.loc[:, _ordered_columns(df)]
    columns: dict[str, list[Any]] = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = _iso_utc(series)
        columns[str(col)] = [_json_value(v) for v in series.astype(object)]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    text = json.dumps(records, ensure_ascii=False, allow_nan=False)
    if path_or_buf is None:
        return text
    if isinstance(path_or_buf, str | os.PathLike):
        target = Path(path_or_buf)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n", encoding="utf-8")
    else:
        path_or_buf.write(text + "\n")
    return None
