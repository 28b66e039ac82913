"""The benchmark's repository: U multi-arch images carrying T tags, pushed in parallel.

Every image is an OCI index over ``linux/amd64`` and ``linux/arm64/v8`` children
plus one BuildKit attestation per child, with its own ``created`` date, so a
reader needs index → child → config (r = 3 requests) per unique digest.  Tags
are a version per image, the floating aliases a real repository has (``X.Y``,
``X``, ``latest`` on the newest image of each line), and then as many extra
aliases of the same image (``-bookworm``, ``v`` prefix, git build id...) as it
takes to reach T.  Each tag is written by exactly one push, so the pushes can
run fully in parallel without a later push re-tagging an earlier one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from dataclasses import dataclass

from regframe.testing.sandbox import Sandbox

__all__ = ["PLATFORMS", "ImageSpec", "plan_images", "seed"]

PLATFORMS = ("linux/amd64", "linux/arm64/v8")
_EPOCH = dt.datetime(2019, 1, 7, 9, 0, tzinfo=dt.timezone.utc)
# Aliases of the same build that real repositories carry (python's `-bookworm`,
# a `v` prefix, elastic-style git build ids, OS-named variants...).
_ALIAS_FORMS = (
    "{v}-bookworm",
    "v{v}",
    "{v}-{sha}",
    "{v}-linux",
    "{v}-debian-12",
    "{v}-r0",
    "{v}-full",
    "{v}-jammy",
)


@dataclass(frozen=True)
class ImageSpec:
    """One image to push: its version, every tag pointing at it, and its build time."""

    version: str
    tags: tuple[str, ...]
    created: dt.datetime


def _version(i: int) -> tuple[int, int, int]:
    # 10 patches per minor, 10 minors per major: 600 images span majors 1-6.
    return 1 + i // 100, (i // 10) % 10, i % 10


def plan_images(n_tags: int, n_images: int) -> list[ImageSpec]:
    """Lay out ``n_tags`` distinct tags over ``n_images`` images, oldest image first.

    Parameters
    ----------
    n_tags
        Total tags (at least ``n_images``: every image has its version tag).
    n_images
        Unique images (index digests).

    Returns
    -------
    list of ImageSpec
        Distinct ``created`` dates, every image at least one tag, ``n_tags`` tags in all.

    Examples
    --------
    >>> plan = plan_images(30, 10)
    >>> sum(len(p.tags) for p in plan), plan[0].tags[0]
    (30, '1.0.0')
    """
    if n_images < 1 or n_tags < n_images:
        raise ValueError(f"need 1 <= images <= tags, got {n_images} images and {n_tags} tags")
    versions = [_version(i) for i in range(n_images)]
    names = [".".join(map(str, v)) for v in versions]
    tags: list[list[str]] = [[n] for n in names]
    budget = n_tags - n_images

    # Floating aliases go on the newest image of each line; oldest lines first.
    floating: list[tuple[int, str]] = []
    newest_minor: dict[tuple[int, int], int] = {}
    newest_major: dict[int, int] = {}
    for i, (major, minor, _patch) in enumerate(versions):
        newest_minor[(major, minor)] = i
        newest_major[major] = i
    floating += [(i, f"{ma}.{mi}") for (ma, mi), i in newest_minor.items()]
    floating += [(i, str(ma)) for ma, i in newest_major.items()]
    floating.append((n_images - 1, "latest"))
    for i, tag in floating[:budget]:
        tags[i].append(tag)
    budget -= min(budget, len(floating))

    for k in range(budget):
        i, form = k % n_images, k // n_images
        sha = hashlib.sha256(names[i].encode()).hexdigest()[:7]
        if form < len(_ALIAS_FORMS):
            tags[i].append(_ALIAS_FORMS[form].format(v=names[i], sha=sha))
        else:
            tags[i].append(f"{names[i]}-build.{form}")

    return [
        ImageSpec(
            version=names[i],
            tags=tuple(tags[i]),
            # ~2 days apart with a varying hour, so every date is distinct.
            created=_EPOCH + dt.timedelta(days=2 * i, hours=(i * 7) % 24, minutes=i % 60),
        )
        for i in range(n_images)
    ]


def seed(sandbox: Sandbox, repo: str, plan: list[ImageSpec], *, workers: int = 8) -> float:
    """Push ``plan`` straight to the sandbox registry (not through the proxy); returns seconds.

    Examples
    --------
    >>> with Sandbox(auth="token") as sb:  # doctest: +SKIP
    ...     seconds = seed(sb, "bench/app", plan_images(30, 10))
    """
    pusher = sandbox.pusher

    def push(spec: ImageSpec) -> str:
        return pusher.push_multiarch(
            repo,
            list(spec.tags),
            created=spec.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            platforms=PLATFORMS,
            attestations=True,
            labels={"org.opencontainers.image.version": spec.version},
        )

    t0 = time.perf_counter()
    pusher.run_parallel([functools.partial(push, spec) for spec in plan], workers=workers)
    return time.perf_counter() - t0
