"""``regframe history IMAGE``: the recorded intervals of each tag, printed or exported."""

from __future__ import annotations

import argparse
import sys

from regframe._words import counted
from regframe.cli.output import add_output_options, print_table, write_requested

NAME = "history"
HELP = "show when each tag pointed at which digest (from the history store)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="image reference, e.g. python or quay.io/org/app")
    p.add_argument("--tag", action="append", metavar="T", help="only this tag (repeat for several)")
    p.add_argument(
        "--since",
        metavar="DATE",
        help="only intervals still running at DATE or later; with --changes a date or a "
        "duration such as 7d (default: the snapshot before the last)",
    )
    p.add_argument(
        "--changes",
        action="store_true",
        help="list what changed between two snapshots: new releases, new tags, retags, "
        "rebuilds, removed tags",
    )
    p.add_argument("--platform", default="linux/amd64", help="platform the reads were made for")
    p.add_argument("--store", metavar="PATH", help="history store file (default: user data dir)")
    add_output_options(p)


def _changes(args: argparse.Namespace) -> int:

    from regframe.frame.changes import changes

    if args.tag:
        from regframe.cli.options import UsageError

        raise UsageError("--changes lists every tag; --tag does not apply")
    out = changes(args.image, since=args.since, store=args.store, platform=args.platform)
    if write_requested(out, args, noun="change"):
        return 0
    old, new = out.attrs["old_snapshot"], out.attrs["new_snapshot"]
    span = f"{old:%Y-%m-%d %H:%M:%S} → {new:%Y-%m-%d %H:%M:%S} UTC"
    if out.empty:
        print(f"{args.image}: nothing changed, {span}", file=sys.stderr)
        return 0
    shown = out.astype(object).copy()
    for col in ("old_digest", "new_digest"):
        shown[col] = out[col].str.slice(0, 19).astype(object)
    print_table(shown)
    print(f"{counted(len(out), 'change')}, {span}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:

    from regframe.frame.history import history

    if args.changes:
        return _changes(args)

    hist = history(
        args.image, tags=args.tag, since=args.since, store=args.store, platform=args.platform
    )
    if write_requested(hist, args, noun="interval"):
        return 0
    if hist.empty:
        which = f" for tag {', '.join(args.tag)}" if args.tag else ""
        which += f" since {args.since}" if args.since else ""
        print(
            f"{args.image}: no history recorded{which}; `regframe snapshot {args.image}` or "
            f"`regframe tags {args.image} --dates` records where its tags point",
            file=sys.stderr,
        )
        return 0
    # the registry's push time only where some interval has one (Hub, Quay, GCR reads)
    pushed = ["pushed"] if hist["pushed"].notna().any() else []
    cols = ["tag", "digest", "first_seen", "last_seen", *pushed, "current", "source"]
    shown = hist.loc[:, cols].copy()
    shown["digest"] = shown["digest"].str.slice(0, 19)
    for col in ("first_seen", "last_seen", *pushed):
        shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    shown["current"] = shown["current"].map({True: "*", False: ""})
    shown["source"] = shown["source"].astype(object)
    shown["version"] = hist["resolves_to"].astype(object)
    print_table(shown)
    tags = counted(hist["tag"].nunique(), "tag")
    print(f"{counted(len(hist), 'interval')}, {tags}", file=sys.stderr)
    return 0
