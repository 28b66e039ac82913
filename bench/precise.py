"""Precise questions, measured: ``match=`` request counts and several images at once.

Run ``python bench/precise.py`` (``--quick`` for a smaller run).  Two figures:

1. **match** — a real registry holds a repository of ``--tags`` (2,000) tags, of
   which a regular expression matches about 5 %, and a second repository
   holding only the matching tags (same images).  It counts the requests of
   ``read_tags(big, dates=True, match=M)`` and of ``read_tags(small, dates=True)``
   (cold caches): they must be equal, plus nothing (the one tag list is the
   same size in requests here, the registry not paginating).
2. **several images** — ``--repos`` (20) repositories × ``--repo-tags`` (100)
   tags behind the 50 ms latency proxy: ``read_tags(list, dates=True)`` against
   a loop of single calls, both cold; the ratio is the figure.

Prints a Markdown table and writes ``bench/results/precise.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_count import RequestLog, counting_session
from bench.proxy_proc import ProxyProcess
from bench.run import machine_info, measure_rtt
from bench.seed import ImageSpec, plan_images, seed
from regframe.frame.read import read_tags
from regframe.testing.sandbox import Sandbox

__all__ = ["MATCH", "main", "measure_match", "measure_several"]

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "results" / "precise.json"
#: Versions 1.0.x and 1.1.x with all their aliases: about 5 % of the seeded tags.
MATCH = r"^v?1\.[01](\.|$|-)"


def _counted(ref: str, netloc: str, **kwargs: Any) -> dict[str, Any]:
    log = RequestLog(netloc)
    session = counting_session(log, 16)
    with tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache:
        try:
            t0 = time.perf_counter()
            df = read_tags(ref, dates=True, cache=cache, progress=False, session=session, **kwargs)
            seconds = time.perf_counter() - t0
        finally:
            session.close()
    return {
        "rows": len(df),
        "errors": int(df["error"].notna().sum()),
        "seconds": seconds,
        "requests": log.total,
        "requests_by_kind": log.snapshot(),
    }


def measure_match(n_tags: int, n_images: int, say: Any) -> dict[str, Any]:
    """Figure 1: requests with ``match=`` on the big repository vs the small one."""
    plan = plan_images(n_tags, n_images)
    rx = re.compile(MATCH)
    only = [
        ImageSpec(s.version, tuple(t for t in s.tags if rx.search(t)), s.created)
        for s in plan
        if any(rx.search(t) for t in s.tags)
    ]
    matching = sum(len(s.tags) for s in only)
    with Sandbox(auth="token") as sb:
        seed(sb, "bench/all", plan)
        seed(sb, "bench/only", only)
        say(f"seeded {n_tags} tags (bench/all) and the {matching} matching (bench/only)")
        big = _counted(f"{sb.host}/bench/all", sb.host, match=MATCH)
        small = _counted(f"{sb.host}/bench/only", sb.host)
    return {
        "tags": n_tags,
        "images": n_images,
        "match": MATCH,
        "matching_tags": matching,
        "matching_share": matching / n_tags,
        "with_match": big,
        "only_matching_repo": small,
        "equal": big["requests_by_kind"] == small["requests_by_kind"],
    }


def measure_several(
    repos: int, repo_tags: int, repo_images: int, rtt: float, say: Any
) -> dict[str, Any]:
    """Figure 2: ``read_tags(list)`` vs a loop of single calls behind the latency proxy."""
    plan = plan_images(repo_tags, repo_images)
    names = [f"bench/repo{i:02d}" for i in range(repos)]
    with Sandbox(auth="token") as sb:
        for i, name in enumerate(names):
            # Other build times, other digests: no repository is served from another's cache.
            shifted = [replace(s, created=s.created + dt.timedelta(hours=i)) for s in plan]
            seed(sb, name, shifted)
        say(f"seeded {repos} repositories × {repo_tags} tags ({repo_images} images each)")
        host, port = sb.host.rsplit(":", 1)
        with ProxyProcess((host, int(port)), delay=rtt, handshake=True) as proxy:
            measured_rtt = measure_rtt(f"{proxy.url}/v2/", 5)
            refs = [f"{proxy.netloc}/{n}" for n in names]
            say("loop of single calls ...")
            loop_log = RequestLog(proxy.netloc)
            loop_seconds = 0.0
            for ref in refs:
                session = counting_session(loop_log, 16)
                with tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache:
                    t0 = time.perf_counter()
                    try:
                        read_tags(ref, dates=True, cache=cache, progress=False, session=session)
                    finally:
                        session.close()
                    loop_seconds += time.perf_counter() - t0
            say("read_tags(list) ...")
            several = _counted(refs, proxy.netloc)  # type: ignore[arg-type]
        say("read_tags(list) without the proxy (R≈0: the CPU floor) ...")
        floor = _counted([f"{sb.host}/{n}" for n in names], sb.host)  # type: ignore[arg-type]
    return {
        "repos": repos,
        "tags_per_repo": repo_tags,
        "images_per_repo": repo_images,
        "rtt_seconds": measured_rtt,
        "loop_seconds": loop_seconds,
        "loop_requests": loop_log.total,
        "list_seconds": several["seconds"],
        "list_requests": several["requests"],
        "list_rows": several["rows"],
        "ratio": loop_seconds / several["seconds"],
        "list_floor_seconds": floor["seconds"],
        "mean_in_flight": several["requests"] * measured_rtt / several["seconds"],
    }


def render(res: dict[str, Any]) -> str:
    m, s = res["match"], res["several"]
    big, small = m["with_match"], m["only_matching_repo"]
    lines = [
        "| figure | value |",
        "|---|---|",
        f"| `read_tags(T={m['tags']:,}, dates=True, match=r\"{m['match']}\")` "
        f"({m['matching_tags']} tags, {m['matching_share']:.1%}) | "
        f"{big['requests']} requests, {big['rows']} rows |",
        f"| `read_tags(repository holding only those {m['matching_tags']} tags, dates=True)` | "
        f"{small['requests']} requests, {small['rows']} rows |",
        f"| same requests, kind by kind | {'yes' if m['equal'] else 'NO'} |",
        f"| loop of {s['repos']} single calls ({s['tags_per_repo']} tags each, "
        f"R = {s['rtt_seconds'] * 1000:.0f} ms) | {s['loop_seconds']:.1f} s, "
        f"{s['loop_requests']} requests |",
        f"| `read_tags([{s['repos']} images], dates=True)` | {s['list_seconds']:.1f} s, "
        f"{s['list_requests']} requests |",
        f"| loop / list | **{s['ratio']:.1f}×** |",
        f"| the list without the proxy (R≈0: client + registry CPU) | "
        f"{s['list_floor_seconds']:.1f} s |",
        f"| requests in flight on average during the list (requests·R / time; limit 16) | "
        f"{s['mean_in_flight']:.1f} |",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tags", type=int, default=2000)
    p.add_argument("--images", type=int, default=400)
    p.add_argument("--repos", type=int, default=20)
    p.add_argument("--repo-tags", type=int, default=100)
    p.add_argument("--repo-images", type=int, default=25)
    p.add_argument("--rtt", type=float, default=0.05)
    p.add_argument("--quick", action="store_true", help="400 tags; 6 repositories")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    if args.quick:
        args.tags, args.images, args.repos = 400, 80, 6

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    res = {
        "machine": machine_info(),
        "match": measure_match(args.tags, args.images, say),
        "several": measure_several(args.repos, args.repo_tags, args.repo_images, args.rtt, say),
    }
    print(render(res))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    return 0 if res["match"]["equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
