"""notebooks/tag_history.ipynb executed by a real Jupyter kernel against its own sandbox registry.

The notebook seeds a real local registry, snapshots, retags and rebuilds
through the sandbox pusher, snapshots again, then reads the history, draws
the moves chart and re-runs with ``max_age``.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
from pathlib import Path

import pytest
from test_notebooks import _env, _run, _text

from regframe.testing.sandbox import find_registry_binary


@pytest.mark.timeout(300)
def test_tag_history_notebook_runs_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    find_registry_binary()  # the notebook starts its own registry
    env = _env(tmp_path, "")
    env["REGFRAME_HISTORY"] = str(tmp_path / "must-not-be-used.sqlite")
    nb = _run("tag_history.ipynb", tmp_path, env, monkeypatch)
    text = _text(nb)
    assert "'moved': ['3', '3.12', '3.12.3', 'latest']" in text
    assert "'new': ['3.13', '3.13.0']" in text
    rerun = next(c for c in nb.cells if "max_age=" in c.source and c.cell_type == "code")
    said = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in rerun.outputs)
    assert said.rstrip().endswith("True")  # the max_age re-run equals the last read
    pngs = [o["data"]["image/png"] for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 2
    (tmp_path.parent / "tag_history_moves.png").write_bytes(base64.b64decode(pngs[0]))
    store = tmp_path / "tag-history.sqlite"
    assert not (tmp_path / "must-not-be-used.sqlite").exists()
    with contextlib.closing(sqlite3.connect(store)) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 2
        moves = con.execute(
            "SELECT tag, count(*) FROM intervals GROUP BY tag HAVING count(*) > 1 ORDER BY tag"
        ).fetchall()
    assert moves == [("3", 2), ("3.12", 2), ("3.12.3", 2), ("latest", 2)]
