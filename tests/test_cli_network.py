"""Network failures read as plain sentences, from the library and from the command line.

Each case is real: a name under ``.invalid`` (reserved, never resolves), a loopback
port nobody listens on, the sandbox registry in TLS mode without its CA, and a
loopback socket that accepts connections and never answers.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import regframe as rf
from regframe.cli import main

LIBRARY_NOISE = re.compile(r"Error\(|ConnectionPool|urllib3|Max retries|Caused by|object at 0x")


def _assert_plain(message: str) -> None:
    assert not LIBRARY_NOISE.search(message), message
    assert "..." not in message, f"message was cut: {message}"
    assert len(message) < 160, message


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("regframe: error: ") and err.count("\n") == 1, err
    message = err.removeprefix("regframe: error: ").strip()
    _assert_plain(message)
    return message


def test_unknown_host_is_named_and_fails_fast(capsys):
    started = time.monotonic()
    with pytest.raises(rf.NetworkError) as info:
        rf.read_tags("registry.regframe-test.invalid/team/app")
    assert time.monotonic() - started < 5  # a name that does not exist is not retried
    assert str(info.value) == "could not resolve host registry.regframe-test.invalid"
    assert info.value.reason == "resolve"
    assert _cli_error(["tags", "registry.regframe-test.invalid/team/app"], capsys) == (
        "could not resolve host registry.regframe-test.invalid"
    )


def test_closed_port_is_connection_refused(closed_port, capsys):
    ref = f"127.0.0.1:{closed_port}/team/app"
    with pytest.raises(rf.NetworkError) as info:
        rf.read_tags(ref)
    assert str(info.value) == f"connection refused by 127.0.0.1:{closed_port}"
    assert info.value.reason == "refused"
    assert _cli_error(["tags", ref], capsys) == f"connection refused by 127.0.0.1:{closed_port}"


def test_untrusted_tls_certificate(registry_tls, monkeypatch, capsys):
    # The machine's CA bundle (or certifi's) does not hold the sandbox's throw-away CA.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    registry_tls.pusher.push_image("pub/tls-words", ["1.0"], created=None)
    ref = registry_tls.ref("pub/tls-words")
    with pytest.raises(rf.NetworkError) as info:
        rf.read_tags(ref)
    assert str(info.value).startswith(f"TLS certificate of {registry_tls.host} is not trusted")
    assert info.value.reason == "tls"
    message = _cli_error(["tags", ref], capsys)
    assert message.startswith(f"TLS certificate of {registry_tls.host} is not trusted")
    # With its CA the TLS connection succeeds and the next rule speaks instead (this
    # sandbox's token realm is plain http, refused for an https registry).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(registry_tls.ca_path))
    with pytest.raises(rf.AuthenticationError, match="token realm"):
        rf.read_tags(ref)


@pytest.mark.timeout(60)
def test_silent_server_did_not_answer_within_timeout(silent_port, capsys):
    message = _cli_error(["tags", f"127.0.0.1:{silent_port}/team/app", "--timeout", "0.3"], capsys)
    assert message == f"127.0.0.1:{silent_port} did not answer within 0.3 s"
