"""Demo histories: realistic, seeded release histories pushed into a sandbox registry.

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
import logging
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from regframe.testing.pusher import Pusher

__all__ = [
    "ELASTIC_REPO",
    "PYTHON_REPO",
    "PlannedPush",
    "elastic_history",
    "python_history",
    "seed",
]

logger = logging.getLogger(__name__)

ELASTIC_REPO = "elastic/elasticsearch"
PYTHON_REPO = "library/python"
_UTC = dt.timezone.utc


@dataclass
class PlannedPush:
    """One step of a demo history: the tags an image gets, its build time and platforms.

    A plan, not an upload: :func:`seed` turns each into a :class:`~regframe.testing.pusher.Pusher`
    call.
    """

    tags: list[str]
    created: dt.datetime
    platforms: tuple[str, ...] = ("linux/amd64",)
    labels: dict[str, str] = field(default_factory=dict)


def _days(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(
        days=rng.randint(low, high), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
    )


def elastic_history(seed: int = 5) -> list[PlannedPush]:
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
    pushes: list[PlannedPush] = []
    t = start
    hex_chars = "0123456789abcdef"
    for major, n_minor in minors.items():
        multi = ("linux/amd64", "linux/arm64/v8") if major >= 7 else ("linux/amd64",)
        # The pre-release train before each major: alpha, beta, rc.
        for word, count in (("alpha", 3), ("beta", 2), ("rc", 2)):
            for i in range(1, count + 1):
                t += _days(rng, 9, 24)
                pushes.append(PlannedPush([f"{major}.0.0-{word}{i}"], t, multi))
        for minor in range(n_minor):
            t += _days(rng, 35, 70) if minor else _days(rng, 10, 20)
            n_patch = rng.randint(2, 7) if major < 8 else rng.randint(1, 4)
            pt = t
            for patch in range(n_patch):
                if patch:
                    pt += _days(rng, 8, 30)
                version = f"{major}.{minor}.{patch}"
                pushes.append(PlannedPush([version], pt, multi))
                if major >= 7 and rng.random() < 0.35:
                    build = "".join(rng.choice(hex_chars) for _ in range(8))
                    if not any(c.isdigit() for c in build):
                        build = "1" + build[1:]
                    if not any(c in "abcdef" for c in build):
                        build = build[:-1] + "e"
                    built = pt - dt.timedelta(days=2)
                    pushes.append(PlannedPush([f"{version}-{build}"], built, multi))
        # Older majors keep getting patches while the next one is out.
        if major in (6, 7):
            last_minor = n_minor - 1
            for extra in range(1, 4):
                version = f"{major}.{last_minor}.{10 + extra}"
                when = t + _days(rng, 60 * extra, 60 * extra + 20)
                pushes.append(PlannedPush([version], when, multi))
    return pushes


def python_history(seed: int = 3) -> list[PlannedPush]:
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
    pushes: list[PlannedPush] = []
    newest_minor = max(lines)
    for minor, (first, n_patch) in lines.items():
        # Release candidates before each line's .0.
        for rc in (1, 2):
            when = first - dt.timedelta(days=30 * (3 - rc))
            pushes.append(
                PlannedPush([f"3.{minor}.0rc{rc}", f"3.{minor}.0rc{rc}-slim"], when, platforms[:2])
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
                pushes.append(PlannedPush(tags, built + dt.timedelta(minutes=len(variant)), plats))
    return pushes


def seed(pusher: Pusher, repo: str, pushes: list[PlannedPush], *, workers: int = 8) -> int:
    """Push a history into a sandbox registry; returns the number of tags written.

    Later pushes of a tag win, as in the history: pushes run in parallel only within batches
    in which no tag repeats.

    Examples
    --------
    >>> with Sandbox(auth="token") as sb:  # doctest: +SKIP
    ...     seed(sb.pusher, PYTHON_REPO, python_history())
    """
    def one(p: PlannedPush) -> None:
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


def _batches(pushes: list[PlannedPush]) -> Iterator[list[PlannedPush]]:
    """Consecutive groups in which no tag repeats, so parallel pushes cannot reorder a re-tag."""
    batch: list[PlannedPush] = []
    seen: set[str] = set()
    for p in sorted(pushes, key=lambda p: p.created):
        if seen.intersection(p.tags):
            yield batch
            batch, seen = [], set()
        batch.append(p)
        seen.update(p.tags)
    if batch:
        yield batch
