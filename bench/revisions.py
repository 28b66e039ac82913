"""regframe now against an earlier revision of itself, on both transports, in one run.

Run ``python bench/revisions.py --baseline REV`` (a git revision of this repository, e.g.
the commit before a change; ``--quick``: 400 tags, one round).  The 2,000-tag benchmark
repository of ``bench/run.py`` (``bench/seed.py``) is pushed to a sandbox registry over
TLS (the Go server offers ``h2``) behind a latency proxy in its own process (a round trip
per new connection too), as in ``bench/transports.py``.

Each candidate — (``REV``, ``requests``), (``REV``, ``curl``), (now, ``curl``), (now,
``requests``) — is a worker process of its own, importing regframe from that revision's
tree (``git archive``) with ``$REGFRAME_TRANSPORT`` set, so the two revisions run side by
side with the same registry, proxy and machine load.  Per round, in turn (odd rounds in
reverse order), each candidate reads:

* cold: ``read_tags(ref, dates=True, cache=<empty dir>)``;
* warm: the same call again with that cache (one ``HEAD`` per tag);
* uncached (``--uncached``): ``cache=False``.

Rows give the median wall time of ``--rounds`` rounds, the worker's CPU per request
(user + system time of the call over the requests its transport sent; registry and proxy
run elsewhere), × the transport's round-trip lower bound, and the ratios the issue sets
targets for: cold at R = 100 ms ≥ 4× faster than the old design (``REV`` on ``requests``),
≤ 0.3 ms of client CPU per request.  Writes ``bench/results/revisions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proxy_proc import ProxyProcess
from bench.run import lower_bound
from bench.seed import plan_images, seed
from bench.transports import parse_run, run_parser
from regframe.client.transport import DEFAULT_WORKERS
from regframe.testing.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "revisions.json"
REPO = "bench/app"
BACKENDS = ("requests", "curl")

# The worker: imports regframe from its PYTHONPATH, then answers one JSON line per read.
_WORKER = r"""
import json, os, sys, time
import regframe
from regframe.client.transport import Transport
from regframe.frame.read import read_tags

sent = [0]
original = Transport._attempt
def counted(self, *args, **kwargs):
    sent[0] += 1
    return original(self, *args, **kwargs)
Transport._attempt = counted

print(json.dumps({"file": regframe.__file__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    if job.get("warmup"):  # imports and first-use costs, untimed
        read_tags(job["ref"], progress=False, history=False)
        print(json.dumps({}), flush=True)
        continue
    before, n = os.times(), sent[0]
    start = time.perf_counter()
    df = read_tags(job["ref"], dates=True, cache=job["cache"], progress=False, history=False)
    wall = time.perf_counter() - start
    after = os.times()
    errors = int(df["error"].notna().sum())
    cpu = (after.user - before.user) + (after.system - before.system)
    print(json.dumps({"wall": wall, "requests": sent[0] - n, "cpu": cpu, "errors": errors,
                      "rows": len(df)}), flush=True)
"""


class Worker:
    """One candidate's process: ``read(ref, cache)`` returns what the worker measured."""

    def __init__(self, code: Path, backend: str, ca: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "REGFRAME_TRANSPORT": backend,
            "REQUESTS_CA_BUNDLE": str(ca),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),  # not the checkout: only PYTHONPATH decides the code
        )
        self.file = str(self._answer()["file"])
        if not self.file.startswith(str(code)):
            raise RuntimeError(f"worker for {code} imported regframe from {self.file}")

    def _answer(self) -> dict[str, Any]:
        stdout: TextIO | None = self.proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"worker ended (exit {self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, job: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def read(self, ref: str, cache: str | bool) -> dict[str, float]:
        got = self.ask({"ref": ref, "cache": cache})
        if got["errors"]:
            raise RuntimeError(f"{got['errors']} of {got['rows']} rows with errors")
        got["cpu_ms_per_request"] = 1000 * got["cpu"] / max(1, got["requests"])
        return got

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def export(revision: str, into: Path) -> Path:
    """The ``regframe`` package of *revision* (``git archive``), unpacked under *into*."""
    archive = into / "tree.tar"
    with archive.open("wb") as fh:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "regframe"],
            stdout=fh,
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return into


def measure(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    base_rev = args.baseline
    names = [(base_rev, "requests"), (base_rev, "curl"), ("now", "curl"), ("now", "requests")]
    plan = plan_images(args.tags, args.images)
    results: dict[str, Any] = {}
    with Sandbox(tls=True) as sandbox, tempfile.TemporaryDirectory() as tmp:
        seed(sandbox, REPO, plan)
        code = {args.baseline: base, "now": ROOT}
        workers = {(rev, be): Worker(code[rev], be, sandbox.ca_path) for rev, be in names}
        try:
            for rtt in args.rtt:
                with ProxyProcess(sandbox.address, delay=rtt, handshake=True) as proxy:
                    ref = f"{proxy.netloc}/{REPO}"
                    for worker in workers.values():
                        worker.ask({"warmup": True, "ref": ref})
                    runs = _rounds(args, workers, names, ref, tmp)
                results[str(rtt)] = {
                    f"{rev}|{be}": _summary(runs[(rev, be)], args, len(plan), rtt, be)
                    for rev, be in names
                }
        finally:
            for worker in workers.values():
                worker.close()
    return results


def _rounds(
    args: argparse.Namespace,
    workers: dict[tuple[str, str], Worker],
    names: Sequence[tuple[str, str]],
    ref: str,
    tmp: str,
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            cache = tempfile.mkdtemp(dir=tmp)
            run = {"cold": workers[name].read(ref, cache), "warm": workers[name].read(ref, cache)}
            if args.uncached:
                run["uncached"] = workers[name].read(ref, False)
            runs[name].append(run)
            print(f"round {round_} {name}: " + ", ".join(
                f"{k} {v['wall']:.2f} s {v['cpu_ms_per_request']:.3f} ms/req"
                for k, v in run.items()), file=sys.stderr)  # fmt: skip
    return runs


def _summary(
    runs: list[dict[str, Any]], args: argparse.Namespace, unique: int, rtt: float, backend: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "bound": lower_bound(args.tags, unique, args.tags, rtt, DEFAULT_WORKERS[backend])[1],
        "runs": runs,
    }
    for kind in runs[0]:
        out[kind] = statistics.median(r[kind]["wall"] for r in runs)
        out[f"{kind}_cpu_ms"] = statistics.median(r[kind]["cpu_ms_per_request"] for r in runs)
        out[f"{kind}_requests"] = statistics.median(r[kind]["requests"] for r in runs)
    return out


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    old = f"{args.baseline}|requests"
    lines = [
        f"`read_tags(dates=True)`, {args.tags} tags, TLS, medians of {args.rounds} interleaved "
        f"rounds, load average {args.load}; `{args.baseline}` = the baseline revision",
        "",
        "| R | revision, transport | cold | × lower bound | cold CPU ms/request | warm "
        "| warm CPU ms/request | cold: × faster than the old design |"
        + (" uncached cold | its CPU ms/request |" if args.uncached else ""),
        "|---|---|--:|--:|--:|--:|--:|--:|" + ("--:|--:|" if args.uncached else ""),
    ]
    for rtt, by in results.items():
        for name, r in by.items():
            rev, backend = name.split("|")
            row = (
                f"| {float(rtt) * 1000:.0f} ms | {rev}, {backend} | {r['cold']:.2f} s "
                f"| {r['cold'] / r['bound']:.2f} | {r['cold_cpu_ms']:.3f} | {r['warm']:.2f} s "
                f"| {r['warm_cpu_ms']:.3f} | {by[old]['cold'] / r['cold']:.2f}× |"
            )
            if args.uncached:
                row += f" {r['uncached']:.2f} s | {r['uncached_cpu_ms']:.3f} |"
            lines.append(row)
        now, before = by["now|curl"], by[f"{args.baseline}|curl"]
        lines.append(
            f"| {float(rtt) * 1000:.0f} ms | **now vs {args.baseline}, libcurl** "
            f"| **{before['cold'] / now['cold']:.2f}× faster** | "
            f"| {before['cold_cpu_ms'] / now['cold_cpu_ms']:.2f}× less "
            f"| {before['warm'] / now['warm']:.2f}× faster "
            f"| {before['warm_cpu_ms'] / now['warm_cpu_ms']:.2f}× less | |"
            + (" | |" if args.uncached else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = run_parser(__doc__, OUT, [0.1])
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument("--uncached", action="store_true", help="also read with cache=False")
    args = parse_run(parser, argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        base = export(args.baseline, Path(tmp))
        started = time.monotonic()
        results = measure(args, base)
    args.load = f"{before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    table = render(results, args)
    print(table)
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"args": vars(args) | {"out": str(args.out)},
                                    "results": results}, indent=1, default=str))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
