"""Options every image command shares (reference, auth, transport, cache) and reading the frame.

Bad input is checked here before any network traffic and raised as
:class:`UsageError`, which the command line turns into exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import Any

import pandas as pd

from regframe.errors import UsageError

__all__ = ["UsageError", "add_image_options", "credentials", "read_frame", "read_options"]

log = logging.getLogger(__name__)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def add_image_options(p: argparse.ArgumentParser) -> None:
    """Add the image reference and the options that shape how it is read."""
    p.add_argument("image", help="image reference, e.g. python or ghcr.io/org/app")
    p.add_argument("--match", metavar="REGEX", help="keep tags matching this regex")
    p.add_argument(
        "--versions",
        metavar="RANGE",
        help="keep tags whose version is in a PEP 440 or npm range, e.g. '>=8.15,<9' or '^8.15'",
    )
    p.add_argument("--insecure", action="store_true", help="allow plain http")
    p.add_argument("--platform", default="linux/amd64", help="platform for dates")
    p.add_argument("--username", help="registry user (password from --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument(
        "--timeout", type=_positive_float, default=30.0, metavar="S", help="seconds per request"
    )
    p.add_argument(
        "--max-workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="concurrent requests per host (default 100 with the fast transport, else 16)",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="do not read or write the on-disk digest cache"
    )


def credentials(args: argparse.Namespace) -> tuple[str, str] | None:
    """``(user, password)`` from ``--username`` and one line of stdin, or ``None``."""
    if not args.username:
        if args.password_stdin:
            raise UsageError("--password-stdin needs --username")
        return None
    if not args.password_stdin:
        raise UsageError("--username needs --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    return (args.username, password)


def compile_match(pattern: str | None) -> re.Pattern[str] | None:
    """The ``--match`` regular expression, compiled (bad ones are a :class:`UsageError`)."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--match: bad regular expression: {exc}") from None


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``read_tags`` arguments the shared options give (platform checked, password read)."""
    from regframe.client.platforms import parse_platform

    parse_platform(args.platform)
    return {
        "platform": args.platform,
        "auth": credentials(args),
        "insecure": args.insecure,
        "timeout": args.timeout,
        "max_workers": args.max_workers,
        "cache": not args.no_cache,
    }


def read_frame(args: argparse.Namespace, *, dates: bool, labels: bool = False) -> pd.DataFrame:
    """Read ``args.image`` as the options say; ``--match``, ``--versions`` act before manifests."""
    from regframe.frame.read import read_tags
    from regframe.parsing.reference import parse_reference

    # Bad input fails before any network traffic, whatever the command needs.
    parse_reference(args.image)
    regex = compile_match(args.match)
    versions = getattr(args, "versions", None)
    options = read_options(args)
    log.debug("reading %s (dates=%s, max_workers=%s)", args.image, dates, args.max_workers)
    return read_tags(
        args.image, dates=dates, labels=labels, match=regex, versions=versions, **options
    )
