"""Frame assembly: from image references to a tags DataFrame, and from a frame to a file.

:mod:`~regframe.frame.read` checks ``read_tags``'s arguments and hands one image to
:mod:`~regframe.frame.one` (its read, step by step) or several to :mod:`~regframe.frame.many`;
:mod:`~regframe.frame.write` writes CSV/JSON;
:mod:`~regframe.frame.resolve` is the ``dates=True`` resolver (tag → manifest chain →
:class:`~regframe.client.tag_metadata.TagMetadata`); :mod:`~regframe.frame.columns` holds the
column lists and turns those records into typed columns.  Several images, ``match=``,
``add_dates``, repository listings and the tag history have a module each.
"""

from regframe.frame.complete import add_dates
from regframe.frame.read import read_tags
from regframe.frame.repositories import list_repositories
from regframe.frame.write import to_csv

__all__ = ["add_dates", "list_repositories", "read_tags", "to_csv"]
