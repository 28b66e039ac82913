"""The real-world tag corpus (tests/data/tag_families.csv) and realistic repositories parse as expected."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest

from regframe.parsing.versions import parse_tags
from tests import tag_families as tf

ROWS = tf.load()
CHECKED = ["prefix", "release", "major", "minor", "patch", "prerelease", "variant", "build",
           "scheme", "is_prerelease"]  # fmt: skip


def _text(value: object) -> str:
    return "" if pd.isna(value) else str(value)  # type: ignore[call-overload]


def test_corpus_is_large_and_spans_families() -> None:
    assert len(ROWS) >= 1000
    families = Counter(r["family"] for r in ROWS)
    assert len(families) >= 15
    assert min(families.values()) >= 10
    assert len({(r["family"], r["tag"]) for r in ROWS}) == len(ROWS)
    assert {r["scheme"] for r in ROWS} == {"semver", "multipart", "calver", "named", "digest", "other"}
    assert sum(r["prefix"] != "" for r in ROWS) >= 300
    assert sum(r["build"] != "" for r in ROWS) >= 100


def test_corpus_file_is_what_the_conventions_write() -> None:
    # the readable table is generated: a hand edit would drift from the conventions
    assert tf.CSV_PATH.read_text() == tf.render()


def test_every_corpus_tag_parses_to_its_expected_columns() -> None:
    df = parse_tags([r["tag"] for r in ROWS])
    wrong = []
    for row, (_, got) in zip(ROWS, df.iterrows(), strict=True):
        for column in CHECKED:
            if _text(got[column]) != row[column]:
                wrong.append(f"{row['family']} {row['tag']}: {column} {_text(got[column])!r}"
                             f" != {row[column]!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong[:30])


@pytest.mark.parametrize("family", list(tf.FAMILIES))
def test_one_family_alone_parses_like_the_whole_corpus(family: str) -> None:
    rows = [r for r in ROWS if r["family"] == family]
    alone = parse_tags([r["tag"] for r in rows])
    assert [_text(x) for x in alone["variant"]] == [r["variant"] for r in rows]
    assert [_text(x) for x in alone["prefix"]] == [r["prefix"] for r in rows]


@pytest.mark.parametrize(
    "tag",
    ["xenial-20170119", "trusty-20150228.11", "jammy-20240808", "aarch64-ubuntu-jdk-11.0.1.13-slim",
     "jdk-11.0.2.9-alpine-slim", "jdk-11.28", "master-6140", "nanoserver-10.0.14393.1066",
     "1709_KB4048955", "10.0.14393.2189_fr-fr", "alpine-v15.7.1", "4.10.0-nginx-202501270601",
     "3.3-openresty-alpine-fat-202402070602", "1.25.3-debian-12-r5"],
)  # fmt: skip
def test_the_reported_families_have_versions(tag: str) -> None:
    row = parse_tags([tag]).iloc[0]
    assert row["scheme"] in ("semver", "multipart", "calver")
    assert not re.search(r"-(?:r\d+|\d{12})$", _text(row["variant"]))


REPOS = tf.repositories()


@pytest.mark.parametrize("name", [n for n in REPOS if n not in tf.HIGH_OTHER])
def test_realistic_repository_is_almost_all_versioned(name: str) -> None:
    df = parse_tags(REPOS[name])
    share = (df["scheme"] == "other").mean()
    assert share < 0.02, (name, share, sorted(set(df.loc[df["scheme"] == "other", "tag"]))[:10])


def test_repositories_that_stay_other_are_the_documented_ones() -> None:
    distroless = parse_tags(REPOS["distroless/static"])
    others = distroless.loc[distroless["scheme"] == "other", "tag"]
    assert others.str.fullmatch(r"[a-z-]+-(?:amd64|arm64|s390x|ppc64le|riscv64)").all()
    commits = parse_tags(REPOS["ci: a commit tag per push"])
    others = commits.loc[commits["scheme"] == "other", "tag"]
    assert others.str.fullmatch(r"sha-[0-9a-f]{7}").all()
    # everything else is a branch, a pull request or a version (or a commit id without digits)
    rest = commits.loc[commits["scheme"] != "other"]
    assert rest["tag"].str.match(r"main|latest|pr-\d|\d").where(rest["scheme"] != "named", True).all()
