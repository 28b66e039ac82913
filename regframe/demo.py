"""``regframe demo``: a local registry seeded with realistic histories, explored end to end.

The registry, the pusher and the histories come from :mod:`regframe.testing`
(the ``sandbox`` extra); this module only runs them and writes the results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["run_demo"]


def run_demo(
    out: str | Path = "regframe-demo",
    *,
    quick: bool = False,
    serve: bool = False,
    echo: Callable[[str], Any] | None = None,
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regframe import plot
    from regframe.cadence import releases, summary
    from regframe.frame.read import read_tags
    from regframe.frame.write import to_csv
    from regframe.testing.histories import (
        ELASTIC_REPO,
        PYTHON_REPO,
        elastic_history,
        python_history,
        seed,
    )
    from regframe.testing.sandbox import Sandbox

    say = echo or (lambda s: print(s, file=sys.stdout, flush=True))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with Sandbox(auth="token") as sb:
        say(f"started a CNCF registry at {sb.url} (token realm {sb.token_server.realm})")
        es_pushes, py_pushes = elastic_history(), python_history()
        if quick:
            es_pushes = [p for p in es_pushes if p.tags[0][:1] in "78"]
            py_pushes = [
                p for p in py_pushes if any(t.startswith(("3.12", "3.13")) for t in p.tags)
            ]
        n_es = seed(sb.pusher, ELASTIC_REPO, es_pushes)
        n_py = seed(sb.pusher, PYTHON_REPO, py_pushes)
        say(f"seeded {ELASTIC_REPO} ({n_es} tags) and {PYTHON_REPO} ({n_py} tags)")
        frames = {}
        for repo in (ELASTIC_REPO, PYTHON_REPO):
            # Synthetic data on a throwaway registry: nothing for the user's tag history.
            df = read_tags(sb.ref(repo), dates=True, cache=False, history=False)
            frames[repo] = df
            say(
                f"read_tags({sb.ref(repo)!r}, dates=True): {len(df)} tags, "
                f"{df['digest'].nunique()} digests, {int(df['error'].notna().sum())} errors"
            )
        es = frames[ELASTIC_REPO]
        rel = releases(es)
        to_csv(es, folder / "tags.csv")
        to_csv(rel, folder / "releases.csv")
        to_csv(frames[PYTHON_REPO], folder / "python-tags.csv")
        for kind in plot.KINDS:
            ax = getattr(plot, kind)(es)
            ax.figure.savefig(folder / f"{kind}.png", dpi=110, bbox_inches="tight")
            plt.close(ax.figure)
        say("")
        say(f"{ELASTIC_REPO}: {len(rel)} releases")
        table = summary(rel)
        table["first"] = table["first"].dt.strftime("%Y-%m-%d")
        table["last"] = table["last"].dt.strftime("%Y-%m-%d")
        table = table.round({"per_year": 1, "median_patch_days": 1})
        say(table.to_string())
        py_rel = releases(frames[PYTHON_REPO])
        say("")
        say(f"{PYTHON_REPO}: {len(py_rel)} releases; floating tags resolve to:")
        py = frames[PYTHON_REPO]
        floating = py[py["tag"].isin(["latest", "3", "3.12", "3.12-slim", "slim"])]
        say(floating[["tag", "resolves_to", "created"]].to_string(index=False))
        say("")
        say(
            f"wrote {folder}/tags.csv, releases.csv, python-tags.csv and "
            "timeline/cadence/intervals/lines.png"
        )
        if serve:
            say("the registry keeps running; in another shell:")
            say(
                f"  export REGFRAME_IMAGE={sb.ref(ELASTIC_REPO)} "
                f"REGFRAME_OTHER_IMAGE={sb.ref(PYTHON_REPO)}"
            )
            say("  jupyter lab notebooks/   # quickstart.ipynb, release_cadence.ipynb")
            say("press Ctrl-C to stop it")
            _wait_forever()
    if not serve:
        say(
            "next: `regframe demo --serve` keeps the registry up for the notebooks in "
            "notebooks/ (quickstart.ipynb, release_cadence.ipynb)"
        )
    return folder


def _wait_forever() -> None:
    import time

    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
