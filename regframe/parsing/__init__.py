"""Pure parsing, no I/O: image references and version tags.

The bottom layer: everything here is a function of its input alone, so it runs in
microseconds, never raises anything but :class:`regframe.errors.InvalidReferenceError`
for bad input, and is what every other layer builds on.
"""
