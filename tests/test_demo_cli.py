"""`regframe demo` and `regframe plot` end to end (real sandbox registry, real PNG files)."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

from regframe.cli import main
from regframe.testing.histories import elastic_history, python_history


def test_histories_are_realistic():
    es = elastic_history()
    tags = {t for p in es for t in p.tags}
    assert {"5.0.0", "6.0.0-alpha1", "7.0.0-rc2", "8.15.0"} <= tags
    assert any(len(t.split("-")[-1]) == 8 and t[0] in "78" and "-" in t for t in tags)  # hex build ids
    assert es == elastic_history()  # deterministic
    py = python_history()
    ptags = {t for p in py for t in p.tags}
    assert {"latest", "3", "3.12", "3.12-slim", "3.13.0rc1", "slim", "bookworm"} <= ptags
    assert any(len(p.platforms) == 3 for p in py)


@pytest.mark.timeout(300)
def test_demo_quick_writes_everything(tmp_path, capsys):
    out = tmp_path / "demo-out"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "seeded elastic/elasticsearch" in text and "0 errors" in text
    assert "per_year" in text and "median_patch_days" in text
    tags = pd.read_csv(out / "tags.csv", dtype=str)
    rel = pd.read_csv(out / "releases.csv", dtype=str)
    assert tags["created"].notna().all()
    assert set(rel["release"].str.split(".").str[0]) == {"7", "8"}
    for kind in ("timeline", "cadence", "intervals", "lines"):
        with Image.open(out / f"{kind}.png") as img:
            assert img.width > 300 and img.height > 200
            assert len(img.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 10  # not blank


@pytest.mark.parametrize("kind", ["timeline", "cadence", "intervals", "lines"])
def test_plot_command(kind, registry_open, tmp_path):
    repo = "plotcli/app"
    p = registry_open.pusher
    for i, when in enumerate(["2023-01-10", "2023-03-01", "2023-06-20", "2024-01-05"]):
        p.push_image(repo, [f"1.{i}.0"], created=f"{when}T00:00:00Z")
    out = tmp_path / f"{kind}.png"
    assert main(["plot", registry_open.ref(repo), "--kind", kind, "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 200


@pytest.mark.timeout(300)
def test_demo_serve_keeps_the_registry_up_until_interrupted(tmp_path):
    import re
    import signal
    import subprocess
    import sys

    import regframe as rf

    proc = subprocess.Popen(
        [sys.executable, "-m", "regframe.cli", "demo", "--quick", "--serve", "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "press Ctrl-C" in line:
                break
        text = "".join(lines)
        image = re.search(r"REGFRAME_IMAGE=(\S+)", text).group(1)
        df = rf.read_tags(image)  # the registry outlives the demo's own report
        assert len(df) > 50
        assert df.attrs["repository"] == "elastic/elasticsearch"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
