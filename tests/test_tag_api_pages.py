"""Docker Hub's and Quay's tag pages fetched concurrently, and progress over every request.

Docker Hub and Quay are NOT reachable from this machine: their tag APIs are played by
SCRIPTED servers (``tests/scripted.py``, shapes as in ``tests/test_fastpaths.py``) that
delay each answer a little and record how many requests were in flight at once.  The
registry-path progress test uses the real sandbox registry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import regframe as rf
from regframe.client.platforms import parse_platform
from regframe.client.progress import Progress
from regframe.client.tag_apis import fetch_listing
from regframe.client.transport import Transport
from regframe.parsing.reference import parse_reference
from tests.scripted import Request, Response, ScriptedServer, json_response
from tests.test_fastpaths import HUB_PATH, QUAY_PATH, hub_tag, quay_tag

PYTHON = parse_reference("python")
PROM = parse_reference("quay.io/prometheus/prometheus")
AMD64 = parse_platform("linux/amd64")


class InFlight:
    """Counts concurrent requests in a scripted handler (each answer takes ``delay``)."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, answer: Response) -> Response:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.delay)
            return answer
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        monkeypatch.setenv("REGFRAME_DOCKERHUB_API", s.url)
        monkeypatch.setenv("REGFRAME_QUAY_API", s.url)
        yield s


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(timeout=5, max_workers=8)
    yield t
    t.close()


def serve_hub(
    server: ScriptedServer,
    results: list[dict[str, Any]],
    flight: InFlight,
    *,
    count: int | None = None,
    status: dict[int, int] | None = None,
) -> None:
    """Hub's tags API; ``count`` can lie (a listing that changed), ``status`` fails pages."""
    failures = dict(status or {})

    def handler(req: Request) -> Response:
        size = min(int(req.query.get("page_size", "10")), 100)
        page = int(req.query.get("page", "1"))
        if failures.get(page):
            code = failures.pop(page)
            return flight(Response(code, b"{}", {"Retry-After": "0"}))
        chunk = results[(page - 1) * size : page * size]
        if page > 1 and not chunk:
            return flight(json_response({"message": "not found"}, status=404))
        nxt = None
        if page * size < len(results):
            nxt = f"{server.url}{req.path}?page={page + 1}&page_size={size}"
        doc = {
            "count": len(results) if count is None else count,
            "next": nxt,
            "previous": None,
            "results": chunk,
        }
        return flight(json_response(doc))

    server.route("GET", HUB_PATH, handler)


def test_hub_pages_after_the_first_are_fetched_concurrently(
    server: ScriptedServer, transport: Transport
) -> None:
    names = [f"1.{i // 100}.{i % 100}" for i in range(1000)]
    flight = InFlight(0.2)
    serve_hub(server, [hub_tag(n) for n in names], flight)
    steps: list[tuple[int, int]] = []
    progress = Progress(lambda done, total: steps.append((done, total)))
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport, progress=progress)
    progress.close()
    assert listing is not None
    assert listing.tags == names  # in the API's order, whatever order the pages came in
    assert listing.requests == len(server.requests) == 10
    assert sorted(int(r.query.get("page", "1")) for r in server.requests) == list(range(1, 11))
    assert flight.peak >= 3, "pages 2-10 were not in flight together"
    assert flight.peak <= transport.max_workers
    assert steps[-1] == (10, 10)
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)


def test_hub_rate_limited_page_is_retried_and_the_listing_completes(
    server: ScriptedServer, transport: Transport
) -> None:
    names = [f"2.{i // 100}.{i % 100}" for i in range(500)]
    serve_hub(server, [hub_tag(n) for n in names], InFlight(0.0), status={3: 429, 4: 503})
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == names
    assert transport.stats["throttled"] >= 1


def test_hub_listing_that_shrank_keeps_the_pages_it_got(
    server: ScriptedServer, transport: Transport
) -> None:
    names = [f"3.{i // 100}.{i % 100}" for i in range(250)]
    # Page 1 still counts 400 tags: page 4 no longer exists (404).
    serve_hub(server, [hub_tag(n) for n in names], InFlight(0.0), count=400)
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == names


def test_hub_listing_that_grew_follows_the_last_pages_next_link(
    server: ScriptedServer, transport: Transport
) -> None:
    names = [f"4.{i // 100}.{i % 100}" for i in range(450)]
    # Page 1 counted 250 tags; by the time page 3 is read there are 450.
    serve_hub(server, [hub_tag(n) for n in names], InFlight(0.0), count=250)
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == names
    assert listing.requests == 5


def test_hub_page_that_keeps_failing_falls_back_to_the_registry(
    server: ScriptedServer, transport: Transport
) -> None:
    names = [f"5.{i // 100}.{i % 100}" for i in range(300)]
    serve_hub(server, [hub_tag(n) for n in names], InFlight(0.0), status={2: 400})
    assert fetch_listing(PYTHON, platform=AMD64, transport=transport) is None


def test_quay_fetches_ahead_while_has_additional_holds(
    server: ScriptedServer, transport: Transport
) -> None:
    tags = [quay_tag(f"v2.{i}.0", i) for i in range(1050)]  # 11 pages
    flight = InFlight(0.2)

    def handler(req: Request) -> Response:
        page = int(req.query["page"])
        chunk = tags[(page - 1) * 100 : page * 100]
        more = page * 100 < len(tags)
        return flight(json_response({"tags": chunk, "page": page, "has_additional": more}))

    server.route("GET", QUAY_PATH, handler)
    listing = fetch_listing(PROM, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == [t["name"] for t in tags]
    pages = sorted(int(r.query["page"]) for r in server.requests)
    assert pages[:11] == list(range(1, 12))
    # Windows of 1, 2, 4, 8 pages: 15 asked for, 4 of them past the end.
    assert listing.requests == len(pages) == 15
    assert flight.peak >= 3


def test_progress_callable_counts_every_request_from_the_calling_thread(
    registry_open: Any, unique_repo: str
) -> None:
    for i in range(3):
        registry_open.pusher.push_image(
            unique_repo, [f"1.{i}.0", f"1.{i}"], created=f"2024-0{i + 1}-01T00:00:00Z"
        )
    calls: list[tuple[int, int, int]] = []
    rf.read_tags(
        registry_open.ref(unique_repo),
        dates=True,
        cache=False,
        progress=lambda done, total: calls.append((done, total, threading.get_ident())),
    )
    assert calls
    assert {ident for _, _, ident in calls} == {threading.get_ident()}
    # One tag-list page, six tags, three manifests, three configs.
    assert calls[-1][:2] == (13, 13)
    dones = [d for d, _, _ in calls]
    assert dones == sorted(dones)
    assert all(d <= t for d, t, _ in calls)


def test_progress_rejects_what_it_cannot_use() -> None:
    with pytest.raises(TypeError, match="callable"):
        Progress("yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        rf.read_tags("localhost:5000/x", progress=3)  # type: ignore[arg-type]
