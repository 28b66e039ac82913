"""The ``regframe`` command: ``tags``, ``plot`` and ``demo``.

Every failure the library can name ends as one line on stderr and a non-zero
exit status — never a traceback (set ``REGFRAME_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import pandas as pd

from regframe._version import __version__
from regframe.errors import RegframeError

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
PLOT_KINDS = ("timeline", "cadence", "intervals", "lines")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="regframe",
        description="Container image tags as tables: versions, build dates, release cadence.",
    )
    p.add_argument("--version", action="version", version=f"regframe {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("image", help="image reference, e.g. python or ghcr.io/org/app")
        sp.add_argument("--match", metavar="REGEX", help="keep tags matching this regex")
        sp.add_argument("--insecure", action="store_true", help="allow plain http")
        sp.add_argument("--platform", default="linux/amd64", help="platform for dates")
        sp.add_argument("--username", help="registry user (password from --password-stdin)")
        sp.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        sp.add_argument("--timeout", type=float, default=30.0, help="seconds per request")

    t = sub.add_parser("tags", help="list tags with parsed versions")
    common(t)
    t.add_argument("--dates", action="store_true", help="also read digests and build dates")
    t.add_argument("--csv", metavar="FILE", help="write the table as CSV instead of printing")

    pl = sub.add_parser("plot", help="draw a release-cadence chart to a PNG")
    common(pl)
    pl.add_argument("--kind", choices=PLOT_KINDS, default="timeline")
    pl.add_argument("--out", metavar="FILE.png", required=True)

    d = sub.add_parser("demo", help="run a local registry, seed it, list it, write CSV/PNGs")
    d.add_argument("--out", default="regframe-demo", help="output folder (default ./regframe-demo)")
    d.add_argument("--quick", action="store_true", help="seed smaller histories")
    d.add_argument(
        "--serve", action="store_true", help="keep the registry running for the notebooks"
    )
    return p


def _auth(args: argparse.Namespace) -> tuple[str, str] | None:
    if not args.username:
        if args.password_stdin:
            raise SystemExit("regframe: error: --password-stdin needs --username")
        return None
    if not args.password_stdin:
        raise SystemExit("regframe: error: --username needs --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    return (args.username, password)


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _UsageError(f"--match: bad regular expression: {exc}") from None


def _filter(df: pd.DataFrame, regex: re.Pattern[str] | None) -> pd.DataFrame:
    if regex is None:
        return df
    keep = df["tag"].astype("string").map(lambda t: bool(regex.search(t)), na_action="ignore")
    out = df[keep.fillna(False).astype(bool)]
    out.attrs = dict(df.attrs)
    return out


class _UsageError(Exception):
    pass


def _read(args: argparse.Namespace, *, dates: bool) -> pd.DataFrame:
    from regframe.frame.read import read_tags

    regex = _compile(args.match)  # bad input fails before any network traffic
    df = read_tags(
        args.image,
        dates=dates,
        platform=args.platform,
        auth=_auth(args),
        insecure=args.insecure,
        timeout=args.timeout,
    )
    return _filter(df, regex)


def _cmd_tags(args: argparse.Namespace) -> int:
    from regframe.frame.read import to_csv

    df = _read(args, dates=args.dates)
    if args.csv:
        to_csv(df, args.csv)
        print(f"wrote {len(df)} tags to {args.csv}", file=sys.stderr)
        return 0
    if df.empty:
        print(f"{df.attrs.get('reference', args.image)}: no tags", file=sys.stderr)
        return 0
    cols = ["tag", "release", "prerelease", "variant", "scheme"]
    if args.dates:
        cols += ["created", "platforms", "resolves_to", "error"]
    shown = df.loc[:, cols].copy()
    if "created" in shown:
        shown["created"] = shown["created"].dt.strftime("%Y-%m-%d %H:%M")
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(shown.fillna("").to_string(index=False))
    print(f"{len(df)} tags", file=sys.stderr)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from regframe import plot

    df = _read(args, dates=True)
    ax = getattr(plot, args.kind)(df)
    fig = ax.figure
    fig.savefig(args.out, dpi=120, bbox_inches="tight")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from regframe.demo import run_demo

    run_demo(args.out, quick=args.quick, serve=args.serve)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``regframe`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    handlers = {"tags": _cmd_tags, "plot": _cmd_plot, "demo": _cmd_demo}
    try:
        return handlers[args.command](args)
    except _UsageError as exc:
        print(f"regframe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RegframeError as exc:
        if os.environ.get("REGFRAME_DEBUG"):
            raise
        print(f"regframe: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("regframe: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if os.environ.get("REGFRAME_DEBUG"):
            raise
        print(
            f"regframe: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
