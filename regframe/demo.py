"""``regframe demo``: a local registry seeded with realistic histories, explored end to end.

Two synthetic repositories are pushed into a sandbox registry with token auth
(realm on 127.0.0.2, the docker.elastic.co shape):

* ``elastic/elasticsearch`` — majors 5–8 released 2016–2024, alpha/beta/rc
  builds before each major, ``-SNAPSHOT``-style hex build-id tags, single-arch
  before 7.x and multi-arch after;
* ``library/python`` — lines 3.8–3.13 with ``slim``/``alpine``/``bookworm``
  variants, floating tags (``3``, ``3.12``, ``latest``, ``3.12-slim``),
  multi-arch indexes with BuildKit attestations, and periodic rebuilds (the
  still-supported patch of each line is rebuilt, so its ``created`` is the
  rebuild, as on Docker Hub's official images).

The histories are generated from a fixed seed, so every run is identical.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sandbox_push import Pusher

__all__ = [
    "ELASTIC_REPO",
    "PYTHON_REPO",
    "Push",
    "elastic_history",
    "python_history",
    "run_demo",
    "seed",
]

ELASTIC_REPO = "elastic/elasticsearch"
PYTHON_REPO = "library/python"
_UTC = dt.timezone.utc


@dataclass
class Push:
    """One image push: the tags it gets, its build time and platforms."""

    tags: list[str]
    created: dt.datetime
    platforms: tuple[str, ...] = ("linux/amd64",)
    labels: dict[str, str] = field(default_factory=dict)


def _days(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(
        days=rng.randint(low, high), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
    )


def elastic_history(seed: int = 5) -> list[Push]:
    """An elasticsearch-like release history (about 330 pushes, 2016–2024).

    Examples
    --------
    >>> pushes = elastic_history()
    >>> any("8.15.0" in p.tags for p in pushes), len(pushes) > 250
    (True, True)
    """
    rng = random.Random(seed)
    minors = {5: 7, 6: 9, 7: 18, 8: 16}
    start = dt.datetime(2016, 3, 1, 10, 0, tzinfo=_UTC)
    pushes: list[Push] = []
    t = start
    hex_chars = "0123456789abcdef"
    for major, n_minor in minors.items():
        multi = ("linux/amd64", "linux/arm64/v8") if major >= 7 else ("linux/amd64",)
        # The pre-release train before each major: alpha, beta, rc.
        for word, count in (("alpha", 3), ("beta", 2), ("rc", 2)):
            for i in range(1, count + 1):
                t += _days(rng, 9, 24)
                pushes.append(Push([f"{major}.0.0-{word}{i}"], t, multi))
        for minor in range(n_minor):
            t += _days(rng, 35, 70) if minor else _days(rng, 10, 20)
            n_patch = rng.randint(2, 7) if major < 8 else rng.randint(1, 4)
            pt = t
            for patch in range(n_patch):
                if patch:
                    pt += _days(rng, 8, 30)
                version = f"{major}.{minor}.{patch}"
                pushes.append(Push([version], pt, multi))
                if major >= 7 and rng.random() < 0.35:
                    build = "".join(rng.choice(hex_chars) for _ in range(8))
                    if not any(c.isdigit() for c in build):
                        build = "1" + build[1:]
                    if not any(c in "abcdef" for c in build):
                        build = build[:-1] + "e"
                    pushes.append(Push([f"{version}-{build}"], pt - dt.timedelta(days=2), multi))
        # Older majors keep getting patches while the next one is out.
        if major in (6, 7):
            last_minor = n_minor - 1
            for extra in range(1, 4):
                version = f"{major}.{last_minor}.{10 + extra}"
                pushes.append(Push([version], t + _days(rng, 60 * extra, 60 * extra + 20), multi))
    return pushes


def python_history(seed: int = 3) -> list[Push]:
    """A python-like history with variants, floating tags, multi-arch images and rebuilds.

    Examples
    --------
    >>> pushes = python_history()
    >>> any("3.12-slim" in p.tags for p in pushes), any("latest" in p.tags for p in pushes)
    (True, True)
    """
    rng = random.Random(seed)
    lines = {
        8: (dt.datetime(2019, 10, 14, tzinfo=_UTC), 20),
        9: (dt.datetime(2020, 10, 5, tzinfo=_UTC), 19),
        10: (dt.datetime(2021, 10, 4, tzinfo=_UTC), 14),
        11: (dt.datetime(2022, 10, 24, tzinfo=_UTC), 9),
        12: (dt.datetime(2023, 10, 2, tzinfo=_UTC), 6),
        13: (dt.datetime(2024, 10, 7, tzinfo=_UTC), 1),
    }
    now = dt.datetime(2024, 11, 20, 6, 0, tzinfo=_UTC)
    variants = ["", "slim", "bookworm", "slim-bookworm", "alpine3.20"]
    platforms = ("linux/amd64", "linux/arm64/v8", "linux/arm/v7")
    pushes: list[Push] = []
    newest_minor = max(lines)
    for minor, (first, n_patch) in lines.items():
        # Release candidates before each line's .0.
        for rc in (1, 2):
            when = first - dt.timedelta(days=30 * (3 - rc))
            pushes.append(
                Push([f"3.{minor}.0rc{rc}", f"3.{minor}.0rc{rc}-slim"], when, platforms[:2])
            )
        t = first
        for patch in range(n_patch):
            if patch:
                t += _days(rng, 45, 75)
            if t > now:
                break
            last = patch == n_patch - 1 or t + dt.timedelta(days=45) > now
            version = f"3.{minor}.{patch}"
            # The supported tip of each line is rebuilt for base-image updates:
            # its created time is the rebuild, not the release.
            built = now - _days(rng, 1, 20) if last and minor >= 9 else t
            for variant in variants:
                suffix = f"-{variant}" if variant else ""
                tags = [f"{version}{suffix}"]
                if last:
                    tags.append(f"3.{minor}{suffix}")
                    if minor == newest_minor:
                        tags.append(f"3{suffix}")
                        if not variant:
                            tags.append("latest")
                        else:
                            tags.append(variant)
                # arm/v7 only for the default variant keeps the demo's push count modest.
                plats = platforms if not variant else platforms[:2]
                pushes.append(Push(tags, built + dt.timedelta(minutes=len(variant)), plats))
    return pushes


def seed(pusher: Pusher, repo: str, pushes: list[Push], *, workers: int = 8) -> int:
    """Push a history into a sandbox registry; returns the number of tags written."""
    from concurrent.futures import ThreadPoolExecutor

    def one(p: Push) -> None:
        created = p.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        labels = {"org.opencontainers.image.version": p.tags[0], **p.labels}
        if len(p.platforms) > 1:
            pusher.push_multiarch(
                repo, p.tags, created=created, platforms=p.platforms, labels=labels
            )
        else:
            pusher.push_image(repo, p.tags, created=created, labels=labels)

    # Later pushes of a floating tag must win: pushes run in parallel only
    # within a batch in which no tag repeats, and batches run in history order.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in _batches(pushes):
            list(pool.map(one, batch))
    return len({t for p in pushes for t in p.tags})


def _batches(pushes: list[Push]) -> Iterator[list[Push]]:
    """Consecutive groups in which no tag repeats, so parallel pushes cannot reorder a re-tag."""
    batch: list[Push] = []
    seen: set[str] = set()
    for p in sorted(pushes, key=lambda p: p.created):
        if seen.intersection(p.tags):
            yield batch
            batch, seen = [], set()
        batch.append(p)
        seen.update(p.tags)
    if batch:
        yield batch


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

    from . import plot
    from .cadence import releases, summary
    from .frame import read_tags, to_csv
    from .sandbox import Sandbox

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
            df = read_tags(sb.ref(repo), dates=True, cache=False)
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
        for kind in ("timeline", "cadence", "intervals", "lines"):
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
