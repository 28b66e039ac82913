"""``regframe tags IMAGE``: tags with parsed versions (and build dates), printed or exported."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from regframe._words import counted
from regframe.cli.options import UsageError, add_image_options, read_frame
from regframe.cli.output import add_output_options, print_table, write_requested
from regframe.newest import BY

NAME = "tags"
HELP = "list tags with parsed versions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_image_options(p)
    p.add_argument("--dates", action="store_true", help="also read digests and build dates")
    p.add_argument(
        "--labels",
        action="store_true",
        help="also read config labels: revision, source, image_version, labels (implies --dates)",
    )
    p.add_argument(
        "--newest",
        action="store_true",
        help="one row per line: its newest release, with released, age and why (implies --dates)",
    )
    p.add_argument(
        "--by",
        choices=[*BY, "none"],
        default="line",
        help="with --newest: group by line (default), major, prefix, image, or none",
    )
    p.add_argument("--variant", help="with --newest: only tags with exactly this variant")
    p.add_argument(
        "--prereleases", action="store_true", help="with --newest: a prerelease may be newest"
    )
    add_output_options(p)


def _newest(df: pd.DataFrame, args: argparse.Namespace) -> int:
    from regframe.newest import newest

    by = None if args.by == "none" else args.by
    out = newest(df, by=by, variant=args.variant, prereleases=args.prereleases)
    if write_requested(out, args, noun="release"):
        return 0
    shown = out.drop(columns=[c for c in ("major",) if by != "major" and c in out.columns])
    if not shown["prefix"].notna().any():
        shown = shown.drop(columns="prefix")
    shown["released"] = shown["released"].dt.strftime("%Y-%m-%d")
    # the unit in the header, for a reader of the table (the CSV keeps the column's name)
    print_table(shown.rename(columns={"age": "age (days)"}), width=250, max_colwidth=70)
    print(counted(len(out), "group"), file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if (args.variant or args.prereleases or args.by != "line") and not args.newest:
        raise UsageError("--by, --variant and --prereleases go with --newest")
    dates = args.dates or args.labels or args.newest
    df = read_frame(args, dates=dates, labels=args.labels)
    if args.newest:
        return _newest(df, args)
    if write_requested(df, args, noun="tag"):
        return 0
    if df.empty:
        asked = [f"--{n} {v!r}" for n in ("match", "versions") if (v := getattr(args, n))]
        which = f" match {' and '.join(asked)}" if asked else ""
        print(f"{df.attrs.get('reference', args.image)}: no tags{which}", file=sys.stderr)
        return 0
    # prefix and build only when the repository uses them: most never do
    # (and push times and date notes only when some tag has one)
    optional = ("prefix", "build", "pushed", "date_note")
    has = {c: c in df.columns and bool(df[c].notna().any()) for c in optional}
    cols = ["tag", *(["prefix"] if has["prefix"] else []), "release", "prerelease", "variant"]
    cols += [*(["build"] if has["build"] else []), "scheme"]
    if dates:
        cols += ["created", *(["pushed"] if has["pushed"] else [])]
        cols += ["platforms", "resolves_to", "attested", "error"]
        cols += ["date_note"] if has["date_note"] else []
    if args.labels:
        cols += ["image_version", "revision"]
    shown = df.loc[:, cols].copy()
    for col in ("created", "pushed"):
        if col in shown:
            shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M")
    print_table(shown)
    print(counted(len(df), "tag"), file=sys.stderr)
    return 0
