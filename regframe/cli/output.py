"""Writing a frame where the user asked: ``--csv FILE|-``, ``--json FILE|-`` (``-``: stdout)."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

__all__ = ["add_output_options", "write_requested"]


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Add ``--csv FILE|-`` and ``--json FILE|-``."""
    p.add_argument("--csv", metavar="FILE|-", help="write the table as CSV (- for stdout)")
    p.add_argument(
        "--json",
        metavar="FILE|-",
        help="write the table as a JSON array of records (- for stdout)",
    )


def write_requested(df: pd.DataFrame, args: argparse.Namespace, *, noun: str = "rows") -> bool:
    """Write ``df`` to every ``--csv``/``--json`` target given; ``False`` when none was.

    A note about each file written goes to stderr, so stdout carries only data.
    """
    from regframe.frame.write import to_csv, to_json

    wrote = False
    for target, write in ((args.csv, to_csv), (args.json, to_json)):
        if not target:
            continue
        wrote = True
        if target == "-":
            text = write(df) or ""
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        else:
            write(df, target)
            print(f"wrote {len(df)} {noun} to {target}", file=sys.stderr)
    return wrote
