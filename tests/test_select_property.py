"""Property tests: ``rf.select(df, versions=R)`` keeps exactly the tags a tag-by-tag check of R keeps.

The tag-by-tag check is each grammar's own library: PyPA's ``packaging`` for PEP 440 and the
``nodesemver`` port of npm's node-semver for npm ranges, on versions where their order and
regframe's agree (three-part or shorter releases; prereleases ``aN``/``bN``/``rcN``/``.devN``
and ``-alpha.N``/``-beta.N``/``-rc.N``).  The tags carry what regframe must see through —
``v`` prefixes, variants, tag prefixes — and the frame mixes in tags without a version.

A third property runs on the real-convention corpus (``tests/data/tag_families.csv``, which
holds 4-part, calver, prefixed, ``-rN`` and hex-id tags): ``>=B`` splits every line
(prefix, variant) of finals at one point of ``sort_tags``' order.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nodesemver
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

import regframe as rf

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NUM = st.integers(min_value=0, max_value=2)

# --------------------------------------------------------------------------- PEP 440


@st.composite
def pep440_versions(draw: st.DrawFn, *, min_parts: int = 1) -> str:
    parts = draw(st.lists(NUM, min_size=min_parts, max_size=3))
    text = ".".join(map(str, parts))
    kind = draw(st.sampled_from(["", "", "a", "b", "rc", ".dev"]))
    return text + (f"{kind}{draw(NUM)}" if kind else "")


@st.composite
def pep440_specs(draw: st.DrawFn, near: list[str]) -> str:
    """Specifiers whose versions are often those of the frame or their finals (edges matter)."""
    pool = [*near, *(Version(v).base_version for v in near)]
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "~=", "==*", "!=*"]))
        if op in ("==*", "!=*"):
            parts = draw(st.lists(NUM, min_size=1, max_size=3))
            clauses.append(op[:2] + ".".join(map(str, parts)) + ".*")
            continue
        version = draw(st.sampled_from(pool) | pep440_versions(min_parts=2 if op == "~=" else 1))
        clauses.append(op + version)
    return ",".join(clauses)


def _tag(version: str, draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["", "", "v", "alpine-", "jammy-v"]))
    tail = draw(st.sampled_from(["", "", "-alpine", "-slim-bookworm"]))
    return head + version + tail


@st.composite
def pep440_frames(draw: st.DrawFn) -> tuple[list[str], dict[str, str]]:
    versions = draw(st.lists(pep440_versions(), min_size=1, max_size=25))
    tags: dict[str, str] = {}
    for v in versions:
        tags.setdefault(_tag(v, draw), v)
    noise = draw(st.lists(st.sampled_from(["latest", "bookworm", "alpine3.20", "ltsc2022"])))
    return list(tags) + noise, tags


def _pep440_check(spec: SpecifierSet, version: str, prereleases: bool) -> bool:
    """The library's verdict, with regframe's documented admission rule for prereleases."""
    v = Version(version)
    if not spec.contains(v, prereleases=True):
        return False
    named = any(
        s.operator != "!=" and Version(s.version.removesuffix(".*")).is_prerelease for s in spec
    )
    return not v.is_prerelease or prereleases or named


@SETTINGS
@given(frame=pep440_frames(), prereleases=st.booleans(), data=st.data())
def test_pep440_select_equals_tag_by_tag_check(
    frame: tuple[list[str], dict[str, str]], prereleases: bool, data: st.DataObject
) -> None:
    spec = data.draw(pep440_specs(list(frame[1].values())))
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        assume(False)
        return
    tags, version_of_tag = frame
    got = rf.select(rf.parse_tags(tags), versions=spec, prereleases=prereleases)["tag"].tolist()
    expected = [
        t
        for t in tags
        if t in version_of_tag and _pep440_check(specifier, version_of_tag[t], prereleases)
    ]
    assert got == expected


# --------------------------------------------------------------------------- npm


@st.composite
def npm_versions(draw: st.DrawFn, *, parts: int = 3) -> str:
    text = ".".join(str(draw(NUM)) for _ in range(parts))
    if parts == 3 and draw(st.booleans()):
        text += f"-{draw(st.sampled_from(['alpha', 'beta', 'rc']))}.{draw(NUM)}"
    return text


@st.composite
def npm_comparators(draw: st.DrawFn, near: list[str]) -> str:
    kind = draw(st.sampled_from(["op", "op", "caret", "tilde", "x", "hyphen", "partial"]))
    if kind == "op":
        version = draw(st.sampled_from(near) | npm_versions())
        return draw(st.sampled_from(["<", "<=", ">", ">=", "="])) + version
    short = draw(npm_versions(parts=draw(st.integers(1, 3))).filter(lambda v: "-" not in v))
    if kind == "caret":
        return "^" + short
    if kind == "tilde":
        return "~" + short
    if kind == "x":
        return short.split(".")[0] + draw(st.sampled_from([".x", ".*", ".x.x"]))
    if kind == "hyphen":
        return f"{short} - {draw(npm_versions(parts=draw(st.integers(1, 3))))}"
    return short


@st.composite
def npm_ranges(draw: st.DrawFn, near: list[str]) -> str:
    alternatives = []
    for _ in range(draw(st.integers(1, 2))):
        comps = draw(st.lists(npm_comparators(near), min_size=1, max_size=3))
        alternatives.append("* " + " ".join(comps))  # "* " keeps it npm: PEP 440 has no spaces
    return " || ".join(alternatives)


def _port_differs_from_npm7(rng: str) -> bool:
    """The port writes sugar's upper bound ``<2.0.0`` where node-semver 7 writes ``<2.0.0-0``.

    They disagree only when a prerelease bound of the same alternative names that tuple.
    """
    for comps in nodesemver.make_range(rng, False).set:
        named = {
            (c.semver.major, c.semver.minor, c.semver.patch)
            for c in comps
            if c.semver is not nodesemver.ANY and c.semver.prerelease
        }
        for c in comps:
            if c.semver is nodesemver.ANY or c.operator != "<" or c.semver.prerelease:
                continue
            if (c.semver.major, c.semver.minor, c.semver.patch) in named:
                return True
    return False


@SETTINGS
@given(versions=st.lists(npm_versions(), min_size=1, max_size=25, unique=True), data=st.data())
def test_npm_select_equals_tag_by_tag_check(versions: list[str], data: st.DataObject) -> None:
    rng = data.draw(npm_ranges(versions))
    try:
        nodesemver.make_range(rng, False)
    except ValueError:
        assume(False)
        return
    assume(not _port_differs_from_npm7(rng))
    tags = {data.draw(st.sampled_from(["", "v", "alpine-"])) + v: v for v in versions}
    df = rf.parse_tags([*tags, "latest", "sha-1a2b3c4"])
    got = rf.select(df, versions=rng)["tag"].tolist()
    expected = [t for t, v in tags.items() if nodesemver.satisfies(v, rng, loose=False)]
    assert got == expected


# --------------------------------------------------------------------------- regframe order


def _corpus() -> pd.DataFrame:
    path = Path(__file__).parent / "data" / "tag_families.csv"
    with path.open(newline="") as f:
        tags = [
            row["tag"] for row in csv.DictReader(line for line in f if not line.startswith("#"))
        ]
    return rf.sort_tags(rf.parse_tags(tags)).reset_index(drop=True)


CORPUS = _corpus()
FINALS = CORPUS[CORPUS["release"].notna() & ~CORPUS["is_prerelease"].astype(bool)]


@SETTINGS
@given(bound=st.sampled_from(sorted(set(FINALS["release"].dropna()))))
def test_a_lower_bound_cuts_every_line_once_in_sort_order(bound: str) -> None:
    kept = rf.select(FINALS, versions=f">={bound}").index
    inside = pd.Series(FINALS.index.isin(kept), index=FINALS.index)
    lines = FINALS.assign(
        prefix=FINALS["prefix"].fillna(""), variant=FINALS["variant"].fillna("")
    ).groupby(["prefix", "variant"], sort=False)
    for _, line in lines:
        flags = inside[line.index].tolist()  # in sort_tags' order
        assert flags == sorted(flags), (bound, line["tag"].tolist())
    # and the complement is exactly "<bound"
    below = rf.select(FINALS, versions=f"<{bound}").index
    assert sorted(below.tolist() + kept.tolist()) == FINALS.index.tolist()
