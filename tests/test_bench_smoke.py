"""The benchmark machinery (bench/run.py) in a tiny configuration: structure, not timings."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_count import RequestLog, classify  # noqa: E402
from bench.run import ROWS, Config, lower_bound, render_markdown, run_benchmark  # noqa: E402
from bench.seed import plan_images  # noqa: E402
from regframe.testing.sandbox import SandboxUnavailable  # noqa: E402

TAGS, IMAGES = 30, 10


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    cfg = Config(
        tags=TAGS,
        images=IMAGES,
        rtt=0.01,
        sequential_sample=5,
        skopeo_sample=2,
        parse_n=2000,
        parse_runs=1,
        rtt_probes=3,
        out=out,
        log=lambda s: None,
    )
    try:
        res = run_benchmark(cfg)
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    res["_out"] = out
    return res


def test_lower_bound_formula() -> None:
    # (2 + ceil(2000/2000)) + ceil((2000 + 2*600)/16) = 3 + 200 round trips
    trips, seconds = lower_bound(2000, 600, 2000, 0.05)
    assert trips == 203
    assert seconds == pytest.approx(10.15)
    # a registry serving 100 tags a page adds 19 page round trips
    assert lower_bound(2000, 600, 100, 0.05)[0] == 222
    # r counts requests per digest chain: single-arch images (r=2) need one fewer hop
    assert lower_bound(33, 10, 1000, 1.0, concurrency=4, r=2) == (3 + math.ceil(43 / 4), 14.0)


def test_plan_images_lays_out_exact_distinct_tags() -> None:
    plan = plan_images(2000, 600)
    tags = [t for spec in plan for t in spec.tags]
    assert len(tags) == len(set(tags)) == 2000
    assert len(plan) == 600
    assert all(spec.tags[0] == spec.version for spec in plan)
    assert len({spec.created for spec in plan}) == 600
    assert plan[-1].tags.count("latest") == 1
    with pytest.raises(ValueError, match="images"):
        plan_images(5, 10)


def test_classify_request_kinds() -> None:
    reg = "127.0.0.1:5000"
    base = f"http://{reg}/v2/bench/app"
    assert classify("GET", f"http://{reg}/v2/", reg) == "ping"
    assert classify("GET", "http://127.0.0.2:7/token?scope=x", reg) == "token"
    assert classify("GET", f"{base}/tags/list?n=1000", reg) == "tags_list"
    assert classify("GET", f"{base}/manifests/1.0.0", reg) == "manifest_by_tag_get"
    assert classify("HEAD", f"{base}/manifests/latest", reg) == "manifest_by_tag_head"
    assert classify("GET", f"{base}/manifests/sha256%3A{'a' * 64}", reg) == "manifest_by_digest"
    assert classify("GET", f"{base}/blobs/sha256:{'b' * 64}", reg) == "blob"
    log = RequestLog(reg)
    log.add("GET", f"{base}/blobs/sha256:{'b' * 64}", 2)
    log.add("HEAD", f"{base}/manifests/x")
    assert (log.total, log.by_digest) == (3, 2)


def test_warm_run_requests_nothing_by_digest(results: dict[str, Any]) -> None:
    warm = results["rows"]["warm"]
    assert warm["by_digest"] == 0
    assert warm["requests_by_kind"]["manifest_by_tag_head"] == TAGS
    assert warm["errors"] == 0
    target = next(t for t in results["targets"] if t["name"] == "warm requests by digest")
    assert target["passed"] is True


def test_cold_run_walks_every_chain_once(results: dict[str, Any]) -> None:
    cold = results["rows"]["cold"]
    kinds = cold["requests_by_kind"]
    assert cold["rows"] == TAGS
    assert cold["unique_digests"] == IMAGES == results["unique_digests"]
    assert cold["errors"] == 0
    assert cold["dated"] == TAGS
    assert cold["manifests"] >= TAGS + IMAGES
    # one GET per tag, one child per index, one config per child: de-duplicated by digest
    assert kinds["manifest_by_tag_get"] == TAGS
    assert kinds["manifest_by_digest"] == IMAGES
    assert kinds["blob"] == IMAGES
    # the no-proxy run does the same work straight at the registry
    floor = results["rows"]["floor"]
    assert floor["requests_by_kind"] == kinds
    assert floor["errors"] == 0


def test_bound_uses_measured_inputs(results: dict[str, Any]) -> None:
    bound = results["rows"]["bound"]
    inputs = bound["inputs"]
    assert (inputs["T"], inputs["U"], inputs["P"]) == (TAGS, IMAGES, TAGS)  # CNCF: one page
    assert inputs["R"] == results["rtt_seconds"] > 0.01  # the proxy adds at least the rtt
    trips, seconds = lower_bound(TAGS, IMAGES, TAGS, inputs["R"])
    assert (bound["round_trips"], bound["seconds"]) == (trips, pytest.approx(seconds))


def test_peers_are_sampled_and_extrapolated(results: dict[str, Any]) -> None:
    seq = results["rows"]["sequential"]
    assert seq["extrapolated"] is True
    assert seq["sample"] == 5
    assert seq["loop_requests"] == 3 * 5  # manifest by tag, child, config blob
    assert seq["dated"] == 5
    sk = results["rows"]["skopeo"]
    if sk.get("skipped"):
        pytest.skip("skopeo is not installed")
    assert sk["failures"] == 0
    assert sk["sample"] == 2
    assert sk["requests_by_kind"]["blob"] == 2  # each process reads its config blob


def test_results_json_and_markdown_have_every_row(results: dict[str, Any]) -> None:
    saved = json.loads(Path(results["_out"]).read_text())
    assert set(saved["rows"]) == set(ROWS)
    for name in ROWS:
        assert saved["rows"][name]["label"]
    assert {t["name"] for t in saved["targets"]} >= {
        "cold vs lower bound",
        "speed-up vs sequential loop",
        "speed-up vs skopeo",
        "warm requests by digest",
    }
    assert saved["machine"]["nproc"] >= 1
    assert len(saved["machine"]["loadavg_end"]) == 3
    text = render_markdown(results)
    for name in ROWS:
        assert results["rows"][name]["label"] in text
    assert text.count("PASS") + text.count("MISS") + text.count("n/a") == len(saved["targets"])


def test_cpu_per_request_is_reported(results: dict[str, Any]) -> None:
    for name in ("cold", "warm", "floor"):
        row = results["rows"][name]
        assert row["cpu_seconds"] > 0
        assert row["cpu_ms_per_request"] == pytest.approx(
            1000 * row["cpu_seconds"] / row["requests"]
        )
    assert "client CPU per request (cold, no latency)" in {t["name"] for t in results["targets"]}
    assert "client CPU ms/request" in render_markdown(results)


def test_hub_listing_bench_structure() -> None:
    """bench/hub_listing.py on 250 tags (3 pages of the scripted Hub API), both rows."""
    from bench.hub_listing import render, run

    res = run(tags=250, rtt=0.01, repeat=1)
    for name in ("sequential", "concurrent"):
        row = res["rows"][name]
        assert row["requests"] == 3
        assert row["rows"] == 250
        assert row["round_trips"] > 0 and row["listing_round_trips"] > 0
    assert "pages concurrently" in render(res)
