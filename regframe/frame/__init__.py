"""Frame assembly: from image references to a tags DataFrame, and from a frame to a file.

``read_tags`` lists and parses tags (``match`` filters them before any manifest request;
a list of images is read concurrently into one frame by :mod:`regframe.frame.many`); the
``dates=True`` resolver completes each row from registry metadata; ``add_dates`` does that
for an already filtered frame; ``list_repositories`` finds the images to read; ``to_csv``
writes the stable CSV form.
"""

from regframe.frame.complete import add_dates
from regframe.frame.read import read_tags, to_csv
from regframe.frame.repositories import list_repositories

__all__ = ["add_dates", "list_repositories", "read_tags", "to_csv"]
