"""``versions=`` end to end against the real registry (Debian's CNCF distribution, token auth).

A range is decided before any manifest request, like ``match=``: reading a repository with
``versions=R`` sends exactly the requests of reading a repository that holds only the
tags R keeps (counted per kind on the wire), and a malformed range sends nothing at all.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import regframe as rf
from regframe.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_count import RequestLog, counting_session  # noqa: E402
from bench.seed import ImageSpec, plan_images, seed  # noqa: E402

pytestmark = [pytest.mark.registry, pytest.mark.timeout(300)]

RANGE = ">=1.1 <2 || ^3.0.0-rc.1"  # npm: an alternative naming a prerelease of 3.0.0


def _counted(ref: str, netloc: str, **kwargs: Any) -> tuple[Any, dict[str, int]]:
    log = RequestLog(netloc)
    session = counting_session(log, 8)
    with tempfile.TemporaryDirectory(prefix="regframe-test-cache-") as cache:
        try:
            df = rf.read_tags(ref, dates=True, cache=cache, progress=False, session=session,
                              history=False, **kwargs)  # fmt: skip
        finally:
            session.close()
    return df, log.snapshot()


def test_versions_sends_what_a_repository_of_only_the_matching_tags_needs(
    registry_token: Any, unique_repo: str
) -> None:
    plan = plan_images(60, 20)
    # prereleases and aliases the range must see through
    plan.append(ImageSpec("3.0.0", ("3.0.0-rc.1", "3.0.0-rc.1-alpine"), plan[-1].created))
    plan.append(ImageSpec("3.0.0", ("3.0.0", "3", "latest"), plan[-1].created))
    every = [t for spec in plan for t in spec.tags]
    keep = set(rf.select(rf.parse_tags(every), versions=RANGE)["tag"])
    only = [
        ImageSpec(s.version, tuple(t for t in s.tags if t in keep), s.created)
        for s in plan
        if any(t in keep for t in s.tags)
    ]
    assert 0 < len(keep) < len(every)
    assert {"3.0.0-rc.1", "3.0.0-rc.1-alpine", "3.0.0", "3"} <= keep and "latest" not in keep
    seed(registry_token, f"{unique_repo}-all", plan)
    seed(registry_token, f"{unique_repo}-only", only)
    host = registry_token.host
    big, big_requests = _counted(f"{host}/{unique_repo}-all", host, versions=RANGE)
    small, small_requests = _counted(f"{host}/{unique_repo}-only", host)
    assert sorted(big["tag"]) == sorted(small["tag"]) == sorted(keep)
    assert big_requests == small_requests
    assert big_requests["manifest_by_tag_get"] == len(keep)
    assert big["error"].isna().all()
    # combined with match=: both filters apply before the manifests
    both, both_requests = _counted(f"{host}/{unique_repo}-all", host, versions=RANGE,
                                   match=r"alpine")  # fmt: skip
    assert both["tag"].tolist() == ["3.0.0-rc.1-alpine"]
    assert both_requests["manifest_by_tag_get"] == 1


def test_a_malformed_range_fails_before_any_request(registry_token: Any) -> None:
    log = RequestLog(registry_token.host)
    session = counting_session(log, 4)
    with pytest.raises(InvalidArgumentError, match="'<<2' at position 6"):
        rf.read_tags(f"{registry_token.host}/t/none", versions=">=1.2 <<2", session=session)
    with pytest.raises(InvalidArgumentError, match="position"):
        rf.read_tags([f"{registry_token.host}/t/a", "python"], versions="~=1", session=session)
    session.close()
    assert log.total == 0


def test_add_dates_takes_versions_too(registry_token: Any, unique_repo: str) -> None:
    seed(registry_token, unique_repo, plan_images(12, 6))
    ref = f"{registry_token.host}/{unique_repo}"
    full = rf.read_tags(ref)
    dated = rf.add_dates(full, versions="1.1.x", cache=False)
    assert dated["tag"].tolist() == rf.select(full, versions="1.1.x")["tag"].tolist()
    assert dated["digest"].notna().all()
