"""Time :func:`regframe.parse_tags` and :func:`regframe.sort_tags` on 100,000 realistic tags.

Run as ``python bench/bench_parse_tags.py [N]``.  The tags mix the shapes seen
on real repositories (python/node/golang style ``3.12.1-slim-bookworm``,
prereleases, temurin builds, Windows multipart versions, calver, bitnami
revisions, named tags, signature tags, ubuntu snapshots).  Prints the best of
five runs, in seconds and tags per second (the machine is shared, so the
minimum is the least noisy figure).  Target: parse 100,000 tags in < 0.5 s.
A second line times tags that all use the prefix and rebuild-stamp rules.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regframe.parsing.versions import parse_tags, sort_tags

VARIANTS = [
    "",
    "-slim",
    "-slim-bookworm",
    "-bookworm",
    "-alpine",
    "-alpine3.20",
    "-windowsservercore-ltsc2022",
    "-jdk-jammy",
    "-jre-alpine",
    "-perl",
    "-alpine-perl",
    "-debian-12-r2",
    "-ubi",
    "-arm64",
    "-ce.0",
    "-jammy",
    "-nanoserver-1809",
]
# About one tag in ten is a prerelease, as on python/elasticsearch/openjdk.
PRES = [""] * 72 + ["rc1", "-rc.2", "b3", "a1", "-beta.3", "-SNAPSHOT", "-ea-16", "-M3"]
NAMED = ["latest", "lts", "bookworm", "stable", "edge", "mainline", "alpine", "slim"]


def make_tags(n: int, seed: int = 0) -> list[str]:
    rnd = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.70:
            nums = [str(rnd.randint(0, 25)) for _ in range(rnd.choice((1, 2, 3, 3, 3)))]
            prefix = "v" if rnd.random() < 0.1 else ""
            out.append(prefix + ".".join(nums) + rnd.choice(PRES) + rnd.choice(VARIANTS))
        elif r < 0.78:
            build = f"_{rnd.randint(1, 13)}"
            out.append(f"{rnd.choice((11, 17, 21))}.0.{rnd.randint(1, 24)}{build}-jdk-jammy")
        elif r < 0.83:
            out.append(f"10.0.{rnd.choice((17763, 20348))}.{rnd.randint(1, 7000)}")
        elif r < 0.88:
            out.append(
                f"{rnd.randint(2019, 2025)}.{rnd.randint(1, 12):02d}.{rnd.randint(1, 28):02d}"
            )
        elif r < 0.92:
            out.append(f"jammy-2024{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}")
        elif r < 0.96:
            out.append(rnd.choice(NAMED))
        elif r < 0.98:
            digest = "".join(rnd.choice("0123456789abcdef") for _ in range(64))
            out.append(f"sha256-{digest}" + rnd.choice(("", ".sig", ".att")))
        else:
            h = "".join(rnd.choice("0123456789abcdef") for _ in range(8))
            out.append(f"5.0.{rnd.randint(0, 9)}-{h}")
    return out


def make_prefixed_tags(n: int, seed: int = 0) -> list[str]:
    """Tags with words before the version and rebuild stamps, as ubuntu, adoptopenjdk,
    Windows, bitnami, modsecurity-crs, cert-manager and linuxserver publish them."""
    rnd = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        r = rnd.random()
        date = f"20{rnd.randint(15, 25)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        if r < 0.15:
            out.append(f"{rnd.choice(('jammy', 'noble', 'bookworm', 'xenial'))}-{date}")
        elif r < 0.35:
            arch = rnd.choice(("", "aarch64-ubuntu-", "x86_64-alpine-", "ppc64le-ubuntu-"))
            kind = rnd.choice(("jdk", "jre"))
            version = rnd.choice((f"-11.0.{rnd.randint(1, 24)}_{rnd.randint(1, 13)}", "8u202-b08"))
            out.append(f"{arch}{kind}{version}{rnd.choice(('', '-slim', '-alpine-slim'))}")
        elif r < 0.45:
            host = rnd.choice(("nanoserver", "windowsservercore"))
            out.append(f"{host}-10.0.{rnd.choice((14393, 17763))}.{rnd.randint(1, 7000)}")
        elif r < 0.65:
            version = f"1.{rnd.randint(20, 27)}.{rnd.randint(0, 9)}"
            out.append(f"{version}-debian-12-r{rnd.randint(0, 30)}")
        elif r < 0.80:
            variant = rnd.choice(("nginx", "apache-alpine", "openresty-alpine-fat"))
            out.append(f"4.{rnd.randint(0, 10)}.0-{variant}-{date}{rnd.randint(0, 2359):04d}")
        elif r < 0.90:
            out.append(f"master-{rnd.randint(5000, 7000)}")
        else:
            arch = rnd.choice(("", "amd64-", "arm64v8-"))
            version = f"1.40.{rnd.randint(0, 9)}.{rnd.randint(1000, 9999)}"
            out.append(f"{arch}version-{version}-f36c552fd")
    return out


def best_of(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 else 100_000
    tags = pd.Series(make_tags(n), dtype="string")
    parsed = parse_tags(tags)
    t_parse = best_of(lambda: parse_tags(tags))
    t_sort = best_of(lambda: sort_tags(parsed))
    t_both = best_of(lambda: sort_tags(pd.DataFrame({"tag": tags})))
    print(f"pandas {pd.__version__}, {n:,} tags, best of 5")
    print(f"parse_tags:          {t_parse:.3f} s  {n / t_parse:>12,.0f} tags/s")
    print(f"sort_tags (parsed):  {t_sort:.3f} s  {n / t_sort:>12,.0f} tags/s")
    print(f"sort_tags (raw tag): {t_both:.3f} s  {n / t_both:>12,.0f} tags/s")
    print(parsed["scheme"].value_counts().to_string())
    # the prefix and rebuild-stamp rules at work on every tag
    prefixed = pd.Series(make_prefixed_tags(n), dtype="string")
    t_prefixed = best_of(lambda: parse_tags(prefixed))
    share = (parse_tags(prefixed)["scheme"] == "other").mean()
    print(f"parse_tags, prefixed/stamped tags: {t_prefixed:.3f} s  {n / t_prefixed:>12,.0f} tags/s"
          f"  ({t_prefixed / t_parse:.2f}x the mix above; other: {share:.1%})")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv)
