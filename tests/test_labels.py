"""labels=True and attested, against the REAL local registry seeded by the sandbox pusher.

Images carry config labels, manifest and index annotations, and BuildKit-style attestation
manifests (``unknown/unknown`` entries annotated ``vnd.docker.reference.type:
attestation-manifest`` with in-toto layers), exactly as the pusher writes them.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import regframe as rf
from regframe.client.registry import RegistryClient
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.frame.resolve import add_metadata
from regframe.parsing.reference import parse_reference

REV = "0123456789abcdef0123456789abcdef01234567"
SRC = "https://github.com/example/app"


@pytest.fixture
def seeded(registry_open, unique_repo):
    p = registry_open.pusher
    # multi-arch with attestations; OCI keys in the config labels
    p.push_multiarch(
        unique_repo,
        ["2.0.0", "2.0", "latest"],
        created="2024-06-01T00:00:00Z",
        labels={
            "org.opencontainers.image.revision": REV,
            "org.opencontainers.image.source": SRC,
            "org.opencontainers.image.version": "2.0.0",
            "maintainer": "team@example.com",
        },
    )
    # multi-arch without attestations; revision only in the index annotations
    p.push_multiarch(
        unique_repo,
        ["1.9.0"],
        created="2024-03-01T00:00:00Z",
        attestations=False,
        index_annotations={"org.opencontainers.image.revision": "feedface"},
    )
    # a single-platform image: source only in its manifest annotations
    p.push_image(
        unique_repo,
        ["1.0.0"],
        created="2023-01-01T00:00:00Z",
        annotations={"org.opencontainers.image.source": SRC + "-old"},
    )
    return registry_open.ref(unique_repo)


def test_labels_and_attested_columns(seeded):
    df = rf.read_tags(seeded, labels=True, cache=False).set_index("tag")
    assert list(df.columns[-5:]) == ["attested", "revision", "source", "image_version", "labels"]
    assert str(df.attested.dtype) == "boolean"
    assert df.loc["2.0.0", "attested"]
    assert df.loc["latest", "attested"]
    assert not df.loc["1.9.0", "attested"]  # an index without attestation entries
    assert not df.loc["1.0.0", "attested"]  # a single image
    assert df.loc["2.0.0", "revision"] == REV
    assert df.loc["2.0.0", "source"] == SRC
    assert df.loc["2.0.0", "image_version"] == "2.0.0"
    assert df.loc["2.0.0", "labels"]["maintainer"] == "team@example.com"
    assert df.loc["1.9.0", "revision"] == "feedface"  # from the index annotations
    assert pd.isna(df.loc["1.9.0", "source"])
    assert df.loc["1.0.0", "source"] == SRC + "-old"  # from the manifest annotations
    assert df.loc["1.0.0", "labels"] == {}
    assert df.created.notna().all()


def test_dates_alone_has_attested_but_no_label_columns(seeded):
    df = rf.read_tags(seeded, dates=True, cache=False)
    assert "attested" in df.columns and "labels" not in df.columns
    assert df.set_index("tag").loc["2.0", "attested"]


def test_labels_warm_run_and_upgrade_from_a_dates_cache(seeded, tmp_path):
    cache = tmp_path / "cache"
    rf.read_tags(seeded, dates=True, cache=cache)  # facts cached without labels
    warm = rf.read_tags(seeded, labels=True, cache=cache)
    assert warm.set_index("tag").loc["2.0.0", "revision"] == REV
    again = rf.read_tags(seeded, labels=True, cache=cache)
    pd.testing.assert_frame_equal(warm, again)


def test_labels_csv_is_sorted_compact_json(seeded):
    df = rf.read_tags(seeded, labels=True, cache=False, match=["2.0.0"])
    text = rf.to_csv(df)
    header = text.splitlines()[0].split(",")
    assert header[-5:] == ["attested", "revision", "source", "image_version", "labels"]
    cell = pd.read_csv(io.StringIO(text), dtype=str).loc[0, "labels"]
    assert cell.startswith('{"maintainer":"team@example.com","org.opencontainers.image.revision"')
    assert json.loads(cell)["org.opencontainers.image.version"] == "2.0.0"


def test_tag_api_dates_stay_and_labels_come_from_each_digest_once(seeded, registry_open):
    """As behind Docker Hub's or Quay's tag API: the tags' digests and push times are known
    (prefetched); labels=True then reads each image's manifest chain by digest, once per
    digest, and never asks per tag — and the config read adds the build time."""
    ref = parse_reference(seeded)
    sent = []
    transport = Transport()
    original = transport._send_once

    def recording(request, *a, **k):
        sent.append((request.method, request.url))
        return original(request, *a, **k)

    transport._send_once = recording
    client = RegistryClient.open(ref, transport)
    try:
        index = client.request(
            "HEAD", f"{client.repo_url}/manifests/2.0.0",
            accept="application/vnd.oci.image.index.v1+json",
        ).headers["Docker-Content-Digest"]
        hub_time = 1_700_000_000 * 10**9
        prefetched = {
            t: TagMetadata(digest=index, pushed_ns=hub_time, pushed_source="hub")
            for t in ("2.0.0", "2.0", "latest")
        }
        sent.clear()
        df = add_metadata(
            rf.parse_tags(["2.0.0", "2.0", "latest"]),
            client,
            cache=False,
            prefetched=prefetched,
            labels=True,
        )
    finally:
        client.close()
    # Both times: the API's push time stays, the config's build time joins it.
    assert (df.pushed_source == "hub").all()
    assert (df.pushed == pd.Timestamp(hub_time, tz="UTC")).all()
    assert (df.created_source == "config").all()
    assert (df.created == pd.Timestamp("2024-06-01T00:00:00Z")).all()
    assert list(df.revision) == [REV] * 3
    assert df.attested.all()
    by_tag = [u for _m, u in sent if "/manifests/" in u and "sha256:" not in u]
    assert by_tag == []
    # one index, one image manifest, one config: each digest once
    assert len(sent) == 3, sent


def test_cli_labels_csv(seeded, tmp_path, capsys):
    from regframe.cli import main

    out = tmp_path / "l.csv"
    assert main(["tags", seeded, "--labels", "--match", "^2\\.0\\.0$", "--csv", str(out)]) == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.tag) == ["2.0.0"]
    assert df.loc[0, "revision"] == REV and df.loc[0, "attested"] == "True"
    assert json.loads(df.loc[0, "labels"])["maintainer"] == "team@example.com"
    assert main(["tags", seeded, "--labels", "--match", "^1\\.9"]) == 0
    shown = capsys.readouterr().out
    assert "feedface" in shown
