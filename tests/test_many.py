"""match= and several images in one frame, against the REAL local registry.

Bad input is checked with every network call made to fail loudly, so "before
any network traffic" is asserted, not assumed.  The executor tests run a real
``ProcessPoolExecutor`` and (in tests/test_dask.py) a real Dask LocalCluster.
"""

from __future__ import annotations

import re
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest
import requests
import requests.adapters

import regframe as rf
from regframe.client.transport import Transport
from tests.backends import refuse_network, wrap_sends

TAGS = ["3.11.9", "3.12.0", "3.12.1", "3.13.0rc2", "3.13.0", "latest"]


@pytest.fixture
def no_network(monkeypatch):
    # Every backend's send: whichever path a request takes, it ends there.
    refuse_network(monkeypatch)


@pytest.fixture
def sent(monkeypatch):
    """Every URL regframe sends, in order."""
    urls: list[tuple[str, str]] = []
    original = Transport._send_once

    def recording(self, request, *args, **kwargs):
        urls.append((request.method, request.url))
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(Transport, "_send_once", recording)
    return urls


def manifest_tags(urls):
    """The tags (not digests) manifests were requested by."""
    out = []
    for _method, url in urls:
        m = re.search(r"/manifests/([^/?]+)$", url)
        if m and not m.group(1).startswith("sha256:"):
            out.append(m.group(1))
    return out


@pytest.fixture
def python_like(registry_open, unique_repo):
    registry_open.pusher.push_image(unique_repo, TAGS, created="2024-01-01T00:00:00Z")
    return registry_open.ref(unique_repo)


# -- bad input, before any network traffic ------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"match": "3.(12"}, rf.InvalidArgumentError, "regular expression"),
        ({"match": 3}, rf.InvalidArgumentTypeError, "match="),
        ({"match": b"3.12"}, rf.InvalidArgumentTypeError, "match="),
        ({"match": ["3.12", 3]}, rf.InvalidArgumentTypeError, "strings"),
        ({"on_error": "ignore"}, rf.InvalidArgumentError, "on_error"),
        ({"executor": object()}, rf.ExecutorError, "concurrent.futures.Executor"),
        ({"auth": ("alice",)}, rf.InvalidArgumentTypeError, "auth"),
        ({"max_workers": 0}, rf.InvalidArgumentError, "max_workers"),
    ],
)
def test_bad_arguments_fail_typed_before_any_request(no_network, kwargs, error, words):
    for images in ("localhost:5000/app", ["localhost:5000/app", "localhost:5000/b"]):
        with pytest.raises(error, match=re.escape(words)):
            rf.read_tags(images, dates=True, **kwargs)


@pytest.mark.parametrize(
    ("images", "error", "words"),
    [
        ([], rf.InvalidArgumentError, "empty"),
        (["localhost:5000/app", 3], rf.InvalidArgumentTypeError, "int 3"),
        (["localhost:5000/app", None], rf.InvalidArgumentTypeError, "NoneType"),
        ({"localhost:5000/app": 1}, rf.InvalidArgumentTypeError, "dict"),
        (42, rf.InvalidArgumentTypeError, "int"),
        (["localhost:5000/app", "Bad Name!"], rf.InvalidReferenceError, "Bad Name"),
    ],
)
def test_bad_image_lists_fail_typed_before_any_request(no_network, images, error, words):
    with pytest.raises(error, match=re.escape(words)):
        rf.read_tags(images)


def test_bad_input_errors_are_value_and_type_errors():
    assert issubclass(rf.InvalidArgumentError, ValueError)
    assert issubclass(rf.InvalidArgumentTypeError, TypeError)
    assert issubclass(rf.ExecutorError, TypeError)


def test_session_and_executor_together_are_refused(no_network):
    with ThreadPoolExecutor(1) as pool, pytest.raises(rf.InvalidArgumentError, match="session"):
        rf.read_tags(["localhost:5000/a"], executor=pool, session=requests.Session())


# -- match ---------------------------------------------------------------------------------


def test_match_regex_asks_only_for_matching_manifests(python_like, sent):
    df = rf.read_tags(python_like, dates=True, match=r"^3\.1[23]\.", cache=False)
    assert list(df.tag) == ["3.12.0", "3.12.1", "3.13.0rc2", "3.13.0"]
    assert sorted(manifest_tags(sent)) == sorted(df.tag)
    assert df.error.isna().all()
    assert df.created.notna().all()


def test_match_collection_and_callable(python_like, sent):
    by_set = rf.read_tags(python_like, dates=True, match={"3.12.1", "latest", "9.9"}, cache=False)
    assert list(by_set.tag) == ["3.12.1", "latest"]
    assert sorted(manifest_tags(sent)) == ["3.12.1", "latest"]
    sent.clear()
    by_fn = rf.read_tags(
        python_like, dates=True, cache=False, match=lambda f: f.major.eq(3) & f.minor.ge(13)
    )
    assert list(by_fn.tag) == ["3.13.0rc2", "3.13.0"]
    assert sorted(manifest_tags(sent)) == ["3.13.0", "3.13.0rc2"]


def test_match_without_dates_filters_the_listing(python_like, sent):
    df = rf.read_tags(python_like, match="rc")
    assert list(df.tag) == ["3.13.0rc2"]
    assert manifest_tags(sent) == []


def test_match_callable_must_return_a_mask(python_like):
    with pytest.raises(rf.InvalidArgumentError, match="returned 1 value for 6 tags"):
        rf.read_tags(python_like, match=lambda f: [True])
    with pytest.raises(rf.InvalidArgumentTypeError, match="boolean"):
        rf.read_tags(python_like, match=lambda f: f.tag)


# -- several images --------------------------------------------------------------------------


@pytest.fixture
def three_repos(registry_open, unique_repo):
    refs = []
    for i, tags in enumerate((["1.0", "1.1", "2.0"], ["0.9", "0.10"], ["5.0.0"])):
        repo = f"{unique_repo}-{i}"
        registry_open.pusher.push_image(repo, tags, created=f"2024-0{i + 1}-01T00:00:00Z")
        refs.append(registry_open.ref(repo))
    return refs


def test_several_images_give_one_frame_in_input_order(three_repos):
    a, b, c = three_repos
    df = rf.read_tags([c, a, b], dates=True, cache=False)
    assert df.columns[0] == "image"
    assert str(df.image.dtype) == "string"
    assert list(df.image) == [c, a, a, a, b, b]
    assert list(df.tag) == ["5.0.0", "1.0", "1.1", "2.0", "0.9", "0.10"]
    assert df.created.notna().all()
    assert df.attrs["failed"] == {}
    assert len(df.attrs["images"]) == 3
    assert isinstance(df.attrs["fetched_at"], pd.Timestamp)
    single = rf.read_tags(a, dates=True, cache=False)
    pd.testing.assert_frame_equal(
        df[df.image == a].drop(columns="image").reset_index(drop=True), single, check_like=False
    )


def test_duplicates_are_read_once_and_kept_once(three_repos, sent):
    a, b, _ = three_repos
    df = rf.read_tags([a, b, a + ":1.0", a], cache=False)
    assert list(df.image.unique()) == [a, b]
    assert len(df) == 5
    tag_lists = [u for _m, u in sent if u.split("?")[0].endswith("/tags/list")]
    assert len(tag_lists) == 2


def test_match_applies_to_each_image(three_repos, sent):
    df = rf.read_tags(three_repos, dates=True, match=r"^[15]\.", cache=False)
    assert list(df.tag) == ["1.0", "1.1", "5.0.0"]
    assert sorted(manifest_tags(sent)) == ["1.0", "1.1", "5.0.0"]


def test_skip_keeps_the_others_and_records_the_failure(three_repos, registry_open):
    missing = registry_open.ref("no/such-repository")
    a, b, c = three_repos
    with pytest.warns(rf.ImageFailedWarning, match="no/such-repository") as caught:
        df = rf.read_tags([a, missing, b, c], dates=True, on_error="skip", cache=False)
    assert len([w for w in caught if issubclass(w.category, rf.ImageFailedWarning)]) == 1
    assert list(df.image.unique()) == [a, b, c]
    assert list(df.attrs["failed"]) == [missing]
    assert "not found" in df.attrs["failed"][missing]


def test_raise_raises_the_failure(three_repos, registry_open):
    missing = registry_open.ref("no/such-repository")
    with pytest.raises(rf.NotFoundError):
        rf.read_tags([three_repos[0], missing], on_error="raise")


def test_every_image_failing_under_skip_gives_an_empty_frame(registry_open):
    refs = [registry_open.ref("no/such-a"), registry_open.ref("no/such-b")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.ImageFailedWarning)
        df = rf.read_tags(refs, dates=True, on_error="skip")
    assert df.empty
    assert df.columns[0] == "image"
    assert "created" in df.columns
    assert str(df.created.dtype) == "datetime64[ns, UTC]"
    assert set(df.attrs["failed"]) == set(refs)


def test_images_share_the_per_host_limit(three_repos, monkeypatch):
    """Three images at once never put more than max_workers requests in flight to the host."""
    import threading
    import time

    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    def wrap(original):
        def counting(self, *args, **kwargs):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            try:
                time.sleep(0.02)
                return original(self, *args, **kwargs)
            finally:
                with lock:
                    state["now"] -= 1

        return counting

    wrap_sends(monkeypatch, wrap)
    rf.read_tags(three_repos, dates=True, max_workers=2, cache=False)
    assert state["peak"] == 2


# -- executors -------------------------------------------------------------------------------


def keep_ones(frame):
    """A module-level match callable (picklable by reference)."""
    return frame.major.eq(1)


def test_process_pool_executor_gives_the_same_frame(three_repos):
    a = three_repos[0]
    local = rf.read_tags(three_repos, dates=True, match=keep_ones, cache=False)
    with ProcessPoolExecutor(2) as pool:
        remote = rf.read_tags(three_repos, dates=True, match=keep_ones, cache=False, executor=pool)
    pd.testing.assert_frame_equal(local, remote)
    assert list(remote.image.unique()) == [a]
    with ProcessPoolExecutor(1) as pool:
        one = rf.read_tags(a, executor=pool)
    assert list(one.tag) == ["1.0", "1.1", "2.0"]
    assert "image" not in one.columns


def test_process_pool_refuses_a_lambda_in_words(three_repos):
    with ProcessPoolExecutor(1) as pool, pytest.raises(rf.ExecutorError, match="module-level"):
        rf.read_tags(three_repos, match=lambda f: f.major.eq(1), executor=pool)


def test_process_pool_skip_keeps_the_others(three_repos, registry_open):
    missing = registry_open.ref("no/such-repository")
    with ProcessPoolExecutor(2) as pool, pytest.warns(rf.ImageFailedWarning):
        df = rf.read_tags([missing, *three_repos], executor=pool, on_error="skip")
    assert list(df.image.unique()) == three_repos
    assert list(df.attrs["failed"]) == [missing]


def test_executor_whose_workers_cannot_import_regframe(three_repos):
    import multiprocessing

    from tests.noregframe import block_regframe

    ctx = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(1, mp_context=ctx, initializer=block_regframe) as pool,
        pytest.raises(rf.ExecutorError, match="import regframe"),
    ):
        rf.read_tags(three_repos, executor=pool, on_error="skip")


# -- add_dates -------------------------------------------------------------------------------


def test_add_dates_sends_what_match_sends(python_like, sent):
    full = rf.read_tags(python_like)
    subset = full[(full.major == 3) & (full.minor >= 12)]
    sent.clear()
    two_step = rf.add_dates(subset, cache=False)
    two_step_requests = sorted(sent)
    sent.clear()
    one_step = rf.read_tags(python_like, dates=True, cache=False, match=lambda f: f.major.eq(3) & f.minor.ge(12))
    assert two_step_requests == sorted(sent)
    assert list(two_step.index) == list(subset.index)
    pd.testing.assert_frame_equal(two_step.reset_index(drop=True), one_step)


def test_add_dates_on_several_images_keeps_rows_and_marks_gone_tags(three_repos):
    a, b, c = three_repos
    df = rf.read_tags([a, b, c])
    picked = df[df.tag.isin(["1.1", "0.10", "5.0.0"])].copy()
    picked.loc[picked.index[0], "note"] = "mine"
    gone = pd.concat([picked, df.iloc[:0]])
    gone.loc[99] = picked.iloc[0]
    gone.loc[99, "tag"] = "0.0.1"
    out = rf.add_dates(gone, cache=False)
    assert list(out.index) == list(gone.index)
    assert list(out.columns[:2]) == ["image", "tag"]
    assert out.loc[picked.index[0], "note"] == "mine"
    assert out.created.notna().sum() == 3
    assert out.loc[99, "error"] == "the registry no longer lists this tag"
    assert out.loc[out.tag == "5.0.0", "created"].item() == pd.Timestamp("2024-03-01", tz="UTC")


def test_add_dates_bad_input(no_network):
    with pytest.raises(rf.InvalidArgumentTypeError):
        rf.add_dates(["1.0"])
    with pytest.raises(rf.InvalidArgumentError, match="tag"):
        rf.add_dates(pd.DataFrame({"x": [1]}))
    with pytest.raises(rf.InvalidArgumentError, match="which repository"):
        rf.add_dates(rf.parse_tags(["1.0"]))
