"""The ``regframe`` command: parser assembly, exit statuses and the error → message mapping.

Each command is one module of this package exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; adding a command means adding
such a module and its name to :data:`COMMANDS`.  Command modules import their
heavy dependencies inside ``run`` so ``regframe --help`` stays fast.

Exit statuses: 0 success, 1 registry or network failure, 2 bad input (usage,
malformed reference, regular expression or platform), 130 interrupted.  Every
failure regframe can name ends as one line on stderr, never a traceback (set
``REGFRAME_DEBUG=1`` to see one).  SIGTERM and SIGHUP stop a command as Ctrl-C
does, so whatever it started (a registry, a server) is stopped with it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType

from regframe._version import __version__
from regframe.cli.options import UsageError
from regframe.cli.signals import stop_like_ctrl_c
from regframe.errors import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidReferenceError,
    RegframeError,
)

__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Command modules under ``regframe.cli``, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "tags",
    "plot",
    "snapshot",
    "history",
    "demo",
    "cache",
    "app",
)


def _command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"regframe.cli.{name}") for name in COMMANDS]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The top-level parser and the command modules by name.

    Examples
    --------
    >>> parser, commands = build_parser()
    >>> "tags" in commands
    True
    """
    parser = argparse.ArgumentParser(
        prog="regframe",
        description="Container image tags as tables: versions, build dates, release cadence.",
    )
    parser.add_argument("--version", action="version", version=f"regframe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: dict[str, ModuleType] = {}
    for module in _command_modules():
        sp = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        sp.add_argument(
            "-v", "--verbose", action="store_true", help="debug logs on stderr (never secrets)"
        )
        module.add_arguments(sp)
        commands[module.NAME] = module
    return parser, commands


@contextlib.contextmanager
def _debug_logs(verbose: bool) -> Iterator[None]:
    """With ``-v``, regframe's own loggers print DEBUG lines on stderr for the command's run.

    Only the ``regframe`` loggers: urllib3's would print token-request URLs, whose
    query names the account.
    """
    if not verbose:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("regframe")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _fail(message: str, code: int) -> int:
    print(f"regframe: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``regframe`` console script; returns the exit status.

    Examples
    --------
    >>> main(["cache", "info", "--no-cache"])  # doctest: +SKIP
    0
    """
    parser, commands = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help/--version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(os.environ.get("REGFRAME_DEBUG"))
    try:
        with _debug_logs(args.verbose), stop_like_ctrl_c():
            code: int = commands[args.command].run(args)
        return code
    except KeyboardInterrupt:
        print("regframe: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (
        UsageError,
        InvalidReferenceError,
        InvalidArgumentError,
        InvalidArgumentTypeError,
    ) as exc:
        if debug:
            raise
        return _fail(str(exc), EXIT_USAGE)
    except RegframeError as exc:
        if debug:
            raise
        return _fail(str(exc), EXIT_ERROR)
    except OSError as exc:
        if debug:
            raise
        text = exc.strerror or str(exc)
        if exc.filename:
            text = f"{text}: {exc.filename}"
        return _fail(text, EXIT_ERROR)
