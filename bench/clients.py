"""Candidate HTTP clients for regframe's transport: 1,000 manifest GETs, wall time and client CPU.

Run ``python bench/clients.py`` (about two minutes).  A real CNCF registry over TLS
(``Sandbox(tls=True)``: the Go server offers ``h2`` by ALPN) holds 50 tagged images; a
:class:`~regframe.testing.latency_proxy.LatencyProxy` in its own process adds ``--rtt``
(100 ms) per round trip.  Each candidate sends ``--requests`` (1,000) manifest GETs
round-robin over the tags, rounds interleaved (``--rounds`` 3) so that machine load hits
all of them alike; the table gives medians and ratios to today's client.

Candidates (raw clients, no regframe code between them and the wire):

* ``requests-16``: today's design, regframe's ``build_session(16)`` on 16 threads;
* ``curl-h1-64``: pycurl multi, HTTP/1.1, 64 connections, 64 in flight;
* ``curl-h2-100``: pycurl multi, HTTP/2 (PIPEWAIT), one connection, 100 streams in flight;
* ``transport-curl-100`` and ``transport-requests-16``: regframe's own
  :class:`~regframe.client.transport.Transport` on each backend, called from 100 / 16
  threads the way ``read_tags`` calls it (every safety rule included);
* ``jobs-curl-threads-100`` and ``jobs-curl-greenlets-100``: that ``Transport`` on
  libcurl called from the 100 jobs of a :class:`~regframe.client.jobs.JobRunner`, the
  way ``read_tags`` follows tags: on 100 worker threads, or as 100 greenlets on the
  driver's own thread (:mod:`regframe.client.green`, no thread hand-off per request).

Client CPU is this process's user + system time over the run (registry and proxy run in
their own processes) divided by the requests.  Writes ``bench/results/clients.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import select
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proxy_proc import ProxyProcess
from regframe.testing.sandbox import Sandbox

OUT = Path(__file__).resolve().parent / "results" / "clients.json"
ACCEPT = "application/vnd.oci.image.manifest.v1+json"
REPO = "bench/clients"


def _requests(urls: list[str], ca: str, threads: int) -> int:
    from regframe.client.transport import build_session

    session = build_session(threads)
    session.verify = ca

    def get(url: str) -> int:
        with session.get(url, headers={"Accept": ACCEPT}, timeout=30) as r:
            return len(r.content) if r.status_code == 200 else -1

    with ThreadPoolExecutor(threads) as pool:
        sizes = list(pool.map(get, urls))
    session.close()
    return sum(1 for s in sizes if s > 0)


def _curl(urls: list[str], ca: str, in_flight: int, http2: bool) -> int:
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX if http2 else 0)
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, 1 if http2 else in_flight)
    todo = list(reversed(urls))
    free = [pycurl.Curl() for _ in range(in_flight)]
    ok = active = 0

    def start(handle: pycurl.Curl, url: str) -> None:
        handle.buf = io.BytesIO()  # type: ignore[attr-defined]
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.CAINFO, ca)
        handle.setopt(pycurl.HTTPHEADER, [f"Accept: {ACCEPT}"])
        handle.setopt(pycurl.WRITEFUNCTION, handle.buf.write)  # type: ignore[attr-defined]
        handle.setopt(
            pycurl.HTTP_VERSION,
            pycurl.CURL_HTTP_VERSION_2TLS if http2 else pycurl.CURL_HTTP_VERSION_1_1,
        )
        handle.setopt(pycurl.PIPEWAIT, 1)
        multi.add_handle(handle)

    while todo or active:
        while todo and free:
            start(free.pop(), todo.pop())
            active += 1
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        _, done, failed = multi.info_read()
        for handle in done:
            ok += handle.getinfo(pycurl.RESPONSE_CODE) == 200
        for _handle, code, message in failed:
            print(f"curl error {code}: {message}", file=sys.stderr)
        for handle in [*done, *(f[0] for f in failed)]:
            multi.remove_handle(handle)
            free.append(handle)
            active -= 1
        if not (done or failed):
            r, w, x = multi.fdset()
            wait = multi.timeout()
            select.select(r, w, x, 0.05 if wait < 0 else min(wait / 1000, 0.05))
    multi.close()
    return ok


def _jobs(urls: list[str], ca: str, in_flight: int, greenlets: bool) -> int:
    from regframe.client.jobs import JobRunner
    from regframe.client.transport import Transport

    transport = Transport(max_workers=in_flight, verify=ca, backend="curl")
    spawn = transport.spawner() if greenlets else None
    if greenlets and spawn is None:
        raise RuntimeError("greenlet is not installed: pip install 'regframe[fast]'")
    statuses: list[int] = []

    def get(url: str) -> None:
        statuses.append(transport.request("GET", url, headers={"Accept": ACCEPT}).status)

    JobRunner(in_flight, cancel=transport.cancelled, spawn=spawn).run(urls, get)
    transport.close()
    return statuses.count(200)


def _transport(urls: list[str], ca: str, threads: int, backend: str) -> int:
    from regframe.client.transport import Transport

    transport = Transport(max_workers=threads, verify=ca, backend=backend)

    def get(url: str) -> int:
        return transport.request("GET", url, headers={"Accept": ACCEPT}).status

    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(get, urls))
    transport.close()
    return statuses.count(200)


CANDIDATES: dict[str, Callable[[list[str], str], int]] = {
    "requests-16": lambda urls, ca: _requests(urls, ca, 16),
    "curl-h1-64": lambda urls, ca: _curl(urls, ca, 64, http2=False),
    "curl-h2-100": lambda urls, ca: _curl(urls, ca, 100, http2=True),
    "transport-requests-16": lambda urls, ca: _transport(urls, ca, 16, "requests"),
    "transport-curl-100": lambda urls, ca: _transport(urls, ca, 100, "curl"),
    "jobs-curl-threads-100": lambda urls, ca: _jobs(urls, ca, 100, greenlets=False),
    "jobs-curl-greenlets-100": lambda urls, ca: _jobs(urls, ca, 100, greenlets=True),
}


def measure(name: str, urls: list[str], ca: str) -> dict[str, float]:
    before = os.times()
    start = time.perf_counter()
    ok = CANDIDATES[name](urls, ca)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    if ok != len(urls):
        raise RuntimeError(f"{name}: {len(urls) - ok} of {len(urls)} requests failed")
    return {"wall": wall, "cpu_ms_per_request": 1000 * cpu / len(urls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rtt", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes")
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in args.only}
    with Sandbox(tls=True) as sandbox:
        tags = [f"1.{i}" for i in range(50)]
        sandbox.pusher.run_parallel(
            [lambda t=t: sandbox.pusher.push_image(REPO, [t], created=None) for t in tags]
        )
        host, port = sandbox.address
        with ProxyProcess((host, port), delay=args.rtt) as proxy:
            base = f"https://{proxy.netloc}/v2/{REPO}/manifests/"
            urls = [base + tags[i % len(tags)] for i in range(args.requests)]
            for round_ in range(args.rounds):
                for name in args.only if round_ % 2 == 0 else reversed(args.only):
                    runs[name].append(measure(name, urls, str(sandbox.ca_path)))
                    print(f"round {round_ + 1} {name}: {runs[name][-1]}", file=sys.stderr)
    base_wall = statistics.median(r["wall"] for r in runs.get("requests-16", runs[args.only[0]]))
    table = ["| client | wall (median) | × today | client CPU ms/request |", "|---|--:|--:|--:|"]
    summary: dict[str, Any] = {}
    for name, got in runs.items():
        wall = statistics.median(r["wall"] for r in got)
        cpu = statistics.median(r["cpu_ms_per_request"] for r in got)
        summary[name] = {"wall": wall, "cpu_ms_per_request": cpu, "runs": got}
        table.append(f"| {name} | {wall:.2f} s | {base_wall / wall:.2f} | {cpu:.3f} |")
    print(f"{args.requests} manifest GETs over TLS, R = {args.rtt * 1000:.0f} ms, "
          f"medians of {args.rounds} interleaved rounds\n")  # fmt: skip
    print("\n".join(table))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(
        json.dumps({"rtt": args.rtt, "requests": args.requests, **summary}, indent=1)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
