"""Registry-hosted tag APIs: T tags with ``dates=True`` through each fast path vs the manifest walk.

Run ``python bench/registry_apis.py`` (``--tags``, ``--images``, ``--rtt``, ``--products``).
A real registry (:class:`regframe.testing.sandbox.Sandbox`, token auth) is seeded with the
repository of ``make bench`` (:mod:`bench.seed`: multi-arch images with attestations).  The
manifest walk reads it through a latency proxy in its own process (:mod:`bench.proxy_proc`).
Then, for each of Harbor, ACR, GitLab, GHCR and ECR Public, an
:class:`~regframe.testing.api_shim.ApiShim` gives the same registry that product's face
(challenge, realm, tag API answered from what is stored) and the same proxy delay sits in
front of it — and in front of the separate API host for GitHub's and the ECR gallery's
APIs.  ``read_tags(dates=True)`` through each: seconds, requests, round trips of the
measured R, and the ratio to the walk.  The shim's answers are computed by Python from the
storage (frozen after seeding), so a row is the client's cost plus a slow stand-in server.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import regframe.frame.resolve  # noqa: F401  (imported up front: the runs time no imports)
from bench.env import environment
from bench.http_count import RequestLog, counting_session
from bench.proxy_proc import ProxyProcess
from bench.run import measure_rtt
from bench.seed import plan_images, seed
from regframe.client.platforms import parse_platform
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis import fetch_registry_listing
from regframe.client.transport import Transport
from regframe.frame.read import read_tags
from regframe.parsing.reference import parse_reference
from regframe.testing.api_shim import API_HOST, ApiShim
from regframe.testing.sandbox import Sandbox

__all__ = ["main", "run"]

REPO = "bench/app"
PRODUCTS = ("harbor", "acr", "gitlab", "ghcr", "ecr-public")
#: Tags (Harbor: artifacts; GHCR: versions) per page of each API.
PAGE = {"harbor": 100, "acr": 1000, "gitlab": 1000, "ghcr": 100, "ecr-public": 1000}
_TOKEN = "ghp_" + "BenchmarkOnlyToken" * 2


def _listing_seconds(netloc: str) -> float:
    """Ping plus the tag API alone (no frame): what the fast path costs on the wire."""
    transport = Transport(max_workers=16)
    try:
        t0 = time.perf_counter()
        client = RegistryClient.open(parse_reference(f"{netloc}/{REPO}"), transport)
        listing = fetch_registry_listing(client, platform=parse_platform("linux/amd64"))
        seconds = time.perf_counter() - t0
    finally:
        transport.close()
    if listing is None:
        raise RuntimeError(f"the tag API behind {netloc} was not used")
    return seconds


def _read(netloc: str, log: RequestLog, cache: str | bool) -> dict[str, Any]:
    session = counting_session(log, 16)
    try:
        t0 = time.perf_counter()
        df = read_tags(f"{netloc}/{REPO}", dates=True, cache=cache, progress=False,
                       history=False, session=session)  # fmt: skip
        seconds = time.perf_counter() - t0
    finally:
        session.close()
    sources = sorted(set(df.pushed_source.dropna().astype(str)))
    return {"seconds": seconds, "requests": log.total, "rows": len(df), "sources": sources}


def _walk(sb: Sandbox, rtt: float) -> dict[str, Any]:
    host, port = sb.host.rsplit(":", 1)
    with ProxyProcess((host, int(port)), delay=rtt, handshake=True) as proxy:
        r = measure_rtt(f"{proxy.url}/v2/", 10)
        with tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache:
            row = _read(proxy.netloc, RequestLog(proxy.netloc), cache)
    return {**row, "rtt": r}


def _fast(sb: Sandbox, product: str, rtt: float) -> dict[str, Any]:
    with ApiShim(sb, product, github_token=_TOKEN) as shim:
        shim.frozen = True  # nothing is pushed any more: read the storage once
        _, port = shim.host.rsplit(":", 1)
        with ProxyProcess(("127.0.0.1", int(port)), delay=rtt, handshake=True) as proxy, \
                ProxyProcess((API_HOST, int(shim.api_url.rsplit(":", 1)[1])), delay=rtt,
                             handshake=True) as api:  # fmt: skip
            urls = {"REGFRAME_GITHUB_API": api.url, "REGFRAME_ECR_PUBLIC_API": api.url}
            with environment({**urls, "GITHUB_TOKEN": _TOKEN}):
                r = measure_rtt(f"{proxy.url}/v2/", 10)
                # Untimed warm-up: the stand-in server computes its answers from the
                # storage once (a real product answers from its database).
                _read(proxy.netloc, RequestLog(proxy.netloc), False)
                row = _read(proxy.netloc, RequestLog(proxy.netloc), False)
                row["listing_seconds"] = _listing_seconds(proxy.netloc)
    return {**row, "rtt": r}


def run(tags: int = 2000, images: int = 600, rtt: float = 0.05,
        products: Sequence[str] = PRODUCTS) -> dict[str, Any]:  # fmt: skip
    """Seed once, then the walk and each product's fast path; returns every figure.

    Examples
    --------
    >>> res = run(tags=60, images=20, rtt=0.01, products=["gitlab"])  # doctest: +SKIP
    >>> res["rows"]["gitlab"]["requests"]  # doctest: +SKIP
    4
    """
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    load = [os.getloadavg()]
    with Sandbox(auth="token") as sb:
        seconds = seed(sb, REPO, plan_images(tags, images))
        say(f"seeded {tags} tags over {images} multi-arch images in {seconds:.1f} s")
        say("manifest walk ...")
        rows = {"walk": _walk(sb, rtt)}
        for product in products:
            say(f"{product} ...")
            rows[product] = _fast(sb, product, rtt)
    load.append(os.getloadavg())
    return {"tags": tags, "images": images, "rtt": rtt, "rows": rows, "load": load}


def render(res: dict[str, Any]) -> str:
    """The results as a Markdown table."""
    walk = res["rows"]["walk"]
    tags = res["tags"]
    lines = [
        f"T = {tags:,} tags over {res['images']} multi-arch images; proxy delay "
        f"{res['rtt'] * 1000:.0f} ms per round trip (+1 per new connection), R measured per row; "
        "load average " + " → ".join(" ".join(f"{x:.1f}" for x in la) for la in res["load"]),
        "",
        "Requests count every attempt, the https probe regframe makes first on a loopback "
        "registry included (one per row; a real registry answers https at once).",
        "",
        "| `read_tags(dates=True)` via | pushed_source | requests | budget ⌈T/page⌉+3 "
        "| seconds | round trips of R | × faster than the walk | ping + API alone: round trips |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
        f"| manifest walk (plain registry) | — | {walk['requests']:,} | — "
        f"| {walk['seconds']:.2f} | {walk['seconds'] / walk['rtt']:.0f} | 1.0× | — |",
    ]
    for product in PRODUCTS:
        row = res["rows"].get(product)
        if row is None:
            continue
        budget = math.ceil(tags / PAGE[product]) + 3
        lines.append(
            f"| {product} | {', '.join(row['sources']) or 'NA'} | {row['requests']:,} "
            f"| {budget} | {row['seconds']:.2f} | {row['seconds'] / row['rtt']:.1f} "
            f"| {walk['seconds'] / row['seconds']:.0f}× "
            f"| {row['listing_seconds'] / row['rtt']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print the table.

    Examples
    --------
    >>> main(["--tags", "60", "--images", "20", "--rtt", "0.01"])  # doctest: +SKIP
    0
    """
    p = argparse.ArgumentParser(prog="bench/registry_apis.py", description=__doc__.split("\n")[0])
    p.add_argument("--tags", type=int, default=2000)
    p.add_argument("--images", type=int, default=600)
    p.add_argument("--rtt", type=float, default=0.05)
    p.add_argument("--products", nargs="*", default=list(PRODUCTS), choices=PRODUCTS)
    a = p.parse_args(argv)
    print(render(run(a.tags, a.images, a.rtt, a.products)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
