"""bench/precise.py in a tiny configuration: the match figure's claim holds, the rest has shape.

Timings are not asserted (speed claims live in bench/, as ratios); the request counts are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.precise import measure_match, measure_several, render  # noqa: E402
from regframe.testing.sandbox import SandboxUnavailable  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def test_match_sends_what_a_repository_of_only_the_matching_tags_needs():
    try:
        m = measure_match(60, 15, lambda s: None)
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    assert 0 < m["matching_tags"] < 60
    big, small = m["with_match"], m["only_matching_repo"]
    assert big["rows"] == small["rows"] == m["matching_tags"]
    assert big["requests_by_kind"] == small["requests_by_kind"]
    assert big["requests_by_kind"]["manifest_by_tag_get"] == m["matching_tags"]
    assert big["errors"] == 0


def test_several_images_figure_has_both_runs():
    s = measure_several(2, 6, 3, 0.005, lambda s: None)
    assert s["list_rows"] == 12
    assert s["loop_requests"] == s["list_requests"]
    assert s["ratio"] > 0
    text = render({"match": measure_match(20, 5, lambda s: None), "several": s})
    assert "loop / list" in text
