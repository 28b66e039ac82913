"""The explorer's "versions" range box and "newest per line" toggle, driven through ``.value``."""

from __future__ import annotations

import pandas as pd

import regframe as rf


def frame() -> pd.DataFrame:
    tags = ["8.14.2", "8.14.3", "8.15.0", "8.15.1", "8.15.1-alpine", "9.0.0-rc1", "9.0.0", "9.1.0"]
    df = rf.parse_tags(tags)
    df["created"] = pd.date_range("2024-01-01", periods=len(tags), freq="14D", tz="UTC")
    return df


def test_versions_box_filters_releases() -> None:
    ex = rf.explore(frame())
    assert ex.filtered["release"].tolist() == [
        "8.14.2",
        "8.14.3",
        "8.15.0",
        "8.15.1",
        "9.0.0",
        "9.1.0",
    ]
    ex.versions.value = ">=8.15,<9"
    assert ex.filtered["release"].tolist() == ["8.15.0", "8.15.1"]
    ex.versions.value = "^9.0.0-rc1"  # names a prerelease: rc1 is admitted once prereleases show
    ex.prereleases.value = True
    assert ex.filtered["release"].tolist() == ["9.0.0", "9.0.0", "9.1.0"]
    assert ex.filtered["prerelease"].astype(object).where(
        ex.filtered["prerelease"].notna(), None
    ).tolist() == ["rc1", None, None]
    ex.prereleases.value = False
    ex.versions.value = ""
    assert len(ex.filtered) == 6


def test_newest_per_line_toggle() -> None:
    ex = rf.explore(frame())
    ex.newest.value = True
    assert ex.filtered["release"].tolist() == ["8.14.3", "8.15.1", "9.0.0", "9.1.0"]
    ex.versions.value = "8.x"
    assert ex.filtered["release"].tolist() == ["8.14.3", "8.15.1"]
    assert "8.15.1" in ex.table.value and "8.15.0" not in ex.table.value


def test_a_bad_range_is_said_not_raised() -> None:
    ex = rf.explore(frame())
    ex.versions.value = ">=8.15,<<9"
    assert (
        "&#x27;&lt;&lt;9&#x27; at position 7" in ex.message.value
        or "position 7" in ex.message.value
    )
    assert len(ex.filtered) == 6  # nothing filtered by a range that does not read
    ex.versions.value = "^8"
    assert "position" not in ex.message.value
    assert ex.filtered["release"].tolist()[-1] == "8.15.1"
    ex.versions.value = "<<9"
    assert "position" in ex.message.value
    ex.versions.value = ""  # an emptied box reads too: the complaint goes with the range
    assert ex.message.value == ""
    assert len(ex.filtered) == 6
