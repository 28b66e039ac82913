"""Dates that cannot be right are dropped, with the reason in ``date_note`` (regframe.frame.plausible).

The stamps come from real builders, as their users reported them:

* Cloud Native Buildpacks / Paketo: ``created`` ``1980-01-01T00:00:01Z`` on every image
  (GoogleCloudPlatform/buildpacks#21, paketo-buildpacks/builder#53, buildpacks/pack#931);
* a devbox shell exports ``SOURCE_DATE_EPOCH=315532800``, i.e. ``1980-01-01T00:00:00Z``
  (jetify-com/devbox#2597);
* ko, bazel (distroless) and nix write the Unix epoch (GoogleContainerTools/distroless#112,
  google/go-containerregistry#273): already no date at all, so no note;
* GDAL sets ``SOURCE_DATE_EPOCH`` to the release date, so every variant of 3.9.2 says
  ``2024-08-16T09:00:00Z`` (OSGeo/gdal#11015) — built together, and kept;
* a workflow may hard-code ``SOURCE_DATE_EPOCH`` (Docker's reproducible-builds guide shows
  the ``env: SOURCE_DATE_EPOCH: 0`` form); a fixed value after 2013 is then shared by every
  release.

The images are pushed into the REAL local registry (regframe.testing.pusher) and read back
through ``read_tags``; only the push-time cases use a scripted GCR-shaped registry (no
registry here reports push times) and frames built directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from regframe.client.tag_metadata import TagMetadata
from regframe.frame.columns import assemble_metadata
from regframe.frame.plausible import SHARED_RELEASES, flag_implausible_dates
from regframe.testing.sandbox import Sandbox
from tests.scripted import ScriptedServer
from tests.test_fastpaths import dg, hub_tag, serve_hub

PAKETO = "1980-01-01T00:00:01Z"
DEVBOX = "1980-01-01T00:00:00Z"
GDAL_3_9_2 = "2024-08-16T09:00:00Z"
GOOD = "2024-05-06T07:08:09Z"
READ = pd.Timestamp("2026-01-01T00:00:00Z")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def frame(rows: dict[str, TagMetadata]) -> pd.DataFrame:
    return assemble_metadata(rf.parse_tags(list(rows)), list(rows.values()))


def built(n: object, when: str, **extra: object) -> TagMetadata:
    """An image ``n`` (its own digest) built at ``when``, as a config read finds it."""
    return TagMetadata(
        digest=dg(n), created_ns=ts(when).value, created_source="config", **extra
    )  # type: ignore[arg-type]


def notes(df: pd.DataFrame) -> dict[str, str]:
    return {t: n for t, n in zip(df["tag"], df["date_note"], strict=True) if not pd.isna(n)}


# --------------------------------------------------------------------------- the real registry


def test_builder_stamps_are_dropped_from_a_real_read(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path
) -> None:
    p = registry_open.pusher
    p.push_image(unique_repo, ["1.0.0"], created=PAKETO, layers=[b"paketo"])
    p.push_image(unique_repo, ["1.1.0"], created=DEVBOX, layers=[b"devbox"])
    p.push_image(unique_repo, ["0.9.0"], created="1970-01-01T00:00:00Z", layers=[b"ko"])
    p.push_image(unique_repo, ["1.2.0", "latest"], created=GOOD, layers=[b"good"])
    store = tmp_path / "h.sqlite"
    image = registry_open.ref(unique_repo)
    df = rf.read_tags(image, dates=True, cache=False, history=store).set_index("tag")

    assert df.loc["1.0.0", "date_note"] == (
        f"created {PAKETO} dropped: before 2013, older than any container image"
    )
    assert df.loc["1.1.0", "date_note"].startswith(f"created {DEVBOX} dropped: before 2013")
    for tag in ("1.0.0", "1.1.0", "0.9.0"):
        assert pd.isna(df.loc[tag, "created"]) and pd.isna(df.loc[tag, "created_source"])
    assert pd.isna(df.loc["0.9.0", "date_note"])  # the epoch was never a date: nothing dropped
    assert df.loc["latest", "created"] == ts(GOOD) and pd.isna(df.loc["latest", "date_note"])
    assert df["error"].isna().all()  # a dropped date is not a failed read

    # The store keeps what the registry said; a frame answered from it is checked again.
    with sqlite3.connect(store) as con:
        raw = dict(con.execute("SELECT tag, created FROM intervals").fetchall())
    con.close()
    assert raw["1.0.0"] == ts(PAKETO).value
    again = rf.read_tags(image, dates=True, history=store, max_age="1h").set_index("tag")
    pd.testing.assert_series_equal(again["date_note"], df["date_note"])
    assert pd.isna(again.loc["1.0.0", "created"])

    text = rf.to_csv(df.reset_index())
    assert f"created {PAKETO} dropped: before 2013" in text


def test_variants_of_one_release_share_a_build_time_and_keep_it(
    registry_open: Sandbox, unique_repo: str
) -> None:
    """GDAL's images: one SOURCE_DATE_EPOCH (the release date) for every variant of 3.9.2."""
    p = registry_open.pusher
    for variant in ("ubuntu-small", "ubuntu-full", "alpine-small", "alpine-normal"):
        tags = [f"{variant}-3.9.2", f"{variant}-latest"]
        p.push_image(unique_repo, tags, created=GDAL_3_9_2, layers=[variant.encode()])
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False, history=False)
    assert df["digest"].nunique() == 4
    assert (df["created"] == ts(GDAL_3_9_2)).all()
    assert df["date_note"].isna().all()


def test_one_build_time_for_two_patches_is_a_placeholder(
    registry_open: Sandbox, unique_repo: str
) -> None:
    fixed = "2024-01-01T00:00:00Z"  # SOURCE_DATE_EPOCH=1704067200, hard-coded
    p = registry_open.pusher
    p.push_image(unique_repo, ["3.12.7", "3.12.7-slim"], created=fixed, layers=[b"a"])
    p.push_image(unique_repo, ["3.12.8", "3.12"], created=fixed, layers=[b"b"])
    p.push_image(unique_repo, ["3.11.9"], created=GOOD, layers=[b"c"])
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False, history=False)
    by_tag = df.set_index("tag")
    dropped = ["3.12", "3.12.7", "3.12.7-slim", "3.12.8"]
    assert by_tag.loc[dropped, "created"].isna().all()
    note = by_tag.loc["3.12.8", "date_note"]
    assert note.startswith(f"created {fixed} dropped: the same build time as 1 other image(s)")
    assert "2 releases (3.12.7, 3.12.8)" in note and "SOURCE_DATE_EPOCH" in note
    assert by_tag.loc["3.11.9", "created"] == ts(GOOD)


def test_several_images_are_checked_one_by_one(registry_open: Sandbox, unique_repo: str) -> None:
    """A build time shared across repositories is no placeholder: each image is its own."""
    p = registry_open.pusher
    repos = [f"{unique_repo}-{i}" for i in range(SHARED_RELEASES)]
    for i, repo in enumerate(repos):
        p.push_image(repo, [f"{i}.0"], created=GOOD, layers=[repo.encode()])
    df = rf.read_tags([registry_open.ref(r) for r in repos], dates=True, cache=False)
    assert len(df) == SHARED_RELEASES and (df["created"] == ts(GOOD)).all()
    assert df["date_note"].isna().all()


# --------------------------------------------------------------------------- frames: each rule


def test_many_releases_sharing_one_build_time_at_the_threshold() -> None:
    fixed = "2024-01-01T00:00:00Z"
    below = frame({f"1.{i}": built(i, fixed) for i in range(SHARED_RELEASES - 1)})
    flag_implausible_dates(below, read_at=READ)
    assert below["date_note"].isna().all()  # seven minor lines built in one job: kept
    at = frame({f"1.{i}": built(i, fixed) for i in range(SHARED_RELEASES)})
    flag_implausible_dates(at, read_at=READ)
    assert at["created"].isna().all()
    assert "of 8 releases (1.0, 1.1, 1.2, …)" in at["date_note"].iloc[0]


def test_many_variants_of_few_releases_keep_a_shared_build_time() -> None:
    """Images are counted by release, not by digest: variants built together stay."""
    fixed = "2024-01-01T00:00:00Z"
    variants = ["slim", "alpine", "bookworm", "bullseye", "trixie", "windowsservercore"]
    rows = {
        f"{release}-{variant}": built(f"{release}{variant}", fixed)
        for release in ("3.12.8", "3.13.1")
        for variant in variants
    }
    df = frame(rows)
    assert df["digest"].nunique() == 12 > SHARED_RELEASES
    flag_implausible_dates(df, read_at=READ)
    assert df["date_note"].isna().all() and (df["created"] == ts(fixed)).all()


def test_images_without_versions_sharing_one_build_time() -> None:
    fixed = "2024-01-01T00:00:00Z"
    shas = {f"sha-{i:07x}": built(f"sha{i}", fixed) for i in range(SHARED_RELEASES)}
    df = frame({**shas, "main": built("sha0", fixed)})  # main: the same image as sha-0000000
    flag_implausible_dates(df, read_at=READ)
    assert df["created"].isna().all()
    assert "8 releases (no version tags)" in df["date_note"].iloc[0]
    few = frame(dict(list(shas.items())[:3]))
    flag_implausible_dates(few, read_at=READ)
    assert few["date_note"].isna().all()


def test_dates_after_the_read() -> None:
    df = frame({
        "1.0": built(1, "2026-01-01T23:00:00Z"),  # 23 h after the read: a clock may be off
        "2.0": built(2, "2026-01-02T01:00:00Z"),  # 25 h after: from the future
        "3.0": built(3, "2099-01-01T00:00:00Z"),
    })  # fmt: skip
    flag_implausible_dates(df, read_at=READ)
    assert notes(df) == {
        "2.0": "created 2026-01-02T01:00:00Z dropped: more than a day after the read "
        "(2026-01-01T00:00:00Z)",
        "3.0": "created 2099-01-01T00:00:00Z dropped: more than a day after the read "
        "(2026-01-01T00:00:00Z)",
    }
    assert df.set_index("tag").loc["1.0", "created"] == ts("2026-01-01T23:00:00Z")


def test_push_times_before_2013_or_after_the_read() -> None:
    def pushed(n: int, when: str) -> TagMetadata:
        return TagMetadata(digest=dg(n), pushed_ns=ts(when).value, pushed_source="hub")

    df = frame({
        "1.0": pushed(1, "2012-12-31T23:59:59Z"),
        "2.0": pushed(2, "2013-01-01T00:00:00Z"),
        "3.0": pushed(3, "2026-01-03T00:00:00Z"),
    })  # fmt: skip
    flag_implausible_dates(df, read_at=READ)
    by_tag = df.set_index("tag")
    assert by_tag.loc["1.0", "date_note"] == (
        "pushed 2012-12-31T23:59:59Z dropped: before 2013, older than any container image"
    )
    assert pd.isna(by_tag.loc["1.0", "pushed"]) and pd.isna(by_tag.loc["1.0", "pushed_source"])
    assert by_tag.loc["2.0", "pushed"] == ts("2013-01-01T00:00:00Z")
    assert by_tag.loc["3.0", "date_note"].startswith("pushed 2026-01-03T00:00:00Z dropped: more")


def test_build_after_push_drops_the_build_time() -> None:
    def both(n: int, created: str, pushed: str) -> TagMetadata:
        return built(n, created, pushed_ns=ts(pushed).value, pushed_source="gcr")

    df = frame({
        "1.0": both(1, "2024-05-01T10:59:00Z", "2024-05-01T10:00:00Z"),  # 59 min: clock skew
        "2.0": both(2, "2024-05-01T12:00:01Z", "2024-05-01T10:00:00Z"),
        "3.0": both(3, PAKETO, "2024-05-01T10:00:00Z"),  # dropped once, for its own reason
    })  # fmt: skip
    flag_implausible_dates(df, read_at=READ)
    assert notes(df) == {
        "2.0": "created 2024-05-01T12:00:01Z dropped: after the push (2024-05-01T10:00:00Z); "
        "the build clock was wrong",
        "3.0": f"created {PAKETO} dropped: before 2013, older than any container image",
    }
    by_tag = df.set_index("tag")
    assert by_tag.loc["2.0", "pushed"] == ts("2024-05-01T10:00:00Z")  # the registry's kept
    assert by_tag.loc["1.0", "created"] == ts("2024-05-01T10:59:00Z")


def test_two_dropped_dates_of_one_row_are_both_noted() -> None:
    df = frame({
        "1.0": built(1, PAKETO, pushed_ns=ts("2011-01-01").value, pushed_source="quay"),
    })  # fmt: skip
    flag_implausible_dates(df, read_at=READ)
    note = df["date_note"].iloc[0]
    assert note.startswith(f"created {PAKETO} dropped") and "; pushed 2011-01-01T00:00:00Z" in note
    assert df["created"].isna().all() and df["pushed"].isna().all()


# --------------------------------------------------------------------------- registry APIs


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


def test_hub_push_time_from_the_future_is_dropped(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scripted Docker Hub (tests/test_fastpaths.py shapes): a tag API's dates are checked too."""
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    serve_hub(server, [hub_tag("1.0"), hub_tag("2.0", tag_last_pushed="2199-01-01T00:00:00Z")])
    df = rf.read_tags("python", dates=True, cache=False).set_index("tag")
    assert df.loc["1.0", "pushed"] == ts("2024-08-08T23:00:00Z")
    assert pd.isna(df.loc["2.0", "pushed"])
    assert df.loc["2.0", "date_note"].startswith("pushed 2199-01-01T00:00:00Z dropped: more")
