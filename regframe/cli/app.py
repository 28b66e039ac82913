"""``regframe app``: serve the explorer as a web page on 127.0.0.1 (Voila) until stopped."""

from __future__ import annotations

import argparse

NAME = "app"
HELP = "serve the explorer as a web page on 127.0.0.1 (needs the app extra)"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", nargs="?", default="", help="image to load first (optional)")
    p.add_argument("--port", type=_port, metavar="N", help="port (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL")


def run(args: argparse.Namespace) -> int:
    from regframe.app import serve
    from regframe.parsing.reference import parse_reference

    image = args.image.strip()
    if image:
        parse_reference(image)  # a malformed reference is exit 2 before anything starts
    return serve(image, port=args.port, open_browser=not args.no_browser)
