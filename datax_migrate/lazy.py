"""Lazy public names for packages whose modules are slow to import (pyiceberg, numba)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first use of ``name``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(exports[name]), name)

    return __getattr__


class _DeferPandas:
    """A meta-path finder that makes ``import pandas`` fail while it is installed."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas":
            raise ImportError("pandas is deferred while pyarrow.dataset loads")
        return None


def import_pyarrow_dataset_without_pandas() -> None:
    """Import ``pyarrow.dataset`` without the pandas import it triggers (about 0.2 s of CPU).

    Loading ``pyarrow._dataset`` builds a scalar, and pyarrow's pandas shim then imports pandas
    to ask whether the value is a pandas object. With pandas unimportable for that moment the
    shim records "no pandas" for such probes (a value that is not a pandas object is treated the
    same either way), and imports pandas on the first call that needs it (``to_pandas`` and the
    like). Only for a process that creates no pandas objects of its own: ``datax-migrate convert``.
    Does nothing when pandas or ``pyarrow.dataset`` is already loaded.
    """
    if "pandas" in sys.modules or "pyarrow.dataset" in sys.modules:
        return
    finder = _DeferPandas()
    sys.meta_path.insert(0, finder)
    try:
        import_module("pyarrow.dataset")
    finally:
        sys.meta_path.remove(finder)
