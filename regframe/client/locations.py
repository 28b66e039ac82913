"""Where a regframe file lives: an argument, else an environment variable, else the user's folder.

The digest cache (``cache=``, :mod:`regframe.client.cache`) and the history store
(``history=``, :mod:`regframe.frame.history_store`) take the same kind of argument; this
module is the one rule that turns it into a path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["user_path"]


def user_path(
    option: bool | str | os.PathLike[str] | None,
    *,
    name: str,
    env: str,
    default: Callable[[], Path],
) -> Path | None:
    """Turn a ``cache=``/``history=``-style argument into a path.

    Parameters
    ----------
    option
        ``True``: ``$env`` if set, else ``default()``; a path: that path (``~``
        expanded); ``False`` or ``None``: no path.
    name
        The argument's name, for the error message.
    env
        The environment variable that overrides the default (CI, tests).
    default
        The path in the user's folders (called only when needed).

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    TypeError
        ``option`` is neither a bool nor a path.

    Examples
    --------
    >>> user_path("~/x.sqlite", name="history", env="UNSET_VAR", default=Path).name
    'x.sqlite'
    >>> user_path(False, name="cache", env="UNSET_VAR", default=Path) is None
    True
    """
    if option is None or option is False:
        return None
    if option is True:
        override = os.environ.get(env)
        return Path(override).expanduser() if override else default()
    if isinstance(option, str | os.PathLike):
        return Path(option).expanduser()
    raise TypeError(f"{name} must be a bool or a path, got {type(option).__name__}")
