"""``rf.newest`` and ``rf.explain`` on tags quoted in other tools' trackers and regframe's hard cases.

Sources of the quoted tags: argoproj-labs/argocd-image-updater#361 (``1.0.2-f3ba42e`` must
not be newest), #426 (``v1.0.1-64.272fa09``), #626 (``rc10`` after ``rc9``), fluxcd
image-reflector-controller#120 and Masterminds/semver#149 (``git describe`` tags such as
``0.11.0-20.g070e4a9``), the issue's own ``2.0.330-63-gc1cfb6864`` and ``alpine-v15.7.1``.
"""

from __future__ import annotations

import pandas as pd
import pytest

import regframe as rf
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError

NOW = pd.Timestamp("2024-10-01", tz="UTC")


def dated(tags: list[str], days: list[int]) -> pd.DataFrame:
    df = rf.parse_tags(tags)
    df["created"] = pd.to_datetime([NOW - pd.Timedelta(days=d) for d in days], utc=True)
    return df


def test_newest_per_line_skips_prereleases_and_aliases() -> None:
    df = dated(
        ["1.0.2-f3ba42e", "1.0.1", "1.0.0", "1.0", "latest", "1.1.0-rc1"], [1, 10, 20, 10, 10, 2]
    )
    out = rf.newest(df, now=NOW)
    assert out["release"].tolist() == ["1.0.1"]
    assert out["age"].tolist() == [10.0]
    assert out["released"].iloc[0] == NOW - pd.Timedelta(days=10)
    assert out["why"].iloc[0] == "newest final of 2 releases in line 1.0; next below: 1.0.0"
    with_pre = rf.newest(df, by=None, prereleases=True, now=NOW)
    assert with_pre["release"].tolist() == ["1.1.0"] and with_pre["prerelease"].tolist() == ["rc1"]


def test_rc10_is_newer_than_rc9() -> None:
    out = rf.newest(rf.parse_tags(["7.8.0-rc9", "7.8.0-rc10"]), prereleases=True)
    assert out["tags"].tolist() == ["7.8.0-rc10"]


def test_variant_never_crosses_over() -> None:
    df = rf.parse_tags(
        ["3.12.7-alpine", "3.12.8-slim", "3.12.8", "3.13.0-slim", "3.12.9-alpine3.20"]
    )
    assert rf.newest(df, variant="alpine")["tags"].tolist() == ["3.12.7-alpine"]
    assert rf.newest(df, variant="slim", by="major")["release"].tolist() == ["3.13.0"]
    assert rf.newest(df, variant="")["tags"].tolist() == ["3.12.8"]
    assert rf.newest(df, by="major")["release"].tolist() == ["3.13.0"]
    with pytest.raises(InvalidArgumentTypeError):
        rf.newest(df, variant=3)  # type: ignore[arg-type]


def test_prefixes_and_images_are_groups_of_their_own() -> None:
    df = rf.parse_tags(["jammy-20240808", "jammy-20240901", "noble-20240701", "22.04", "24.04"])
    by_prefix = rf.newest(df, by="prefix")
    assert by_prefix["tags"].tolist() == ["24.04", "jammy-20240901", "noble-20240701"]
    two = pd.concat([df.assign(image="ubuntu"), rf.parse_tags(["1.2", "1.10"]).assign(image="x")])
    two = two[["image", *df.columns]]
    assert rf.newest(two, by="image")["image"].tolist() == ["ubuntu", "x"]
    assert rf.newest(two, by="image")["tags"].tolist()[1] == "1.10"
    with pytest.raises(InvalidArgumentError, match="by= takes one of"):
        rf.newest(df, by="minor")  # type: ignore[arg-type]


def test_released_is_preferred_to_created() -> None:
    # released (from rf.releases once it carries it) wins over the rebuild time in created
    df = dated(["2.0.0", "2.0.1"], [400, 5])
    out = rf.newest(df, now=NOW)
    assert out["age"].tolist() == [5.0]
    assert str(out["released"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("tag", "says"),
    [
        (
            "2.0.330-63-gc1cfb6864",
            "git describe output, 63 commits after 2.0.330 (commit c1cfb6864)",
        ),
        ("0.11.0-20.g070e4a9", "20 commits after 0.11.0 (commit 070e4a9)"),
        ("v1.0.1-64.272fa09", "64 commits after 1.0.1"),
        (
            "alpine-v15.7.1",
            "prefix 'alpine' (the words before the version: a line of its own), release 15.7.1 after the 'v'",
        ),
        (
            "1.0.2-f3ba42e",
            "prerelease f3ba42e (a build id: ranks with development builds, before 1.0.2)",
        ),
        (
            "3.13.0rc2-slim-bookworm",
            "prerelease rc2 (a release candidate, before 3.13.0), variant 'slim-bookworm'",
        ),
        (
            "1.25.3-debian-12-r5",
            "variant 'debian-12' (a line of its own beside 1.25.3), rebuild stamp r5",
        ),
        ("10.0.17763.6189", "multipart: 4 or more numbers"),
        ("RELEASE.2024-08-03T04-33-23Z", "no version (scheme other)"),
        ("latest", "no version: a name without digits"),
    ],
)
def test_explain_reads_each_hard_case(tag: str, says: str) -> None:
    df = rf.parse_tags([tag, "0.0.1"])
    line = rf.explain(df, tag)
    assert line.startswith(f"{tag}: ")
    assert says in line
    assert "\n" not in line


def test_explain_says_where_it_sorts() -> None:
    df = rf.parse_tags(["2.0.329", "2.0.330", "2.0.330-63-gc1cfb6864", "2.0.331", "alpine-v15.7.1"])
    assert rf.explain(df, "2.0.330-63-gc1cfb6864").endswith(
        "sorts with 2.0.330 (same version) and before 2.0.331 (2nd of 3 versions)"
    )
    assert rf.explain(df, "2.0.331").endswith(
        "sorts last: the newest of 3 versions (after 2.0.330)"
    )
    assert rf.explain(df, "alpine-v15.7.1").endswith(
        "sorts alone: the only version with prefix 'alpine'"
    )
    assert rf.explain(df, "2.0.329").endswith("sorts before 2.0.330 (1st of 3 versions)")


def test_explain_on_several_images_and_bad_input() -> None:
    df = pd.concat(
        [rf.parse_tags(["1.0", "1.1"]).assign(image="a"), rf.parse_tags(["1.0"]).assign(image="b")]
    )
    with pytest.raises(InvalidArgumentError, match="in 2 images"):
        rf.explain(df, "1.0")
    assert rf.explain(df, "1.0", image="a").endswith("sorts before 1.1 (1st of 2 versions)")
    assert rf.explain(df, "1.1").endswith("(after 1.0)")
    with pytest.raises(InvalidArgumentError, match="not in the frame"):
        rf.explain(df, "2.0")
    with pytest.raises(InvalidArgumentTypeError):
        rf.explain(["1.0"], "1.0")  # type: ignore[arg-type]
