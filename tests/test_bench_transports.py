"""The transport benchmarks run end to end on a tiny repository (figures: bench/README.md).

Not a timing test: it checks that every candidate and both transports read everything
(the scripts raise on any failed request or row error) and that the tables carry every row.
"""

from __future__ import annotations

import json

import pytest

from bench import clients, transports
from tests.backends import AVAILABLE

pytestmark = pytest.mark.skipif(AVAILABLE != ["curl", "requests"], reason="needs pycurl")


@pytest.mark.timeout(300)
def test_clients_bench_measures_every_candidate(tmp_path, capsys):
    out = tmp_path / "clients.json"
    assert clients.main(["--requests", "60", "--rtt", "0.01", "--rounds", "1", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    got = json.loads(out.read_text())
    for name in clients.CANDIDATES:
        assert f"| {name} |" in table
        # os.times() ticks in 10 ms: a 60-request run may measure no CPU at all.
        assert got[name]["wall"] > 0 and got[name]["cpu_ms_per_request"] >= 0


@pytest.mark.timeout(300)
def test_transports_bench_reads_cold_warm_and_uncached_on_both(tmp_path, capsys, monkeypatch):
    import os

    from regframe.client.transport import Transport

    monkeypatch.delenv("REGFRAME_TRANSPORT", raising=False)
    before = (os.environ.get("REQUESTS_CA_BUNDLE"), Transport._attempt)
    out = tmp_path / "transports.json"
    argv = ["--tags", "40", "--images", "12", "--rtt", "0.01", "--rounds", "1", "--out", str(out)]
    assert transports.main(argv) == 0
    table = capsys.readouterr().out
    result = json.loads(out.read_text())["results"]["0.01"]
    for backend in ("requests", "curl"):
        r = result[backend]
        assert r["cold_requests"] > 40  # every tag, then children and configs by digest
        assert r["runs"][0]["warm"]["requests"] < r["cold_requests"]  # nothing by digest
        # The registry's CPU is read from its process: about 2 ms a request here, so the
        # ~70 requests of a cold read show well above psutil's 10 ms tick.
        assert r["cold_registry_cpu_ms"] > 0 and r["cold_proxy_cpu_ms"] >= 0
        assert 0 < r["cold_cores"] <= (os.cpu_count() or 1) * 1.5
    assert "**libcurl vs requests**" in table
    # The run leaves the process as it found it: environment and the request counter.
    assert "REGFRAME_TRANSPORT" not in os.environ
    assert (os.environ.get("REQUESTS_CA_BUNDLE"), Transport._attempt) == before
