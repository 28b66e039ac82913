"""A process-pool initializer that makes ``import regframe`` fail, as on a worker without it.

Kept free of regframe imports itself: the worker must be able to load it.
"""

from __future__ import annotations

import sys


class _NoRegframe:
    def find_spec(self, name, path=None, target=None):
        if name == "regframe" or name.startswith("regframe."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def block_regframe():
    for name in [n for n in sys.modules if n == "regframe" or n.startswith("regframe.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _NoRegframe())
