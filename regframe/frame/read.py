"""``read_tags``: check every argument, then read one image or several.

The steps of one image's read are in :mod:`regframe.frame.one`, several images in
:mod:`regframe.frame.many`, the shared argument checks in :mod:`regframe.frame.options`;
writing a frame to CSV or JSON is :mod:`regframe.frame.write`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from concurrent.futures import Executor

import pandas as pd
import requests

from regframe.client.credentials import Credentials
from regframe.client.progress import Progress, ProgressOption
from regframe.client.transport import Transport, default_workers
from regframe.frame.many import read_many, submit_one
from regframe.frame.match import Match
from regframe.frame.one import read_one
from regframe.frame.options import Options, check_executor, check_on_error
from regframe.parsing.ranges import VersionRange
from regframe.parsing.reference import parse_reference

__all__ = ["read_tags"]


def read_tags(
    images: str | Iterable[str],
    /,
    *,
    dates: bool = False,
    match: Match | None = None,
    versions: str | VersionRange | None = None,
    labels: bool = False,
    platform: str | None = "linux/amd64",
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    max_workers: int | None = None,
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
    versions
        Keep only the tags whose version is in a range, decided like ``match``
        before any manifest request (and combined with it): PEP 440 specifiers
        (``">=8.15,<9"``, ``"~=8.15"``, ``"==8.*"``) or an npm range
        (``"^8.15"``, ``">=1.2 <2 || 3.x"``), compared in regframe's version
        order; prereleases only where the range names one.  See
        :func:`regframe.select`.
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
        ``None``: 100 with the libcurl transport (the ``fast`` extra: over HTTP/2
        they are streams on one connection; over HTTP/1.1, at most 32
        connections), else 16 connections.
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
        of a wrong type, a malformed ``versions`` range (the message names the
        position), an unknown ``on_error``, a negative or unreadable
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
    >>> rf.read_tags("python", dates=True, versions=">=3.12,<3.14")  # doctest: +SKIP
    >>> rf.read_tags(["python", "pypy"], dates=True, on_error="skip")  # doctest: +SKIP
    """
    options = Options.validated(
        dates=dates,
        labels=labels,
        match=match,
        versions=versions,
        platform=platform,
        auth=auth,
        insecure=insecure,
        max_workers=default_workers(session) if max_workers is None else max_workers,
        cache=cache,
        timeout=timeout,
        max_age=max_age,
        history=history,
    )
    check_on_error(on_error)
    check_executor(executor, session)
    Progress.of(progress)  # a wrong type fails here, before any network traffic
    if isinstance(images, str):
        ref = parse_reference(images)
        if executor is not None:
            return submit_one(images, options, executor)
        transport = Transport(session, timeout=timeout, max_workers=options.max_workers)
        return read_one(ref, transport, options, progress=progress)
    return read_many(
        images,
        options,
        on_error=on_error,
        executor=executor,
        progress=progress,
        session=session,
    )
