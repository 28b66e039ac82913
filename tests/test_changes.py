"""``rf.changes`` on frames and on the history store; ``regframe snapshot`` and ``history --changes``.

The store cases push real images into the CNCF distribution registry between two
``read_tags(dates=True)`` reads recorded in a real SQLite store: a new release, a floating
tag moved to it, a rebuilt release (same tag, new digest) and a new variant tag of an
existing release.  Removal (which the registry here cannot do without its delete API)
is checked on frames.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from regframe.cli import main
from regframe.errors import InvalidArgumentError
from regframe.testing.sandbox import Sandbox


def frame(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["tag", "digest", "resolves_to"])


def test_each_kind_on_frames() -> None:
    old = frame([("3.12.7", "sha256:a", "3.12.7"), ("3.12", "sha256:a", "3.12.7"), ("latest", "sha256:a", "3.12.7"),
                 ("3.8-rc", "sha256:e", "3.8-rc"), ("nightly", "sha256:n", None)])  # fmt: skip
    new = frame([("3.12.7", "sha256:b", "3.12.7"), ("3.12.8", "sha256:c", "3.12.8"), ("3.12", "sha256:c", "3.12.8"),
                 ("latest", "sha256:c", "3.12.8"), ("3.12.7-slim", "sha256:d", "3.12.7-slim"),
                 ("nightly", "sha256:m", None)])  # fmt: skip
    out = rf.changes(old, new)
    assert out.columns.tolist() == [
        "tag",
        "kind",
        "old_digest",
        "new_digest",
        "old_version",
        "new_version",
    ]
    got = out[["tag", "kind", "old_version", "new_version"]].astype(object).where(out.notna(), None)
    assert got.values.tolist() == [
        ["3.12.8", "new release", None, "3.12.8"],
        ["3.12.7-slim", "new tag", None, "3.12.7"],
        ["3.12", "retag", "3.12.7", "3.12.8"],
        ["latest", "retag", "3.12.7", "3.12.8"],
        [
            "nightly",
            "retag",
            None,
            None,
        ],  # no version either side: moved, cannot say it is the same
        ["3.12.7", "rebuild", "3.12.7", "3.12.7"],
        ["3.8-rc", "removed", "3.8-rc", None],
    ]
    assert str(out["kind"].dtype) == "category"
    assert rf.changes(old, old).empty


def test_several_images_and_bad_frames() -> None:
    a = frame([("1.0", "sha256:a", "1.0")]).assign(image="x")
    b = frame([("1.0", "sha256:b", "1.0")]).assign(image="x")
    c = frame([("2.0", "sha256:c", "2.0")]).assign(image="y")
    out = rf.changes(a, pd.concat([b, c]))
    assert out[["image", "tag", "kind"]].values.tolist() == [
        ["x", "1.0", "rebuild"],
        ["y", "2.0", "new release"],
    ]
    with pytest.raises(InvalidArgumentError, match="dates=True"):
        rf.changes(rf.parse_tags(["1.0"]), rf.parse_tags(["1.1"]))
    with pytest.raises(InvalidArgumentError, match="two frames"):
        rf.changes(a)


def read(image: str, store: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", rf.HistoryWarning)
        return rf.read_tags(image, dates=True, history=store, progress=False, cache=False)


def test_changes_from_the_store_and_the_command_line(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "h.sqlite"
    push = registry_open.pusher.push_image
    image = registry_open.ref(unique_repo)
    push(unique_repo, ["1.0.0", "1.0", "latest"], created="2026-01-01T00:00:00Z")
    push(unique_repo, ["0.9.0"], created="2025-12-01T00:00:00Z")
    with pytest.raises(InvalidArgumentError, match="0 complete snapshot"):
        rf.changes(image, store=store)
    assert main(["snapshot", image, "--store", str(store)]) == 0
    assert capsys.readouterr().out.strip() == f"{image}: 4 tags, first snapshot"
    push(unique_repo, ["1.1.0", "1.1", "latest"], created="2026-02-01T00:00:00Z")
    push(unique_repo, ["0.9.0"], created="2026-02-02T00:00:00Z")  # rebuilt
    push(unique_repo, ["1.0.0-alpine"], created="2026-02-03T00:00:00Z")
    assert main(["snapshot", image, "--store", str(store)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(
        f"{image}: 7 tags, 2 new releases (1.1, 1.1.0); 1 new tag (1.0.0-alpine); "
        "1 retag (latest → 1.1.0); 1 rebuild (0.9.0) since 20"
    ), line
    out = rf.changes(image, store=store)
    assert out[["tag", "kind"]].values.tolist() == [
        ["1.1", "new release"], ["1.1.0", "new release"], ["1.0.0-alpine", "new tag"],
        ["latest", "retag"], ["0.9.0", "rebuild"],
    ]  # fmt: skip
    assert out.attrs["old_snapshot"] < out.attrs["new_snapshot"]
    assert out.loc[out["tag"] == "latest", ["old_version", "new_version"]].values.tolist() == [
        ["1.0.0", "1.1.0"]
    ]
    # since= older than every snapshot compares with the first one; a date works too
    assert rf.changes(image, store=store, since="3650d").equals(out)
    assert len(rf.changes(image, store=store, since="2000-01-01")) == 5
    with pytest.raises(InvalidArgumentError, match="neither a duration"):
        rf.changes(image, store=store, since="soon")
    assert main(["history", image, "--store", str(store), "--changes", "--json", "-"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in records] == [
        "new release",
        "new release",
        "new tag",
        "retag",
        "rebuild",
    ]
    assert records[3]["old_version"] == "1.0.0" and records[3]["new_digest"].startswith("sha256:")
    assert main(["history", image, "--store", str(store), "--changes"]) == 0
    printed, err = capsys.readouterr()
    assert "retag" in printed and "5 changes, 20" in err
    # a third snapshot with nothing new says so
    assert main(["snapshot", image, "--store", str(store)]) == 0
    assert capsys.readouterr().out.strip().startswith(f"{image}: 7 tags, nothing changed since 20")
