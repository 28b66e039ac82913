"""``regframe cache info|clear``: where the digest cache lives, how big it is; empty it."""

from __future__ import annotations

import argparse

from regframe._words import counted

NAME = "cache"
HELP = "show or clear the on-disk digest cache"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", choices=("info", "clear"), help="info: path, entries, bytes; clear: empty it"
    )


def run(args: argparse.Namespace) -> int:
    from regframe.client.cache import DigestCache

    cache = DigestCache.from_option(True)
    assert cache.path is not None  # cache=True always names a directory
    if args.action == "clear":
        entries, size = cache.clear()
        print(f"removed {counted(entries, 'entry', 'entries')} ({size} bytes) from {cache.path}")
        return 0
    entries, size = cache.usage()
    print(f"path     {cache.path}")
    print(f"entries  {entries}")
    print(f"bytes    {size}")
    return 0
