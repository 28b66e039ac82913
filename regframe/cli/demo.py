"""``regframe demo``: a local registry seeded with realistic histories, listed, charted, served."""

from __future__ import annotations

import argparse
import sys

NAME = "demo"
HELP = "run a local registry, seed it, list it, write CSV/PNGs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="regframe-demo", help="output folder (default ./regframe-demo)")
    p.add_argument("--quick", action="store_true", help="seed smaller histories")
    p.add_argument(
        "--serve", action="store_true", help="keep the registry running for the notebooks"
    )


def run(args: argparse.Namespace) -> int:
    from regframe.cli import EXIT_USAGE

    try:
        import regframe.testing  # noqa: F401  (the demo's registry lives there)
    except ImportError as exc:
        # The one-line hint names the pip install; a traceback would bury it.
        print(f"regframe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from regframe.demo import run_demo

    run_demo(args.out, quick=args.quick, serve=args.serve)
    return 0
