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

from regframe._words import counted
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
        if action.dest in ("match", "versions"):
            action.help = argparse.SUPPRESS
    p.add_argument("--store", metavar="PATH", help="history store file (default: user data dir)")


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _described(row: Any) -> str:
    """A change in a few words: the tag (``3.13.1``), or where a retag went (``latest → 3.13``)."""
    if row["kind"] == "retag" and isinstance(row["new_version"], str):
        return f"{row['tag']} → {row['new_version']}"
    return str(row["tag"])


def words(changed: Any) -> list[str]:
    """The changes of :func:`regframe.changes` as phrases, one per kind present.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"tag": ["3.13.1", "latest", "3.12.7"],
    ...                      "kind": ["new release", "retag", "rebuild"],
    ...                      "new_version": ["3.13.1", "3.13.1", "3.12.7"]})
    >>> words(rows)
    ['1 new release (3.13.1)', '1 retag (latest → 3.13.1)', '1 rebuild (3.12.7)']
    """
    out = []
    for kind in ("new release", "new tag", "retag", "rebuild", "removed"):
        rows = changed[changed["kind"] == kind]
        if len(rows):
            names = [_described(r) for _, r in rows.iterrows()]
            many = kind if kind == "removed" else None  # "2 removed", not "2 removeds"
            out.append(f"{counted(len(rows), kind, many)} ({_names(names)})")
    return out


def summary(image: str, df: Any, changed: Any = None) -> str:
    """The one line for a recorded read: tags, and what changed since the previous snapshot.

    ``changed`` is :func:`regframe.changes` between the previous complete snapshot and
    this read; without it the line counts the store's moved/new/gone tags.
    """
    info = df.attrs["history"]
    head = f"{image}: {counted(len(df), 'tag')}"
    prev = info["previous_snapshot"]
    if prev is None:
        return f"{head}, first snapshot"
    if changed is not None:
        prev = changed.attrs["old_snapshot"]
    since = f"since {prev:%Y-%m-%d %H:%M:%S} UTC"
    if changed is not None:
        said = words(changed)
        return f"{head}, {'; '.join(said) if said else 'nothing changed'} {since}"
    parts = [f"{len(info['moved'])} moved"]
    if info["moved"]:
        parts[0] += f" ({_names(info['moved'])})"
    if info["new"]:
        parts.append(f"{len(info['new'])} new ({_names(info['new'])})")
    if info["gone"]:
        parts.append(f"{len(info['gone'])} gone ({_names(info['gone'])})")
    return f"{head}, {', '.join(parts)} {since}"


def _changes_since(image: str, df: Any, args: argparse.Namespace) -> Any:
    """What changed since the previous complete snapshot; ``None`` if the store cannot say.

    Only complete snapshots are compared (a partial one did not see every tag), and only
    when this read is the newest of them.
    """
    from regframe.errors import RegframeError
    from regframe.frame.changes import changes

    info = df.attrs["history"]
    if info["previous_snapshot"] is None:
        return None
    try:
        changed = changes(image, store=info["store"], platform=args.platform)
    except RegframeError:
        return None
    return changed if changed.attrs["new_snapshot"] == df.attrs["fetched_at"] else None


def run(args: argparse.Namespace) -> int:
    from regframe.errors import HistoryWarning, RegframeError
    from regframe.frame.read import read_tags
    from regframe.parsing.reference import parse_reference

    # Every reference is checked before the first one is read.
    for image in args.image:
        parse_reference(image)
    if args.match or args.versions:
        raise UsageError("snapshot records every tag; --match and --versions do not apply")
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
        print(summary(image, df, _changes_since(image, df, args)), flush=True)
    return 1 if failed else 0
