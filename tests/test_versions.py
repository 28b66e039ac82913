"""Tests for regframe.parsing.versions: tag parsing and version ordering."""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regframe.parsing.versions import (
    COLUMNS,
    PRERELEASE_RANKS,
    SCHEMES,
    parse_tags,
    sort_tags,
    version_key,
)

CORPUS = Path(__file__).parent / "data" / "tag_corpus.csv"
VALUE_COLUMNS = [
    "release",
    "major",
    "minor",
    "patch",
    "prerelease",
    "variant",
    "scheme",
    "is_prerelease",
    "prefix",
    "build",
]
DIGEST = "sha256-" + "6cb9a9e6a4f3e6c2c01d0d2d0a3c7d5b9b8f2f3d40b1a9e2c7f4d3b2a1908070"
HYPO = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _load_corpus() -> list[dict[str, str]]:
    with CORPUS.open(newline="") as fh:
        return list(csv.DictReader(fh))


CORPUS_ROWS = _load_corpus()


def _expected(row: dict[str, str], column: str) -> object:
    raw = row[column]
    if raw == "":
        return None
    if column in ("major", "minor", "patch"):
        return int(raw)
    if column == "is_prerelease":
        return {"True": True, "False": False}[raw]
    return raw


def _value(x: object) -> object:
    return None if pd.isna(x) else x  # type: ignore[call-overload]


# --------------------------------------------------------------------------- corpus


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS_ROWS) >= 150
    images = {r["image"] for r in CORPUS_ROWS}
    assert len(images) >= 50
    assert {r["scheme"] for r in CORPUS_ROWS} == set(SCHEMES)
    assert sum(r["is_prerelease"] == "True" for r in CORPUS_ROWS) >= 30


@pytest.mark.parametrize("row", CORPUS_ROWS, ids=[f"{r['image']}:{r['tag']}" for r in CORPUS_ROWS])
def test_corpus_row(row: dict[str, str]) -> None:
    got = parse_tags([row["tag"]]).iloc[0]
    assert got["tag"] == row["tag"]
    for column in VALUE_COLUMNS:
        assert _value(got[column]) == _expected(row, column), column


def test_corpus_parsed_in_one_batch_matches_rows() -> None:
    tags = [r["tag"] for r in CORPUS_ROWS]
    df = parse_tags(tags)
    for i, row in enumerate(CORPUS_ROWS):
        for column in VALUE_COLUMNS:
            assert _value(df[column].iloc[i]) == _expected(row, column), (row["tag"], column)


# --------------------------------------------------------------------------- shape


def test_columns_and_dtypes() -> None:
    df = parse_tags(["3.12.1", "latest", "8.15.0-SNAPSHOT"])
    assert tuple(df.columns) == COLUMNS
    assert [str(t) for t in df.dtypes] == [
        "string",
        "string",
        "Int64",
        "Int64",
        "Int64",
        "string",
        "string",
        "category",
        "boolean",
        "string",
        "string",
    ]
    assert list(df["scheme"].cat.categories) == list(SCHEMES)
    assert SCHEMES == ("semver", "multipart", "calver", "named", "digest", "other")


def test_series_index_is_kept() -> None:
    s = pd.Series(["1.0", "latest", "2.0-rc1"], index=["x", "y", "z"], name="t")
    df = parse_tags(s)
    assert list(df.index) == ["x", "y", "z"]
    assert df.loc["z", "prerelease"] == "rc1"


def test_iterable_gets_range_index_in_order() -> None:
    df = parse_tags(t for t in ["b", "1.0", "a"])
    assert isinstance(df.index, pd.RangeIndex)
    assert list(df["tag"]) == ["b", "1.0", "a"]


def test_object_series_with_nulls_gives_na_rows() -> None:
    s = pd.Series(["1.2.3", None, "", np.nan, pd.NA, "latest"], index=[5, 4, 3, 2, 1, 0])
    df = parse_tags(s)
    assert list(df.index) == [5, 4, 3, 2, 1, 0]
    for label in (4, 3, 2, 1):
        row = df.loc[label]
        for column in COLUMNS[1:]:
            assert pd.isna(row[column]), (label, column)
    assert df.loc[5, "is_prerelease"] is np.False_ or df.loc[5, "is_prerelease"] is False
    assert df["is_prerelease"].isna().tolist() == [False, True, True, True, True, False]
    assert df["scheme"].isna().tolist() == [False, True, True, True, True, False]


def test_empty_input() -> None:
    df = parse_tags([])
    assert len(df) == 0
    assert tuple(df.columns) == COLUMNS
    assert str(df["major"].dtype) == "Int64"
    assert str(df["scheme"].dtype) == "category"


def test_single_string_or_frame_is_rejected() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        parse_tags("3.12.1")
    with pytest.raises(TypeError, match="df\\['tag'\\]"):
        parse_tags(pd.DataFrame({"tag": ["1.0"]}))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("tag", "release", "prerelease", "variant"),
    [
        # build metadata is dropped from the version columns
        ("1.2.3+build.5", "1.2.3", None, None),
        ("1.0.0-rc.1+exp.sha.5114f85", "1.0.0", "rc.1", None),
        ("17.0.12_7-jdk-jammy", "17.0.12", None, "jdk-jammy"),
        ("11.0.24_8", "11.0.24", None, None),
        ("3.9_slim", "3.9", None, "slim"),
        # hex build ids: 7-40 lowercase hex chars with a digit and a letter, after a separator
        ("1.0-abc1234", "1.0", "abc1234", None),
        ("1.0-deadbeef", "1.0", None, "deadbeef"),
        ("1.0-20240808", "1.0", None, "20240808"),
        ("1.0-abc123", "1.0", None, "abc123"),
        ("1.0-" + "a1" * 20, "1.0", "a1" * 20, None),
        ("1.0-" + "a1" * 20 + "b", "1.0", None, "a1" * 20 + "b"),
        ("1.0-ABC1234", "1.0", None, "ABC1234"),
        ("1.2.3abcdef1", "1.2.3", None, "abcdef1"),
        ("1.0-dev-731e78df-slim", "1.0", "dev-731e78df", "slim"),
        # words need a boundary after them
        ("1.0-alpine", "1.0", None, "alpine"),
        ("1.0-a", "1.0", "a", None),
        ("1.0-beta-2-slim", "1.0", "beta-2", "slim"),
        ("1.0-rclone", "1.0", None, "rclone"),
        ("1.0-m", "1.0", None, "m"),
        ("1.0-Milestone.2", "1.0", "Milestone.2", None),
        ("1.0-canary", "1.0", "canary", None),
        ("1.0-incubating", "1.0", "incubating", None),
        ("1.0.0-next.3", "1.0.0", "next.3", None),
        ("1.0-nightly-20240815-alpine", "1.0", "nightly-20240815", "alpine"),
        ("9.0.0-rc.1.24431.7", "9.0.0", "rc.1.24431.7", None),
        ("1.0.0.dev1", "1.0.0", "dev1", None),
        # separators around the variant are trimmed
        ("1.2.", "1.2", None, None),
        ("1.2--slim-", "1.2", None, "slim"),
        # a leading v only before a digit
        ("v1.2", "1.2", None, None),
        ("V1.2-rc1", "1.2", "rc1", None),
    ],
)
def test_rules(tag: str, release: str, prerelease: str | None, variant: str | None) -> None:
    row = parse_tags([tag]).iloc[0]
    assert _value(row["release"]) == release
    assert _value(row["prerelease"]) == prerelease
    assert _value(row["variant"]) == variant
    assert row["is_prerelease"] == (prerelease is not None)


@pytest.mark.parametrize(
    ("tag", "scheme"),
    [
        ("1999.1", "calver"),
        ("2099.12.31", "calver"),
        ("19991231", "calver"),
        ("20241301", "semver"),
        ("20240132", "semver"),
        ("1899.1", "semver"),
        ("2100.1", "semver"),
        ("02024.1", "semver"),
        ("202408", "semver"),
        ("1.2.3.4", "multipart"),
        ("1.2.3", "semver"),
        ("2024.1.2.3", "calver"),
        ("vnext", "named"),
        ("v", "named"),
        ("version-2", "semver"),
        ("version2", "other"),
        ("_", "named"),
        (DIGEST.upper(), "other"),
        (DIGEST + ".bundle", "other"),
        (DIGEST[:-1], "other"),
    ],
)
def test_scheme_edges(tag: str, scheme: str) -> None:
    assert parse_tags([tag])["scheme"].iloc[0] == scheme


def test_huge_numbers_do_not_overflow() -> None:
    df = parse_tags(["99999999999999999999.1.2", "1.99999999999999999999", "123456789012345678.1"])
    assert df["release"].tolist() == [
        "99999999999999999999.1.2",
        "1.99999999999999999999",
        "123456789012345678.1",
    ]
    assert pd.isna(df["major"].iloc[0])
    assert df["minor"].iloc[0] == 1
    assert pd.isna(df["minor"].iloc[1])
    assert df["major"].iloc[2] == 123456789012345678


def test_non_ascii_digits_are_not_numbers() -> None:
    df = parse_tags(["١.٢", "1.٢"])
    assert pd.isna(df["release"].iloc[0])
    assert df["release"].iloc[1] == "1"
    assert df["scheme"].iloc[0] == "named"


# --------------------------------------------------------------------------- properties

TAG = st.from_regex(re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII), fullmatch=True)


def _reconstruction(row: pd.Series) -> re.Pattern[str] | None:
    """The documented way back from the columns to the tag, as a pattern of the tag.

    ``prefix`` + ``-``/``_`` (nothing after a ``jdk``/``jre`` glued to ``8u…``),
    an optional ``v``, ``release``, ``prerelease`` after an optional ``-``/``.``,
    build metadata ``_N…``/``+…`` (not a column), then ``variant`` and ``build``
    each after separators, trailing separators.  None for rows without a release.
    """
    if pd.isna(row["release"]):
        return None
    parts = ["^"]
    if not pd.isna(row["prefix"]):
        parts.append(re.escape(row["prefix"]) + "(?:[-_]|(?<=jdk|jre|JDK|JRE))")
    parts.append("[vV]?" + re.escape(row["release"]))
    if not pd.isna(row["prerelease"]):
        parts.append("[-.]?" + re.escape(row["prerelease"]))
    parts.append(r"(?:_\d[0-9A-Za-z.]*|\+.*)?")
    if not pd.isna(row["variant"]):
        parts.append("[-._]*" + re.escape(row["variant"]))
    if not pd.isna(row["build"]):
        parts.append("[-._]*" + re.escape(row["build"]))
    parts.append("[-._]*$")
    return re.compile("".join(parts), re.DOTALL)


def _check_row(tag: str, row: pd.Series) -> None:
    """Every invariant a parsed row keeps, whatever the tag."""
    assert row["tag"] == tag
    scheme = row["scheme"]
    pattern = _reconstruction(row)
    if pattern is None:
        # no version: nothing else is filled in
        for column in ("major", "prerelease", "variant", "prefix", "build"):
            assert pd.isna(row[column]), (tag, column)
        assert scheme in ("named", "digest", "other"), tag
        if scheme == "named":
            assert not re.search(r"[0-9]", tag)
        elif scheme == "digest":
            assert tag.startswith("sha256-")
        return
    assert scheme in ("semver", "multipart", "calver"), tag
    assert pattern.match(tag), (tag, pattern.pattern)
    first = row["release"].split(".")[0]
    if len(first) <= 18:
        assert row["major"] == int(first)
    if pd.isna(row["prefix"]):
        assert re.match(r"[vV]?[0-9]", tag), tag
    else:
        # words before the version: letters and digits only, never a number first
        for word in re.split(r"-|(?<!x86)_", row["prefix"]):
            assert re.fullmatch(r"(?![vV]?[0-9])(?:x86_64|[A-Za-z0-9]+)", word), (tag, word)
    if not pd.isna(row["build"]):
        assert re.fullmatch(r"r[0-9]+|(?:19|20)[0-9]{6,12}", row["build"]), tag
    if not pd.isna(row["variant"]):
        assert row["variant"][0] not in "-._"
        assert row["variant"][-1] not in "-._"
        assert not re.search(r"(?:^|-)r[0-9]+$", row["variant"]), tag


@HYPO
@given(st.lists(TAG, max_size=30))
def test_never_raises_and_invariants_hold(tags: list[str]) -> None:
    df = parse_tags(tags)
    assert len(df) == len(tags)
    assert list(df["tag"]) == tags
    assert df["scheme"].notna().all()
    assert df["is_prerelease"].notna().all()
    assert (df["is_prerelease"] == df["prerelease"].notna()).all()
    for i, tag in enumerate(tags):
        _check_row(tag, df.iloc[i])
    # the vectorised pass gives what one-at-a-time parsing gives
    if tags:
        one = parse_tags(tags[:1]).iloc[0]
        assert [_value(x) for x in one] == [_value(x) for x in df.iloc[0]]


# Tags shaped like real ones: words, versions, prerelease words, variants and stamps.
REALISH = st.builds(
    "".join,
    st.lists(
        st.sampled_from(
            ["jammy", "jdk", "x86_64", "aarch64", "v", "sha", "nanoserver", "alpine", "1", "8u",
             "2024", "20240808", "3.12.1", "10.0.14393", "rc", "beta.2", "ea", "abc1234", "slim",
             "r5", "202501270601", "debian-12", "-", "_", ".", "+", "3.20"]
        ),
        max_size=8,
    ),
)  # fmt: skip


@HYPO
@given(st.lists(REALISH, max_size=30))
def test_realistic_shapes_keep_the_invariants(tags: list[str]) -> None:
    df = parse_tags(tags)
    for i, tag in enumerate(tags):
        if tag:
            _check_row(tag, df.iloc[i])


@HYPO
@given(st.lists(REALISH, max_size=40), st.randoms(use_true_random=False), st.booleans())
def test_realistic_shapes_sort_the_same_whatever_the_input_order(
    tags: list[str], rnd: random.Random, descending: bool
) -> None:
    shuffled = tags[:]
    rnd.shuffle(shuffled)
    a = sort_tags(parse_tags(tags), descending=descending)["tag"].tolist()
    b = sort_tags(parse_tags(shuffled), descending=descending)["tag"].tolist()
    assert a == b
    assert sort_tags(pd.DataFrame({"tag": a}), descending=descending)["tag"].tolist() == a
    # prefixes are separate lines: each prefix's tags are contiguous among the versioned ones
    parsed = sort_tags(parse_tags(tags), descending=descending)
    versioned = parsed[parsed["release"].notna()]
    seen = list(dict.fromkeys(versioned["prefix"].fillna("").tolist()))
    assert seen == sorted(seen)


RELEASE = st.lists(st.integers(0, 10**7), min_size=1, max_size=6).map(
    lambda xs: ".".join(map(str, xs))
)
SUFFIX = st.one_of(
    st.just(""),
    st.from_regex(re.compile(r"[-._]?[A-Za-z][A-Za-z0-9_.-]{0,20}", re.ASCII), fullmatch=True),
    st.from_regex(re.compile(r"_[0-9]{1,3}(-[a-z]{1,8})?", re.ASCII), fullmatch=True),
)


@HYPO
@given(RELEASE, SUFFIX, st.sampled_from(["", "v", "V"]))
def test_release_round_trips(release: str, suffix: str, prefix: str) -> None:
    row = parse_tags([prefix + release + suffix]).iloc[0]
    assert row["release"] == release
    numbers = [int(x) for x in release.split(".")]
    for column, i in (("major", 0), ("minor", 1), ("patch", 2)):
        expected = numbers[i] if i < len(numbers) else None
        assert _value(row[column]) == expected
    assert row["scheme"] in ("semver", "multipart", "calver")


VERSION_TUPLES = st.lists(
    st.lists(st.integers(0, 3000), min_size=1, max_size=5).map(tuple),
    min_size=1,
    max_size=25,
    unique=True,
)


@HYPO
@given(VERSION_TUPLES, st.randoms(use_true_random=False))
def test_sort_respects_numeric_order(versions: list[tuple[int, ...]], rnd: random.Random) -> None:
    tags = [".".join(map(str, v)) for v in versions]
    rnd.shuffle(tags)
    got = sort_tags(pd.DataFrame({"tag": tags}))["tag"].tolist()
    assert got == [".".join(map(str, v)) for v in sorted(versions)]
    down = sort_tags(pd.DataFrame({"tag": tags}), descending=True)["tag"].tolist()
    assert down == got[::-1]


@HYPO
@given(st.lists(TAG, max_size=30), st.randoms(use_true_random=False))
def test_sort_is_a_total_order(tags: list[str], rnd: random.Random) -> None:
    shuffled = tags[:]
    rnd.shuffle(shuffled)
    a = sort_tags(parse_tags(tags))["tag"].tolist()
    b = sort_tags(parse_tags(shuffled))["tag"].tolist()
    assert a == b
    assert sorted(a) == sorted(tags)
    # sorting an already sorted list changes nothing
    assert sort_tags(pd.DataFrame({"tag": a}))["tag"].tolist() == a
    # the documented key gives the same order
    key = version_key(parse_tags(shuffled))
    by_key = key.sort_values(list(key.columns), kind="mergesort")["tag"].tolist()
    assert by_key == [t for t in a]


WORDS = st.sampled_from(
    [
        "a",
        "alpha",
        "b",
        "beta",
        "rc",
        "RC",
        "dev",
        "SNAPSHOT",
        "ea",
        "M",
        "preview",
        "pre",
        "milestone",
        "nightly",
        "canary",
        "next",
        "c",
    ]
)


@HYPO
@given(
    RELEASE,
    WORDS,
    st.sampled_from(["", "1", "12", ".3", "-4"]),
    st.sampled_from(["", "-", "."]),
    st.sampled_from(["", "-slim", "-alpine3.20"]),
)
def test_prerelease_sorts_below_final(
    release: str, word: str, num: str, sep: str, variant: str
) -> None:
    if word == "M" and not num[:1].isdigit():
        num = "3"  # a milestone needs its number
    pre_tag = release + sep + word + num + variant
    final = release + variant
    parsed = parse_tags([pre_tag]).iloc[0]
    assert parsed["release"] == release
    assert parsed["is_prerelease"]
    bumped = release + ".1"
    got = sort_tags(pd.DataFrame({"tag": [bumped, final, pre_tag]}))["tag"].tolist()
    assert got == [pre_tag, final, bumped]


# --------------------------------------------------------------------------- sort_tags examples


def _sorted(tags: Sequence[str | None], descending: bool = False) -> list[str | None]:
    df = pd.DataFrame({"tag": pd.Series(list(tags), dtype="string")})
    return [_value(t) for t in sort_tags(df, descending=descending)["tag"]]  # type: ignore[misc]


def test_sort_numeric_not_string() -> None:
    # a prerelease sits below its own final; a shorter release below a longer one
    assert _sorted(["1.10", "1.9", "1.2", "1.10.0", "1.10rc1", "1.10.0rc1"]) == [
        "1.2",
        "1.9",
        "1.10rc1",
        "1.10",
        "1.10.0rc1",
        "1.10.0",
    ]


def test_sort_multipart_windows() -> None:
    assert _sorted(["10.0.20348.1", "10.0.17763.6189", "10.0.17763.10", "10.0.20348.2655"]) == [
        "10.0.17763.10",
        "10.0.17763.6189",
        "10.0.20348.1",
        "10.0.20348.2655",
    ]


def test_sort_prereleases() -> None:
    tags = [
        "3.13.0",
        "3.13.0rc10",
        "3.13.0rc2",
        "3.13.0b1",
        "3.13.0a7",
        "3.13.0a1",
        "3.12.5",
        "3.14.0a1",
    ]
    assert _sorted(tags) == [
        "3.12.5",
        "3.13.0a1",
        "3.13.0a7",
        "3.13.0b1",
        "3.13.0rc2",
        "3.13.0rc10",
        "3.13.0",
        "3.14.0a1",
    ]


def test_sort_prerelease_word_ranks() -> None:
    order = [
        "1.0-dev",
        "1.0-ea-3",
        "1.0-alpha.1",
        "1.0-beta.2",
        "1.0-M3",
        "1.0-preview.1",
        "1.0-rc.1",
        "1.0",
    ]
    shuffled = order[::-1]
    assert _sorted(shuffled) == order
    assert PRERELEASE_RANKS["rc"] > PRERELEASE_RANKS["beta"] > PRERELEASE_RANKS["alpha"]


def test_sort_variants_are_separate_lines() -> None:
    tags = ["3.12.5-slim", "3.12.5", "3.12.5-alpine", "3.12.4-slim", "3.12.4"]
    assert _sorted(tags) == ["3.12.4", "3.12.4-slim", "3.12.5", "3.12.5-alpine", "3.12.5-slim"]
    # descending: newest release first, variants of one release still plain-first, a-z
    assert _sorted(tags, descending=True) == [
        "3.12.5",
        "3.12.5-alpine",
        "3.12.5-slim",
        "3.12.4",
        "3.12.4-slim",
    ]


def test_sort_elasticsearch() -> None:
    tags = ["8.15.0-SNAPSHOT", "8.15.0", "8.14.3", "8.15.0-arm64", "9.0.0-beta1", "8.15.0-amd64"]
    assert _sorted(tags, descending=True) == [
        "9.0.0-beta1",
        "8.15.0",
        "8.15.0-amd64",
        "8.15.0-arm64",
        "8.15.0-SNAPSHOT",
        "8.14.3",
    ]


def test_sort_build_numbers() -> None:
    tags = ["17.0.12_10-jdk", "17.0.12_7-jdk", "17.0.11_9-jdk", "17.0.12_7-jre"]
    assert _sorted(tags) == ["17.0.11_9-jdk", "17.0.12_7-jdk", "17.0.12_7-jre", "17.0.12_10-jdk"]


def test_sort_unversioned_last_both_ways() -> None:
    tags = [DIGEST + ".sig", "latest", None, "2.0", "ltsc2022", "1.0", "", "alpine"]
    tail = ["alpine", "latest", "ltsc2022", DIGEST + ".sig"]
    up = _sorted(tags)
    down = _sorted(tags, descending=True)
    assert up[:6] == ["1.0", "2.0", *tail]
    assert down[:6] == ["2.0", "1.0", *tail]
    assert {up[6], up[7]} == {None, ""}
    assert {down[6], down[7]} == {None, ""}


def test_sort_ties_break_on_tag() -> None:
    assert _sorted(["v1.2", "1.2", "V1.2"]) == ["1.2", "V1.2", "v1.2"]
    assert _sorted(["1.2-rc1", "1.2rc1", "1.2.rc1"]) == ["1.2-rc1", "1.2.rc1", "1.2rc1"]


def test_sort_keeps_frame_columns_index_and_attrs() -> None:
    df = pd.DataFrame({"tag": ["2.0", "1.0", "latest"], "size": [3, 2, 1]}, index=[10, 20, 30])
    df.attrs["repository"] = "library/x"
    out = sort_tags(df)
    assert list(out.columns) == ["tag", "size"]
    assert list(out.index) == [20, 10, 30]
    assert list(out["size"]) == [2, 3, 1]
    assert out.attrs["repository"] == "library/x"


def test_sort_uses_existing_version_columns_even_from_csv() -> None:
    parsed = parse_tags(["1.10", "1.9", "latest"])
    as_object = parsed.astype(object)
    assert sort_tags(as_object)["tag"].tolist() == ["1.9", "1.10", "latest"]
    # the version columns are trusted when present
    fake = parsed.assign(release=pd.Series(["1", "2", pd.NA], dtype="string"))
    assert sort_tags(fake)["tag"].tolist() == ["1.10", "1.9", "latest"]


def test_sort_duplicate_index_and_empty() -> None:
    df = pd.DataFrame({"tag": ["2", "1", "3"]}, index=[0, 0, 0])
    assert sort_tags(df)["tag"].tolist() == ["1", "2", "3"]
    empty = pd.DataFrame({"tag": pd.Series([], dtype="string")})
    assert sort_tags(empty).empty
    assert list(version_key(empty).columns)[:5] == ["group", "prefix", "n0", "n1", "n2"]


def test_sort_requires_tag_column() -> None:
    with pytest.raises(ValueError, match="'tag' column"):
        sort_tags(pd.DataFrame({"name": ["1.0"]}))


# --------------------------------------------------------------------------- version_key


def test_version_key_columns() -> None:
    df = parse_tags(
        ["10.0.17763.6189", "3.13.0rc2-slim", "17.0.12_7-jdk", "latest", None],
    )
    df.index = list("abcde")
    key = version_key(df)
    assert list(key.index) == list("abcde")
    assert list(key.columns) == [
        "group",
        "prefix",
        "n0",
        "n1",
        "n2",
        "n3",
        "pre_rank",
        "pre_num",
        "pre",
        "build",
        "has_variant",
        "variant",
        "stamp",
        "tag",
    ]
    assert not key.isna().any().any()
    assert key["group"].tolist() == [0, 0, 0, 1, 4]
    assert list(key.loc["a", ["n0", "n1", "n2", "n3"]]) == [10, 0, 17763, 6189]
    assert list(key.loc["b", ["n3", "pre_rank", "pre_num", "pre"]]) == [-1, 70, 2, "rc2"]
    assert key.loc["c", "build"] == 7
    assert list(key.loc["b", ["has_variant", "variant"]]) == [1, "slim"]
    assert key.loc["a", "pre_rank"] == 100
