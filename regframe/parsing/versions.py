"""Version parsing in one import: the tag grammar and the version order.

:mod:`regframe.parsing.grammar` reads tags into version columns
(:func:`parse_tags`); :mod:`regframe.parsing.order` orders them
(:func:`version_key`, :func:`sort_tags`).  This module re-exports both, so
``from regframe.parsing.versions import parse_tags, sort_tags`` keeps working
wherever it was written.

Examples
--------
>>> from regframe.parsing.versions import parse_tags, sort_tags
>>> sort_tags(parse_tags(["1.10", "1.9"]))["tag"].tolist()
['1.9', '1.10']
"""

from __future__ import annotations

from regframe.parsing.grammar import (
    COLUMNS,
    DIGEST_TAG_RE,
    PRERELEASE_RANKS,
    PRERELEASE_WORDS,
    RELEASE_SCHEMES,
    SCHEMES,
    STAMP_RE,
    TAG_RE,
    parse_tags,
)
from regframe.parsing.order import sort_tags, version_key

__all__ = [
    "COLUMNS",
    "DIGEST_TAG_RE",
    "PRERELEASE_RANKS",
    "PRERELEASE_WORDS",
    "RELEASE_SCHEMES",
    "SCHEMES",
    "STAMP_RE",
    "TAG_RE",
    "parse_tags",
    "sort_tags",
    "version_key",
]
