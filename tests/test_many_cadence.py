"""Cadence, charts and CSV for several-images frames (``image`` column), on hand-built frames."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import regframe as rf
from regframe import cadence
from tests.frames import hand_tags


def two_projects() -> pd.DataFrame:
    a = hand_tags(
        ("3.12.0", "2023-10-02"),
        ("3.12.1", "2023-12-08"),
        ("3.12.2", "2024-02-06"),
        ("3.13.0", "2024-10-07"),
        repository="library/python",
    )
    b = hand_tags(
        ("7.3.13", "2023-09-29"),
        ("7.3.14", "2023-12-25"),
        ("7.3.15", "2024-01-15"),
        ("3.12.0-rc1", "2024-03-01"),
        repository="library/pypy",
    )
    parts = []
    for name, frame in (("python", a), ("pypy", b)):
        frame = frame.copy()
        frame.insert(0, "image", pd.Series([name] * len(frame), dtype="string"))
        parts.append(frame)
    df = pd.concat(parts, ignore_index=True)
    df.attrs = {"images": ["docker.io/library/python", "docker.io/library/pypy"], "failed": {}}
    return df


def test_releases_keep_the_image_and_do_not_mix_projects():
    rel = rf.releases(two_projects())
    assert rel.columns[0] == "image"
    assert list(rel.image) == ["python"] * 4 + ["pypy"] * 3
    # pypy's 3.12.0-rc1 is a prerelease of pypy, not an alias of python's 3.12.0
    assert list(rel[rel.image == "pypy"].release) == ["7.3.13", "7.3.14", "7.3.15"]
    assert rel.attrs["images"][0].endswith("python")


def test_releases_of_one_image_equal_the_single_image_result():
    df = two_projects()
    rel = rf.releases(df)
    alone = rf.releases(df[df.image == "pypy"].drop(columns="image"))
    got = rel[rel.image == "pypy"].drop(columns="image").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone, check_like=False)


def test_summary_groups_by_image_then_major():
    s = cadence.summary(rf.releases(two_projects()))
    assert s.index.names == ["image", "major"]
    assert list(s.index) == [("python", 3), ("pypy", 7)]
    assert s.loc[("python", 3), "releases"] == 4
    assert s.loc[("pypy", 7), "latest"] == "7.3.15"


def test_per_period_by_image_and_intervals_per_image():
    rel = rf.releases(two_projects())
    counts = cadence.per_period(rel, "YS", by="image")
    assert list(counts.columns) == ["python", "pypy"]
    assert counts.sum().to_dict() == {"python": 4, "pypy": 3}
    gaps = cadence.intervals(rel)
    assert gaps.columns[0] == "image"
    # no interval runs from one project's release to the other's
    assert len(gaps) == (4 - 1) + (3 - 1)
    lines = cadence.lines(rel)
    assert list(zip(lines.image, lines.line, strict=True)) == [
        ("python", "3.12"), ("python", "3.13"), ("pypy", "7.3"),
    ]


def test_cadence_plot_by_image(tmp_path):
    ax = rf.plot.cadence(two_projects(), "QS", by="image")
    assert len(ax.containers) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["pypy", "python"]
    heights = [sum(p.get_height() for p in c) for c in ax.containers]
    assert heights == [4, 3]
    assert "python, pypy" in ax.get_title()
    ax.figure.savefig(tmp_path / "cadence.png")
    with pytest.raises(ValueError, match="several-images"):
        rf.plot.cadence(two_projects().drop(columns="image"), by="image")


def test_timeline_colours_by_image(tmp_path):
    ax = rf.plot.timeline(two_projects(), prereleases=False)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["python 3.12", "python 3.13", "pypy 7.3"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "python" in legend and "pypy" in legend
    faces = {tuple(c) for c in ax.collections[0].get_facecolors().round(3)}
    assert len(faces) == 2
    ax.figure.savefig(tmp_path / "timeline.png")


def test_csv_puts_image_first_and_labels_as_sorted_compact_json():
    df = two_projects().head(2).copy()
    df["labels"] = [{"z": "1", "a": "x y"}, None]
    text = rf.to_csv(df)
    rows = list(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).itertuples())
    header = text.splitlines()[0].split(",")
    assert header[0] == "image" and header[1] == "tag"
    assert header[-1] == "labels"
    assert rows[0].labels == '{"a":"x y","z":"1"}'
    assert json.loads(rows[0].labels) == {"a": "x y", "z": "1"}
    assert rows[1].labels == ""


def test_lines_plot_keeps_same_named_lines_of_two_images_apart(tmp_path):
    df = two_projects()
    # give pypy a final 3.12 line too: python 3.12 and pypy 3.12 must stay two rows
    extra = df[df.image == "pypy"].head(1).copy()
    extra["tag"] = extra["release"] = "3.12.5"
    extra[["major", "minor", "patch"]] = [3, 12, 5]
    both = pd.concat([df, extra], ignore_index=True)
    both.attrs = df.attrs
    ax = rf.plot.lines(both)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["python 3.12", "python 3.13", "pypy 3.12", "pypy 7.3"]
    colors = {tuple(p.get_facecolor()) for p in ax.patches}
    assert len(colors) == 2
    ax.figure.savefig(tmp_path / "lines.png")
