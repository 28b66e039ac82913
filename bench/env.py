"""``os.environ`` changed for the length of a benchmark run, then put back as it was."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Mapping

__all__ = ["environment"]


@contextlib.contextmanager
def environment(values: Mapping[str, str], *, also: Collection[str] = ()) -> Iterator[None]:
    """Set *values* in ``os.environ``; on exit restore them and the names in *also*.

    *also* names variables the run itself changes (a loop switching backends), so that
    they too are as before afterwards.

    Examples
    --------
    >>> with environment({"REGFRAME_BENCH_EXAMPLE": "1"}):
    ...     os.environ["REGFRAME_BENCH_EXAMPLE"]
    '1'
    >>> "REGFRAME_BENCH_EXAMPLE" in os.environ
    False
    """
    saved = {k: os.environ.get(k) for k in {*values, *also}}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
