"""``regframe app`` in real Chromium: load an image from the sandbox, filter, export.

One ``regframe app`` (Voila) serves the whole module; every test opens its own page, so
its own kernel.  The tests wait on what a user sees — a table caption, the chart's ``src``,
the download — never on sleeps.  Each keeps a screenshot in its ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser import browser, child_env, python_cmd, stop, wait_for_line

from regframe.testing.histories import elastic_history, seed
from regframe.testing.latency_proxy import LatencyProxy

pytestmark = [pytest.mark.registry, pytest.mark.timeout(300)]

REPO = "app/elasticsearch"
LOAD_TIMEOUT = 120_000  # ms: a cold dates=True read on a busy two-core machine


@pytest.fixture(scope="module")
def image(registry_token) -> str:
    pushes = [
        dataclasses.replace(p, platforms=("linux/amd64",))
        for p in elastic_history()
        if p.tags[0][0] in "78"
    ]
    seed(registry_token.pusher, REPO, pushes)
    return registry_token.ref(REPO)


@pytest.fixture(scope="module")
def tags(image: str, tmp_path_factory) -> pd.DataFrame:
    """The image's tags as read in-process (the same library, no browser)."""
    import regframe as rf

    cache = tmp_path_factory.mktemp("expected-cache")
    return rf.read_tags(image, dates=True, cache=cache)


@pytest.fixture(scope="module")
def expected(tags: pd.DataFrame) -> pd.DataFrame:
    """The releases the page should show."""
    import regframe as rf

    return rf.releases(tags)


@pytest.fixture(scope="module")
def app(image, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """``regframe app IMAGE --no-browser``; yields (URL, export folder)."""
    home = tmp_path_factory.mktemp("app-home")
    exports = tmp_path_factory.mktemp("app-exports")
    proc = subprocess.Popen(
        python_cmd("-m", "regframe.cli", "app", image, "--no-browser"),
        cwd=exports, env=child_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        url = wait_for_line(proc, r"http://127\.0\.0\.1:\d+/\?token=\S+")
        yield url, exports
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium, app, expected) -> Iterator[Any]:
    """A fresh page (its own kernel) once it shows the image named on the command line."""
    from playwright.sync_api import expect

    url, _ = app
    context = chromium.new_context(viewport={"width": 1280, "height": 1900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT)
    page.goto(url)
    expect(caption(page)).to_have_text(f"{len(expected)} releases")
    expect(page.get_by_role("button", name="Load")).to_be_enabled()
    yield page
    context.close()


def caption(page: Any) -> Any:
    return page.locator(".regframe-explorer b", has_text=re.compile(r"^\d+ releases?"))


def load(page: Any, reference: str) -> None:

    box = page.get_by_placeholder("quay.io/prometheus/prometheus")
    box.fill(reference)
    page.get_by_role("button", name="Load").click()
    # the caller waits for the outcome it expects (an error line, a green bar)


def test_the_app_loads_an_image_from_the_registry(page, image, expected, registry_token, tmp_path):
    from playwright.sync_api import expect

    # the page fixture saw the image given on the command line load; now the image box
    box = page.get_by_placeholder("quay.io/prometheus/prometheus")
    expect(box).to_have_value(image)
    missing = image.rsplit("/", 2)[0] + "/app/does-not-exist"
    load(page, missing)
    error = page.locator(".regframe-explorer span", has_text="could not load")
    expect(error).to_be_visible()
    assert "\n" not in error.inner_text() and "Traceback" not in page.content()
    page.screenshot(path=tmp_path / "app-error.png")

    # the progress bar as the browser draws it: record every width it takes during the load
    page.evaluate(
        """() => {
            const bar = document.querySelector('.regframe-explorer .widget-hprogress .progress-bar');
            window.regframeWidths = [];
            new MutationObserver(() => window.regframeWidths.push(bar.style.width))
                .observe(bar, {attributes: true, attributeFilter: ['style']});
        }"""
    )
    # The same registry 200 ms away: the app's cache is warm from the first load, and on an
    # idle machine a warm read of the loopback registry can finish between two updates of the
    # bar (0.1 s apart), which would rightly jump from 0 to 100 %.  Round trips of 200 ms
    # give the read several updates whichever transport carries it.
    with LatencyProxy(registry_token.address, delay=0.2) as proxy:
        load(page, f"127.0.0.1:{proxy.address[1]}/{REPO}")
        # done: the bar turns green at 100% (the caption still shows the first load meanwhile)
        expect(page.locator(".regframe-explorer .progress-bar-success")).to_have_count(1)
    expect(caption(page)).to_have_text(f"{len(expected)} releases")
    expect(error).to_have_count(0)
    widths = page.evaluate("window.regframeWidths")
    assert widths[-1] == "100%"
    assert {w for w in widths if w not in ("0%", "100%")}, widths  # moved, not 0 → 100 at once
    chart = page.locator(".regframe-explorer img").first
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 200
    table = page.locator(".regframe-table")
    assert 300 <= table.bounding_box()["height"] <= 402  # scrolls instead of growing
    first = table.locator("tbody tr").first.locator("td").first
    newest = expected.sort_values("created", ascending=False).iloc[0]["release"]
    expect(first).to_have_text(newest)
    assert "<NA>" not in table.inner_text()
    page.screenshot(path=tmp_path / "app-loaded.png", full_page=True)
    # the page alone, cropped to its content: the README's docs/app.png is this file
    page.locator(".widget-vbox", has=page.locator(".regframe-explorer")).first.screenshot(
        path=tmp_path / "app.png"
    )


def test_selecting_a_major_changes_the_chart_and_the_table(page, image, expected, tmp_path):
    from playwright.sync_api import expect

    chart = page.locator(".regframe-explorer img").first
    before = chart.get_attribute("src")
    page.locator(".widget-select-multiple select").select_option(label="7")
    expect(chart).not_to_have_attribute("src", before)
    sevens = expected[expected["major"] == 7]
    expect(caption(page)).to_have_text(f"{len(sevens)} releases")
    releases = page.locator(".regframe-table tbody tr td:first-child").all_inner_texts()
    assert releases and all(r.startswith("7.") for r in releases)
    assert releases == sevens.sort_values("created", ascending=False)["release"].tolist()
    page.screenshot(path=tmp_path / "app-major-7.png", full_page=True)


def test_export_writes_the_csv_and_offers_a_download(page, app, image, expected, tmp_path):
    from playwright.sync_api import expect

    _, exports = app
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_text(re.compile(r"wrote \d+ releases to"))).to_be_visible()
    written = exports / "app_elasticsearch-releases.csv"
    back = pd.read_csv(written)
    assert len(back) == len(expected)
    assert back["release"].tolist() == expected["release"].tolist()
    with page.expect_download() as info:
        page.locator("a.regframe-download").click()
    download = info.value
    assert download.suggested_filename == written.name
    saved = tmp_path / "downloaded.csv"
    download.save_as(saved)
    assert saved.read_bytes() == written.read_bytes()
    page.screenshot(path=tmp_path / "app-exported.png", full_page=True)


def test_a_version_range_and_newest_per_line_change_the_chart_and_the_table(
    page, tags, expected, tmp_path
):
    """A user types a range into "versions", presses Enter, then ticks "newest per line".

    What the page should show is computed without the explorer: ``rf.select`` on the tags
    for the range, ``rf.newest(by="line")`` for the toggle.
    """
    from playwright.sync_api import expect

    import regframe as rf

    wanted = ">=7.16,<8.3"  # crosses a major, several lines, each with several patches
    in_range = rf.releases(rf.select(tags, versions=wanted))
    newest = rf.newest(rf.select(tags, versions=wanted), by="line")
    assert len(newest) < len(in_range) < len(expected)  # each step must show a change

    chart = page.locator(".regframe-explorer img").first
    rows = page.locator(".regframe-table tbody tr td:first-child")
    before = chart.get_attribute("src")
    box = page.get_by_placeholder(">=8.15,<9  or  ^8.15")
    box.fill(wanted)
    box.press("Enter")
    expect(caption(page)).to_have_text(f"{len(in_range)} releases")
    expect(chart).not_to_have_attribute("src", before)
    shown = rows.all_inner_texts()
    assert shown == in_range.sort_values("released", ascending=False)["release"].tolist()
    page.screenshot(path=tmp_path / "app-versions.png", full_page=True)

    ranged = chart.get_attribute("src")
    page.get_by_role("checkbox", name="newest per line").check()
    expect(caption(page)).to_have_text(f"{len(newest)} releases")
    expect(chart).not_to_have_attribute("src", ranged)
    shown = rows.all_inner_texts()
    assert shown == newest.sort_values("released", ascending=False)["release"].tolist()
    page.screenshot(path=tmp_path / "app-newest.png", full_page=True)
    page.locator(".widget-vbox", has=page.locator(".regframe-explorer")).first.screenshot(
        path=tmp_path / "app-controls.png"
    )

    # A range that does not read is said on the page, and filters nothing.
    message = page.locator(".regframe-explorer span", has_text="position")
    box.fill(">=8.15,<<9")
    box.press("Enter")
    expect(message).to_be_visible()
    assert "Traceback" not in page.content()
    # Emptying the box brings every line back, still newest per line; the complaint goes.
    box.fill("")
    box.press("Enter")
    expect(caption(page)).to_have_text(f"{len(rf.newest(tags, by='line'))} releases")
    expect(message).to_have_count(0)
