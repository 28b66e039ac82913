"""regframe benchmark: one command, every comparison side by side.

Run ``python bench/run.py`` (or ``make bench``); ``--quick`` for a smaller
repository, ``--help`` for the knobs.  It starts a sandbox CNCF registry with
token auth, seeds it directly (not through the proxy) with multi-arch images,
puts a :class:`~regframe.testing.latency_proxy.LatencyProxy` with a ``--rtt`` round trip in
front of it and reads the repository through the proxy with:

1. regframe cold — ``read_tags(ref, dates=True, cache=<fresh dir>)``;
2. regframe warm — the same cache again (must request nothing by digest);
3. the round-trip lower bound at C = 16 (computed from the measured round trip);
4. a sequential ``requests`` loop (python-dxf / oras-py style), sampled;
5. ``skopeo inspect`` per tag, sampled;
6. ``parse_tags`` on 100,000 tags (best of 5, no network).

It prints a Markdown table plus each target with PASS/MISS and writes
``bench/results/latest.json``.  See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `regframe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
import requests

import regframe.frame.resolve  # noqa: F401  (imported up front so the cold run times no imports)
from bench.http_count import BY_DIGEST, RequestLog, counting_session
from bench.peers import sequential_loop, skopeo_inspect, skopeo_version
from bench.proxy_proc import ProxyProcess
from bench.seed import plan_images, seed
from regframe import __version__ as regframe_version
from regframe.frame.read import read_tags
from regframe.parsing.versions import parse_tags
from regframe.testing.sandbox import Sandbox

__all__ = ["Config", "lower_bound", "main", "measure_rtt", "render_markdown", "run_benchmark"]

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "results" / "latest.json"
REPO = "bench/app"
ROWS = ("cold", "warm", "floor", "bound", "sequential", "skopeo", "parse_tags")
LABELS = {
    "cold": "regframe cold (`read_tags(dates=True)`, empty cache)",
    "warm": "regframe warm (same cache)",
    "floor": "regframe cold without the proxy (R≈0: the CPU floor)",
    "bound": "round-trip lower bound, C=16",
    "sequential": "sequential requests loop (python-dxf/oras-py style)",
    "skopeo": "`skopeo inspect` per tag",
    "parse_tags": "`parse_tags` (no network)",
}
# Targets from the issue.
COLD_OVER_BOUND = 1.3
VS_SEQUENTIAL = 30.0
VS_SKOPEO = 50.0
PARSE_SECONDS = 0.5
CPU_MS_PER_REQUEST = 1.0


@dataclass
class Config:
    """What to measure; the defaults are the issue's configuration."""

    tags: int = 2000
    images: int = 600
    rtt: float = 0.05
    concurrency: int = 16
    handshake: bool = True
    sequential_sample: int = 60
    skopeo_sample: int = 20
    parse_n: int = 100_000
    parse_runs: int = 5
    seed_workers: int = 8
    rtt_probes: int = 10
    out: Path | None = DEFAULT_OUT
    log: Callable[[str], Any] = field(default=lambda s: print(s, file=sys.stderr, flush=True))


def lower_bound(
    tags: int, unique: int, page: int, rtt: float, concurrency: int = 16, r: int = 3
) -> tuple[int, float]:
    """Cold-run lower bound in round trips: ``(2 + ⌈T/P⌉)·R + ⌈(T + (r−1)·U)/C⌉·R``.

    Returns ``(round_trips, seconds)``.

    Examples
    --------
    >>> lower_bound(2000, 600, 2000, 0.05)
    (203, 10.15)
    """
    trips = 2 + math.ceil(tags / page) + math.ceil((tags + (r - 1) * unique) / concurrency)
    return trips, round(trips * rtt, 9)


def measure_rtt(url: str, probes: int = 10) -> float:
    """Median seconds of sequential ``GET url`` on one kept-alive connection (after a warm-up).

    Examples
    --------
    >>> measure_rtt("http://127.0.0.1:5000/v2/")  # doctest: +SKIP
    0.0512
    """
    with requests.Session() as s:
        s.trust_env = False
        s.get(url, timeout=30).close()  # opens the connection (and pays any handshake)
        times = []
        for _ in range(max(1, probes)):
            t0 = time.perf_counter()
            s.get(url, timeout=30).close()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, python, versions and the load average now."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    registry = shutil.which("docker-registry")
    reg_version = None
    if registry:
        out = subprocess.run([registry, "--version"], capture_output=True, text=True, check=False)
        reg_version = (out.stdout or out.stderr).strip() or None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "regframe": regframe_version,
        "pandas": pd.__version__,
        "requests": requests.__version__,
        "registry": reg_version,
        "skopeo": skopeo_version(),
        "loadavg_start": list(os.getloadavg()),
    }


def _tags_page(base_url: str, repo: str, token_url: str) -> tuple[int, int, bool]:
    """Ask the registry itself (no proxy) for one page: ``(tags in it, total unique, has Link)``."""
    with requests.Session() as s:
        s.trust_env = False
        token = s.get(token_url, timeout=30).json()["token"]
        resp = s.get(
            f"{base_url}/v2/{repo}/tags/list",
            params={"n": 1000},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        resp.raise_for_status()
        tags = resp.json().get("tags") or []
        return len(tags), len(set(tags)), "Link" in resp.headers


def _regframe_run(ref: str, cache: str, registry: str, workers: int) -> dict[str, Any]:
    log = RequestLog(registry)
    session = counting_session(log, workers)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            df = read_tags(
                ref,
                dates=True,
                cache=cache,
                max_workers=workers,
                progress=False,
                session=session,
                # Recorded as any read is, but next to the cache: never in the user's store.
                history=Path(cache) / "history.sqlite",
            )
            seconds = time.perf_counter() - t0
    finally:
        session.close()
    kinds = log.snapshot()
    return {
        "seconds": seconds,
        "requests": log.total,
        "requests_by_kind": kinds,
        "by_digest": sum(kinds[k] for k in BY_DIGEST),
        "manifests": kinds["manifest_by_tag_get"]
        + kinds["manifest_by_tag_head"]
        + kinds["manifest_by_digest"],
        "rows": len(df),
        "unique_digests": int(df["digest"].nunique()),
        "errors": int(df["error"].notna().sum()),
        "dated": int(df["created"].notna().sum()),
        "warnings": [str(w.message) for w in caught],
    }


def _cpu_run(ref: str, workers: int) -> float:
    """CPU seconds of a cold ``read_tags(ref, dates=True)`` with regframe's own session.

    The counted runs send through a counting adapter, which regframe (rightly) treats
    as a caller's adapter to honour rather than bypass; this run measures the client
    as users get it.  Same repository, same requests as the counted run.
    """
    with (
        tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        cpu0 = _cpu_seconds()
        read_tags(
            ref,
            dates=True,
            cache=cache,
            max_workers=workers,
            progress=False,
            history=Path(cache) / "history.sqlite",
        )
        return _cpu_seconds() - cpu0


def _cpu_seconds() -> float:
    """User + system CPU of this process: the client (registry and proxy run elsewhere).

    The sandbox's token server shares the process, but answers one request per run.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sample(items: Sequence[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``items`` (deterministic)."""
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _parse_bench(n: int, runs: int) -> dict[str, Any]:
    """Time ``parse_tags`` with the other engineer's tag generator (bench/bench_parse_tags.py)."""
    path = BENCH_DIR / "bench_parse_tags.py"
    spec = importlib.util.spec_from_file_location("bench_parse_tags", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tags = pd.Series(module.make_tags(n), dtype="string")
    parse_tags(tags)  # warm caches (regex compilation) like a second call in a notebook
    times = []
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        parse_tags(tags)
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "all_seconds": times, "tags": n, "runs": len(times)}


def run_benchmark(cfg: Config) -> dict[str, Any]:
    """Seed, measure every row, judge the targets; returns (and writes) the results dict.

    Examples
    --------
    >>> res = run_benchmark(Config(tags=30, images=10, rtt=0.01, out=None))  # doctest: +SKIP
    >>> res["rows"]["warm"]["by_digest"]  # doctest: +SKIP
    0
    """
    say = cfg.log
    info = machine_info()
    plan = plan_images(cfg.tags, cfg.images)
    all_tags = [t for spec in plan for t in spec.tags]
    rows: dict[str, dict[str, Any]] = {}
    with Sandbox(auth="token") as sb:
        say(f"registry {sb.url}, token realm {sb.token_server.realm} (outside the proxy)")
        seed_seconds = seed(sb, REPO, plan, workers=cfg.seed_workers)
        say(f"seeded {cfg.tags} tags over {cfg.images} multi-arch images in {seed_seconds:.1f} s")
        token_url = (
            f"{sb.token_server.realm}?service=regframe-sandbox-registry"
            f"&scope=repository:{REPO}:pull"
        )
        page, listed, paginated = _tags_page(sb.url, REPO, token_url)
        if listed != cfg.tags:
            raise RuntimeError(f"registry lists {listed} tags, expected {cfg.tags}")
        host, port = sb.host.rsplit(":", 1)
        with ProxyProcess((host, int(port)), delay=cfg.rtt, handshake=cfg.handshake) as proxy:
            rtt = measure_rtt(f"{proxy.url}/v2/", cfg.rtt_probes)
            say(f"proxy {proxy.netloc}: measured round trip {rtt * 1000:.1f} ms")
            ref = f"{proxy.netloc}/{REPO}"
            with tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache:
                say("regframe cold ...")
                rows["cold"] = _regframe_run(ref, cache, proxy.netloc, cfg.concurrency)
                say("regframe warm ...")
                rows["warm"] = _regframe_run(ref, cache, proxy.netloc, cfg.concurrency)
                say("regframe cold without the proxy ...")
            with tempfile.TemporaryDirectory(prefix="regframe-bench-cache-") as cache:
                rows["floor"] = _regframe_run(sb.host + "/" + REPO, cache, sb.host, cfg.concurrency)
            say("client CPU: the same cold run, uncounted ...")
            cpu = _cpu_run(sb.host + "/" + REPO, cfg.concurrency)
            rows["floor"]["cpu_seconds"] = cpu
            rows["floor"]["cpu_ms_per_request"] = 1000 * cpu / max(1, rows["floor"]["requests"])
            unique = rows["cold"]["unique_digests"]
            trips, bound = lower_bound(cfg.tags, unique, page, rtt, cfg.concurrency)
            rows["bound"] = {
                "seconds": bound,
                "round_trips": trips,
                "requests": 2 + math.ceil(cfg.tags / page) + cfg.tags + 2 * unique,
                "formula": "(2 + ceil(T/P))·R + ceil((T + (r-1)·U)/C)·R",
                "inputs": {
                    "T": cfg.tags,
                    "U": unique,
                    "P": page,
                    "r": 3,
                    "C": cfg.concurrency,
                    "R": rtt,
                },
            }
            seq_tags = _sample(all_tags, cfg.sequential_sample)
            say(f"sequential loop on {len(seq_tags)} tags ...")
            seq = sequential_loop(proxy.url, REPO, seq_tags)
            per_tag = seq["loop_seconds"] / max(1, len(seq_tags))
            rows["sequential"] = {
                **seq,
                "seconds": seq["setup_seconds"] + per_tag * cfg.tags,
                "requests": round(
                    seq["setup_requests"] + seq["loop_requests"] / max(1, len(seq_tags)) * cfg.tags
                ),
                "per_tag_seconds": per_tag,
                "extrapolated": True,
            }
            if cfg.skopeo_sample > 0 and shutil.which("skopeo"):
                sk_tags = _sample(all_tags, cfg.skopeo_sample)
                say(f"skopeo inspect on {len(sk_tags)} tags ...")
                sk = skopeo_inspect(proxy.netloc, REPO, sk_tags)
                rows["skopeo"] = {
                    **sk,
                    "seconds": sk["mean_seconds"] * cfg.tags,
                    "requests": round(sk["requests"] / max(1, len(sk_tags)) * cfg.tags),
                    "per_tag_seconds": sk["mean_seconds"],
                    "extrapolated": True,
                }
            else:
                rows["skopeo"] = {"seconds": None, "requests": None, "skipped": "skopeo not run"}
    proxy_stats = proxy.stats
    say(f"parse_tags on {cfg.parse_n:,} tags ...")
    rows["parse_tags"] = _parse_bench(cfg.parse_n, cfg.parse_runs)
    info["loadavg_end"] = list(os.getloadavg())

    cold = rows["cold"]["seconds"]
    for name in ROWS:
        row = rows[name]
        row["label"] = LABELS[name]
        secs: float | None = row.get("seconds")
        network = name != "parse_tags" and secs is not None
        row["ratio_to_bound"] = secs / bound if secs is not None and network else None
        row["cold_speedup"] = secs / cold if secs is not None and network else None

    results = {
        "config": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k != "log"
        },
        "machine": info,
        "seed_seconds": seed_seconds,
        "rtt_seconds": rtt,
        "tags": cfg.tags,
        "unique_digests": rows["cold"]["unique_digests"],
        "page_size": page,
        "registry_paginates": paginated,
        "proxy": proxy_stats,
        "rows": rows,
        "targets": _targets(rows, cfg),
    }
    if cfg.out is not None:
        cfg.out.parent.mkdir(parents=True, exist_ok=True)
        cfg.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return results


def _targets(rows: dict[str, dict[str, Any]], cfg: Config) -> list[dict[str, Any]]:
    """Each issue target with its measured value, PASS/MISS and, on a miss, what bounds it."""
    cold, bound = rows["cold"]["seconds"], rows["bound"]["seconds"]
    inputs = rows["bound"]["inputs"]
    t, u, c = inputs["T"], inputs["U"], inputs["C"]
    out: list[dict[str, Any]] = []

    def add(name: str, target: str, value: float | None, ok: bool | None, why: str = "") -> None:
        out.append(
            {
                "name": name,
                "target": target,
                "measured": value,
                "passed": ok,
                "bounded_by": why if ok is False else "",
            }
        )

    ratio = cold / bound
    add(
        "cold vs lower bound",
        f"≤ {COLD_OVER_BOUND}×",
        ratio,
        ratio <= COLD_OVER_BOUND,
        f"cold took {cold / inputs['R']:.0f} round trips of R vs the bound's "
        f"{rows['bound']['round_trips']}; with no latency at all the same cold run takes "
        f"{rows['floor']['seconds']:.1f} s = {rows['floor']['seconds'] / bound:.2f}× the bound: "
        "client + registry CPU on this machine sets a floor (see bench/README.md)",
    )
    seq = rows["sequential"]["seconds"] / cold
    ceiling = rows["sequential"]["seconds"] / bound
    add(
        "speed-up vs sequential loop",
        f"≥ {VS_SEQUENTIAL:g}×",
        seq,
        seq >= VS_SEQUENTIAL,
        f"the loop needs 3·T = {3 * t} round trips, the bound (T + 2U)/{c} ≈ "
        f"{(t + 2 * u) / c:.0f}: best achievable 3·T·{c}/(T+2U) = {3 * t * c / (t + 2 * u):.1f}× "
        f"(measured loop / bound = {ceiling:.1f}×); more tags per image raise it",
    )
    sk = rows["skopeo"].get("seconds")
    if sk is None:
        add("speed-up vs skopeo", f"≥ {VS_SKOPEO:g}×", None, None)
    else:
        add(
            "speed-up vs skopeo",
            f"≥ {VS_SKOPEO:g}×",
            sk / cold,
            sk / cold >= VS_SKOPEO,
            f"skopeo / bound = {sk / bound:.1f}× is the ceiling",
        )
    cpu = rows["floor"]["cpu_ms_per_request"]
    add(
        "client CPU per request (cold, no latency)",
        f"≤ {CPU_MS_PER_REQUEST} ms",
        cpu,
        cpu <= CPU_MS_PER_REQUEST,
        "user + system time of the client process over its requests; what is left is "
        "urllib3/http.client parsing each answer (about 0.7 ms here even when called "
        "directly) and the system time of cache files and sockets (see README, Performance)",
    )
    warm = rows["warm"]["by_digest"]
    add(
        "warm requests by digest",
        "= 0",
        warm,
        warm == 0,
        "the warm run fetched immutable documents again: a cache bug",
    )
    parse = rows["parse_tags"]["seconds"]
    add(
        f"parse_tags {cfg.parse_n:,} tags",
        f"< {PARSE_SECONDS} s",
        parse,
        parse < PARSE_SECONDS,
        "the machine is shared; see bench_parse_tags.py for a profile",
    )
    return out


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def render_markdown(res: dict[str, Any]) -> str:
    """The results as Markdown (tables readable as plain text too)."""
    rows, m = res["rows"], res["machine"]
    b = rows["bound"]["inputs"]
    lines = [
        f"T = {res['tags']:,} tags, U = {res['unique_digests']} unique multi-arch images "
        f"(index → amd64/arm64 + attestations), P = {res['page_size']} tags/page, "
        f"R = {res['rtt_seconds'] * 1000:.1f} ms measured, C = {b['C']}; "
        f"seeding took {res['seed_seconds']:.1f} s.",
        "",
        "| | seconds | requests | × lower bound | × regframe cold | client CPU ms/request |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name in ROWS:
        row = rows[name]
        label = row["label"]
        if row.get("extrapolated"):
            label += f" — {row['sample']} tags sampled, extrapolated"
        if name == "bound":
            label += f" ({row['round_trips']} round trips)"
        if name == "parse_tags":
            label += f", {row['tags']:,} tags, best of {row['runs']}"
        req = row.get("requests")
        lines.append(
            f"| {label} | {_fmt(row.get('seconds'), '.2f' if name != 'parse_tags' else '.3f')} "
            f"| {_fmt(req, ',')} | {_fmt(row['ratio_to_bound'], '.2f', '×')} "
            f"| {_fmt(row['cold_speedup'], '.1f', '×')} "
            f"| {_fmt(row.get('cpu_ms_per_request'), '.2f')} |"
        )
    cold, warm = rows["cold"]["requests_by_kind"], rows["warm"]["requests_by_kind"]
    lines += [
        "",
        "| requests by kind | " + " | ".join(k.replace("_", " ") for k in cold) + " |",
        "|---|" + "--:|" * len(cold),
        "| cold | " + " | ".join(str(v) for v in cold.values()) + " |",
        "| warm | " + " | ".join(str(v) for v in warm.values()) + " |",
        "",
        "| target | wanted | measured | |",
        "|---|---|--:|---|",
    ]
    for t in res["targets"]:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[t["passed"]]
        if t["bounded_by"]:
            verdict += f" — {t['bounded_by']}"
        if t["name"].startswith("parse_tags"):
            unit, spec = " s", ".3f"
        elif t["target"].endswith(" ms"):
            unit, spec = " ms", ".2f"
        elif "= 0" in t["target"]:
            unit, spec = "", ",d"
        else:
            unit, spec = "×", ".1f"
        measured = _fmt(t["measured"], spec, unit)
        lines.append(f"| {t['name']} | {t['target']} | {measured} | {verdict} |")
    la0 = " ".join(f"{x:.2f}" for x in m["loadavg_start"])
    la1 = " ".join(f"{x:.2f}" for x in m["loadavg_end"])
    lines += [
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, regframe {m['regframe']}, "
        f"pandas {m['pandas']}, {m['registry'] or 'docker-registry ?'}, "
        f"{m['skopeo'] or 'no skopeo'}; load average {la0} at start, {la1} at end. "
        "The token realm (127.0.0.2) is outside the proxy: one request per run, no added latency.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> Config:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--tags", type=int, default=None, help="total tags T (default 2000)")
    p.add_argument("--images", type=int, default=None, help="unique images U (default 600)")
    p.add_argument("--rtt", type=float, default=0.05, help="added round trip, s (default 0.05)")
    p.add_argument("--concurrency", type=int, default=16, help="regframe max_workers and C")
    p.add_argument(
        "--no-handshake",
        action="store_true",
        help="do not charge a round trip per new TCP connection",
    )
    p.add_argument("--sequential-sample", type=int, default=None, help="tags (default 60)")
    p.add_argument("--skopeo-sample", type=int, default=None, help="tags, 0 to skip (default 20)")
    p.add_argument("--parse-n", type=int, default=100_000, help="tags for parse_tags")
    p.add_argument(
        "--quick",
        action="store_true",
        help="400 tags / 120 images, smaller samples (a ~1 minute smoke run)",
    )
    p.add_argument("--json", type=Path, default=DEFAULT_OUT, help=f"results file ({DEFAULT_OUT})")
    a = p.parse_args(argv)
    quick = a.quick
    return Config(
        tags=a.tags if a.tags is not None else (400 if quick else 2000),
        images=a.images if a.images is not None else (120 if quick else 600),
        rtt=a.rtt,
        concurrency=a.concurrency,
        handshake=not a.no_handshake,
        sequential_sample=a.sequential_sample
        if a.sequential_sample is not None
        else (20 if quick else 60),
        skopeo_sample=a.skopeo_sample if a.skopeo_sample is not None else (5 if quick else 20),
        parse_n=a.parse_n,
        out=a.json,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the Markdown report; exit status 0 even when a target misses.

    Examples
    --------
    >>> main(["--quick"])  # doctest: +SKIP
    0
    """
    cfg = parse_args(argv)
    res = run_benchmark(cfg)
    print(render_markdown(res))
    if cfg.out is not None:
        print(f"\n(results written to {cfg.out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
