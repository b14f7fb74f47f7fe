"""Slow imports made lazy (pyiceberg, numba), or lighter for the program's own process."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
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


DEFERRED_MODULES = ("pyiceberg.expressions.parser", "strictyaml", "pydoc", "yaml", "secrets")
"""Modules that libraries import at load time and the program's commands rarely use, with no effect
of their own at import: pyiceberg's parser of row filters written as text (it builds a pyparsing
grammar) and its YAML reader of ``~/.pyiceberg.yaml`` (called when that file exists); pydoc, which
pyarrow.compute's vendored docstring parser imports (with the interpreter's build configuration);
PyYAML, which numba imports to read a ``.numba_config.yaml`` when there is one; secrets. Loading
them cost about 0.05 s of CPU in a conversion or sync process, and more in a reconcile."""


class _Deferred(ModuleType):
    """Stands in for a module until one of its attributes is used, then imports it.

    Whoever imported the stand-in keeps it; every attribute they read is read from the real module.
    """

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        module = sys.modules.get(name)
        if module is self:  # the first use: put the real module in place
            del sys.modules[name]
            try:
                module = import_module(name)
            except BaseException:
                sys.modules[name] = self
                raise
        return getattr(module, attribute)


class _Deferring(MetaPathFinder, Loader):
    """A meta-path finder whose first answer for each of ``names`` is a :class:`_Deferred` stand-in.

    The stand-in is made where the import system asks for the module, so its packages are imported
    and it is bound in them as usual; the real import, on first use, goes to the other finders.
    A submodule of a deferred package imported before any of the package's attributes is read makes
    the import system read the stand-in's ``__path__``, which imports the real package, whose own
    imports may include that submodule: the finder then answers with the submodule already loaded,
    so it is not imported twice.
    """

    def __init__(self, names: set[str]) -> None:
        self.deferred = frozenset(names)
        self.waiting = set(names)

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name in self.waiting:
            self.waiting.discard(name)
            if PathFinder.find_spec(name, path) is None:  # not installed: the import fails as usual
                return None
            return ModuleSpec(name, self)
        package = name.rpartition(".")[0]
        if name in sys.modules and package in self.deferred and not isinstance(sys.modules[package], _Deferred):
            return ModuleSpec(name, _AlreadyImported(sys.modules[name]))
        return None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return _Deferred(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing runs until an attribute is used."""


class _AlreadyImported(Loader):
    """Hands the import system a module that is loaded already, and keeps that module's own spec."""

    def __init__(self, module: ModuleType) -> None:
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # the import system set the spec it was handed


def defer_imports(names: Sequence[str] = DEFERRED_MODULES) -> None:
    """Import ``names`` only when one of their attributes is first used (see :data:`DEFERRED_MODULES`).

    For the program's own process, before pyiceberg loads: the ``import`` of a deferred module binds
    a stand-in, and the first attribute read through it (``parser.parse``, ``strictyaml.load``)
    imports the module. A name already imported, or not installed, is left alone.
    """
    wanted = {name for name in names if name not in sys.modules}
    if wanted:
        sys.meta_path.insert(0, _Deferring(wanted))
