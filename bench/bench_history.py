"""Tag-history benchmark: what recording costs a cold read, and what ``max_age`` saves a re-run.

Run ``python bench/bench_history.py`` (``--quick`` for 400 tags).  Same repository and
network as ``bench/run.py``: a sandbox registry with token auth seeded with T tags over U
multi-arch images, read through a latency proxy (``--rtt``, 50 ms) in its own process.
Measured, with requests counted at the ``requests`` adapter:

1. cold ``read_tags(dates=True)`` with ``history=False`` and with a fresh history store
   (alternating, ``--cold-runs`` each): the end-to-end difference (noisy: two cold runs
   differ by more than recording costs);
2. recording alone: :func:`regframe.frame.history.record_frame` of that cold frame into an
   empty store (what a cold run adds) and into the store that already holds it (what a
   warm run adds), median of ``--repeats``;
3. warm: the same cache and store again (one ``HEAD`` per tag), median of ``--repeats``;
4. ``max_age="1h"`` re-run: answered from the store, median of ``--repeats``; must send 0
   requests.

Targets (the issue): the ``max_age`` re-run sends 0 requests and takes < 5 % of the warm
run; recording adds < 5 % to a cold run.  Writes ``bench/results/history.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

import regframe.frame.resolve  # noqa: F401  (imported up front so no run times imports)
from bench.http_count import RequestLog, counting_session
from bench.proxy_proc import ProxyProcess
from bench.seed import plan_images, seed
from regframe.frame.history import record_frame
from regframe.frame.read import read_tags
from regframe.testing.sandbox import Sandbox

__all__ = ["main", "run"]

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "results" / "history.json"
REPO = "bench/app"
MAX_AGE_OVER_WARM = 0.05
RECORD_OVER_COLD = 0.05


def _timed_read(ref: str, registry: str, workers: int, **kw: Any) -> dict[str, Any]:
    log = RequestLog(registry)
    session = counting_session(log, workers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            df = read_tags(
                ref, dates=True, max_workers=workers, progress=False, session=session, **kw
            )
            seconds = time.perf_counter() - t0
    finally:
        session.close()
    return {"seconds": seconds, "requests": log.total, "frame": df}


def _record_seconds(df: pd.DataFrame, store: Path, registry: str, seen: pd.Timestamp) -> float:
    t0 = time.perf_counter()
    result = record_frame(
        df, registry=registry, repository=REPO, platform="linux/amd64", history=store, seen=seen
    )
    seconds = time.perf_counter() - t0
    if result is None:
        raise RuntimeError(f"recording into {store} failed")
    return seconds


def run(
    tags: int = 2000,
    images: int = 600,
    rtt: float = 0.05,
    workers: int = 16,
    cold_runs: int = 2,
    repeats: int = 5,
    log: Any = None,
) -> dict[str, Any]:
    """Seed, measure, judge; returns the results dict (see the module docstring)."""
    say = log or (lambda s: print(s, file=sys.stderr, flush=True))
    plan = plan_images(tags, images)
    out: dict[str, Any] = {"tags": tags, "images": images, "rtt": rtt, "concurrency": workers}
    with Sandbox(auth="token") as sb, tempfile.TemporaryDirectory(prefix="rf-hist-") as tmp:
        root = Path(tmp)
        say(f"seeding {tags} tags over {images} images ...")
        out["seed_seconds"] = seed(sb, REPO, plan)
        host, port = sb.host.rsplit(":", 1)
        with ProxyProcess((host, int(port)), delay=rtt, handshake=True) as proxy:
            ref = f"{proxy.netloc}/{REPO}"
            cold_off, cold_on = [], []
            for i in range(cold_runs):
                say(f"cold run {i + 1}/{cold_runs} without history ...")
                off = root / f"c-off-{i}"
                r = _timed_read(ref, proxy.netloc, workers, cache=off, history=False)
                cold_off.append(r["seconds"])
                say(f"cold run {i + 1}/{cold_runs} recording ...")
                store = root / f"h-{i}.sqlite"
                r = _timed_read(ref, proxy.netloc, workers, cache=root / f"c-on-{i}", history=store)
                cold_on.append(r["seconds"])
                frame = r["frame"]
            cache, store = root / f"c-on-{cold_runs - 1}", root / f"h-{cold_runs - 1}.sqlite"
            if len(frame) != tags or frame["error"].notna().any():
                raise RuntimeError(f"cold frame has {len(frame)} rows / errors: not comparable")

            say("recording alone ...")
            now = pd.Timestamp.now(tz="UTC")
            rec_empty, rec_again = [], []
            for i in range(repeats):
                rec_empty.append(_record_seconds(frame, root / f"r-{i}.sqlite", proxy.netloc, now))
                rec_again.append(
                    _record_seconds(frame, root / f"r-{i}.sqlite", proxy.netloc,
                                    now + pd.Timedelta(seconds=i + 1))
                )  # fmt: skip

            say("warm runs ...")
            warm = [
                _timed_read(ref, proxy.netloc, workers, cache=cache, history=store)
                for _ in range(repeats)
            ]
            say("max_age re-runs ...")
            fresh = [
                _timed_read(ref, proxy.netloc, workers, cache=cache, history=store, max_age="1h")
                for _ in range(repeats)
            ]
            if not fresh[-1]["frame"]["digest"].equals(warm[-1]["frame"]["digest"]):
                raise RuntimeError("the max_age frame differs from the warm frame")

    med = statistics.median
    cold_off_s, cold_on_s = med(cold_off), med(cold_on)
    warm_s = med(r["seconds"] for r in warm)
    fresh_s = med(r["seconds"] for r in fresh)
    out.update(
        cold_off_seconds=cold_off,
        cold_on_seconds=cold_on,
        record_empty_seconds=rec_empty,
        record_again_seconds=rec_again,
        warm_seconds=[r["seconds"] for r in warm],
        warm_requests=warm[-1]["requests"],
        max_age_seconds=[r["seconds"] for r in fresh],
        max_age_requests=[r["requests"] for r in fresh],
        loadavg=list(os.getloadavg()),
    )
    out["ratios"] = {
        "record_over_cold": med(rec_empty) / cold_on_s,
        "record_again_over_warm": med(rec_again) / warm_s,
        "cold_on_over_off": cold_on_s / cold_off_s,
        "max_age_over_warm": fresh_s / warm_s,
    }
    out["targets"] = {
        "max_age sends 0 requests": max(out["max_age_requests"]) == 0,
        f"max_age < {MAX_AGE_OVER_WARM:.0%} of warm": out["ratios"]["max_age_over_warm"]
        < MAX_AGE_OVER_WARM,
        f"recording < {RECORD_OVER_COLD:.0%} of cold": out["ratios"]["record_over_cold"]
        < RECORD_OVER_COLD,
    }
    return out


def render(res: dict[str, Any]) -> str:
    """The results as a Markdown table plus PASS/MISS per target."""
    med = statistics.median
    r = res["ratios"]
    lines = [
        f"T = {res['tags']} tags, U = {res['images']} images, R = {res['rtt'] * 1000:.0f} ms, "
        f"C = {res['concurrency']}",
        "",
        "| run | seconds (median) | requests | ratio |",
        "|---|--:|--:|--:|",
        f"| cold, history=False | {med(res['cold_off_seconds']):.2f} | | |",
        f"| cold, recording | {med(res['cold_on_seconds']):.2f} | | "
        f"{r['cold_on_over_off']:.3f}× cold without |",
        f"| recording alone, empty store | {med(res['record_empty_seconds']):.3f} | 0 | "
        f"{r['record_over_cold']:.2%} of cold |",
        f"| recording alone, store holding it | {med(res['record_again_seconds']):.3f} | 0 | "
        f"{r['record_again_over_warm']:.2%} of warm |",
        f"| warm (same cache and store) | {med(res['warm_seconds']):.2f} | "
        f"{res['warm_requests']} | |",
        f"| `max_age=\"1h\"` re-run | {med(res['max_age_seconds']):.3f} | "
        f"{max(res['max_age_requests'])} | {r['max_age_over_warm']:.2%} of warm |",
        "",
    ]
    lines += [f"{'PASS' if ok else 'MISS'}  {name}" for name, ok in res["targets"].items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="400 tags over 120 images")
    p.add_argument("--tags", type=int)
    p.add_argument("--images", type=int)
    p.add_argument("--rtt", type=float, default=0.05)
    p.add_argument("--cold-runs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = p.parse_args(argv)
    tags = a.tags or (400 if a.quick else 2000)
    images = a.images or (120 if a.quick else 600)
    res = run(tags, images, a.rtt, cold_runs=a.cold_runs, repeats=a.repeats)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    print(render(res))
    return 0 if all(res["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
