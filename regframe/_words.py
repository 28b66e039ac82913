"""Counts in words (``1 tag``, ``3 tags``) for chart titles and command-line notes.

Every layer may import this module; it imports nothing from regframe.
"""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural (``many``, else ``word + "s"``) unless ``n`` is 1.

    Examples
    --------
    >>> counted(1, "tag"), counted(3, "tag"), counted(2, "removed", "removed")
    ('1 tag', '3 tags', '2 removed')
    """
    if n == 1:
        return f"{n} {word}"
    return f"{n} {many if many is not None else word + 's'}"
