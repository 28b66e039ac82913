"""The peers regframe is compared with in the benchmark, each on a sample of tags.

* :func:`sequential_loop` — what python-dxf / oras-py users get: one
  ``requests.Session``, the token fetched once, then for each tag the manifest
  by tag, the platform's child manifest and its config blob, one after the
  other (3 dependent requests per tag, no concurrency, no de-duplication).
* :func:`skopeo_inspect` — ``skopeo inspect --tls-verify=false docker://…:TAG``,
  one process per tag, as people script it.  Its requests are counted from
  ``--debug`` output, which logs every HTTP request it sends.

Both return per-tag time and requests for the sample; the caller extrapolates
linearly to every tag (each tag costs the same work in both clients).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from typing import Any

import requests
import requests.adapters

from regframe.client.headers import parse_www_authenticate, pick_challenge
from regframe.client.manifests import ACCEPT_MANIFESTS

from .http_count import KINDS, CountingAdapter, RequestLog, classify

__all__ = ["sequential_loop", "skopeo_inspect", "skopeo_version"]

_SKOPEO_REQUEST = re.compile(r'msg="(GET|HEAD) (https?://[^\s"]+)')


def _pick_child(index: dict[str, Any], os_: str = "linux", arch: str = "amd64") -> str:
    for entry in index.get("manifests", []):
        plat = entry.get("platform") or {}
        if plat.get("os") == os_ and plat.get("architecture") == arch:
            return str(entry["digest"])
    raise LookupError(f"no {os_}/{arch} entry in the index")


def sequential_loop(base_url: str, repo: str, tags: Sequence[str]) -> dict[str, Any]:
    """Describe ``tags`` one request at a time, as python-dxf/oras-py style code does.

    Parameters
    ----------
    base_url
        ``http://127.0.0.1:PROXYPORT``.
    repo
        Repository name.
    tags
        The sample of tags to describe.

    Returns
    -------
    dict
        ``setup_seconds`` and ``setup_requests`` (ping, token, tag list),
        ``loop_seconds`` and ``loop_requests`` for the sample, ``requests_by_kind``.

    Examples
    --------
    >>> out = sequential_loop("http://127.0.0.1:5000", "bench/app", ["1.0.0"])  # doctest: +SKIP
    >>> out["loop_requests"]  # doctest: +SKIP
    3
    """
    netloc = base_url.split("://", 1)[1]
    log = RequestLog(netloc)
    session = requests.Session()
    session.trust_env = False
    for prefix in ("http://", "https://"):
        session.mount(prefix, CountingAdapter(requests.adapters.HTTPAdapter(), log))
    headers = {"Accept": ACCEPT_MANIFESTS}
    try:
        t0 = time.perf_counter()
        ping = session.get(f"{base_url}/v2/", timeout=30)
        if ping.status_code == 401:
            offered = parse_www_authenticate(ping.headers["WWW-Authenticate"])
            challenge = pick_challenge(offered, "bearer")
            if challenge is None or challenge.realm is None:
                raise RuntimeError("registry asked for an auth scheme other than Bearer")
            params = {"scope": f"repository:{repo}:pull"}
            if challenge.params.get("service"):
                params["service"] = challenge.params["service"]
            answer = session.get(challenge.realm, params=params, timeout=30)
            answer.raise_for_status()
            doc = answer.json()
            headers["Authorization"] = f"Bearer {doc.get('token') or doc['access_token']}"
        listing = session.get(f"{base_url}/v2/{repo}/tags/list", headers=headers, timeout=30)
        listing.raise_for_status()
        setup_seconds = time.perf_counter() - t0
        setup_requests = log.total

        t1 = time.perf_counter()
        created: list[str] = []
        for tag in tags:
            top = session.get(f"{base_url}/v2/{repo}/manifests/{tag}", headers=headers, timeout=30)
            top.raise_for_status()
            manifest = top.json()
            if "manifests" in manifest:  # an index: one more hop to the platform's image
                child = _pick_child(manifest)
                resp = session.get(
                    f"{base_url}/v2/{repo}/manifests/{child}", headers=headers, timeout=30
                )
                resp.raise_for_status()
                manifest = resp.json()
            config = session.get(
                f"{base_url}/v2/{repo}/blobs/{manifest['config']['digest']}",
                headers={"Authorization": headers.get("Authorization", "")},
                timeout=30,
            )
            config.raise_for_status()
            created.append(str(config.json().get("created")))
        loop_seconds = time.perf_counter() - t1
    finally:
        session.close()
    return {
        "setup_seconds": setup_seconds,
        "setup_requests": setup_requests,
        "loop_seconds": loop_seconds,
        "loop_requests": log.total - setup_requests,
        "sample": len(tags),
        "dated": sum(c != "None" for c in created),
        "requests_by_kind": log.snapshot(),
    }


def skopeo_version() -> str | None:
    """``skopeo --version`` text, or None when skopeo is not installed."""
    exe = shutil.which("skopeo")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


def skopeo_inspect(netloc: str, repo: str, tags: Sequence[str]) -> dict[str, Any]:
    """Run ``skopeo inspect`` once per tag; time each process and count its requests.

    Parameters
    ----------
    netloc
        ``127.0.0.1:PROXYPORT``.
    repo, tags
        Repository and the sample of tags.

    Returns
    -------
    dict
        ``seconds`` per tag (list), ``requests_by_kind`` summed over the sample,
        ``requests`` total, ``failures``.

    Examples
    --------
    >>> skopeo_inspect("127.0.0.1:5000", "bench/app", ["1.0.0"])["failures"]  # doctest: +SKIP
    0
    """
    exe = shutil.which("skopeo")
    if exe is None:
        raise FileNotFoundError("skopeo is not installed")
    counts = dict.fromkeys(KINDS, 0)
    seconds: list[float] = []
    failures = 0
    for tag in tags:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [exe, "--debug", "inspect", "--tls-verify=false", f"docker://{netloc}/{repo}:{tag}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        seconds.append(time.perf_counter() - t0)
        ok = proc.returncode == 0
        if ok:
            try:
                ok = bool(json.loads(proc.stdout).get("Digest"))
            except ValueError:
                ok = False
        failures += not ok
        for method, url in _SKOPEO_REQUEST.findall(proc.stderr):
            counts[classify(method, url, netloc)] += 1
    return {
        "seconds": seconds,
        "mean_seconds": statistics.fmean(seconds) if seconds else 0.0,
        "requests_by_kind": counts,
        "requests": sum(counts.values()),
        "failures": failures,
        "sample": len(tags),
    }
