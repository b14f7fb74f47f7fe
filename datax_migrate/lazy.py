"""Slow imports made lazy (pyiceberg, numba), or lighter for the program's own process."""

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


class _Refuse:
    """A meta-path finder that makes importing the named modules fail while it is installed."""

    def __init__(self, names: frozenset[str], reason: str) -> None:
        self.names, self.reason = names, reason

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name in self.names:
            raise ImportError(f"{name} is deferred while {self.reason}")
        return None


def _import_refusing(module: str, refused: str) -> None:
    """Import ``module`` with ``refused`` unimportable for that moment."""
    finder = _Refuse(frozenset({refused}), f"{module} loads")
    sys.meta_path.insert(0, finder)
    try:
        import_module(module)
    finally:
        sys.meta_path.remove(finder)


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
    _import_refusing("pyarrow.dataset", "pandas")


def load_numba_without_cffi() -> None:
    """Load numba's CFFI bridge without cffi, so compiled kernels load without importing cffi (~0.07 s of CPU).

    The first call of a compiled kernel makes numba type a value through its CFFI bridge, which imports
    cffi and pycparser and builds an ``FFI``: only so that jitted code can call CFFI functions, which the
    project's kernels never do. With cffi unimportable while the bridge loads, the bridge records "no
    cffi" and numba leaves it at that. Only for a process that compiles no CFFI calls of its own
    (``datax-migrate reconcile``); does nothing when cffi or the bridge is already loaded.
    """
    if "cffi" in sys.modules or "numba.core.typing.cffi_utils" in sys.modules:
        return
    _import_refusing("numba.core.typing.cffi_utils", "cffi")
