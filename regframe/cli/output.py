"""Writing a frame where the user asked: ``--csv FILE|-``, ``--json FILE|-`` (``-``: stdout)."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from regframe._words import counted

__all__ = ["add_output_options", "print_table", "write_requested"]


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Add ``--csv FILE|-`` and ``--json FILE|-``."""
    p.add_argument("--csv", metavar="FILE|-", help="write the table as CSV (- for stdout)")
    p.add_argument(
        "--json",
        metavar="FILE|-",
        help="write the table as a JSON array of records (- for stdout)",
    )


def write_requested(df: pd.DataFrame, args: argparse.Namespace, *, noun: str = "row") -> bool:
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
            print(f"wrote {counted(len(df), noun)} to {target}", file=sys.stderr)
    return wrote


def print_table(df: pd.DataFrame, *, width: int = 200, max_colwidth: int = 40) -> None:
    """Print ``df`` as a plain text table on stdout, missing values as blanks.

    Every column is shown as plain objects first: categorical and boolean columns refuse
    ``""`` as a fill value, and ``fillna`` on object columns warns about downcasting on
    pandas 2.2, which a user would see on stderr.

    Examples
    --------
    >>> print_table(pd.DataFrame({"tag": ["1.0", "latest"], "release": ["1.0", None]}))
       tag release
       1.0     1.0
    latest
    """
    shown = df.astype(object)
    shown = shown.map(lambda v: "" if v is None or v is pd.NA or v is pd.NaT or v != v else v)
    with pd.option_context("display.width", width, "display.max_colwidth", max_colwidth):
        print(shown.to_string(index=False))
