"""``match=``: turn a regex, a collection of tags or a callable into a row filter, checked up front.

:func:`compile_match` validates the argument before any network traffic and
returns a :class:`TagFilter`; :meth:`TagFilter.apply` keeps the rows of a
parsed tags frame that match.  The filter is picklable whenever the argument
is (a regex, a collection, or a module-level function), so it can travel with
an executor task.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd

from regframe._words import counted
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = ["Match", "TagFilter", "compile_match"]

log = logging.getLogger(__name__)

#: What ``match=`` accepts: a regular expression (searched in each tag), a
#: collection of tags, or a callable taking the parsed tags frame and
#: returning a boolean mask.
Match = Union[str, "re.Pattern[str]", Iterable[str], Callable[[pd.DataFrame], Any]]


@dataclass(frozen=True)
class TagFilter:
    """A validated ``match=`` argument; exactly one of the three fields is set."""

    pattern: re.Pattern[str] | None = None
    tags: frozenset[str] | None = None
    func: Callable[[pd.DataFrame], Any] | None = None

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``df`` (a parsed tags frame) that match, index reset.

        Raises
        ------
        InvalidArgumentError
            A callable returned a mask of the wrong length.
        InvalidArgumentTypeError
            A callable returned something that is not a boolean mask.
        """
        tags = df["tag"].astype("string")
        if self.pattern is not None:
            rx = self.pattern
            mask = np.fromiter((bool(rx.search(t)) for t in tags), dtype=bool, count=len(tags))
        elif self.tags is not None:
            mask = tags.isin(self.tags).fillna(False).to_numpy(dtype=bool)
        else:
            assert self.func is not None
            mask = _as_mask(self.func(df.copy()), len(df))
        out = df.loc[mask].reset_index(drop=True)
        out.attrs = dict(df.attrs)
        log.debug("match kept %d of %d tags", len(out), len(df))
        return out


def _as_mask(result: Any, n: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if isinstance(result, pd.DataFrame) or not hasattr(result, "__len__"):
        raise InvalidArgumentTypeError(
            "a match= callable must return a boolean mask (one True/False per tag), "
            f"not {type(result).__name__}"
        )
    series = pd.Series(result)
    if len(series) != n:
        raise InvalidArgumentError(
            f"a match= callable returned {counted(len(series), 'value')} for {counted(n, 'tag')}; "
            "it must return one True/False per row of the frame it was given"
        )
    if not (pd.api.types.is_bool_dtype(series.dtype) or series.dropna().map(_is_bool).all()):
        raise InvalidArgumentTypeError(
            f"a match= callable must return booleans, not values of dtype {series.dtype}"
        )
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def compile_match(match: Match | None) -> TagFilter | None:
    """Validate ``match=`` (before any network traffic) and return its filter.

    Parameters
    ----------
    match
        ``None`` (keep every tag); a regular expression, as text or compiled,
        searched in each tag (``re.search``: anchor it with ``^``/``$`` when
        needed); a collection of tags (list, tuple, set, Series...); or a
        callable taking the parsed tags frame and returning a boolean mask.

    Raises
    ------
    InvalidArgumentError
        The regular expression does not compile.
    InvalidArgumentTypeError
        ``match`` is none of the accepted kinds, or a collection holds
        something other than strings.

    Examples
    --------
    >>> import regframe as rf
    >>> f = compile_match(r"^3\\.1[23]\\.")
    >>> list(f.apply(rf.parse_tags(["3.11.9", "3.12.1", "3.13.0"])).tag)
    ['3.12.1', '3.13.0']
    >>> list(compile_match(["latest"]).apply(rf.parse_tags(["1.0", "latest"])).tag)
    ['latest']
    >>> compile_match("3.(12")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    regframe.errors.InvalidArgumentError: match= is not a valid regular expression ('3.(12'): ...
    """
    if match is None:
        return None
    if isinstance(match, str):
        try:
            return TagFilter(pattern=re.compile(match))
        except re.error as exc:
            raise InvalidArgumentError(
                f"match= is not a valid regular expression ({match!r}): {exc}"
            ) from None
    if isinstance(match, re.Pattern):
        if not isinstance(match.pattern, str):
            raise InvalidArgumentTypeError("match= must be a text pattern, not a bytes pattern")
        return TagFilter(pattern=match)
    if callable(match) and not isinstance(match, pd.Series | pd.Index):
        return TagFilter(func=match)
    if isinstance(match, bytes | bytearray | Mapping) or not isinstance(match, Iterable):
        raise InvalidArgumentTypeError(
            "match= takes a regular expression, a collection of tags or a callable "
            f"returning a boolean mask, not {type(match).__name__}"
        )
    tags = list(match)
    odd = [t for t in tags if not isinstance(t, str)]
    if odd:
        raise InvalidArgumentTypeError(
            f"match= collections must hold tags as strings; found {type(odd[0]).__name__} "
            f"{odd[0]!r}"
        )
    return TagFilter(tags=frozenset(tags))
