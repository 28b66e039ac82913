"""Transport rules that hold for every request (scripted server: these are client properties).

Every test runs on both backends (libcurl and requests) in every environment.
"""

from __future__ import annotations

import pytest

import regframe as rf
from regframe.client.limits import AdaptiveLimit
from regframe.client.retry import DEFAULT_POLICY, MAX_RETRY_AFTER, RetryState
from regframe.client.transport import USER_AGENT, Transport
from tests.backends import AVAILABLE
from tests.scripted import Response, ScriptedServer, json_response


@pytest.fixture(autouse=True, params=AVAILABLE)
def backend(request, monkeypatch):
    monkeypatch.setenv("REGFRAME_TRANSPORT", request.param)
    return request.param


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


def test_user_agent_names_regframe_and_version(server):
    server.route("GET", r"/x", lambda req: json_response({}))
    Transport().request("GET", f"{server.url}/x")
    assert server.requests[-1].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"regframe/{rf.__version__} ")


def test_netrc_credentials_are_never_volunteered(server, isolated_env):
    (isolated_env / ".netrc").write_text("machine 127.0.0.1 login bob password netrc-secret\n")
    (isolated_env / ".netrc").chmod(0o600)
    server.route("GET", r"/x", lambda req: json_response({}))
    Transport().request("GET", f"{server.url}/x")
    assert "Authorization" not in server.requests[-1].headers


def test_environment_proxy_is_still_honoured(server, monkeypatch):
    # The scripted server plays the proxy: a proxied request arrives with an absolute URL.
    server.route("GET", r".*", lambda req: json_response({"via": "proxy"}))
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "")
    reply = Transport().request("GET", "http://registry.invalid:5000/v2/")
    assert reply.status == 200
    assert server.requests[-1].target.startswith("http://registry.invalid:5000/v2/")


def test_no_proxy_bypasses(server, monkeypatch):
    server.route("GET", r"/v2/", lambda req: json_response({}))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert Transport().request("GET", f"{server.url}/v2/").status == 200


def test_retry_after_is_capped_and_garbage_tolerated():
    state = RetryState(DEFAULT_POLICY, "GET")
    assert state.wait_for(429, {"Retry-After": "3600"}) == MAX_RETRY_AFTER
    assert state.wait_for(503, {"Retry-After": "2"}) == 2
    assert state.wait_for(429, {"Retry-After": "soon, maybe"}) == state.backoff() == 0


def test_backoff_doubles_with_jitter_and_is_capped():
    state = RetryState(DEFAULT_POLICY, "GET")
    waits = []
    while state.allow("status"):
        waits.append(state.backoff())
    assert len(waits) == DEFAULT_POLICY.status
    assert waits[0] == 0  # the first retry goes at once, as urllib3's did
    for n, wait in enumerate(waits[1:], start=2):
        low = min(DEFAULT_POLICY.backoff_max, DEFAULT_POLICY.backoff_factor * 2 ** (n - 1))
        assert low <= wait <= min(DEFAULT_POLICY.backoff_max, low + DEFAULT_POLICY.backoff_jitter)


def test_budgets_per_kind_and_method():
    get = RetryState(DEFAULT_POLICY, "GET")
    assert [get.allow("connect") for _ in range(7)] == [True] * 6 + [False]
    assert get.allow("read") and get.allow("status")
    assert not get.allow("status")  # total of 8 spent
    post = RetryState(DEFAULT_POLICY, "POST")
    # Nothing reached the server after a connect failure; a read or a status might have acted.
    assert post.allow("connect") and not post.allow("read") and not post.allow("status")
    assert not RetryState(DEFAULT_POLICY, "GET").allow("other")


def test_503_then_success_is_retried(server):
    calls = []

    def flaky(req):
        calls.append(1)
        return json_response({}, status=503) if len(calls) < 3 else json_response({"ok": True})

    server.route("GET", r"/x", flaky)
    t = Transport()
    reply = t.request("GET", f"{server.url}/x")
    assert reply.status == 200 and len(calls) == 3
    assert t.stats["retries"] >= 2


def test_body_limit(server):
    server.route("GET", r"/big", lambda req: Response(200, b"x" * 5000))
    server.route("GET", r"/endless", lambda req: Response(200, chunks=iter(lambda: b"y" * 4096, None)))
    t = Transport()
    with pytest.raises(rf.RegistryError, match="limit"):
        t.request("GET", f"{server.url}/big", limit=1000)
    with pytest.raises(rf.RegistryError, match="limit"):
        t.request("GET", f"{server.url}/endless", limit=100_000)


def test_adaptive_limit_halves_on_429_and_recovers():
    lim = AdaptiveLimit(16)
    lim.acquire()
    lim.release(throttled=True)
    assert int(lim.current) == 8
    lim.acquire()
    lim.release(throttled=True)  # within a second of the last cut: one event, one cut
    assert int(lim.current) == 8
    for _ in range(200):
        lim.acquire()
        lim.release(throttled=False)
    assert int(lim.current) == 16


def test_post_body_is_sent_once_and_dropped_on_303(server):
    # ECR Public's gallery API is a POST with a JSON body; a 5xx is not retried
    # (POST is not idempotent for the session's policy) and a 303 becomes a body-less GET.
    calls = []
    server.route("POST", r"/api/describe", lambda req: json_response({"echo": req.json()}))
    server.route("POST", r"/api/fail", lambda req: calls.append(1) or json_response({}, status=503))
    server.route("POST", r"/api/moved", lambda req: Response(303, b"", {"Location": "/api/there"}))
    server.route("GET", r"/api/there", lambda req: json_response({"body": req.body.decode()}))
    t = Transport()
    reply = t.request(
        "POST", f"{server.url}/api/describe", body=b'{"maxResults": 1000}',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 200 and reply.body == b'{"echo": {"maxResults": 1000}}'
    assert server.requests[-1].headers["Content-Type"] == "application/json"
    assert t.request("POST", f"{server.url}/api/fail", body=b"{}").status == 503
    assert len(calls) == 1
    moved = t.request("POST", f"{server.url}/api/moved", body=b"secret-ish")
    assert moved.status == 200 and moved.body == b'{"body": ""}'
    assert server.requests[-1].method == "GET"


def test_header_values_with_line_breaks_are_never_sent(server):
    """A token from a hostile token server must not smuggle headers onto the wire."""
    server.route("GET", r"/x", lambda req: json_response({}))
    t = Transport()
    with pytest.raises(rf.RegistryError, match="invalid header value") as info:
        t.request("GET", f"{server.url}/x", headers={"Authorization": "Bearer s3cret\r\nX-Evil: 1"})
    assert "s3cret" not in str(info.value)  # the value may be a credential: never quoted
    assert server.requests == []
    t.close()
