"""Prefixes and rebuild stamps downstream of parsing: releases, floating tags, aliases, order."""

from __future__ import annotations

import pandas as pd

import regframe as rf
from regframe.frame.columns import resolve_aliases

A, B, C = ("sha256:" + ch * 64 for ch in "abc")


def _dated(tags: list[str], days: list[int]) -> pd.DataFrame:
    df = rf.parse_tags(tags)
    df["created"] = pd.Timestamp("2024-08-01", tz="UTC") + pd.to_timedelta(days, unit="D")
    return df


def test_prefix_is_part_of_a_release() -> None:
    rel = rf.releases(rf.parse_tags(["jammy-20240808", "noble-20240808", "jammy", "22.04"]))
    got = rel[["prefix", "release"]].astype(object).values.tolist()
    assert got == [[pd.NA, "22.04"], ["jammy", "20240808"], ["noble", "20240808"]]
    assert str(rel["prefix"].dtype) == "string"


def test_floating_tags_are_found_within_a_prefix_only() -> None:
    tags = ["nanoserver-10.0.14393", "nanoserver-10.0.14393.1066", "10.0", "1809", "nanoserver-1809"]
    rel = rf.releases(rf.parse_tags(tags))
    got = set(zip(rel["prefix"].fillna(""), rel["release"], strict=True))
    # 10.0 has nothing longer without a prefix: it stays a release
    assert got == {("", "10.0"), ("", "1809"), ("nanoserver", "10.0.14393.1066"),
                   ("nanoserver", "1809")}  # fmt: skip


def test_rebuilds_are_one_release_dated_by_the_first_build() -> None:
    tags = ["1.25.3-debian-12-r5", "1.25.3-debian-12-r6", "1.25.3", "1.25.4-debian-12-r0"]
    rel = rf.releases(_dated(tags, [3, 9, 9, 20]))
    assert rel["release"].tolist() == ["1.25.3", "1.25.4"]
    first = rel.iloc[0]
    assert first["n_tags"] == 3
    assert first["variants"] == "debian-12"
    assert first["created"] == pd.Timestamp("2024-08-04", tz="UTC")
    assert first["tags"].split(",")[0] == "1.25.3"


def test_date_stamped_rebuilds_are_one_release_and_one_variant() -> None:
    tags = ["4.10.0-nginx-202501270601", "4.10.0-nginx-202502030602", "4.10.0-apache-202501270601"]
    df = rf.parse_tags(tags)
    assert df["variant"].tolist() == ["nginx", "nginx", "apache"]
    rel = rf.releases(df)
    assert rel["release"].tolist() == ["4.10.0"]
    assert rel["variants"].iloc[0] == "apache,nginx"


def test_aliases_resolve_within_their_prefix() -> None:
    df = rf.parse_tags(["22.04", "jammy", "jammy-20240808", "latest", "noble-20240808", "noble"])
    df["digest"] = [A, A, A, B, B, B]
    got = dict(zip(df["tag"], resolve_aliases(df), strict=True))
    assert got["jammy-20240808"] == "jammy-20240808"  # not 22.04: another prefix
    assert got["jammy"] == "22.04"  # no prefix: the unprefixed version wins
    assert got["22.04"] == "22.04"
    # nothing unprefixed shares B: the best tag of any prefix
    assert got["latest"] == "noble-20240808"
    assert got["noble"] == "noble-20240808"


def test_aliases_without_prefix_column_as_before() -> None:
    df = rf.parse_tags(["3.12", "3.12.1", "latest", "3.13"]).drop(columns=["prefix", "build"])
    df["digest"] = [A, A, A, C]
    assert resolve_aliases(df).tolist() == ["3.12.1", "3.12.1", "3.12.1", "3.13"]


def test_sort_keeps_prefixes_as_separate_lines() -> None:
    tags = ["noble-20240808", "24.04", "jammy-20240701", "jammy-20240808", "22.04", "latest"]
    up = rf.sort_tags(rf.parse_tags(tags))["tag"].tolist()
    assert up == ["22.04", "24.04", "jammy-20240701", "jammy-20240808", "noble-20240808", "latest"]
    down = rf.sort_tags(rf.parse_tags(tags), descending=True)["tag"].tolist()
    assert down == ["24.04", "22.04", "jammy-20240808", "jammy-20240701", "noble-20240808", "latest"]


def test_sort_rebuild_stamps_numerically() -> None:
    tags = ["1.25.3-debian-12-r10", "1.25.3-debian-12-r9", "1.25.3", "1.25.3-debian-12-r0"]
    got = rf.sort_tags(rf.parse_tags(tags))["tag"].tolist()
    assert got == ["1.25.3", "1.25.3-debian-12-r0", "1.25.3-debian-12-r9", "1.25.3-debian-12-r10"]


def test_sort_frame_without_prefix_columns_still_sorts() -> None:
    old = rf.parse_tags(["1.10", "1.9", "latest"]).drop(columns=["prefix", "build"])
    assert rf.sort_tags(old)["tag"].tolist() == ["1.9", "1.10", "latest"]


def test_csv_has_prefix_and_build_after_is_prerelease() -> None:
    text = rf.to_csv(rf.parse_tags(["jammy-20240808", "1.25.3-debian-12-r5"]))
    assert text is not None
    lines = text.splitlines()
    assert lines[0].endswith(",scheme,is_prerelease,prefix,build")
    assert lines[1] == "jammy-20240808,20240808,20240808,,,,,calver,False,jammy,"
    assert lines[2] == "1.25.3-debian-12-r5,1.25.3,1,25,3,,debian-12,semver,False,,r5"


def test_cli_table_shows_prefix_and_build_when_the_repository_uses_them(
    registry_open, unique_repo, capsys
) -> None:
    from regframe.cli import main

    p = registry_open.pusher
    p.push_image(unique_repo, ["jammy-20240808", "jammy"], created="2024-08-08T00:00:00Z")
    p.push_image(unique_repo, ["1.25.3-debian-12-r5", "1.25.3"], created="2024-08-09T00:00:00Z")
    assert main(["tags", registry_open.ref(unique_repo), "--dates"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:7] == ["tag", "prefix", "release", "prerelease", "variant", "build",
                                  "scheme"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert rows["jammy-20240808"][1:4] == ["jammy", "20240808", "calver"]
    assert rows["1.25.3-debian-12-r5"][1:5] == ["1.25.3", "debian-12", "r5", "semver"]
    # resolves_to stays within the prefix: jammy-20240808 is its own most specific tag
    assert "jammy-20240808" in rows["jammy"]
