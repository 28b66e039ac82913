"""Docker Hub listing benchmark: 10,000 tags through a 100 ms link, sequential pages vs concurrent.

Run ``python bench/hub_listing.py`` (``--tags``, ``--rtt``, ``--repeat``).  A
SCRIPTED Docker Hub tags API (:mod:`bench.hub_api`, Hub itself is out of reach)
sits behind a :class:`~regframe.testing.latency_proxy.LatencyProxy` in its own
process, charging ``--rtt`` per round trip and one more per new connection.
``read_tags("bench/app", dates=True)`` then lists every tag with its metadata
from that API (nothing is asked of a registry), once with ``max_workers=1`` —
one page after the other, as regframe did before pages were fetched
concurrently — and once with the default 16.  Wall time is reported in
measured round trips R; the target is at most 15 for 10,000 tags (100 pages).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import regframe.frame.resolve  # noqa: F401  (imported up front: the runs time no imports)
from bench.env import environment
from bench.http_count import RequestLog, counting_session
from bench.hub_api import HubAPIProcess
from bench.proxy_proc import ProxyProcess
from bench.run import measure_rtt
from regframe.client.platforms import parse_platform
from regframe.client.tag_apis import DOCKERHUB_API_ENV, fetch_listing
from regframe.client.transport import Transport
from regframe.frame.read import read_tags
from regframe.parsing.reference import parse_reference

__all__ = ["main", "run"]

TARGET_ROUND_TRIPS = 15


def _one(netloc: str, workers: int) -> dict[str, Any]:
    """One listing and one whole read, each on a fresh session (connections included)."""
    log = RequestLog(netloc)
    session = counting_session(log, workers)
    try:
        t0 = time.perf_counter()
        listing = fetch_listing(
            parse_reference("bench/app"),
            platform=parse_platform("linux/amd64"),
            transport=Transport(session, max_workers=workers),
        )
        listed = time.perf_counter() - t0
    finally:
        session.close()
    assert listing is not None, "the scripted Hub API was not used"
    session = counting_session(RequestLog(netloc), workers)
    try:
        t0 = time.perf_counter()
        df = read_tags(
            "bench/app",
            dates=True,
            cache=False,
            progress=False,
            max_workers=workers,
            session=session,
            history=False,
        )
        seconds = time.perf_counter() - t0
    finally:
        session.close()
    return {
        "listing_seconds": listed,
        "seconds": seconds,
        "requests": log.total,
        "rows": len(df),
    }


def run(tags: int = 10_000, rtt: float = 0.1, repeat: int = 2) -> dict[str, Any]:
    """Measure both rows ``repeat`` times, alternating; returns medians and every run.

    Examples
    --------
    >>> run(tags=500, rtt=0.02, repeat=1)["rows"]["concurrent"]["requests"]  # doctest: +SKIP
    5
    """
    with HubAPIProcess(tags) as hub:
        host, port = hub.url.rsplit("//", 1)[1].rsplit(":", 1)
        with (
            ProxyProcess((host, int(port)), delay=rtt, handshake=True) as proxy,
            environment({DOCKERHUB_API_ENV: proxy.url}),
        ):
            r = measure_rtt(f"{proxy.url}/ping", 10)
            runs: dict[str, list[dict[str, Any]]] = {"sequential": [], "concurrent": []}
            for _ in range(max(1, repeat)):
                runs["sequential"].append(_one(proxy.netloc, 1))
                runs["concurrent"].append(_one(proxy.netloc, 16))
    rows = {}
    for name, results in runs.items():
        seconds = statistics.median(x["seconds"] for x in results)
        listed = statistics.median(x["listing_seconds"] for x in results)
        rows[name] = {
            "listing_seconds": listed,
            "listing_round_trips": listed / r,
            "seconds": seconds,
            "round_trips": seconds / r,
            "requests": results[0]["requests"],
            "rows": results[0]["rows"],
            "all_seconds": [x["seconds"] for x in results],
        }
    return {"tags": tags, "rtt_seconds": r, "rows": rows, "load": list(os.getloadavg())}


def render(res: dict[str, Any]) -> str:
    """The results as a Markdown table."""
    seq, con = res["rows"]["sequential"], res["rows"]["concurrent"]
    lines = [
        f"Docker Hub tags API (scripted), {res['tags']:,} tags, "
        f"R = {res['rtt_seconds'] * 1000:.1f} ms measured; load average "
        + " ".join(f"{x:.2f}" for x in res["load"]),
        "",
        "| | listing: seconds | listing: round trips of R "
        "| whole `read_tags(dates=True)`: seconds | round trips | requests | rows |",
        "|---|--:|--:|--:|--:|--:|--:|",
        f"| pages one after another (`max_workers=1`) | {seq['listing_seconds']:.2f} "
        f"| {seq['listing_round_trips']:.1f} | {seq['seconds']:.2f} "
        f"| {seq['round_trips']:.1f} | {seq['requests']} | {seq['rows']:,} |",
        f"| pages concurrently (`max_workers=16`) | {con['listing_seconds']:.2f} "
        f"| {con['listing_round_trips']:.1f} | {con['seconds']:.2f} "
        f"| {con['round_trips']:.1f} | {con['requests']} | {con['rows']:,} |",
        "",
        f"Listing concurrently: {con['listing_round_trips']:.1f} round trips, target "
        f"≤ {TARGET_ROUND_TRIPS}: "
        + ("PASS" if con["listing_round_trips"] <= TARGET_ROUND_TRIPS else "MISS")
        + f"; {seq['listing_seconds'] / con['listing_seconds']:.1f}× faster than one page "
        "at a time.  The whole read adds parsing, sorting and assembling 10,000 rows "
        "(CPU, no requests).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print the table.

    Examples
    --------
    >>> main(["--tags", "500", "--rtt", "0.02"])  # doctest: +SKIP
    0
    """
    p = argparse.ArgumentParser(prog="bench/hub_listing.py", description=__doc__.split("\n")[0])
    p.add_argument("--tags", type=int, default=10_000)
    p.add_argument("--rtt", type=float, default=0.1)
    p.add_argument("--repeat", type=int, default=2)
    a = p.parse_args(argv)
    print(render(run(a.tags, a.rtt, a.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
