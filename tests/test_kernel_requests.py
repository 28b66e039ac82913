"""The kernel this environment installs answers every request sent on a fresh connection.

ipykernel 7.0 to 7.3 can leave a shell request unread: the kernel sends its reply to the
previous request raw on the shell socket, and a request that lands meanwhile loses its
wake-up until some later connection (ipython/ipykernel#1554, fixed by #1529 in 7.4.0,
which needs Python 3.11).  ``jupyter_server`` sends exactly that pattern whenever a page
connects: a ``kernel_info_request`` on a short-lived shell channel, closed once the control
channel answers.  For the app it meant a Voila page stuck at "Loading widget...", for
JupyterLab a cell queued behind an idle kernel; both showed in the browser tests of the
Python 3.10 environment, which had resolved ipykernel 7.3.0.  ``pyproject.toml`` leaves
those releases out.

Measured on this machine with the loop below, 200 rounds: ipykernel 7.3.0 left 10
requests unanswered; 6.31.0 (Python 3.10) and 7.4.0 (Python 3.13) none.
"""

from __future__ import annotations

import queue
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(180)

#: Rounds of the pattern: at 5 % lost a round, all 200 pass by chance about once in 28,000.
ROUNDS = 200


@pytest.fixture
def kernel(tmp_path, monkeypatch) -> Iterator[tuple[Any, Any]]:
    from jupyter_client import KernelManager

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _nudge(manager: Any, session: Any) -> None:
    """What ``jupyter_server`` does when a page connects: kernel info on a passing shell channel."""
    shell, control = manager.connect_shell(), manager.connect_control()
    try:
        session.send(shell, "kernel_info_request", {})
        session.send(control, "kernel_info_request", {})
        assert control.poll(30_000), "the control channel did not answer"
        session.recv(control)
    finally:
        shell.close(linger=0)
        control.close(linger=0)


def _answered(client: Any, msg_id: str, timeout: float) -> bool:
    try:
        while client.get_shell_msg(timeout=timeout)["parent_header"].get("msg_id") != msg_id:
            pass
    except queue.Empty:
        return False
    return True


def test_the_kernel_answers_each_request_after_a_page_connects(kernel):
    manager, client = kernel
    for round_ in range(ROUNDS):
        _nudge(manager, client.session)
        msg_id = client.kernel_info()
        # A healthy kernel answers in milliseconds; 10 s leaves room for a loaded machine.
        assert _answered(client, msg_id, timeout=10.0), (
            f"round {round_ + 1}: the kernel never read a request sent after a page "
            f"connected (Python {sys.version_info[0]}.{sys.version_info[1]}, "
            f"ipykernel {_kernel_version()}; see ipython/ipykernel#1554)"
        )


def _kernel_version() -> str:
    import ipykernel

    return str(ipykernel.__version__)
