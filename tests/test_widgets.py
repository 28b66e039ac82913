"""Tests for regframe.widgets: drive the explorer by setting control values."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from frames import hand_tags
from matplotlib.collections import PathCollection

from regframe.testing.latency_proxy import LatencyProxy
from regframe.widgets import (
    ALL_LINES,
    ALL_PREFIXES,
    ALL_VARIANTS,
    NO_PREFIX,
    NO_VARIANT,
    Explorer,
    explore,
)


def tags(*specs: tuple[str, str | None], dates: bool = True) -> pd.DataFrame:
    """Tags frame from ``(tag, created)``; tags look like ``X.Y.Z[-rcN][_variant]``."""
    return hand_tags(*specs, dates=dates)


def sample(dates: bool = True) -> pd.DataFrame:
    return tags(
        ("7.16.0", "2021-12-07"),
        ("7.17.0", "2022-02-01"),
        ("7.17.0_ubi", "2022-02-01"),
        ("7.17.1", "2022-03-21"),
        ("8.0.0-rc1", "2022-01-20"),
        ("8.0.0", "2022-02-10"),
        ("8.0.0_ubi", "2022-02-11"),
        ("8.0.1", "2022-03-02"),
        ("8.1.0_ubi", "2022-03-08"),  # only published as ubi
        ("8.1.0_arm64", "2022-03-08"),
        ("8.1.1", "2022-05-08"),
        dates=dates,
    )


def points(ex: Explorer) -> int:
    assert ex.ax is not None
    return sum(len(c.get_offsets()) for c in ex.ax.collections if isinstance(c, PathCollection))


def releases_of(ex: Explorer) -> list[str]:
    return ex.filtered["release"].tolist()


@pytest.fixture(autouse=True)
def _no_leaks() -> Any:
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "the explorer must not leave pyplot figures open"


def test_initial_state_from_a_frame() -> None:
    ex = explore(sample())
    assert ex.image is None
    assert ex.load is None
    assert ex.progress is None
    assert releases_of(ex) == ["7.16.0", "7.17.0", "7.17.1", "8.0.0", "8.0.1", "8.1.0", "8.1.1"]
    assert [v for _, v in ex.majors.options] == [7, 8]
    assert ex.line.options == (ALL_LINES, "7.16", "7.17", "8.0", "8.1")
    assert ex.variant.options == (ALL_VARIANTS, NO_VARIANT, "arm64", "ubi")
    assert ex.kind.value == "timeline"
    assert points(ex) == 7
    assert ex.figure is not None
    png = base64.b64decode(ex.output.outputs[0]["data"]["image/png"])
    assert png.startswith(b"\x89PNG")
    assert "7 releases" in ex.table.value
    assert "8.1.1" in ex.table.value


def test_majors_filter_and_line_options_follow() -> None:
    ex = explore(sample())
    ex.majors.value = (7,)
    assert releases_of(ex) == ["7.16.0", "7.17.0", "7.17.1"]
    assert ex.line.options == (ALL_LINES, "7.16", "7.17")
    assert points(ex) == 3
    ex.majors.value = ()  # empty selection means every major
    assert len(ex.filtered) == 7


def test_line_filter_and_reset_when_major_changes() -> None:
    ex = explore(sample())
    ex.line.value = "8.0"
    assert releases_of(ex) == ["8.0.0", "8.0.1"]
    assert points(ex) == 2
    ex.majors.value = (7,)  # 8.0 is no longer offered: back to all lines of 7
    assert ex.line.value == ALL_LINES
    assert releases_of(ex) == ["7.16.0", "7.17.0", "7.17.1"]


def test_variant_filter() -> None:
    ex = explore(sample())
    ex.variant.value = "ubi"
    assert releases_of(ex) == ["7.17.0", "8.0.0", "8.1.0"]
    # dated by the ubi tag, not by the plain one
    assert ex.filtered.loc[1, "created"] == pd.Timestamp("2022-02-11", tz="UTC")
    ex.variant.value = NO_VARIANT
    assert releases_of(ex) == ["7.16.0", "7.17.0", "7.17.1", "8.0.0", "8.0.1", "8.1.1"]
    ex.variant.value = ALL_VARIANTS
    assert "8.1.0" in releases_of(ex)


def test_prereleases_toggle_adds_the_rc_with_its_marker() -> None:
    ex = explore(sample())
    ex.prereleases.value = True
    assert ex.filtered["is_prerelease"].sum() == 1
    assert len(ex.filtered) == 8
    assert ex.ax is not None
    collections = [c for c in ex.ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in collections] == [7, 1]


def test_date_range_filter() -> None:
    ex = explore(sample())
    labels = [label for label, _ in ex.dates.options]
    assert labels == ["2021-12", "2022-01", "2022-02", "2022-03", "2022-04", "2022-05"]
    ex.dates.value = (pd.Timestamp("2022-02-01", tz="UTC"), pd.Timestamp("2022-02-01", tz="UTC"))
    assert releases_of(ex) == ["7.17.0", "8.0.0"]
    ex.dates.index = (3, 5)  # March to May
    assert releases_of(ex) == ["7.17.1", "8.0.1", "8.1.0", "8.1.1"]


def test_kind_switches_the_chart() -> None:
    ex = explore(sample())
    ex.kind.value = "cadence"
    assert ex.ax is not None
    assert sum(p.get_height() for c in ex.ax.containers for p in c) == 7
    ex.kind.value = "lines"
    assert len(ex.ax.patches) == 4  # 7.16, 7.17, 8.0, 8.1
    ex.kind.value = "intervals"
    assert points(ex) == 7 - 2  # one gap fewer than releases, per major
    ex.kind.value = "timeline"
    assert points(ex) == 7


def test_export_writes_the_filtered_table(tmp_path: Path) -> None:
    ex = explore(sample())
    ex.majors.value = (8,)
    target = tmp_path / "out" / "releases.csv"
    ex.export_path.value = str(target)
    ex.export.click()
    back = pd.read_csv(target)
    assert back["release"].tolist() == ["8.0.0", "8.0.1", "8.1.0", "8.1.1"]
    assert back.loc[0, "created"] == "2022-02-10T00:00:00Z"
    assert str(target) in ex.export_message.value
    assert "wrote 4 releases" in ex.export_message.value
    link = re.search(r'download="releases.csv" href="data:text/csv;base64,([^"]+)"', ex.export_message.value)
    assert link is not None
    assert base64.b64decode(link.group(1)) == target.read_bytes()


def test_export_error_is_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ex = explore(sample())
    ex.export_path.value = str(blocker / "sub" / "r.csv")  # parent is a file
    ex.export.click()
    assert "could not write" in ex.export_message.value


def test_loading_from_an_image_reference() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def loader(image: str, **kwargs: Any) -> pd.DataFrame:
        calls.append((image, kwargs))
        frame = sample()
        return frame[frame["major"] == (7 if image.endswith("old") else 8)]

    ex = explore("r.example/elastic/es", loader=loader, platform="linux/arm64")
    assert callable(calls[0][1].pop("progress"))  # the bar's hook
    assert calls == [("r.example/elastic/es", {"dates": True, "platform": "linux/arm64"})]
    assert ex.image is not None
    assert ex.load is not None
    assert ex.progress is not None
    assert releases_of(ex) == ["8.0.0", "8.0.1", "8.1.0", "8.1.1"]
    assert ex.progress.bar_style == "success"
    ex.image.value = "r.example/elastic/old"
    ex.load.click()
    assert calls[-1][0] == "r.example/elastic/old"
    assert releases_of(ex) == ["7.16.0", "7.17.0", "7.17.1"]
    assert ex.line.options == (ALL_LINES, "7.16", "7.17")


def test_loading_error_is_shown_not_raised() -> None:
    from regframe.errors import NotFoundError

    def loader(image: str, **kwargs: Any) -> pd.DataFrame:
        raise NotFoundError("repository not found", status_code=404)

    ex = explore("r.example/missing", loader=loader)
    assert "NotFoundError" in ex.message.value
    assert "repository not found" in ex.message.value
    assert "Traceback" not in ex.message.value
    assert ex.progress is not None
    assert ex.progress.bar_style == "danger"
    assert ex.filtered.empty


def test_without_dates_the_table_works_and_the_chart_explains() -> None:
    ex = explore(sample(dates=False))
    assert len(ex.filtered) == 7
    assert ex.dates.disabled
    assert ex.ax is None
    assert "dates=True" in ex.output.outputs[0]["data"]["text/plain"]
    assert "7 releases" in ex.table.value
    ex.majors.value = (8,)
    assert len(ex.filtered) == 4


def test_no_match_message() -> None:
    ex = explore(sample())
    ex.majors.value = (7,)
    ex.variant.value = "arm64"
    assert ex.filtered.empty
    assert "no release matches" in ex.output.outputs[0]["data"]["text/plain"]


def test_releases_frame_input() -> None:
    from regframe.cadence import releases

    ex = explore(releases(sample(), prereleases=True))
    assert len(ex.filtered) == 7  # prereleases off by default
    ex.prereleases.value = True
    assert len(ex.filtered) == 8
    ex.variant.value = "arm64"
    assert releases_of(ex) == ["8.1.0"]


def test_the_explorer_is_a_composable_widget() -> None:
    import ipywidgets

    ex = explore(sample())
    assert isinstance(ex, ipywidgets.VBox)
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.model_id
    tab = ipywidgets.Tab([ex, explore(sample(dates=False))])
    assert tab.children[0] is ex
    assert ex.majors in ex.children[1].children  # controls stay attributes, inside the box


def test_table_scrolls_newest_first_with_blanks_and_a_count() -> None:
    ex = explore(sample())
    ex.prereleases.value = True
    table = ex.table.value
    assert "&lt;NA&gt;" not in table and "<NA>" not in table and "nan" not in table
    assert "max-height:400px" in table and "overflow:auto" in table
    assert "<b>8 releases</b>" in table
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", table)
    # newest build first, whatever the line: 7.17.1 shipped after 8.1.0; 8.0.0-rc1 in January
    assert rows == ["8.1.1", "7.17.1", "8.1.0", "8.0.1", "8.0.0", "7.17.0", "8.0.0", "7.16.0"]


def test_undated_rows_sort_last_and_show_blank() -> None:
    ex = explore(tags(("1.0.0", "2020-01-01"), ("1.1.0", None), ("1.2.0", "2021-01-01")))
    table = ex.table.value
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", table)
    assert rows == ["1.2.0", "1.0.0", "1.1.0"]
    assert "NaT" not in table and "NaN" not in table


def test_date_range_reads_with_an_arrow() -> None:
    ex = explore(sample())
    assert ex.dates_label.value == "2021-12 → 2022-05"
    ex.dates.index = (3, 4)
    assert ex.dates_label.value == "2022-03 → 2022-04"
    assert not ex.dates.readout  # the slider's own "2022-03-2022-04" readout stays off
    assert explore(sample(dates=False)).dates_label.value == "<i>no release dates</i>"


def test_prefix_selector_appears_with_several_prefixes() -> None:
    plain = explore(sample())
    assert plain.prefix.layout.display == "none"
    frame = tags(("20.4.0", "2020-04-01"), ("22.4.0", "2022-04-01"), ("22.4.1", "2022-06-01"),
                 ("24.4.0", "2024-04-01"))
    frame["prefix"] = pd.array(["focal", "jammy", "jammy", None], dtype="string")
    ex = explore(frame)
    assert ex.prefix.layout.display != "none"
    assert ex.prefix.options == (ALL_PREFIXES, NO_PREFIX, "focal", "jammy")
    assert len(ex.filtered) == 4
    ex.prefix.value = "jammy"
    assert releases_of(ex) == ["22.4.0", "22.4.1"]
    assert [v for _, v in ex.majors.options] == [22]  # controls follow the prefix
    ex.prefix.value = NO_PREFIX
    assert releases_of(ex) == ["24.4.0"]


def test_image_selector_appears_with_several_images() -> None:
    a = sample()
    a.insert(0, "image", pd.array(["r.example/es"] * len(a), dtype="string"))
    b = tags(("1.0.0", "2023-01-01"), ("1.1.0", "2023-02-01"))
    b.insert(0, "image", pd.array(["r.example/kibana"] * len(b), dtype="string"))
    ex = explore(pd.concat([a, b], ignore_index=True))
    assert ex.image_filter.layout.display != "none"
    assert ex.image_filter.options == ("r.example/es", "r.example/kibana")
    assert ex.image_filter.value == "r.example/es"
    assert len(ex.filtered) == 7
    ex.majors.value = (8,)
    ex.image_filter.value = "r.example/kibana"
    assert releases_of(ex) == ["1.0.0", "1.1.0"]
    assert ex.majors.value == ()
    assert [v for _, v in ex.majors.options] == [1]
    assert ex.dates_label.value == "2023-01 → 2023-02"
    single = sample()
    single.insert(0, "image", pd.array(["r.example/es"] * len(single), dtype="string"))
    one = explore(single)
    assert one.image_filter.layout.display == "none"
    assert "<th" in one.table.value and ">image<" not in one.table.value


def test_progress_bar_follows_the_loader(monkeypatch) -> None:
    seen: list[float] = []

    def loader(image: str, *, dates: bool, progress: Any) -> pd.DataFrame:
        for done in range(0, 11):
            progress(done, 10)
        return sample()

    monkeypatch.setattr(Explorer, "progress_interval", 0.0)
    ex = explore("", loader=loader)
    assert ex.progress is not None and ex.image is not None and ex.load is not None
    ex.progress.observe(lambda change: seen.append(change["new"]), names="value")
    ex.image.value = "r.example/es"
    ex.load.click()
    moving = [v for v in seen if 0.0 < v < 1.0]
    assert moving == [pytest.approx(i / 10) for i in range(1, 10)]  # not 0 → 1 in one jump
    assert seen[-1] == 1.0 and ex.progress.bar_style == "success"


def test_progress_updates_are_throttled() -> None:
    ex = explore("", loader=lambda image, **kw: sample())
    assert ex.progress is not None
    seen: list[float] = []
    ex.progress.observe(lambda change: seen.append(change["new"]), names="value")
    for done in range(1, 1000):
        ex._on_progress(done, 1000)  # a burst far faster than progress_interval
    ex._on_progress(1000, 1000)  # the end of a phase: more may follow, the bar waits
    assert seen == [0.001]


def test_progress_bar_follows_a_real_read(registry_token, monkeypatch) -> None:
    """read_tags(progress=callable) drives the bar: tag list, manifests and configs."""
    repo = "widgets/progress"
    p = registry_token.pusher
    for i in range(40):
        p.push_image(repo, [f"1.{i}.0"], created=f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}T00:00:00Z")
    monkeypatch.setattr(Explorer, "progress_interval", 0.0)
    # Four requests in flight and 50 ms per round trip: 40 tags then take about 20 round
    # trips.  Unthrottled (100 in flight on libcurl) or unproxied, the read can finish
    # between two wake-ups of the waiting thread, and the bar would rightly jump in one step.
    ex = explore("", max_workers=4)
    assert ex.progress is not None and ex.image is not None and ex.load is not None
    seen: list[float] = []
    ex.progress.observe(lambda change: seen.append(change["new"]), names="value")
    with LatencyProxy(registry_token.address, delay=0.05) as proxy:
        ex.image.value = f"127.0.0.1:{proxy.address[1]}/{repo}"
        ex.load.click()
    assert ex.progress.bar_style == "success", ex.message.value
    assert len(ex.filtered) == 40
    moving = [v for v in seen if 0.0 < v < 1.0]
    assert len(set(moving)) >= 2, seen  # moved with the requests, not 0 → 1 in one jump
    assert seen[-1] == 1.0


def test_an_empty_image_box_waits_for_input() -> None:
    calls: list[str] = []
    ex = explore("", loader=lambda image, **kw: calls.append(image) or sample())
    assert calls == []
    assert ex.message.value == ""
    assert "nothing loaded yet" in ex.output.outputs[0]["data"]["text/plain"]
    assert ex.load is not None
    ex.load.click()
    assert "enter an image reference" in ex.message.value


def test_bad_inputs() -> None:
    with pytest.raises(TypeError, match="image reference"):
        explore(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="only apply"):
        explore(sample(), platform="linux/amd64")


def test_explore_loads_from_the_real_registry(registry_token) -> None:
    """explore(str) with the default loader: read_tags(dates=True) against the token-auth sandbox."""
    repo = "widgets/real"
    p = registry_token.pusher
    for i, when in enumerate(["2023-01-05", "2023-04-01", "2023-09-09"]):
        p.push_image(repo, [f"2.{i}.0", f"2.{i}.0-alpine"], created=f"{when}T00:00:00Z")
    p.push_image(repo, ["3.0.0rc1"], created="2023-11-01T00:00:00Z")
    p.push_image(repo, ["3.0.0", "latest"], created="2023-12-01T00:00:00Z")
    ex = explore(registry_token.ref(repo))
    assert ex.data is not None and len(ex.data) == 9
    assert list(ex.filtered["release"]) == ["2.0.0", "2.1.0", "2.2.0", "3.0.0"]
    ex.majors.value = (3,)
    assert list(ex.filtered["release"]) == ["3.0.0"]
    ex.prereleases.value = True
    assert list(ex.filtered["release"]) == ["3.0.0", "3.0.0"]
    missing = explore(registry_token.ref("widgets/does-not-exist"))
    assert "not found" in missing.message.value.lower()


def test_prefix_selector_with_parsed_tags() -> None:
    """The prefix column as the parser writes it (ubuntu-style ``jammy-20240808`` tags)."""
    from regframe import parse_tags

    df = parse_tags(["jammy-20240808", "jammy-20240901", "noble-20240801", "focal-20231003"])
    df["created"] = pd.to_datetime(["2024-08-08", "2024-09-01", "2024-08-01", "2023-10-03"], utc=True)
    ex = explore(df)
    assert ex.prefix.layout.display != "none"
    assert ex.prefix.options == (ALL_PREFIXES, "focal", "jammy", "noble")
    ex.prefix.value = "jammy"
    assert releases_of(ex) == ["20240808", "20240901"]
    assert ex.dates_label.value == "2024-08 → 2024-09"
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", ex.table.value)
    assert rows == [("jammy", "20240901"), ("jammy", "20240808")]  # prefix shown: it varies
