"""bench/registry_apis.py in a tiny configuration: the fast paths it times are really taken.

Structure, not timings: 30 tags over 10 multi-arch images, 10 ms proxies, two products (one API
on the registry's host, one on its own) — every product runs in tests/test_api_shims.py.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.registry_apis import PAGE, render, run  # noqa: E402

PRODUCTS = ("acr", "ecr-public")


def test_product_rows_come_from_their_api_within_budget() -> None:
    res = run(tags=30, images=10, rtt=0.01, products=PRODUCTS)
    walk = res["rows"]["walk"]
    assert walk["rows"] == 30 and walk["sources"] == []  # a plain registry has no push time
    for product in PRODUCTS:
        row = res["rows"][product]
        assert row["rows"] == 30
        assert row["sources"] == [product], product
        # Minus the https probe regframe sends first to a loopback registry.
        assert row["requests"] - 1 <= math.ceil(30 / PAGE[product]) + 3, product
        assert row["requests"] < walk["requests"] / 10
    table = render(res)
    assert table.count("\n| ") == 1 + 1 + len(PRODUCTS)  # header, walk, one row per product
