"""``regframe plot IMAGE --kind K --out FILE.png``: draw a release-cadence chart."""

from __future__ import annotations

import argparse
import sys

from regframe.cadence import PLOT_KINDS
from regframe.cli.options import add_image_options, read_frame

NAME = "plot"
HELP = "draw a release-cadence chart to a PNG"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_image_options(p)
    p.add_argument("--kind", choices=PLOT_KINDS, default="timeline")
    p.add_argument("--out", metavar="FILE.png", required=True)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from regframe import plot

    df = read_frame(args, dates=True)
    ax = getattr(plot, args.kind)(df)
    ax.figure.savefig(args.out, dpi=120, bbox_inches="tight")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
