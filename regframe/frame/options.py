"""Arguments shared by every image of a read, checked once before any network traffic.

:class:`Options` is what one image's read needs besides its reference (validated and
picklable, so it travels to an executor's workers); :func:`check_on_error` and
:func:`check_executor` check the several-images arguments.  Both
:mod:`regframe.frame.one` and :mod:`regframe.frame.many` build on this module.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from dataclasses import dataclass

import pandas as pd
import requests

from regframe.client.credentials import Credentials, coerce_auth
from regframe.client.platforms import Platform, parse_platform
from regframe.errors import ExecutorError, InvalidArgumentError, InvalidArgumentTypeError
from regframe.frame.history import check_history_options
from regframe.frame.match import Match, TagFilter, compile_match
from regframe.parsing.ranges import VersionRange, compile_range
from regframe.parsing.select import range_mask

__all__ = ["ON_ERROR", "Options", "check_executor", "check_on_error"]

log = logging.getLogger(__name__)

ON_ERROR = ("raise", "skip")


@dataclass(frozen=True)
class Options:
    """Everything one image's read needs besides the reference, validated and picklable.

    Examples
    --------
    >>> opts = Options.validated(labels=True, platform="linux/arm64")
    >>> opts.dates, str(opts.want)
    (True, 'linux/arm64')
    """

    dates: bool = False
    labels: bool = False
    match: TagFilter | None = None
    versions: VersionRange | None = None
    platform: str | None = "linux/amd64"
    want: Platform | None = None
    auth: Credentials | None = None
    insecure: bool = False
    max_workers: int = 16
    cache: bool | str | os.PathLike[str] = True
    timeout: float = 30.0
    max_age: int | None = None
    history: bool | str | os.PathLike[str] = True

    @classmethod
    def validated(
        cls,
        *,
        dates: bool = False,
        labels: bool = False,
        match: Match | None = None,
        versions: str | VersionRange | None = None,
        platform: str | None = "linux/amd64",
        auth: tuple[str, str] | Credentials | None = None,
        insecure: bool = False,
        max_workers: int = 16,
        cache: bool | str | os.PathLike[str] = True,
        timeout: float = 30.0,
        max_age: object = None,
        history: bool | str | os.PathLike[str] = True,
    ) -> Options:
        """Check the arguments shared by every image; raises before any network traffic."""
        age = check_history_options(max_age, history)
        dates = bool(dates) or bool(labels)  # labels live in the image config: they need dates
        want = parse_platform(platform) if (dates and platform is not None) else None
        try:
            credentials = coerce_auth(auth)
        except TypeError as exc:
            raise InvalidArgumentTypeError(str(exc)) from None
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise InvalidArgumentError(f"max_workers must be a positive int, not {max_workers!r}")
        return cls(
            dates=dates,
            labels=bool(labels),
            match=compile_match(match),
            versions=None if versions is None else compile_range(versions),
            platform=platform,
            want=want,
            auth=credentials,
            insecure=bool(insecure),
            max_workers=max_workers,
            cache=cache,
            timeout=float(timeout),
            max_age=age,
            history=history,
        )


    @property
    def filtered(self) -> bool:
        """Whether ``match=`` or ``versions=`` leaves some tags out (the read is then partial)."""
        return self.match is not None or self.versions is not None

    def select(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows of a parsed tags frame that ``match=`` and ``versions=`` keep, index reset."""
        if self.match is not None:
            df = self.match.apply(df)
        if self.versions is not None:
            out = df.loc[range_mask(df, self.versions)].reset_index(drop=True)
            out.attrs = dict(df.attrs)
            log.debug("versions=%r kept %d of %d tags", self.versions.text, len(out), len(df))
            df = out
        return df

def check_on_error(on_error: object) -> None:
    """``on_error`` must be ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> check_on_error("skip")
    >>> check_on_error("ignore")
    Traceback (most recent call last):
    ...
    regframe.errors.InvalidArgumentError: on_error must be "raise" or "skip", not 'ignore'
    """
    if not isinstance(on_error, str) or on_error not in ON_ERROR:
        raise InvalidArgumentError(f'on_error must be "raise" or "skip", not {on_error!r}')


def check_executor(executor: object, session: requests.Session | None) -> None:
    """``executor`` must be a :class:`concurrent.futures.Executor` and cannot carry a session.

    Examples
    --------
    >>> check_executor(None, None)
    """
    if executor is None:
        return
    if not isinstance(executor, Executor):
        raise ExecutorError(
            "executor= takes a concurrent.futures.Executor (a ProcessPoolExecutor, "
            f"dask.distributed.Client.get_executor(), ...), not {type(executor).__name__}"
        )
    if session is not None:
        raise InvalidArgumentError(
            "session= cannot be combined with executor=: a session cannot be sent to "
            "another process; configure proxies and CA bundles through the environment"
        )
