"""Frame assembly: from image references to a tags DataFrame, and from a frame to a file.

:mod:`~regframe.frame.read` lists and parses tags (``read_tags``) and writes CSV/JSON;
:mod:`~regframe.frame.resolve` is the ``dates=True`` resolver (tag → manifest chain →
:class:`~regframe.client.tag_metadata.TagMetadata`); :mod:`~regframe.frame.columns` holds the
column lists and turns those records into typed columns.  Several images, ``match=``,
``add_dates``, repository listings and the tag history have a module each.
"""

from regframe.frame.complete import add_dates
from regframe.frame.read import read_tags, to_csv
from regframe.frame.repositories import list_repositories

__all__ = ["add_dates", "list_repositories", "read_tags", "to_csv"]
