"""Version ranges (``rf.select``, ``versions=``): both grammars against their own documented examples.

* npm: every case of node-semver's own test fixtures ``test/fixtures/range-include.js`` and
  ``range-exclude.js`` (npm/node-semver, commit 6e05b76, semver 7.8.5) that is not about
  ``loose`` mode, kept in ``tests/data/npm_ranges.csv``; and the desugaring table of its
  README ("Advanced Range Syntax").
* PEP 440: the examples of the specification (compatible release, zero padding, prefix
  matching, the exclusive ordered comparisons) and of packaging's own docstrings.
* regframe's hard cases (4-part, calver, prefixes, ``-rN`` builds, hex build ids, ``v``
  prefixes, ``RELEASE.…`` tags) and tags quoted in other tools' issue trackers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.parsing.ranges import compile_range, version_of

DATA = Path(__file__).parent / "data"


def keep(tags: list[str], versions: str, **kw: bool) -> list[str]:
    return rf.select(rf.parse_tags(tags), versions=versions, **kw)["tag"].tolist()


# --------------------------------------------------------------------------- npm


def _npm_cases() -> list[dict[str, str]]:
    with (DATA / "npm_ranges.csv").open(newline="") as f:
        return list(csv.DictReader(f))


# Where regframe answers differently from node-semver 7, on purpose (module docstring of
# regframe.parsing.ranges): x-range floors with includePrerelease (node-semver >= 7 writes
# ``2.x`` as ``>=2.0.0-0`` then; the port regframe reads the grammar with writes ``>=2.0.0``,
# and in regframe's order 2.0.0-pre.0 is below 2.0.0), ``>1.2`` read as PEP 440, and empty
# ranges refused instead of read as ``*``.
NPM_DIFFERS = {
    ("2.x", "2.0.0-pre.0"),
    ("1.1.x", "1.1.0-a"),
    ("~1.1", "1.1.0-a"),
    ("~1.1.x", "1.1.0-a"),
    ("~2", "2.0.0-pre.0"),
    ("~2.x", "2.0.0-pre.0"),
    ("1 - 2", "1.0.0-pre"),
    ("1.0 - 2", "1.0.0-pre"),
    (">1.2", "1.2.8"),
}
NPM_REFUSED = {"", "||"}


def _in_domain(version: str) -> bool:
    """node-semver's prerelease is one regframe reads as a prerelease too (not ``-asdf``)."""
    row = rf.parse_tags([version]).iloc[0]
    if not isinstance(row["release"], str) or isinstance(row["variant"], str):
        return False
    return ("-" in version) == isinstance(row["prerelease"], str)


def test_npm_fixtures_of_node_semver() -> None:
    checked = 0
    for case in _npm_cases():
        rng, version = case["range"], case["version"]
        if not _in_domain(version):
            continue
        if rng in NPM_REFUSED:
            with pytest.raises(InvalidArgumentError, match="empty"):
                compile_range(rng)
            continue
        got = compile_range(rng).contains(
            version_of(version), prereleases=case["include_prerelease"] == "true", tag=version
        )
        expected = case["expected"] == "true"
        differs = (rng, version) in NPM_DIFFERS
        if differs and (case["include_prerelease"] == "true" or rng == ">1.2"):
            assert got is not expected, (rng, version)
        else:
            assert got is expected, (rng, version, case["include_prerelease"])
        checked += 1
    assert checked >= 180  # 199 non-loose cases; the rest use words regframe reads as variants


@pytest.mark.parametrize(
    ("rng", "inside", "outside"),
    [
        # README "Advanced Range Syntax": X := Y, probed on both sides of every bound
        ("1.2.3 - 2.3.4", ["1.2.3", "2.3.4"], ["1.2.2", "2.3.5"]),
        ("1.2 - 2.3.4", ["1.2.0", "2.3.4"], ["1.1.9", "2.3.5"]),
        ("1.2.3 - 2.3", ["1.2.3", "2.3.99"], ["1.2.2", "2.4.0", "2.4.0-rc.1"]),
        ("1.2.3 - 2", ["2.99.0"], ["3.0.0", "3.0.0-rc.1"]),
        ("*", ["0.0.0", "9.9.9"], ["1.0.0-rc.1"]),
        ("1.x", ["1.0.0", "1.99.0"], ["0.9.9", "2.0.0", "2.0.0-rc.1"]),
        ("1.2.x", ["1.2.0", "1.2.99"], ["1.3.0"]),
        ("1", ["1.0.0", "1.9.9"], ["2.0.0"]),
        ("1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
        ("~1.2.3", ["1.2.3", "1.2.99"], ["1.2.2", "1.3.0"]),
        ("~1.2", ["1.2.0", "1.2.99"], ["1.3.0"]),
        ("~1", ["1.0.0", "1.99.0"], ["2.0.0"]),
        ("~0.2.3", ["0.2.3"], ["0.3.0"]),
        ("~0", ["0.0.0", "0.9.0"], ["1.0.0"]),
        ("~1.2.3-beta.2", ["1.2.3-beta.4", "1.2.3"], ["1.2.4-beta.2", "1.2.3-beta.1"]),
        ("^1.2.3", ["1.2.3", "1.99.0"], ["1.2.2", "2.0.0", "2.0.0-rc.1"]),
        ("^0.2.3", ["0.2.3", "0.2.99"], ["0.3.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("^1.2.3-beta.2", ["1.2.3-beta.4", "1.9.0"], ["1.2.4-beta.2"]),
        ("^0.0.3-beta", ["0.0.3-pre.2", "0.0.3"], ["0.0.4"]),
        ("^1.2.x", ["1.2.0", "1.99.0"], ["2.0.0"]),
        ("^0.0.x", ["0.0.0", "0.0.9"], ["0.1.0"]),
        ("^0.0", ["0.0.9"], ["0.1.0"]),
        ("^1.x", ["1.0.0"], ["2.0.0"]),
        ("^0.x", ["0.9.9"], ["1.0.0"]),
        # the README's opening examples
        (">=1.2.7", ["1.2.7", "1.2.8", "2.5.3", "1.3.9"], ["1.2.6", "1.1.0"]),
        (">=1.2.7 <1.3.0", ["1.2.7", "1.2.8", "1.2.99"], ["1.2.6", "1.3.0", "1.1.0"]),
        ("1.2.7 || >=1.2.9 <2.0.0", ["1.2.7", "1.2.9", "1.4.6"], ["1.2.8", "2.0.0"]),
        (">1.2.3-alpha.3", ["1.2.3-alpha.7", "3.4.5"], ["3.4.5-alpha.9"]),
    ],
)
def test_npm_readme_desugaring(rng: str, inside: list[str], outside: list[str]) -> None:
    assert keep(inside + outside, rng) == inside


# --------------------------------------------------------------------------- PEP 440


@pytest.mark.parametrize(
    ("spec", "same_as"),
    [
        # PEP 440, "Compatible release"
        ("~=2.2", ">=2.2,==2.*"),
        ("~=1.4.5", ">=1.4.5,==1.4.*"),
        ("~=1.4.5a4", ">=1.4.5a4,==1.4.*"),
        ("~=2.2.0", ">=2.2.0,==2.2.*"),
        ("~=1.4.5.0", ">=1.4.5.0,==1.4.5.*"),
    ],
)
def test_pep440_compatible_release(spec: str, same_as: str) -> None:
    tags = ["1.4.4", "1.4.5a3", "1.4.5a4", "1.4.5", "1.4.5.0", "1.4.5.1", "1.4.6", "1.5.0",
            "2.1.9", "2.2", "2.2.0", "2.2.1", "2.3", "3.0"]  # fmt: skip
    for pre in (False, True):
        assert keep(tags, spec, prereleases=pre) == keep(tags, same_as, prereleases=pre)
    assert keep(tags, spec)  # not vacuous


def test_pep440_version_matching() -> None:
    # zero padding: ==1.1 is ==1.1.0; prefix matching ==1.1.* takes 1.1.x and 1.1 itself
    tags = ["1.0.9", "1.1", "1.1.0", "1.1.2", "1.10.0", "1.2"]
    assert keep(tags, "==1.1") == ["1.1", "1.1.0"]
    assert keep(tags, "==1.1.0") == ["1.1", "1.1.0"]
    assert keep(tags, "==1.1.*") == ["1.1", "1.1.0", "1.1.2"]
    assert keep(tags, "!=1.1.*") == ["1.0.9", "1.10.0", "1.2"]
    assert keep(["1", "1.0.5", "1.1"], "==1.0.*") == ["1", "1.0.5"]  # 1 is 1.0 padded
    assert keep(tags, "!=1.1") == ["1.0.9", "1.1.2", "1.10.0", "1.2"]


def test_pep440_exclusive_comparisons() -> None:
    # "<V MUST NOT allow a pre-release of the specified version unless the specified version
    # is itself a pre-release" — even when prereleases are asked for
    tags = ["8.9", "8.10.1rc1", "9.0.0b1", "9.0.0", "9.0.1"]
    assert keep(tags, "<9") == ["8.9"]
    assert keep(tags, "<9", prereleases=True) == ["8.9", "8.10.1rc1"]
    assert keep(tags, "<9.0.0rc1", prereleases=True) == ["8.9", "8.10.1rc1", "9.0.0b1"]
    assert keep(tags, ">9", prereleases=True) == ["9.0.1"]
    assert keep(tags, "<=9") == ["8.9", "9.0.0"]


def test_pep440_examples_of_packaging() -> None:
    # packaging.specifiers docstrings, with prereleases stated (regframe's default is False)
    assert keep(["1.2.3", "1.0.0", "1.3.0a1"], ">=1.2.3") == ["1.2.3"]
    assert keep(["1.3.0a1"], ">=1.2.3", prereleases=True) == ["1.3.0a1"]
    assert keep(["1.2.3", "1.0.1", "1.3.0a1"], ">=1.0.0,!=1.0.1") == ["1.2.3"]
    assert keep(["1.3.0a1"], ">=1.0.0,!=1.0.1", prereleases=True) == ["1.3.0a1"]
    assert keep(["1.2", "1.3", "1.5a1"], ">=1.2.3") == ["1.3"]
    assert keep(["1.2", "1.2.3", "1.3", "1.4"], ">=1.2.3") == ["1.2.3", "1.3", "1.4"]
    # a specifier naming a prerelease admits prereleases (packaging's Specifier.prereleases)
    assert keep(["1.0a1", "1.0", "2.0b1"], ">=1.0a1") == ["1.0a1", "1.0", "2.0b1"]
    assert keep(["1.0", "1.1", "1.1rc1"], "~=1.0,!=1.0") == ["1.1"]


# --------------------------------------------------------------------------- regframe order


def test_ranges_follow_regframes_version_order() -> None:
    # 4-part Windows builds, calendar versions, v prefixes, tag prefixes, variants, builds
    tags = ["10.0.14393.1066", "10.0.17763.6189", "10.0.20348.2582", "ltsc2022"]
    assert keep(tags, ">=10.0.17763,<10.0.20348") == ["10.0.17763.6189"]
    assert keep(tags, "~=10.0.17763.0") == ["10.0.17763.6189"]
    assert keep(tags, "~10.0.17763") == ["10.0.17763.6189", "10.0.20348.2582"]  # npm: 10.0.x
    cal = ["2023.12.01", "2024.01.15", "2024.08.15", "jammy-20240808", "noble-20240912"]
    assert keep(cal, ">=2024.1,<2025") == ["2024.01.15", "2024.08.15"]
    assert keep(cal, ">=20240801") == ["jammy-20240808", "noble-20240912"]
    assert keep(["v1.9.0", "v1.10.0", "V1.10.1"], ">1.9") == ["v1.10.0", "V1.10.1"]
    pre = ["alpine-v15.7.1", "alpine-v16.0.0", "15.7.1-slim", "15.6"]
    assert keep(pre, "^15.7") == ["alpine-v15.7.1", "15.7.1-slim"]
    bitnami = ["1.25.3-debian-12-r5", "1.25.3-debian-12-r10", "1.26.0-debian-12-r0"]
    assert keep(bitnami, "~1.25.0") == ["1.25.3-debian-12-r5", "1.25.3-debian-12-r10"]
    temurin = ["17.0.12_7-jdk-jammy", "21.0.4_7-jdk-jammy", "8u422-b05-jdk"]
    assert keep(temurin, ">=17,<21") == ["17.0.12_7-jdk-jammy"]
    assert keep(temurin, "8.x") == ["8u422-b05-jdk"]


def test_regframe_prerelease_words_and_hex_ids() -> None:
    # ea/SNAPSHOT/M3 are regframe's prerelease words; a hex id is a prerelease too
    tags = [
        "22-ea-16-jdk",
        "22",
        "8.15.0-SNAPSHOT",
        "8.15.0",
        "5.0.0-731e78df",
        "5.0.0",
        "3.0.0-M3",
    ]
    assert keep(tags, ">=0") == ["22", "8.15.0", "5.0.0"]
    assert keep(tags, ">=22.0.0-ea") == ["22-ea-16-jdk", "22"]  # npm: names a 22.0.0 prerelease
    assert keep(tags, "5.0.0-731e78df") == ["5.0.0-731e78df"]
    assert keep(tags, "^3.0.0-M1") == ["3.0.0-M3"]
    # ea < alpha < beta < M < rc in regframe's order
    order = ["1.0-ea", "1.0-alpha", "1.0-beta", "1.0-M1", "1.0-rc1", "1.0"]
    assert keep(order, ">=1.0-beta", prereleases=True) == order[2:]


def test_tags_without_a_version_never_match() -> None:
    tags = ["latest", "RELEASE.2024-08-03T04-33-23Z", "sha256-" + "a" * 64 + ".sig", "alpine3.20",
            "bookworm", "1.0"]  # fmt: skip
    assert keep(tags, "*") == ["1.0"]
    assert keep(tags, ">=0", prereleases=True) == ["1.0"]
    assert keep(tags, "===latest") == []


def test_tags_quoted_in_other_trackers() -> None:
    # argoproj-labs/argocd-image-updater#361: ~1.0.x must not pick the prerelease 1.0.2-f3ba42e
    assert keep(["1.0.2-f3ba42e", "1.0.1", "1.0.0"], "~1.0.x") == ["1.0.1", "1.0.0"]
    # argoproj-labs/argocd-image-updater#626: rc10 is newer than rc9
    assert keep(["7.8.0-rc9", "7.8.0-rc10"], ">7.8.0-rc9") == ["7.8.0-rc10"]
    # argoproj-labs/argocd-image-updater#1758 (crossplane): v2.x.x keeps no prerelease
    got = keep(["v2.3.0-rc.0.18.g1abb7b5dd-ppc64le", "v2.2.0", "v1.20.0"], "v2.x.x")
    assert got == ["v2.2.0"]
    # fluxcd/image-reflector-controller#250: calendar majors are versions like any other
    assert keep(["2021.10.1", "2022.1.0", "5.0.0"], ">=2022") == ["2022.1.0"]
    # the issue's own: git describe output is version 2.0.330; alpine-v15.7.1 is 15.7.1
    assert keep(["2.0.330-63-gc1cfb6864", "2.0.331"], "==2.0.330") == ["2.0.330-63-gc1cfb6864"]
    assert keep(["alpine-v15.7.1"], "<2") == []


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("text", "grammar"),
    [
        (">=8.15,<9", "pep440"),
        ("~=8.15", "pep440"),
        ("==8.*", "pep440"),
        ("!=8.15.2", "pep440"),
        (">1.2", "pep440"),  # both accept it: PEP 440 wins (1.2.1 is in it)
        (">=9.0.0b1", "pep440"),
        ("^8.15", "npm"),
        ("~8.15.1", "npm"),
        (">=1.2 <2 || 3.x", "npm"),
        ("8.x", "npm"),
        ("8", "npm"),
        ("1.2.3 - 2", "npm"),
        (">1.2.3-alpha.3", "npm"),  # semver's spelling of a prerelease
    ],
)
def test_which_grammar(text: str, grammar: str) -> None:
    assert compile_range(text).grammar == grammar


def test_pep440_and_npm_readings_of_a_short_bound() -> None:
    tags = ["1.2", "1.2.1", "1.2.8", "1.3.0"]
    assert keep(tags, ">1.2") == ["1.2.1", "1.2.8", "1.3.0"]
    assert keep(tags, ">1.2.x") == ["1.3.0"]
    assert keep(tags, "<=1.2") == ["1.2"]
    assert keep(tags, "<=1.2.x") == ["1.2", "1.2.1", "1.2.8"]


@pytest.mark.parametrize(
    ("text", "piece", "position"),
    [
        (">=8.15,<<9", "'<<9'", 7),
        (">=8.15, <9,", "''", 11),
        ("~=1", "'~=1'", 0),
        (">=1.2 <<2", "'<<2'", 6),
        ("^1.2 junk", "'junk'", 5),
        ("1.2.3 || ", "an alternative", 9),
        ("==1.0.post1", "'==1.0.post1'", 0),
        (">=1!2.0", "'>=1!2.0'", 0),
        ("   ", "the range", 0),
    ],
)
def test_malformed_ranges_name_the_position(text: str, piece: str, position: int) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        compile_range(text)
    assert f"{piece} at position {position} " in str(info.value)
    assert str(info.value).startswith(f"versions={text!r}: ")


def test_wrong_types() -> None:
    with pytest.raises(InvalidArgumentTypeError, match="versions= takes a range as text"):
        compile_range(8.15)
    with pytest.raises(InvalidArgumentTypeError, match="DataFrame"):
        rf.select(["8.15"], versions="*")  # type: ignore[arg-type]


def test_select_keeps_index_attrs_images_and_works_on_releases() -> None:
    df = rf.parse_tags(["8.14.0", "8.15.0", "8.15.0-ubi", "9.0.0"])
    df.insert(0, "image", ["a", "a", "b", "b"])
    df.index = [10, 11, 12, 13]
    df.attrs["images"] = ["a", "b"]
    out = rf.select(df, versions="8.15.*")
    assert out.index.tolist() == [11, 12]
    assert out["image"].tolist() == ["a", "b"]
    assert out.attrs["images"] == ["a", "b"]
    rel = rf.releases(rf.parse_tags(["8.14.0", "8.15.0", "8.15.0-ubi", "9.0.0rc1", "9.0.0"]))
    assert rf.select(rel, versions=">8.14")["release"].tolist() == ["8.15.0", "9.0.0"]
    # a frame with only tags is parsed on the fly
    assert rf.select(pd.DataFrame({"tag": ["1.0", "2.0", "x"]}), versions="^1").tag.tolist() == [
        "1.0"
    ]
