"""``regframe snapshot IMAGE...``: record where every tag points now (for cron), one line per image.

Each image is read with ``dates=True`` and recorded in the history store; the
line says how many tags there are and which moved since the previous snapshot.
An image that fails (registry error, store not writable) gets a line on stderr
and exit status 1 — the other images are still read and recorded.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from regframe.cli.options import UsageError, add_image_options, read_options

NAME = "snapshot"
HELP = "record every tag's digest in the history store (one line per image)"
#: Moved tags named on the summary line before it says "and N more".
SHOWN = 6


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_image_options(p)
    # The shared options take one image and --match; a snapshot takes several and every tag.
    for action in p._actions:  # argparse has no public way to widen nargs
        if action.dest == "image":
            action.nargs = "+"
            action.help = "image references, e.g. python quay.io/prometheus/prometheus"
        if action.dest == "match":
            action.help = argparse.SUPPRESS
    p.add_argument("--store", metavar="PATH", help="history store file (default: user data dir)")


def _names(tags: list[str]) -> str:
    shown = ", ".join(tags[:SHOWN])
    return shown + (f" and {len(tags) - SHOWN} more" if len(tags) > SHOWN else "")


def summary(image: str, df: Any) -> str:
    """The one line for a recorded read (see :func:`regframe.read_tags` ``attrs["history"]``)."""
    info = df.attrs["history"]
    head = f"{image}: {len(df)} tags"
    prev = info["previous_snapshot"]
    if prev is None:
        return f"{head}, first snapshot"
    parts = [f"{len(info['moved'])} moved"]
    if info["moved"]:
        parts[0] += f" ({_names(info['moved'])})"
    if info["new"]:
        parts.append(f"{len(info['new'])} new ({_names(info['new'])})")
    if info["gone"]:
        parts.append(f"{len(info['gone'])} gone ({_names(info['gone'])})")
    return f"{head}, {', '.join(parts)} since {prev:%Y-%m-%d %H:%M:%S} UTC"


def run(args: argparse.Namespace) -> int:
    from regframe.errors import HistoryWarning, RegframeError
    from regframe.frame.read import read_tags
    from regframe.parsing.reference import parse_reference

    # Every reference is checked before the first one is read.
    for image in args.image:
        parse_reference(image)
    if args.match:
        raise UsageError("snapshot records every tag; --match does not apply")
    options = read_options(args)
    failed = 0
    for image in args.image:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", HistoryWarning)
                df = read_tags(
                    image, dates=True, progress=False, history=args.store or True, **options
                )
        except RegframeError as exc:
            failed += 1
            print(f"{image}: error: {exc}", file=sys.stderr)
            continue
        problems = [str(w.message) for w in caught if issubclass(w.category, HistoryWarning)]
        if "history" not in df.attrs:
            failed += 1
            print(f"{image}: {problems[0] if problems else 'not recorded'}", file=sys.stderr)
            continue
        print(summary(image, df), flush=True)
    return 1 if failed else 0
