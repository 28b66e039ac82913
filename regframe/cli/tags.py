"""``regframe tags IMAGE``: tags with parsed versions (and build dates), printed or exported."""

from __future__ import annotations

import argparse
import sys

from regframe.cli.options import add_image_options, read_frame
from regframe.cli.output import add_output_options, write_requested

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
    add_output_options(p)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    dates = args.dates or args.labels
    df = read_frame(args, dates=dates, labels=args.labels)
    if write_requested(df, args, noun="tags"):
        return 0
    if df.empty:
        print(f"{df.attrs.get('reference', args.image)}: no tags", file=sys.stderr)
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
    for col in shown.columns:
        # A categorical or boolean column cannot take "" as a fill value (pandas refuses
        # new categories and non-booleans), so blanks for missing values need plain
        # objects — ``attested`` is NA for every tag a registry's tag API described.
        if isinstance(shown[col].dtype, pd.CategoricalDtype | pd.BooleanDtype):
            shown[col] = shown[col].astype(object)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(shown.fillna("").to_string(index=False))
    print(f"{len(df)} tags", file=sys.stderr)
    return 0
