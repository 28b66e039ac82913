"""Real-world tag families for the version corpus, with their expected columns.

Each family writes tags the way the project names them (its published naming
convention) and states, from how the tag was put together, what every column
must be.  Nothing here calls :func:`regframe.parse_tags`: the expectations are
independent of the parser they check.

``python tests/tag_families.py`` rewrites ``tests/data/tag_families.csv`` (one
block per family, a ``#`` line naming it); :func:`repositories` builds whole
realistic repositories (tag lists) from the same conventions.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CSV_PATH = Path(__file__).parent / "data" / "tag_families.csv"


@dataclass(frozen=True)
class Row:
    """One tag and what parsing it must give (``""`` for NA)."""

    family: str
    tag: str
    prefix: str = ""
    release: str = ""
    prerelease: str = ""
    variant: str = ""
    build: str = ""
    scheme: str = ""

    @property
    def numbers(self) -> list[str]:
        return self.release.split(".") if self.release else []

    def expected(self) -> dict[str, str]:
        nums = [str(int(n)) for n in self.numbers[:3]]
        nums += [""] * (3 - len(nums))
        return {
            "family": self.family,
            "tag": self.tag,
            "prefix": self.prefix,
            "release": self.release,
            "major": nums[0],
            "minor": nums[1],
            "patch": nums[2],
            "prerelease": self.prerelease,
            "variant": self.variant,
            "build": self.build,
            "scheme": self.scheme or _scheme(self.release),
            "is_prerelease": str(bool(self.prerelease)),
        }


COLUMNS = ["family", "tag", "prefix", "release", "major", "minor", "patch", "prerelease",
           "variant", "build", "scheme", "is_prerelease"]  # fmt: skip


def _scheme(release: str) -> str:
    """The scheme a release string has: calver when it starts with a year or a yyyymmdd date."""
    if not release:
        raise ValueError("a row without a release must name its scheme")
    parts = release.split(".")
    first = parts[0]
    if len(first) == 4 and 1900 <= int(first) <= 2099:
        return "calver"
    if len(first) == 8 and 1900 <= int(first[:4]) <= 2099:
        month, day = int(first[4:6]), int(first[6:])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return "calver"
    return "multipart" if len(parts) >= 4 else "semver"


def tag(family: str, *, prefix: str = "", sep: str = "-", v: str = "", release: str = "",
        pre: str = "", pre_sep: str = "", variant: str = "", build: str = "",
        meta: str = "") -> Row:  # fmt: skip
    """A versioned tag put together from its parts, in the documented order."""
    text = f"{prefix}{sep}" if prefix else ""
    text += f"{v}{release}"
    if pre:
        text += f"{pre_sep}{pre}"
    text += meta
    if variant:
        text += f"-{variant}"
    if build:
        text += f"-{build}"
    return Row(family, text, prefix, release, pre, variant, build)


def named(family: str, text: str) -> Row:
    return Row(family, text, scheme="named")


def other(family: str, text: str) -> Row:
    return Row(family, text, scheme="other")


# --------------------------------------------------------------------------- families

FAMILIES: dict[str, tuple[str, Callable[[], Iterator[Row]]]] = {}


def family(name: str, about: str) -> Callable[[Callable[[], Iterator[Row]]], Callable[[], Iterator[Row]]]:
    def register(fn: Callable[[], Iterator[Row]]) -> Callable[[], Iterator[Row]]:
        FAMILIES[name] = (about, fn)
        return fn

    return register


def _dates(start: int, n: int, seed: int) -> list[str]:
    """``n`` increasing yyyymmdd dates from year ``start``."""
    rnd = random.Random(seed)
    out = set()
    while len(out) < n:
        out.add(f"{start + rnd.randint(0, 2)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}")
    return sorted(out)


@family("ubuntu", "official ubuntu: codename + date snapshots, version numbers, codenames")
def ubuntu() -> Iterator[Row]:
    f = "ubuntu"
    codenames = {"trusty": ("14.04", 2015), "xenial": ("16.04", 2017), "bionic": ("18.04", 2019),
                 "focal": ("20.04", 2021), "jammy": ("22.04", 2023), "noble": ("24.04", 2024),
                 "oracular": ("24.10", 2024)}  # fmt: skip
    for i, (code, (version, year)) in enumerate(codenames.items()):
        yield named(f, code)
        yield tag(f, release=version)
        for date in _dates(year, 6, seed=i):
            yield tag(f, prefix=code, release=date)
        # early snapshots carried a serial: trusty-20150228.11
        yield tag(f, prefix=code, release=f"{year}0228.11")
    for t in ("latest", "rolling", "devel"):
        yield named(f, t)
    for t in ("14.04.5", "16.04.7", "18.04.6"):
        yield tag(f, release=t)


@family("debian", "official debian: suite + date, point releases, -slim")
def debian() -> Iterator[Row]:
    f = "debian"
    suites = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}
    aliases = ["stable", "oldstable", "testing", "unstable", "experimental", "rc-buggy"]
    for i, (suite, number) in enumerate(suites.items()):
        yield named(f, suite)
        yield named(f, f"{suite}-slim")
        yield named(f, f"{suite}-backports")
        yield tag(f, release=number)
        yield tag(f, release=number, variant="slim")
        for date in _dates(2024, 4, seed=10 + i):
            yield tag(f, prefix=suite, release=date)
            yield tag(f, prefix=suite, release=date, variant="slim")
    for alias in aliases:
        yield named(f, alias)
        yield tag(f, prefix=alias, release="20240812")
        yield tag(f, prefix=alias, release="20240812", variant="slim")
    for point in ("12.6", "12.5", "11.10", "10.13"):
        yield tag(f, release=point)
        yield tag(f, release=point, variant="slim")


@family("python", "official python: versions x prereleases x distributions")
def python() -> Iterator[Row]:
    f = "python"
    variants = ["", "slim", "slim-bookworm", "bookworm", "alpine", "alpine3.20",
                "windowsservercore-ltsc2022", "windowsservercore-1809", "nanoserver-ltsc2022"]  # fmt: skip
    for version in ("3.12.5", "3.12", "3", "3.11.9", "3.8.19"):
        for variant in variants:
            yield tag(f, release=version, variant=variant)
    for pre in ("a6", "b4", "rc2"):
        for variant in ("", "slim-bookworm", "alpine3.20"):
            yield tag(f, release="3.13.0", pre=pre, variant=variant)
    yield tag(f, release="3.13", pre="rc", pre_sep="-", variant="bookworm")
    for t in ("latest", "slim", "bookworm", "slim-bookworm", "alpine", "windowsservercore"):
        yield named(f, t)
    for t in ("alpine3.20", "alpine3.19", "windowsservercore-ltsc2022", "nanoserver-1809x"):
        yield other(f, t)


@family("adoptopenjdk-11", "adoptopenjdk/openjdk11: jdk-/jre- prefixes, arch-distro prefixes")
def adoptopenjdk11() -> Iterator[Row]:
    f = "adoptopenjdk-11"
    arches = ["", "aarch64-ubuntu", "x86_64-ubuntu", "ppc64le-ubuntu", "s390x-ubuntu", "x86_64-alpine"]
    for release, meta in (("11.0.1.13", ""), ("11.0.2.9", ""), ("11.0.3", "_7"), ("11.0.4", "_11"),
                          ("11.0.6", "_10"), ("11.28", "")):  # fmt: skip
        for kind in ("jdk", "jre"):
            for arch in arches:
                prefix = f"{arch}-{kind}" if arch else kind
                for variant in ("", "slim", "alpine", "alpine-slim"):
                    if arch.endswith("alpine") and variant.startswith("alpine"):
                        continue
                    yield tag(f, prefix=prefix, release=release, meta=meta, variant=variant)
    yield tag(f, prefix="jdk", release="11.0.6", meta="_10", variant="openj9-0.18.1")
    yield tag(f, prefix="jdk", release="11.0.6", meta="_10", variant="openj9-0.18.1-alpine")
    for t in ("latest", "slim", "alpine", "alpine-slim", "hotspot", "jre", "alpine-jre"):
        yield named(f, t)
    yield other(f, "openj9")


@family("adoptopenjdk-8", "adoptopenjdk/openjdk8: jdk8u202-b08 (jdk glued to Java 8's 8u…)")
def adoptopenjdk8() -> Iterator[Row]:
    f = "adoptopenjdk-8"
    for update in ("u202-b08", "u212-b03", "u212-b04", "u222-b10", "u232-b09"):
        for kind in ("jdk", "jre"):
            for arch in ("", "aarch64-ubuntu-", "x86_64-alpine-", "ppc64le-ubuntu-"):
                for variant in ("", "-slim", "-alpine", "-alpine-slim"):
                    if arch.endswith("alpine-") and variant.startswith("-alpine"):
                        continue
                    yield Row(f, f"{arch}{kind}8{update}{variant}", f"{arch}{kind}", "8", "",
                              f"{update}{variant}")  # fmt: skip
    yield tag(f, release="8", variant="u202-b08-jdk")


@family("eclipse-temurin", "eclipse-temurin: _build numbers, 8u…-b…, jdk/jre x distro")
def temurin() -> Iterator[Row]:
    f = "eclipse-temurin"
    for release, meta in (("17.0.12", "_7"), ("21.0.4", "_7"), ("11.0.24", "_8"), ("22.0.2", "_9")):
        for kind in ("jdk", "jre"):
            for distro in ("", "jammy", "noble", "focal", "alpine", "ubi9-minimal",
                           "windowsservercore-ltsc2022", "nanoserver-1809"):  # fmt: skip
                variant = f"{kind}-{distro}" if distro else kind
                yield tag(f, release=release, meta=meta, variant=variant)
    for major in ("8", "11", "17", "21"):
        for variant in ("jdk", "jre", "jdk-jammy", "jre-alpine"):
            yield tag(f, release=major, variant=variant)
    for update in ("u422-b05", "u412-b08"):
        for variant in ("jdk", "jre-jammy", "jdk-alpine"):
            yield tag(f, release="8", variant=f"{update}-{variant}")
    yield tag(f, release="23", pre="ea-15", pre_sep="-", variant="jdk")


@family("semeru", "ibm-semeru-runtimes: open- prefix")
def semeru() -> Iterator[Row]:
    f = "semeru"
    for release, meta in (("17.0.12", "_7"), ("21.0.4", "_7"), ("11.0.24", "_8")):
        for variant in ("jdk-jammy", "jre-jammy", "jdk-focal", "jdk"):
            yield tag(f, prefix="open", release=release, meta=meta, variant=variant)
    for major in ("8", "11", "17", "21"):
        for variant in ("jdk", "jre", "jdk-jammy"):
            yield tag(f, prefix="open", release=major, variant=variant)
    for variant in ("jdk-jammy", "jre-focal"):
        yield tag(f, prefix="open", release="8", variant=f"u422-b05-{variant}")


@family("windows", "mcr.microsoft.com/windows: builds, host prefixes, KB and locale suffixes")
def windows() -> Iterator[Row]:
    f = "windows"
    for build in ("10.0.14393.1066", "10.0.14393.2189", "10.0.17763.6189", "10.0.20348.2655"):
        yield tag(f, release=build)
        yield tag(f, release=build, variant="amd64")
        yield tag(f, prefix="nanoserver", release=build)
        yield tag(f, prefix="windowsservercore", release=build)
    for t in ("10.0.14393.2189_fr-fr", "10.0.14393.2189_de-de"):
        yield Row(f, t, "", "10.0.14393.2189", "", t.split("_")[1])
    for release, kb in (("1709", "KB4048955"), ("1803", "KB4471324"), ("1809", "KB4532691")):
        yield Row(f, f"{release}_{kb}", "", release, "", kb)
        yield tag(f, release=release)
        yield tag(f, prefix="nanoserver", release=release)
        yield tag(f, prefix="windowsservercore", release=release)
        yield tag(f, release=release, variant="amd64")
    for t in ("ltsc2016", "ltsc2019", "ltsc2022", "sac2016", "ltsc2019-amd64",
              "nanoserver-sac2016", "windowsservercore-ltsc2016"):  # fmt: skip
        yield other(f, t)
    yield tag(f, release="20", variant="H2")
    yield named(f, "latest")


@family("bitnami", "bitnami: -r<N> rebuild stamps after the distro variant")
def bitnami() -> Iterator[Row]:
    f = "bitnami"
    for release in ("1.25.3", "1.25.4", "1.27.1", "8.15.0", "16.4.0"):
        for n in (0, 1, 5, 12):
            yield tag(f, release=release, variant="debian-12", build=f"r{n}")
        yield tag(f, release=release)
    for release in ("4.0.9", "5.0.3"):
        for n in (0, 24):
            yield tag(f, release=release, build=f"r{n}")
            yield tag(f, release=release, variant="ol-7", build=f"r{n}")
            yield tag(f, release=release, variant="rhel-7", build=f"r{n}")
            yield tag(f, release=release, variant="debian-9", build=f"r{n}")
    yield tag(f, release="1.25")
    yield tag(f, release="1")
    yield named(f, "latest")


@family("date-stamps", "rebuild date stamps after a variant (owasp/modsecurity-crs style)")
def date_stamps() -> Iterator[Row]:
    f = "date-stamps"
    stamps = ["202402070602", "202501270601", "202502030602", "20240723"]
    for release in ("4.10.0", "4.9.0", "4.10", "4", "3.3.5"):
        for variant in ("nginx", "apache", "nginx-alpine", "apache-alpine", "openresty-alpine-fat"):
            for stamp in stamps[:3]:
                yield tag(f, release=release, variant=variant, build=stamp)
            yield tag(f, release=release, variant=variant)
    yield tag(f, release="9.4", variant="minimal", build="20240723")
    yield tag(f, release="17.0", variant="20240812")  # a date right after the version stays the variant
    for t in ("nginx", "apache", "nginx-alpine"):
        yield named(f, t)


@family("distroless", "gcr.io/distroless: role names, per-architecture tags")
def distroless() -> Iterator[Row]:
    f = "distroless"
    for role in ("latest", "nonroot", "debug", "debug-nonroot"):
        yield named(f, role)
        yield named(f, f"{role}-arm")
        for arch in ("amd64", "arm64", "s390x", "ppc64le", "riscv64"):
            yield other(f, f"{role}-{arch}")


@family("ci", "CI build tags: branch + build number, commit ids, dated nightlies, git describe")
def ci() -> Iterator[Row]:
    f = "ci"
    for n in (6140, 6141, 6200, 7001):
        yield tag(f, prefix="master", release=str(n))
        yield tag(f, prefix="main", release=str(n))
    for n in (12, 345, 4321):
        yield tag(f, prefix="pr", release=str(n))
    for date in ("20240808", "20240809", "20241231"):
        yield tag(f, prefix="nightly", release=date)
        yield tag(f, prefix="main", release=date)
    for version in ("1.15.0", "1.15.1", "1.16.0"):
        yield tag(f, v="v", release=version)
        yield tag(f, v="v", release=version, pre="alpha.0", pre_sep="-")
        yield tag(f, v="v", release=version, pre="beta.1", pre_sep="-")
        yield tag(f, release=version, pre="731e78df", pre_sep="-")
        yield tag(f, v="v", release=version, variant="5-g1a2b3c4")
    for t in ("sha-1a2b3c4", "sha-ad132f5", "sha-0123456"):
        yield other(f, t)
    for t in ("main", "master", "edge", "nightly", "develop"):
        yield named(f, t)


@family("signatures", "cosign/notation signature, attestation and SBOM tags")
def signatures() -> Iterator[Row]:
    f = "signatures"
    rnd = random.Random(7)
    for _ in range(8):
        digest = "".join(rnd.choice("0123456789abcdef") for _ in range(64))
        for suffix in ("", ".sig", ".att", ".sbom"):
            yield Row(f, f"sha256-{digest}{suffix}", scheme="digest")
    yield other(f, "sha256-6cb9a9e6.sig")


@family("linuxserver", "linuxserver.io: hex build ids, -ls<N>, version- and arch prefixes")
def linuxserver() -> Iterator[Row]:
    f = "linuxserver"
    for release, sha, ls in (("1.40.5.8854", "f36c552fd", "ls227"), ("1.40.3.8555", "fef15d30c", "ls225")):
        for arch in ("", "amd64", "arm64v8"):
            yield tag(f, prefix=arch, release=release, pre=sha, pre_sep="-", variant=ls)
            yield tag(f, prefix=f"{arch}-version" if arch else "version", release=release,
                      pre=sha, pre_sep="-")  # fmt: skip
    # a commit id of digits only is not told apart from a number: it stays in the variant
    yield tag(f, release="1.40.4.8679", variant="424562606-ls226")
    yield tag(f, prefix="version", release="1.40.4.8679", variant="424562606")
    yield named(f, "latest")
    yield other(f, "amd64-latest")
    yield other(f, "arm64v8-latest")


@family("prefixed-versions", "words before a v-version: envoy, airflow, couchbase, users' alpine-v…")
def prefixed() -> Iterator[Row]:
    f = "prefixed-versions"
    for version in ("1.31.0", "1.30.4", "15.7.1"):
        for prefix in ("distroless", "contrib", "contrib-debug", "tools", "alpine", "debian"):
            yield tag(f, prefix=prefix, v="v", release=version)
        yield tag(f, v="v", release=version)
    yield tag(f, v="v", release="1.31", variant="latest")
    for version in ("2.10.0", "2.9.3"):
        yield tag(f, prefix="slim", release=version)
        yield tag(f, prefix="slim", release=version, variant="python3.12")
    for version in ("7.6.2", "7.2.4"):
        yield tag(f, prefix="enterprise", release=version)
        yield tag(f, prefix="community", release=version)
    yield tag(f, prefix="lts", release="7.4", variant="ubuntu-22.04")
    yield tag(f, prefix="cli", release="2.11.0", variant="php8.3")


@family("official-misc", "other official images: node, nginx, postgres, dotnet, gitlab, elasticsearch")
def official() -> Iterator[Row]:
    f = "official-misc"
    for version in ("22.6.0", "20.16.0", "18.20.4"):
        for variant in ("", "alpine", "alpine3.20", "bookworm", "bookworm-slim", "slim"):
            yield tag(f, release=version, variant=variant)
    for version in ("1.27.1", "1.26.2"):
        for variant in ("", "alpine", "alpine-perl", "alpine3.20-perl", "alpine-slim", "perl", "otel"):
            yield tag(f, release=version, variant=variant)
    for pre in ("rc1", "beta3"):
        yield tag(f, release="17", pre=pre)
        yield tag(f, release="17", pre=pre, variant="bookworm")
    for variant in ("bookworm-slim", "jammy-chiseled", "nanoserver-ltsc2022", "alpine3.20-amd64"):
        yield tag(f, release="8.0.8", variant=variant)
        yield tag(f, release="9.0.0", pre="preview.7", pre_sep="-", variant=variant)
    for version in ("17.3.1", "16.11.8"):
        yield tag(f, release=version, variant="ce.0")
        yield tag(f, release=version, variant="ee.0")
    yield tag(f, release="17.3.0", pre="rc42", pre_sep="-", variant="ce.0")
    for version in ("8.15.0", "7.17.23"):
        for variant in ("", "arm64", "amd64", "ubi"):
            yield tag(f, release=version, variant=variant)
        yield tag(f, release=version, pre="SNAPSHOT", pre_sep="-")
    for t in ("lts", "lts-alpine", "current-alpine", "iron", "mainline", "stable-alpine"):
        yield named(f, t)
    for t in ("lts-alpine3.20", "mainline-alpine3.20-perl", "iron-alpine3.19"):
        yield other(f, t)


@family("calver-distros", "amazonlinux, almalinux, photon, archlinux: dates in the version")
def calver_distros() -> Iterator[Row]:
    f = "calver-distros"
    for date in ("20240805", "20240729", "20240701"):
        yield tag(f, release=f"2023.5.{date}.0")
        yield tag(f, release=f"2.0.{date}.0")
        yield tag(f, release="9.4", variant="minimal", build=date)
        yield tag(f, release="5.0", variant=date)
        yield tag(f, prefix="base-devel", release=f"{date}.0.251467")
        yield tag(f, prefix="base", release=f"{date}.0.251467")
    yield tag(f, release="2023")
    yield tag(f, release="2")
    yield named(f, "minimal")
    yield named(f, "base-devel")


# --------------------------------------------------------------------------- repositories


def _versions(rnd: random.Random, majors: range, minors: int, patches: int) -> list[str]:
    return [f"{a}.{b}.{c}" for a in majors for b in range(rnd.randint(1, minors))
            for c in range(rnd.randint(1, patches))]  # fmt: skip


def _with_aliases(versions: list[str]) -> list[str]:
    """Versions plus their floating aliases (``1.2``, ``1``)."""
    out = list(versions)
    for v in versions:
        parts = v.split(".")
        out += [".".join(parts[:k]) for k in range(1, len(parts))]
    return list(dict.fromkeys(out))


def repositories(seed: int = 0) -> dict[str, list[str]]:
    """Whole tag lists shaped like real repositories' (sizes and mixes as published)."""
    rnd = random.Random(seed)
    repos: dict[str, list[str]] = {}

    ubuntu = ["latest", "rolling", "devel"]
    for code, version, year in (("trusty", "14.04", 2014), ("xenial", "16.04", 2016),
                                ("bionic", "18.04", 2018), ("focal", "20.04", 2020),
                                ("jammy", "22.04", 2022), ("noble", "24.04", 2024)):  # fmt: skip
        ubuntu += [code, version] + [f"{code}-{d}" for d in _dates(year, 60, seed=year)]
        ubuntu += [f"{code}-{d}.{rnd.randint(1, 20)}" for d in _dates(year, 5, seed=year + 1)]
    repos["ubuntu"] = ubuntu

    debian = []
    for suite, number in (("bullseye", "11"), ("bookworm", "12"), ("trixie", "13")):
        debian += [suite, f"{suite}-slim", number, f"{number}-slim"]
        for d in _dates(2023, 50, seed=len(suite)):
            debian += [f"{suite}-{d}", f"{suite}-{d}-slim"]
        debian += [f"{number}.{k}" for k in range(1, 11)] + [f"{number}.{k}-slim" for k in range(1, 11)]
    repos["debian"] = debian

    python_variants = ["", "-slim", "-slim-bookworm", "-slim-bullseye", "-bookworm", "-bullseye",
                       "-alpine", "-alpine3.19", "-alpine3.20", "-windowsservercore-ltsc2022",
                       "-windowsservercore-1809", "-nanoserver-ltsc2022"]  # fmt: skip
    versions = _with_aliases(_versions(rnd, range(3, 4), 14, 20))
    python = [v + var for v in versions for var in python_variants]
    python += [f"3.14.0{p}{var}" for p in ("a1", "a2", "b1", "rc1") for var in python_variants]
    python += ["latest", "slim", "bookworm", "slim-bookworm", "alpine", "alpine3.19", "alpine3.20",
               "windowsservercore", "windowsservercore-ltsc2022", "windowsservercore-1809"]  # fmt: skip
    repos["python"] = python

    node_variants = ["", "-alpine", "-alpine3.19", "-alpine3.20", "-bookworm", "-bookworm-slim",
                     "-bullseye", "-slim"]  # fmt: skip
    versions = _with_aliases(_versions(rnd, range(16, 23), 20, 8))
    node = [v + var for v in versions for var in node_variants]
    for word in ("lts", "current", "iron", "hydrogen", "jod"):
        node += [word + var for var in node_variants]
    node += ["latest", "alpine", "slim", "bookworm", "alpine3.19", "alpine3.20"]
    repos["node"] = node

    jdk11 = []
    for release in ("11.0.1.13", "11.0.2.9", "11.0.3_7", "11.0.4_11", "11.0.5_10", "11.0.6_10",
                    "11.0.7_10", "11.0.8_10", "11.0.9_11", "11.0.10_9", "11.28"):  # fmt: skip
        for kind in ("jdk", "jre"):
            for arch in ("", "aarch64-ubuntu-", "x86_64-ubuntu-", "ppc64le-ubuntu-", "s390x-ubuntu-",
                         "x86_64-alpine-"):  # fmt: skip
                for variant in ("", "-slim", "-alpine", "-alpine-slim"):
                    jdk11.append(f"{arch}{kind}-{release}{variant}")
    jdk11 += ["latest", "slim", "alpine", "alpine-slim", "jre", "alpine-jre", "hotspot", "openj9"]
    repos["adoptopenjdk/openjdk11"] = jdk11

    jdk8 = []
    for update in ("u202-b08", "u212-b03", "u212-b04", "u222-b10", "u232-b09", "u242-b08",
                   "u252-b09", "u262-b10", "u265-b01", "u272-b10"):  # fmt: skip
        for kind in ("jdk", "jre"):
            for arch in ("", "aarch64-ubuntu-", "x86_64-ubuntu-", "ppc64le-ubuntu-", "x86_64-alpine-"):
                for variant in ("", "-slim", "-alpine", "-alpine-slim"):
                    jdk8.append(f"{arch}{kind}8{update}{variant}")
    jdk8 += ["latest", "slim", "alpine", "alpine-slim", "jre", "alpine-jre", "hotspot", "openj9"]
    repos["adoptopenjdk/openjdk8"] = jdk8

    servercore = ["ltsc2016", "ltsc2019", "ltsc2022", "1709", "1803", "1809", "1903", "1909",
                  "2004", "20H2", "ltsc2019-amd64", "ltsc2022-amd64", "1809-amd64"]  # fmt: skip
    for base, count in ((14393, 120), (17763, 160), (20348, 90)):
        for k in sorted(rnd.sample(range(1, 7000), count)):
            servercore += [f"10.0.{base}.{k}", f"10.0.{base}.{k}-amd64"]
    servercore += [f"1709_KB40{k}" for k in range(48955, 48965)]
    repos["windows/servercore"] = servercore
    nanoserver = ["sac2016", "1709", "1803", "1809", "ltsc2022"]
    for k in sorted(rnd.sample(range(1, 7000), 150)):
        nanoserver += [f"10.0.17763.{k}", f"nanoserver-10.0.14393.{k}"]
    repos["windows/nanoserver"] = nanoserver

    bitnami = ["latest"]
    for v in _with_aliases(_versions(rnd, range(1, 3), 8, 6)):
        bitnami.append(v)
        if v.count(".") == 2:
            bitnami += [f"{v}-debian-12-r{n}" for n in range(rnd.randint(1, 15))]
    repos["bitnami/nginx"] = bitnami

    crs = ["nginx", "apache", "nginx-alpine", "apache-alpine", "openresty-alpine-fat"]
    for v in ("4.10.0", "4.9.0", "4.8.0", "4.10", "4.9", "4", "3.3.5", "3.3"):
        for var in ("nginx", "apache", "nginx-alpine", "apache-alpine", "openresty-alpine-fat"):
            crs.append(f"{v}-{var}")
            crs += [f"{v}-{var}-{d}{rnd.randint(0, 23):02d}{rnd.randint(0, 59):02d}"
                    for d in _dates(2024, 12, seed=len(var))]  # fmt: skip
    repos["owasp/modsecurity-crs"] = crs

    cert = [f"master-{n}" for n in range(6000, 6400)]
    cert += [f"v{v}" for v in _versions(rnd, range(1, 2), 15, 5)]
    cert += [f"v1.{m}.0-{p}" for m in range(10, 16) for p in ("alpha.0", "alpha.1", "beta.0")]
    cert += ["latest", "canary"]
    repos["cert-manager/controller"] = cert

    plex = ["latest", "amd64-latest", "arm64v8-latest"]
    for k in range(120):
        sha = "".join(rnd.choice("0123456789abcdef") for _ in range(9))
        release = f"1.{30 + k // 12}.{k % 12}.{5000 + 37 * k}"
        for arch in ("", "amd64-", "arm64v8-"):
            plex += [f"{arch}{release}-{sha}-ls{100 + k}", f"{arch}version-{release}-{sha}"]
    repos["linuxserver/plex"] = plex

    envoy = []
    for v in _versions(rnd, range(1, 2), 31, 5):
        for prefix in ("", "distroless-", "contrib-", "contrib-debug-", "tools-", "debug-"):
            envoy.append(f"{prefix}v{v}")
    envoy += [f"v1.{m}-latest" for m in range(20, 32)]
    repos["envoyproxy/envoy"] = envoy

    signed = []
    for v in _with_aliases(_versions(rnd, range(0, 3), 10, 6)):
        digest = "".join(rnd.choice("0123456789abcdef") for _ in range(64))
        signed += [f"v{v}", f"sha256-{digest}.sig", f"sha256-{digest}.att"]
    repos["signed (cosign)"] = signed

    distroless = []
    for role in ("latest", "nonroot", "debug", "debug-nonroot"):
        distroless += [role, f"{role}-arm"]
        distroless += [f"{role}-{a}" for a in ("amd64", "arm64", "s390x", "ppc64le", "riscv64")]
    repos["distroless/static"] = distroless

    metadata = ["main", "latest"] + [f"pr-{n}" for n in range(1, 60)]
    metadata += ["sha-" + "".join(rnd.choice("0123456789abcdef") for _ in range(7))
                 for _ in range(400)]  # fmt: skip
    metadata += [f"{v}" for v in _with_aliases(_versions(rnd, range(0, 2), 6, 4))]
    repos["ci: a commit tag per push"] = metadata
    return repos


#: Repositories whose share of ``other`` stays high by design, and why.
HIGH_OTHER: dict[str, str] = {
    "distroless/static": "per-architecture names (latest-amd64) carry digits but no version",
    "ci: a commit tag per push": "sha-<commit> tags are ids, not versions",
}


def rows() -> list[Row]:
    return [row for _, fn in FAMILIES.values() for row in fn()]


def render() -> str:
    """The CSV text: a header, then one block per family (a ``#`` line, its rows, a blank line)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for name, (about, fn) in FAMILIES.items():
        buf.write(f"\n# {name}: {about}\n")
        seen: set[str] = set()
        for row in fn():
            if row.tag not in seen:
                seen.add(row.tag)
                writer.writerow(row.expected())
    return buf.getvalue()


def load(path: Path = CSV_PATH) -> list[dict[str, str]]:
    """The corpus rows (comment and blank lines skipped)."""
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines))


if __name__ == "__main__":
    CSV_PATH.write_text(render())
    print(f"wrote {CSV_PATH} ({len(load())} tags)", file=sys.stderr)
