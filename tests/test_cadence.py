"""Tests for regframe.cadence on hand-built tags frames with hand-computed answers."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from regframe import cadence
from regframe.errors import RegframeError


def row(
    tag: str,
    release: str | None = None,
    *,
    pre: str | None = None,
    variant: str | None = None,
    scheme: str = "semver",
    created: str | None = None,
) -> dict[str, object]:
    """One tags-frame row; major/minor/patch are split off ``release`` by hand."""
    numbers = [int(n) for n in release.split(".")] if release else []
    numbers += [None] * (3 - len(numbers))  # type: ignore[list-item]
    return {
        "tag": tag,
        "release": release,
        "major": numbers[0],
        "minor": numbers[1],
        "patch": numbers[2],
        "prerelease": pre,
        "variant": variant,
        "scheme": scheme,
        "is_prerelease": pre is not None,
        "created": created,
    }


def frame(*rows: dict[str, object], dates: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(list(rows)).astype(
        {
            "tag": "string",
            "release": "string",
            "major": "Int64",
            "minor": "Int64",
            "patch": "Int64",
            "prerelease": "string",
            "variant": "string",
            "scheme": pd.CategoricalDtype(
                ["semver", "multipart", "calver", "named", "digest", "other"]
            ),
            "is_prerelease": "boolean",
        }
    )
    if dates:
        df["created"] = pd.to_datetime(df["created"], utc=True, format="ISO8601").astype(
            "datetime64[ns, UTC]"
        )
    else:
        df = df.drop(columns="created")
    df.attrs = {
        "registry": "docker.elastic.co",
        "repository": "elasticsearch/elasticsearch",
        "reference": "docker.elastic.co/elasticsearch/elasticsearch",
        "fetched_at": "2024-10-20T00:00:00+00:00",
    }
    return df


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# ------------------------------------------------------------------ releases()


def test_variants_merge_into_one_release_dated_by_earliest_tag() -> None:
    df = frame(
        row("8.15.0-ubi", "8.15.0", variant="ubi", created="2024-08-09"),
        row("8.15.0", "8.15.0", created="2024-08-08T10:00"),
        row("8.15.0-arm64", "8.15.0", variant="arm64", created="2024-08-08T09:00"),
    )
    rel = cadence.releases(df)
    assert len(rel) == 1
    only = rel.iloc[0]
    assert only["release"] == "8.15.0"
    assert only["tags"] == "8.15.0,8.15.0-arm64,8.15.0-ubi"  # plain first, then sorted
    assert only["variants"] == "arm64,ubi"
    assert only["n_tags"] == 3
    assert only["line"] == "8.15"
    assert only["created"] == ts("2024-08-08T09:00")


def test_floating_aliases_are_not_releases() -> None:
    df = frame(
        row("8", "8"),
        row("8.15", "8.15"),
        row("8.15.0", "8.15.0"),
        row("8.1", "8.1"),  # not a prefix of 8.15.0 number by number: a release
        row("3.12", "3.12"),
        row("3.12.1", "3.12.1"),
        row("3.12-slim", "3.12", variant="slim"),
        row("1.23", "1.23"),  # nothing longer under it: a release
    )
    rel = cadence.releases(df)
    assert rel["release"].tolist() == ["1.23", "3.12.1", "8.1", "8.15.0"]


def test_floating_detection_counts_prerelease_targets() -> None:
    # python's "3.14-rc" floats on 3.14.0rc2 even when prereleases are dropped
    df = frame(
        row("3.14-rc", "3.14", pre="rc"),
        row("3.14.0rc2", "3.14.0", pre="rc2"),
        row("3.13", "3.13"),
        row("3.13.0rc1", "3.13.0", pre="rc1"),
    )
    assert cadence.releases(df).empty
    with_pre = cadence.releases(df, prereleases=True)
    assert with_pre["tags"].tolist() == ["3.13.0rc1", "3.14.0rc2"]


def test_multipart_floating_and_line() -> None:
    df = frame(
        row("10.0.17763", "10.0.17763", scheme="multipart"),
        row("10.0.17763.6189", "10.0.17763.6189", scheme="multipart"),
        row("10.0.17763.6054", "10.0.17763.6054", scheme="multipart"),
    )
    rel = cadence.releases(df)
    assert rel["release"].tolist() == ["10.0.17763.6054", "10.0.17763.6189"]
    assert set(rel["line"]) == {"10.0"}


def test_only_versioned_schemes_count() -> None:
    df = frame(
        row("latest", scheme="named"),
        row("bookworm", scheme="named"),
        row("sha256-abc.sig", scheme="digest"),
        row("weird", scheme="other"),
        row("2024.08.15", "2024.08.15", scheme="calver"),
        row("1.0.0", "1.0.0"),
    )
    rel = cadence.releases(df)
    assert rel["release"].tolist() == ["1.0.0", "2024.08.15"]
    assert rel.loc[1, "line"] == "2024.08"  # as written, leading zero kept


def test_prereleases_only_on_request_and_sorted_below_final() -> None:
    df = frame(
        row("2.0.0", "2.0.0"),
        row("2.0.0-rc10", "2.0.0", pre="rc10"),
        row("2.0.0-rc2", "2.0.0", pre="rc2"),
        row("2.0.0-beta.3", "2.0.0", pre="beta.3"),
        row("2.0.0-alpha1", "2.0.0", pre="alpha1"),
        row("1.9.9", "1.9.9"),
    )
    finals = cadence.releases(df)
    assert finals["release"].tolist() == ["1.9.9", "2.0.0"]
    assert not finals["is_prerelease"].any()
    everything = cadence.releases(df, prereleases=True)
    assert everything["tags"].tolist() == [
        "1.9.9",
        "2.0.0-alpha1",
        "2.0.0-beta.3",
        "2.0.0-rc2",
        "2.0.0-rc10",
        "2.0.0",
    ]
    assert everything["is_prerelease"].tolist() == [False, True, True, True, True, False]


def test_version_order_is_numeric() -> None:
    df = frame(
        row("10.0.0", "10.0.0"),
        row("8.10.0", "8.10.0"),
        row("8.9.0", "8.9.0"),
        row("8.9.10", "8.9.10"),
        row("8.9.2", "8.9.2"),
    )
    assert cadence.releases(df)["release"].tolist() == [
        "8.9.0",
        "8.9.2",
        "8.9.10",
        "8.10.0",
        "10.0.0",
    ]


def test_dtypes_attrs_and_no_dates() -> None:
    df = frame(row("1.0.0", "1.0.0", created="2020-01-01"), row("1.1.0", "1.1.0"))
    rel = cadence.releases(df)
    assert rel.attrs == df.attrs
    assert rel.attrs is not df.attrs
    assert str(rel["created"].dtype) == "datetime64[ns, UTC]"
    assert str(rel["major"].dtype) == "Int64"
    assert str(rel["release"].dtype) == "string"
    assert str(rel["is_prerelease"].dtype) == "boolean"
    assert rel["created"].isna().tolist() == [False, True]

    undated = cadence.releases(frame(row("1.0.0", "1.0.0"), dates=False))
    assert undated["created"].isna().all()
    assert str(undated["created"].dtype) == "datetime64[ns, UTC]"


def test_tags_column_survives_csv() -> None:
    rel = cadence.releases(frame(row("1.0.0", "1.0.0"), row("1.0.0-ubi", "1.0.0", variant="ubi")))
    buf = io.StringIO()
    rel.to_csv(buf, index=False)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    assert back.loc[0, "tags"].split(",") == ["1.0.0", "1.0.0-ubi"]


def test_missing_columns_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="missing column"):
        cadence.releases(pd.DataFrame({"tag": ["1.0"]}))


def test_as_releases_passes_releases_frames_through() -> None:
    rel = cadence.releases(frame(row("1.0.0", "1.0.0")))
    assert cadence.as_releases(rel) is rel
    assert cadence.is_releases_frame(rel)
    assert not cadence.is_releases_frame(frame(row("1.0.0", "1.0.0")))


# ------------------------------------------------------------------ derived tables


def history() -> pd.DataFrame:
    """7.17 patched alongside 8.0/8.1; dates chosen so every answer is easy by hand."""
    return cadence.releases(
        frame(
            row("7.17.0", "7.17.0", created="2022-02-01"),
            row("8.0.0", "8.0.0", created="2022-02-10"),
            row("7.17.1", "7.17.1", created="2022-02-21"),  # 20 days after 7.17.0
            row("8.0.1", "8.0.1", created="2022-03-02"),  # 20 days after 8.0.0
            row("8.1.0", "8.1.0", created="2022-03-08"),
            row("7.17.2", "7.17.2", created="2023-03-21"),  # 393 days after 7.17.1
            row("8.1.1", "8.1.1", created="2024-03-08"),  # 731 days after 8.1.0 (2024 leap)
        )
    )


def test_per_period_counts_by_major_with_empty_periods() -> None:
    counts = cadence.per_period(history(), "YS", by="major")
    assert counts.columns.tolist() == [7, 8]
    assert counts.index.tolist() == [ts("2022-01-01"), ts("2023-01-01"), ts("2024-01-01")]
    assert counts[7].tolist() == [2, 1, 0]
    assert counts[8].tolist() == [3, 0, 1]


def test_per_period_quarters_lines_and_total() -> None:
    rel = history()
    total = cadence.per_period(rel, "QS", by=None)
    assert total.columns.tolist() == ["releases"]
    assert total["releases"].sum() == 7
    assert len(total) == 9  # 2022Q1 .. 2024Q1
    assert total["releases"].iloc[0] == 5  # Feb + Mar 2022
    by_line = cadence.per_period(rel, "MS", by="line")
    assert by_line.columns.tolist() == ["7.17", "8.0", "8.1"]
    assert by_line.loc[ts("2022-03-01")].tolist() == [0, 1, 1]


def test_intervals_overall_and_per_line() -> None:
    rel = history()
    overall = cadence.intervals(rel)
    assert overall["release"].tolist() == [
        "8.0.0",
        "7.17.1",
        "8.0.1",
        "8.1.0",
        "7.17.2",
        "8.1.1",
    ]
    assert overall["days"].tolist() == [9.0, 11.0, 9.0, 6.0, 378.0, 353.0]
    per_line = cadence.intervals(rel, by="line")
    assert per_line["line"].tolist() == ["7.17", "7.17", "8.0", "8.1"]
    assert per_line["previous"].tolist() == ["7.17.0", "7.17.1", "8.0.0", "8.1.0"]
    assert per_line["days"].tolist() == [20.0, 393.0, 20.0, 731.0]


def test_lines_table() -> None:
    table = cadence.lines(history())
    assert table["line"].tolist() == ["7.17", "8.0", "8.1"]
    assert table["n_releases"].tolist() == [3, 2, 2]
    assert table["latest"].tolist() == ["7.17.2", "8.0.1", "8.1.1"]
    assert table["first"].tolist() == [ts("2022-02-01"), ts("2022-02-10"), ts("2022-03-08")]
    assert table["days_active"].tolist() == [413.0, 20.0, 731.0]


def test_summary_per_major() -> None:
    table = cadence.summary(history())
    assert table.index.tolist() == [7, 8]
    assert table["releases"].tolist() == [3, 4]
    assert table["lines"].tolist() == [1, 2]
    assert table["latest"].tolist() == ["7.17.2", "8.1.1"]
    # 7: intervals 20, 393 → median 206.5; 8: 20 (8.0) and 731 (8.1) → 375.5
    assert table["median_patch_days"].tolist() == [206.5, 375.5]
    # 7.x spans 413 days, 8.x 2022-02-10 → 2024-03-08 = 757 days
    assert table.loc[7, "per_year"] == pytest.approx(3 / (413 / 365.25))
    assert table.loc[8, "per_year"] == pytest.approx(4 / (757 / 365.25))


def test_summary_short_major_is_not_extrapolated() -> None:
    rel = cadence.releases(
        frame(
            row("1.0.0", "1.0.0", created="2024-01-01"), row("1.0.1", "1.0.1", created="2024-01-11")
        )
    )
    table = cadence.summary(rel)
    assert table.loc[1, "per_year"] == 2.0  # 10-day span counts as one year
    assert table.loc[1, "median_patch_days"] == 10.0


def test_missing_dates_error_is_helpful() -> None:
    rel = cadence.releases(frame(row("1.0.0", "1.0.0"), dates=False))
    for fn in (cadence.per_period, cadence.intervals, cadence.summary):
        with pytest.raises(cadence.MissingDatesError, match="dates=True"):
            fn(rel)
    assert issubclass(cadence.MissingDatesError, RegframeError)
    assert issubclass(cadence.MissingDatesError, ValueError)


def test_no_releases_error() -> None:
    rel = cadence.releases(frame(row("latest", scheme="named")))
    assert rel.empty
    with pytest.raises(cadence.NoReleasesError, match="no release"):
        cadence.per_period(rel)
    assert cadence.lines(rel).empty


def test_lines_without_dates() -> None:
    table = cadence.lines(cadence.releases(frame(row("2.1.0", "2.1.0"), dates=False)))
    assert table["first"].isna().all()
    assert table["days_active"].isna().all()
    assert table["n_releases"].tolist() == [1]


def test_bad_by_is_rejected() -> None:
    with pytest.raises(ValueError, match="by must be"):
        cadence.per_period(history(), by="minor")  # type: ignore[arg-type]
