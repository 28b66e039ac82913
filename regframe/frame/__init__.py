"""Frame assembly: from an image reference to a tags DataFrame, and from a frame to a file.

``read_tags`` lists and parses tags; the ``dates=True`` resolver completes each row from
registry metadata; ``to_csv`` writes the stable CSV form.
"""

from regframe.frame.read import read_tags, to_csv

__all__ = ["read_tags", "to_csv"]
