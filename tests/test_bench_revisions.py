"""bench/revisions.py runs end to end on a tiny repository (figures: bench/README.md).

Not a timing test: it checks that each revision's worker imports its own tree, that every
candidate reads everything (the script raises on any row error) and that the table carries
every row and the comparison line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench import revisions
from tests.backends import AVAILABLE

ROOT = Path(__file__).resolve().parents[1]


def _in_a_checkout() -> bool:
    probe = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.skipif(AVAILABLE != ["curl", "requests"], reason="needs pycurl"),
    pytest.mark.skipif(not _in_a_checkout(), reason="needs the git history of this checkout"),
]


def test_export_unpacks_the_package_of_a_revision(tmp_path: Path) -> None:
    tree = revisions.export("HEAD", tmp_path)
    assert (tree / "regframe" / "__init__.py").is_file()
    assert not (tree / "tests").exists()  # the package only


@pytest.mark.timeout(300)
def test_revisions_bench_reads_with_every_candidate(tmp_path: Path, capsys) -> None:
    out = tmp_path / "revisions.json"
    argv = ["--baseline", "HEAD", "--tags", "40", "--images", "12", "--rtt", "0.01",
            "--rounds", "1", "--uncached", "--out", str(out)]  # fmt: skip
    assert revisions.main(argv) == 0
    table = capsys.readouterr().out
    result = json.loads(out.read_text())["results"]["0.01"]
    assert set(result) == {"HEAD|requests", "HEAD|curl", "now|curl", "now|requests"}
    for name, r in result.items():
        assert r["cold_requests"] > 40, name  # every tag, then children and configs by digest
        assert r["warm_requests"] < r["cold_requests"], name  # nothing by digest
        assert r["uncached_requests"] == r["cold_requests"], name
        rev, backend = name.split("|")
        assert f"| 10 ms | {rev}, {backend} |" in table
    assert "**now vs HEAD, libcurl**" in table
