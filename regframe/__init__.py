"""regframe — container image tags as pandas DataFrames.

>>> import regframe as rf
>>> df = rf.read_tags("docker.elastic.co/elasticsearch/elasticsearch")  # doctest: +SKIP
>>> rf.parse_tags(["3.13.0rc2-slim-bookworm"]).loc[0, "prerelease"]
'rc2'

``rf.plot`` and ``rf.explore`` load matplotlib and ipywidgets on first use so
that ``import regframe`` stays quick in scripts that only list tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regframe import errors
from regframe._version import __version__
from regframe.cadence import releases
from regframe.client.credentials import Credentials
from regframe.errors import *  # noqa: F403 -- the public exceptions, listed once in errors.__all__
from regframe.frame.changes import changes
from regframe.frame.complete import add_dates
from regframe.frame.history import history
from regframe.frame.read import read_tags
from regframe.frame.repositories import list_repositories
from regframe.frame.write import to_csv
from regframe.newest import newest
from regframe.parsing.explain import explain
from regframe.parsing.reference import Reference, parse_reference
from regframe.parsing.select import select
from regframe.parsing.versions import SCHEMES, parse_tags, sort_tags, version_key

if TYPE_CHECKING:
    from regframe import plot
    from regframe.widgets import explore

__all__ = [
    "SCHEMES",
    "Credentials",
    "Reference",
    "__version__",
    "add_dates",
    "changes",
    "explain",
    "explore",
    "history",
    "list_repositories",
    "newest",
    "parse_reference",
    "parse_tags",
    "plot",
    "read_tags",
    "releases",
    "select",
    "sort_tags",
    "to_csv",
    "version_key",
]
__all__ += errors.__all__


def __getattr__(name: str) -> Any:
    import importlib

    if name == "plot":
        return importlib.import_module(".plot", __name__)
    if name == "explore":
        return importlib.import_module(".widgets", __name__).explore
    raise AttributeError(f"module 'regframe' has no attribute {name!r}")
