"""Demo histories: realistic, seeded release histories pushed into a sandbox registry.

Two synthetic repositories are pushed into a sandbox registry with token auth
(realm on 127.0.0.2, the docker.elastic.co shape):

* ``elastic/elasticsearch`` — majors 5–8 released 2016–2024, alpha/beta/rc
  builds before each major, ``-SNAPSHOT``-style hex build-id tags, single-arch
  before 7.x and multi-arch after;
* ``library/python`` — lines 3.8–3.14 on python's real upstream release dates
  (:mod:`regframe.testing.python_releases`), with ``slim``/``alpine``/``bookworm``
  variants, floating tags (``3``, ``3.12``, ``latest``, ``3.12-slim``), multi-arch
  indexes, and rebuilt the way Docker's official images are: every few weeks a
  *rebuild wave* builds the newest release of every supported line again under the
  same tags, so a superseded release's ``created`` is its last rebuild, weeks after
  it came out (:class:`RebuildPlan`).  Elasticsearch stays built once.

The histories are generated from a fixed seed, so every run is identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from regframe.testing.pusher import Pusher
from regframe.testing.python_releases import python_release_dates

__all__ = [
    "ELASTIC_REPO",
    "PYTHON_NOW",
    "PYTHON_REPO",
    "PlannedPush",
    "RebuildPlan",
    "elastic_history",
    "final_state",
    "python_history",
    "python_plan",
    "rebuilt_history",
    "seed",
]

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


@dataclass(frozen=True)
class RebuildPlan:
    """How an official-image-like repository is built, then rebuilt in waves until superseded.

    Every release is built a few hours after its upstream date; then, at each
    *rebuild wave* (every ``wave_days`` days, as base images update), the newest
    release of every line not past its end of life is built again under the same
    tags, so a superseded release keeps its last rebuild as ``created``.
    """

    releases: dict[str, dt.datetime]
    now: dt.datetime
    variants: tuple[str, ...] = ("",)
    prerelease_variants: tuple[str, ...] = ("",)
    platforms: tuple[str, ...] = ("linux/amd64",)
    end_of_life: dict[str, dt.datetime] = field(default_factory=dict)
    wave_days: tuple[int, int] = (12, 26)
    seed: int = 3


def _line(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _is_pre(version: str) -> bool:
    return any(c.isalpha() for c in version)


def _events(plan: RebuildPlan, rng: random.Random) -> list[tuple[dt.datetime, str]]:
    """``(build time, version)`` of every first build and every wave rebuild, in time order."""
    first = {v: d + dt.timedelta(hours=rng.randint(3, 30), minutes=rng.randint(0, 59))
             for v, d in sorted(plan.releases.items(), key=lambda kv: kv[1])}  # fmt: skip
    events = [(t, v) for v, t in first.items() if t <= plan.now]
    wave = min(plan.releases.values()) + dt.timedelta(days=rng.randint(5, 20), hours=2)
    while wave <= plan.now:
        live: dict[str, str] = {}
        for version, built in first.items():  # in release order: the last one built wins
            eol = plan.end_of_life.get(_line(version))
            if built <= wave and (eol is None or wave < eol):
                live[_line(version)] = version
        for n, version in enumerate(live.values()):
            events.append((wave + dt.timedelta(minutes=7 * n), version))
        wave += dt.timedelta(days=rng.randint(*plan.wave_days), minutes=rng.randint(0, 300))
    return sorted(events)


def _floating(version: str, newest: dict[str, str]) -> list[str]:
    """The floating tags ``version`` holds (before any variant suffix): ``3.12``, ``3``."""
    line = _line(version)
    if _is_pre(version) or newest.get(line) != version:
        return []
    if line == max(newest, key=lambda x: [int(n) for n in x.split(".")]):
        return [line, line.split(".")[0], "latest"]
    return [line]


def _variant_tags(version: str, floating: list[str], variant: str) -> list[str]:
    """``3.12.1-slim``, ``3.12-slim``, ``3-slim``, ``slim`` (``latest`` for no variant)."""
    suffix = f"-{variant}" if variant else ""
    return [f"{version}{suffix}"] + [
        (variant or "latest") if f == "latest" else f + suffix for f in floating
    ]


def rebuilt_history(plan: RebuildPlan) -> list[PlannedPush]:
    """Every build of a rebuilt repository, oldest first (:func:`seed` keeps the last per tag).

    Examples
    --------
    >>> import datetime as dt
    >>> utc = dt.timezone.utc
    >>> plan = RebuildPlan({"1.0.0": dt.datetime(2024, 1, 1, tzinfo=utc),
    ...                     "1.0.1": dt.datetime(2024, 3, 1, tzinfo=utc)},
    ...                    now=dt.datetime(2024, 5, 1, tzinfo=utc))
    >>> pushes = rebuilt_history(plan)
    >>> max(p.created for p in pushes if "1.0.0" in p.tags) < dt.datetime(2024, 3, 2, tzinfo=utc)
    True
    """
    rng = random.Random(plan.seed)
    newest: dict[str, str] = {}  # line -> its newest final built so far
    pushes: list[PlannedPush] = []
    for when, version in _events(plan, rng):
        line = _line(version)
        if not _is_pre(version) and (
            line not in newest or plan.releases[version] >= plan.releases[newest[line]]
        ):
            newest[line] = version
        floating = _floating(version, newest)
        variants = plan.prerelease_variants if _is_pre(version) else plan.variants
        for n, variant in enumerate(variants):
            # arm/v7 only for the default variant keeps the push count modest
            platforms = plan.platforms if not variant else plan.platforms[:2]
            tags = _variant_tags(version, floating, variant)
            pushes.append(PlannedPush(tags, when + dt.timedelta(minutes=n), platforms))
    return pushes


#: The demo's "now": the python history ends here.
PYTHON_NOW = dt.datetime(2024, 11, 20, 6, 0, tzinfo=_UTC)


def python_plan(
    lines: tuple[str, ...] = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"), seed: int = 3
) -> RebuildPlan:
    """The demo python's plan: real upstream dates, waves every 12–26 days, 3.8 dropped at EOL."""
    dates = {v: d for v, d in python_release_dates().items()
             if _line(v) in lines and d <= PYTHON_NOW}  # fmt: skip
    return RebuildPlan(
        releases=dates,
        now=PYTHON_NOW,
        variants=("", "slim", "bookworm", "slim-bookworm", "alpine3.20"),
        prerelease_variants=("", "slim"),
        platforms=("linux/amd64", "linux/arm64/v8", "linux/arm/v7"),
        end_of_life={"3.8": dt.datetime(2024, 10, 7, tzinfo=_UTC)},
        seed=seed,
    )


def python_history(seed: int = 3) -> list[PlannedPush]:
    """A python-like history rebuilt the way Docker's official images are.

    Real upstream release dates (alphas, betas and candidates of each ``.0``,
    every final of lines 3.8–3.14, from the release-schedule PEPs), five
    variants, floating tags (``3``, ``3.12``, ``latest``, ``3.12-slim``),
    multi-arch indexes, and rebuild waves every 12–26 days that rebuild the
    newest release of every supported line (:class:`RebuildPlan`).

    Examples
    --------
    >>> pushes = python_history()
    >>> any("3.12-slim" in p.tags for p in pushes), any("latest" in p.tags for p in pushes)
    (True, True)
    """
    return rebuilt_history(python_plan(seed=seed))


def seed(pusher: Pusher, repo: str, pushes: list[PlannedPush], *, workers: int = 8) -> int:
    """Push a history into a sandbox registry; returns the number of tags written.

    Only what the registry ends up holding is pushed: each tag's last push in the
    history (a rebuilt release's last rebuild, a floating tag's last move), so a
    history of thousands of rebuilds seeds in as many pushes as it has tags.

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

    final = final_state(pushes)
    # no tag repeats in the final state: every push may run at once
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, final))
    return len({t for p in final for t in p.tags})


def final_state(pushes: list[PlannedPush]) -> list[PlannedPush]:
    """The pushes that leave the registry as the whole history would, each with the tags it keeps.

    Examples
    --------
    >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    >>> old, new = PlannedPush(["1.0", "latest"], t), PlannedPush(["1.1", "latest"], t)
    >>> [p.tags for p in final_state([old, new])]
    [['1.0'], ['1.1', 'latest']]
    """
    ordered = sorted(pushes, key=lambda p: p.created)
    owner = {tag: i for i, p in enumerate(ordered) for tag in p.tags}
    kept = [
        dataclasses.replace(p, tags=[t for t in p.tags if owner[t] == i])
        for i, p in enumerate(ordered)
    ]
    return [p for p in kept if p.tags]
