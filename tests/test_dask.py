"""read_tags(list, executor=...) on a REAL dask.distributed LocalCluster (2 worker processes).

The workers are separate processes started by Dask; they import regframe
themselves, talk to the real local registry and send DataFrames back.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

import regframe as rf

distributed = pytest.importorskip("distributed", reason="pip install 'regframe[test]'")

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=40,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_cluster_reads_several_images(dask_client, registry_open, unique_repo):
    refs = []
    for i in range(4):
        repo = f"{unique_repo}-{i}"
        registry_open.pusher.push_image(
            repo, [f"{i}.0.0", f"{i}.1.0"], created=f"2024-0{i + 1}-01T00:00:00Z"
        )
        refs.append(registry_open.ref(repo))
    missing = registry_open.ref("no/such-repository")
    workers = dask_client.run(os.getpid)
    assert len(workers) == 2 and os.getpid() not in workers.values()

    with pytest.warns(rf.ImageFailedWarning, match="no/such-repository"):
        df = rf.read_tags(
            [*refs, missing],
            dates=True,
            match=lambda f: f.minor.eq(1),  # cloudpickle sends lambdas
            executor=dask_client.get_executor(),
            on_error="skip",
        )
    assert list(df.image) == refs
    assert list(df.tag) == ["0.1.0", "1.1.0", "2.1.0", "3.1.0"]
    assert list(df.created.dt.month) == [1, 2, 3, 4]
    assert df.error.isna().all()
    assert list(df.attrs["failed"]) == [missing]
    local = rf.read_tags(refs, dates=True, match=lambda f: f.minor.eq(1))
    pd.testing.assert_frame_equal(df, local)

    with pytest.raises(rf.NotFoundError):
        rf.read_tags([refs[0], missing], executor=dask_client.get_executor())
