"""``regframe demo``: a local registry seeded with realistic histories, explored end to end.

The registry, the pusher and the histories come from :mod:`regframe.testing`
(the ``sandbox`` extra); this module only runs them and writes the results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from regframe.testing.sandbox import Sandbox

__all__ = ["run_demo"]

#: Where a line of the report goes.
Say = Callable[[str], Any]


def run_demo(
    out: str | Path = "regframe-demo",
    *,
    quick: bool = False,
    serve: bool = False,
    echo: Say | None = None,
) -> Path:
    """Start a sandbox, seed both histories, read them back and write the results to ``out``.

    Writes ``tags.csv``, ``releases.csv`` and one PNG per chart kind, and prints
    a cadence summary.  Returns the output folder.

    Parameters
    ----------
    out
        Output folder (created if needed).
    quick
        Seed only the two newest majors / python lines (for tests).
    serve
        Keep the registry running afterwards until interrupted, and print the
        ``REGFRAME_IMAGE`` settings that point the notebooks at it.
    echo
        Where the report goes (default: print).

    Examples
    --------
    >>> run_demo("/tmp/regframe-demo")  # doctest: +SKIP
    """
    from regframe.cadence import releases
    from regframe.testing.sandbox import Sandbox

    say = echo or (lambda s: print(s, file=sys.stdout, flush=True))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with Sandbox(auth="token") as sb:
        say(f"started a CNCF registry at {sb.url} (token realm {sb.token_server.realm})")
        _seed(sb, quick=quick, say=say)
        es, py = _read(sb, say)
        es_releases = releases(es)
        _write(es, es_releases, py, folder)
        _report(es_releases, py, say)
        say(
            f"wrote {folder}/tags.csv, releases.csv, python-tags.csv and "
            "timeline/cadence/intervals/lines.png"
        )
        if serve:
            _serve(sb, say)
    if not serve:
        say(
            "next: `regframe demo --serve` keeps the registry up for the notebooks in "
            "notebooks/ (quickstart.ipynb, release_cadence.ipynb)"
        )
    return folder


def _seed(sb: Sandbox, *, quick: bool, say: Say) -> None:
    """Push both histories (``quick``: only the two newest majors, three python lines).

    Three python lines, not two: a rebuild wave is recognised where the newest
    releases of at least three lines were rebuilt together.
    """
    from regframe.testing.histories import (
        ELASTIC_REPO,
        PYTHON_REPO,
        elastic_history,
        python_history,
        seed,
    )

    es_pushes, py_pushes = elastic_history(), python_history()
    if quick:
        es_pushes = [p for p in es_pushes if p.tags[0][:1] in "78"]
        lines = ("3.11", "3.12", "3.13")
        py_pushes = [p for p in py_pushes if any(t.startswith(lines) for t in p.tags)]
    n_es = seed(sb.pusher, ELASTIC_REPO, es_pushes)
    n_py = seed(sb.pusher, PYTHON_REPO, py_pushes)
    say(f"seeded {ELASTIC_REPO} ({n_es} tags) and {PYTHON_REPO} ({n_py} tags)")


def _read(sb: Sandbox, say: Say) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both repositories read back with ``dates=True``: Elasticsearch's and python's."""
    from regframe.frame.read import read_tags
    from regframe.testing.histories import ELASTIC_REPO, PYTHON_REPO

    frames = {}
    for repo in (ELASTIC_REPO, PYTHON_REPO):
        # Synthetic data on a throwaway registry: nothing for the user's tag history.
        df = read_tags(sb.ref(repo), dates=True, cache=False, history=False)
        frames[repo] = df
        say(
            f"read_tags({sb.ref(repo)!r}, dates=True): {len(df)} tags, "
            f"{df['digest'].nunique()} digests, {int(df['error'].notna().sum())} errors"
        )
    return frames[ELASTIC_REPO], frames[PYTHON_REPO]


def _write(es: pd.DataFrame, es_releases: pd.DataFrame, py: pd.DataFrame, folder: Path) -> None:
    """The CSV files, and one PNG per chart kind of the Elasticsearch history."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regframe import plot
    from regframe.frame.write import to_csv

    to_csv(es, folder / "tags.csv")
    to_csv(es_releases, folder / "releases.csv")
    to_csv(py, folder / "python-tags.csv")
    for kind in plot.KINDS:
        ax = getattr(plot, kind)(es)
        ax.figure.savefig(folder / f"{kind}.png", dpi=110, bbox_inches="tight")
        plt.close(ax.figure)


def _report(es_releases: pd.DataFrame, py: pd.DataFrame, say: Say) -> None:
    """The cadence summary of Elasticsearch, and where python's floating tags point."""
    from regframe.cadence import releases, summary
    from regframe.testing.histories import ELASTIC_REPO, PYTHON_REPO

    say("")
    say(f"{ELASTIC_REPO}: {len(es_releases)} releases")
    table = summary(es_releases)
    table["first"] = table["first"].dt.strftime("%Y-%m-%d")
    table["last"] = table["last"].dt.strftime("%Y-%m-%d")
    table = table.round({"per_year": 1, "median_patch_days": 1})
    say(table.to_string())
    say("")
    py_releases = releases(py)
    say(f"{PYTHON_REPO}: {len(py_releases)} releases; floating tags resolve to:")
    floating = py[py["tag"].isin(["latest", "3", "3.12", "3.12-slim", "slim"])]
    say(floating[["tag", "resolves_to", "created"]].to_string(index=False))
    # rebuilt in waves: the build time is the last rebuild, released the estimate
    late = (py_releases["created"] - py_releases["released"]).dt.days
    rebuilt = "rebuilt" if bool(py_releases["rebuilt"].all()) else "not recognised as rebuilt"
    say(f"{PYTHON_REPO} is {rebuilt}: its builds are a median {late.median():.0f} days after "
        "the release dates regframe estimates (`released`)")  # fmt: skip
    say("")


def _serve(sb: Sandbox, say: Say) -> None:
    """Say how to point the notebooks at the registry, and keep it up until interrupted."""
    from regframe.testing.histories import ELASTIC_REPO, PYTHON_REPO

    say("the registry keeps running; in another shell:")
    say(
        f"  export REGFRAME_IMAGE={sb.ref(ELASTIC_REPO)} "
        f"REGFRAME_OTHER_IMAGE={sb.ref(PYTHON_REPO)}"
    )
    say("  jupyter lab notebooks/   # quickstart.ipynb, release_cadence.ipynb")
    # The interrupt is caught from before the line that invites it: a Ctrl-C (or SIGTERM/SIGHUP,
    # turned into one) arriving just after "press Ctrl-C" is printed is a clean stop too.
    try:
        say("press Ctrl-C to stop it")
        _wait_forever()
    except KeyboardInterrupt:
        pass


def _wait_forever() -> None:
    import time

    while True:
        time.sleep(3600)
