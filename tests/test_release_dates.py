"""Release dates of rebuilt and built-once lines: `releases()`'s `released`, bounds and `dated_by`.

Frames are built by hand (or from the demo's rebuild model without a registry) so each
rule is checked on its own; tests/test_release_dates_e2e.py reads the same shapes back
from a real registry, tests/test_release_dates_real.py checks real build records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import pytest

import regframe as rf
from regframe.errors import InvalidArgumentError
from regframe.frame.history import record_frame
from regframe.testing.histories import RebuildPlan, final_state, rebuilt_history

UTC = dt.timezone.utc
DAY = pd.Timedelta(days=1)


def frame(
    tags: Sequence[str],
    created: Sequence[str | None] | None = None,
    pushed: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """A parsed tags frame with ``created`` and ``pushed`` columns (NA where not given)."""
    df = rf.parse_tags(list(tags))
    none = [None] * len(tags)
    for name, values in (("created", created), ("pushed", pushed)):
        stamps = pd.to_datetime(list(values or none), utc=True, format="ISO8601")
        df[name] = stamps.astype("datetime64[ns, UTC]")
    df.attrs = {"registry": "r.example", "repository": "lib/app", "reference": "r.example/lib/app"}
    return df


def by_release(rel: pd.DataFrame) -> pd.DataFrame:
    return rel.set_index("release")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# ----------------------------------------------------------------------------- built once


def test_a_built_once_image_keeps_its_build_times() -> None:
    df = frame(
        ["1.0.0", "1.0.1", "1.1.0", "1.1.0-alpine", "2.0.0"],
        ["2024-01-10", "2024-02-01", "2024-03-05", "2024-03-04", "2024-04-20"],
    )
    rel = rf.releases(df)
    assert rel["released"].equals(rel["created"])
    assert rel["released_earliest"].equals(rel["created"])
    assert rel["released_latest"].equals(rel["created"])
    assert rel["dated_by"].astype(str).tolist() == ["build"] * 4
    assert not rel["rebuilt"].any()
    assert str(rel["released"].dtype) == "datetime64[ns, UTC]"
    assert by_release(rel).loc["1.1.0", "released"] == ts("2024-03-04")  # earliest of its tags


def test_column_order_and_dtypes() -> None:
    rel = rf.releases(frame(["1.0.0"], ["2024-01-10"]))
    cols = rel.columns.tolist()
    assert cols[cols.index("scheme") + 1 : cols.index("n_tags")] == [
        "released", "released_earliest", "released_latest", "dated_by", "rebuilt", "created",
        "pushed",
    ]  # fmt: skip
    assert rel["dated_by"].dtype == "category"
    assert rel["dated_by"].cat.categories.tolist() == list(rf.cadence.DATED_BY)
    assert str(rel["rebuilt"].dtype) == "boolean"


def test_an_image_known_only_by_push_times_is_dated_by_push() -> None:
    df = frame(["1.0.0", "1.1.0"], pushed=["2024-01-10T08:00", "2024-02-11T09:30"])
    rel = rf.releases(df)
    assert rel["dated_by"].astype(str).tolist() == ["push", "push"]
    assert rel["released"].tolist() == [ts("2024-01-10T08:00"), ts("2024-02-11T09:30")]
    assert rel["created"].isna().all()
    assert rel["pushed"].tolist() == rel["released"].tolist()


def test_without_dates_every_release_is_undated() -> None:
    rel = rf.releases(rf.parse_tags(["1.0.0", "1.1.0"]))
    assert rel["released"].isna().all() and rel["dated_by"].isna().all()


# ----------------------------------------------------------------------------- rebuilt


def official_like() -> pd.DataFrame:
    """Three lines whose newest releases were rebuilt together on 2024-11-15 (a wave)."""
    return frame(
        # tag: its last build (a superseded release's last rebuild, or the wave)
        ["3.10.14", "3.10.15", "3.11.9", "3.11.10", "3.12.6", "3.12.7", "3.12"],
        [
            "2024-09-02T04:00",  # 3.10.14 last rebuilt by the wave before 3.10.15 came out
            "2024-11-15T04:10",
            "2024-09-02T04:05",
            "2024-11-15T04:20",
            "2024-09-20T03:00",  # a later wave: 3.12.6 was live then, 3.10/3.11's old ones not
            "2024-11-15T04:30",
            "2024-11-15T04:30",
        ],
    )


def test_a_wave_over_three_lines_marks_the_image_rebuilt() -> None:
    rel = by_release(rf.releases(official_like()))
    assert rel["rebuilt"].all()
    # 3.12.7 came out after 3.12.6's last rebuild and before the next wave after it
    row = rel.loc["3.12.7"]
    assert row["dated_by"] == "predecessor"
    assert row["released_earliest"] == ts("2024-09-20T03:00")
    assert row["released_latest"] == ts("2024-11-15T04:10")  # the wave's start
    assert row["released_earliest"] < row["released"] < row["released_latest"]
    # 3.10.15: the 2024-09-20 wave rebuilt only 3.12.6 (one line, no wave), so the bound
    # is the next wave seen in two lines
    assert rel.loc["3.10.15", "released_latest"] == ts("2024-11-15T04:10")
    # no predecessor in the frame: its earliest build, no lower bound
    assert rel.loc["3.10.14", "dated_by"] == "build"
    assert pd.isna(rel.loc["3.10.14", "released_earliest"])
    assert rel.loc["3.10.14", "released"] == rel.loc["3.10.14", "created"]


def test_two_lines_rebuilt_together_are_not_enough() -> None:
    df = official_like()
    df = df[~df["tag"].str.startswith("3.10")]
    assert not rf.releases(df)["rebuilt"].any()


def test_rebuilt_can_be_forced_either_way() -> None:
    assert not rf.releases(official_like(), rebuilt=False)["rebuilt"].any()
    two = official_like()
    two = two[~two["tag"].str.startswith("3.10")]
    forced = by_release(rf.releases(two, rebuilt=True))
    assert forced["rebuilt"].all() and forced.loc["3.12.7", "dated_by"] == "predecessor"
    for bad in ("yes", 1, [True]):
        with pytest.raises(InvalidArgumentError, match="rebuilt"):
            rf.releases(two, rebuilt=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="history"):
        rf.releases(two, history=3)  # type: ignore[arg-type]


def test_calendar_versions_are_never_rebuilt() -> None:
    # Ubuntu-style: three suites built the same morning, each date tag a build of its own.
    tags = [f"{suite}-{day}" for suite in ("focal", "jammy", "noble") for day in ("20240701", "20240808")]
    created = ["2024-07-01T02:00", "2024-08-08T02:00"] * 3
    rel = rf.releases(frame(tags, created))
    assert not rel["rebuilt"].any()
    assert rel["released"].equals(rel["created"])


def test_a_prerelease_is_the_predecessor_of_the_first_final() -> None:
    df = official_like()
    extra = frame(["3.13.0rc3", "3.13.0"], ["2024-09-20T03:10", "2024-11-15T04:40"])
    rel = by_release(rf.releases(pd.concat([df, extra], ignore_index=True)))
    assert "3.13.0rc3" not in rel.index  # finals only ...
    assert rel.loc["3.13.0", "released_earliest"] == ts("2024-09-20T03:10")  # ... dated by it


def test_bitnami_rebuild_stamps() -> None:
    """``-rN`` tags: r0 is the first build of a release; without it, the release was rebuilt."""
    df = frame(
        ["1.25.3-debian-12-r0", "1.25.3-debian-12-r1", "1.25.3",
         "1.25.4-debian-12-r3", "1.25.4-debian-12-r4", "1.25.4"],
        ["2024-05-02", "2024-05-20", "2024-05-20", "2024-06-21", "2024-07-03", "2024-07-03"],
    )  # fmt: skip
    assert df["build"].dropna().tolist() == ["r0", "r1", "r3", "r4"]
    rel = by_release(rf.releases(df))
    assert rel["rebuilt"].all()
    # r0 is there: its build is the release
    assert rel.loc["1.25.3", "released"] == ts("2024-05-02")
    assert rel.loc["1.25.3", "dated_by"] == "build"
    assert rel.loc["1.25.3", "released_earliest"] == rel.loc["1.25.3", "released_latest"]
    # r0..r2 are gone: after 1.25.3's last build (r1), no later than 1.25.4's earliest (r3)
    row = rel.loc["1.25.4"]
    assert row["dated_by"] == "predecessor"
    assert (row["released_earliest"], row["released_latest"]) == (ts("2024-05-20"), ts("2024-06-21"))


# ----------------------------------------------------------------------------- the model


def test_the_rebuild_model_without_a_registry() -> None:
    """The demo's model on real python dates: rebuilt, bounds hold, error far below `created`'s."""
    from regframe.testing.histories import python_plan

    plan = python_plan(lines=("3.11", "3.12", "3.13"))
    pushes = final_state(rebuilt_history(plan))
    tags = [t for p in pushes for t in p.tags]
    created = [p.created.isoformat() for p in pushes for _ in p.tags]
    rel = rf.releases(frame(tags, created))
    truth = pd.to_datetime(rel["release"].map(lambda v: plan.releases[v]), utc=True)
    err = (rel["released"] - truth).abs() / DAY
    late = (rel["created"] - truth) / DAY
    assert rel["rebuilt"].all()
    assert late.median() > 30  # the fault: build times are a rebuild, weeks late
    assert err.median() <= 10
    inside = (truth >= rel["released_earliest"].fillna(truth) - DAY) & (
        truth <= rel["released_latest"] + DAY
    )
    assert inside.mean() >= 0.95


def test_the_model_supersedes_and_rebuilds() -> None:
    plan = RebuildPlan(
        {"1.0.0": dt.datetime(2024, 1, 1, tzinfo=UTC), "1.0.1": dt.datetime(2024, 3, 1, tzinfo=UTC)},
        now=dt.datetime(2024, 5, 1, tzinfo=UTC),
        seed=1,
    )
    pushes = rebuilt_history(plan)
    builds_of = {v: [p.created for p in pushes if v in p.tags] for v in plan.releases}
    assert len(builds_of["1.0.0"]) >= 2  # built, then rebuilt in waves ...
    assert max(builds_of["1.0.0"]) < min(builds_of["1.0.1"])  # ... until superseded
    assert max(builds_of["1.0.1"]) > dt.datetime(2024, 4, 1, tzinfo=UTC)
    final = {t: p for p in final_state(pushes) for t in p.tags}
    assert sorted(final) == ["1", "1.0", "1.0.0", "1.0.1", "latest"]
    assert final["1.0"] is final["1.0.1"] is final["latest"]  # the floating tags moved on


# ----------------------------------------------------------------------------- history


def record(df: pd.DataFrame, store: str, seen: str, salt: int = 0, **kwargs: object) -> None:
    """Record ``df`` as one read; each tag's digest follows its build time (a rebuild moves it)."""
    df = df.copy()
    df["digest"] = [f"sha256:{hash((t, str(c), salt)) & (2**64 - 1):064x}"
                    for t, c in zip(df["tag"], df["created"], strict=True)]  # fmt: skip
    df["error"] = pd.Series(pd.NA, index=df.index, dtype="string")
    record_frame(df, registry="r.example", repository="lib/app", platform="linux/amd64",
                 history=store, seen=ts(seen), **kwargs)  # type: ignore[arg-type]  # fmt: skip


def test_a_first_sighting_between_two_reads_narrows_a_rebuilt_release(tmp_path) -> None:
    store = str(tmp_path / "h.sqlite")
    df = official_like()
    before = df[df["tag"] != "3.12.7"]
    before = before[before["tag"] != "3.12"]
    record(before, store, "2024-10-01T12:00")  # 3.12.7 not there yet
    record(df, store, "2024-10-03T12:00")  # ... and there two days later
    rel = by_release(rf.releases(df, history=store))
    row = rel.loc["3.12.7"]
    assert row["dated_by"] == "first-seen"
    assert row["released_earliest"] == ts("2024-10-01T12:00")
    assert row["released_latest"] == ts("2024-10-03T12:00")
    assert row["released"] == ts("2024-10-02T12:00")
    # without the store, the same frame is dated by its predecessor
    assert by_release(rf.releases(df, history=False)).loc["3.12.7", "dated_by"] == "predecessor"


def test_an_earlier_build_the_store_recorded_narrows_a_rebuilt_release(tmp_path) -> None:
    """Read once before a rebuild: the store remembers the older digest's build time."""
    store = str(tmp_path / "h.sqlite")
    df = official_like()
    earlier = df.copy()
    earlier.loc[earlier["tag"].isin(["3.12.7", "3.12"]), "created"] = ts("2024-10-05T03:00")
    record(earlier, store, "2024-10-20T12:00")  # the first read ever: no read before it
    record(df, store, "2024-11-20T12:00")  # 3.12.7 rebuilt since: a new digest
    row = by_release(rf.releases(df, history=store)).loc["3.12.7"]
    assert row["dated_by"] == "first-seen"
    assert row["released_latest"] == ts("2024-10-05T03:00")
    assert row["released_earliest"] == ts("2024-09-20T03:00")  # the predecessor's, unchanged


def test_the_store_a_frame_was_recorded_in_is_used_by_default(tmp_path) -> None:
    store = str(tmp_path / "h.sqlite")
    df = official_like()
    record(df[~df["tag"].isin(["3.12.7", "3.12"])], store, "2024-10-01T12:00")
    record(df, store, "2024-10-03T12:00")
    df.attrs["history"] = {"store": store, "platform": "linux/amd64"}
    assert by_release(rf.releases(df)).loc["3.12.7", "dated_by"] == "first-seen"


def test_a_first_sighting_does_not_move_a_built_once_release(tmp_path) -> None:
    store = str(tmp_path / "h.sqlite")
    df = frame(["1.0.0", "1.1.0"], ["2024-01-10", "2024-02-11"])
    record(df[df["tag"] == "1.0.0"], store, "2024-02-01")
    record(df, store, "2024-03-01")
    rel = rf.releases(df, history=store)
    assert rel["released"].equals(rel["created"])


def test_a_registry_tag_history_dates_a_release_by_its_first_push(tmp_path) -> None:
    """Quay-style: the tag's first revision was pushed long before its current one."""
    from regframe.frame.history_store import Revision

    store = str(tmp_path / "h.sqlite")
    df = frame(["2.0.0", "2.1.0"], pushed=["2024-05-01T10:00", "2024-05-20T10:00"])
    first = ts("2024-03-03T09:00").value
    revisions = [Revision("2.0.0", "sha256:" + "e" * 64, first, ts("2024-05-01T10:00").value,
                          source="quay")]  # fmt: skip
    since = {"2.0.0": ts("2024-05-01T10:00").value, "2.1.0": ts("2024-05-20T10:00").value}
    record(df, store, "2024-06-01", since=since, revisions=revisions, source="quay")
    rel = by_release(rf.releases(df, history=store))
    assert rel.loc["2.0.0", "dated_by"] == "tag-history"
    assert rel.loc["2.0.0", "released"] == ts("2024-03-03T09:00")
    assert rel.loc["2.1.0", "released"] == ts("2024-05-20T10:00")


def test_a_store_that_is_not_there_is_no_error(tmp_path) -> None:
    rel = rf.releases(official_like(), history=str(tmp_path / "missing.sqlite"))
    assert (rel["dated_by"] != "first-seen").all()


# ----------------------------------------------------------------------------- downstream


def test_cadence_tables_use_released() -> None:
    rel = rf.releases(official_like())
    released = rel.set_index("release")["released"]
    gaps = rf.cadence.intervals(rel, by="line")
    assert "released" in gaps.columns and "created" not in gaps.columns
    row = gaps[gaps["release"] == "3.12.7"].iloc[0]
    assert row["days"] == pytest.approx((released["3.12.7"] - released["3.12.6"]) / DAY)
    lines = rf.cadence.lines(rel).set_index("line")
    assert lines.loc["3.12", "last"] == released["3.12.7"]
    counts = rf.cadence.per_period(rel, "MS", by=None)
    month = released["3.12.7"].tz_convert(None).to_period("M").to_timestamp().tz_localize("UTC")
    assert counts.loc[month, "releases"] >= 1
    summary = rf.cadence.summary(rel)
    assert summary.loc[3, "last"] == released.max()


# ----------------------------------------------------------------------------- charts


def test_the_timeline_draws_wide_bounds_as_whiskers_and_says_so() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    rel = rf.releases(official_like())
    wide = ((rel["released_latest"] - rel["released_earliest"]) > pd.Timedelta(days=3)).sum()
    ax = rf.plot.timeline(rel)
    try:
        segments = [s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()]
        assert len(segments) == wide > 0
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("whisker" in text for text in legend) and "colour: major" in legend
        assert ax.get_xlabel() == "release date (UTC)"
        # a built-once image has no whiskers, and no whisker entry in its legend
        once = rf.plot.timeline(frame(["1.0.0", "1.1.0"], ["2024-01-10", "2024-02-11"]))
        assert not [c for c in once.collections if isinstance(c, LineCollection)]
        assert not any("whisker" in t.get_text() for t in once.get_legend().get_texts())
    finally:
        plt.close("all")


def test_dates_that_cannot_be_right_are_never_plotted() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    from regframe.frame.plausible import flag_implausible_dates

    df = frame(["1.0.0", "1.1.0", "1.2.0"], ["1980-01-01T00:00:01", "2024-02-11", "2024-03-01"])
    df["digest"] = [f"sha256:{i:064x}" for i in range(len(df))]
    flag_implausible_dates(df, read_at=ts("2024-06-01"))
    assert df["date_note"].notna().sum() == 1 and df["created"].isna().sum() == 1
    rel = rf.releases(df)
    assert pd.isna(rel.set_index("release").loc["1.0.0", "released"])
    ax = rf.plot.timeline(df)
    try:
        points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
        assert points == 2
        import matplotlib.dates as mdates

        assert ax.get_xlim()[0] > mdates.date2num(dt.datetime(2020, 1, 1))  # nowhere near 1980
    finally:
        plt.close("all")


def test_commit_time_builds_date_a_lone_build_by_itself() -> None:
    """Three lines sharing one ``created`` to the second: SOURCE_DATE_EPOCH builds (repo-info)."""
    wave = "2024-10-18T23:23:40Z"  # one template commit stamped 3.9.20, 3.10.15 and 3.11.10
    tags = {"3.9.19": "2024-03-21T23:32:08Z", "3.9.20": wave, "3.9.21": "2024-12-04T04:30:01Z",
            "3.10.14": "2024-07-29T03:49:11Z", "3.10.15": wave, "3.11.9": "2024-07-29T05:02:13Z",
            "3.11.10": wave, "3.11.12": "2025-04-09T10:00:00Z",
            "3.9.22": "2025-02-01T10:00:00Z", "3.10.16": "2025-02-01T11:00:00Z"}  # fmt: skip
    df = rf.parse_tags(list(tags))
    df["created"] = pd.to_datetime(list(tags.values()), utc=True)
    rel = rf.releases(df).set_index("release")
    assert rel["rebuilt"].all()  # no tips within a day, but the shared second says rebuilt
    lone = rel.loc["3.9.21"]  # its version bump, built alone: dated by that build
    assert lone["dated_by"] == "build" and lone["released"] == lone["created"]
    member = rel.loc["3.10.15"]  # rebuilt with two other lines: the middle of its bounds
    middle = (
        member["released_earliest"] + (member["released_latest"] - member["released_earliest"]) / 2
    )
    assert member["dated_by"] == "predecessor" and member["released"] == middle
    # 3.11.11 is missing: the wave of 2025-02-01 after 3.11.10 cannot bound 3.11.12 (3.11.11
    # may have been the live one then), only its own build can
    assert rel.loc["3.11.12", "released_latest"] == rel.loc["3.11.12", "created"]
