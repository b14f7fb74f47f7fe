"""Imports that leave out slow optional parts: the work still gets done, and the parts load when asked for."""

from __future__ import annotations

import subprocess
import sys
import zlib


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_kernels_load_and_compute_without_cffi() -> None:
    text = "crème brûlée"
    out = _run(
        "import sys, numpy as np\n"
        "from datax_migrate.lazy import load_numba_without_cffi\n"
        "load_numba_without_cffi()\n"
        "from datax_migrate.reconcile.checksum.rowhash import crc32_values\n"
        f"data = np.frombuffer({text.encode()!r}, dtype=np.uint8)\n"
        "lengths, crc, _ = crc32_values(np.array([0, len(data)], dtype=np.int32), data, False)\n"
        "print(int(lengths[0]), int(crc[0]), 'cffi' in sys.modules)\n"
        "import cffi\n"  # still importable afterwards, for whoever needs it
        "print(cffi.FFI().sizeof('int'))"
    )
    assert out.splitlines() == [f"{len(text.encode())} {zlib.crc32(text.encode())} False", "4"]


def test_pyarrow_dataset_without_pandas_until_asked() -> None:
    out = _run(
        "import sys\n"
        "from datax_migrate.lazy import import_pyarrow_dataset_without_pandas\n"
        "import_pyarrow_dataset_without_pandas()\n"
        "import pyarrow as pa, pyarrow.dataset as ds\n"
        "print(ds.dataset(pa.table({'a': [1, 2, 3]})).to_table().num_rows, 'pandas' in sys.modules)\n"
        "print(pa.table({'a': [1, 2]}).to_pandas()['a'].sum())"
    )
    assert out.splitlines() == ["3 False", "3"]


def test_deferred_modules_load_on_first_use(tmp_path) -> None:
    out = _run(
        "import os, sys\n"
        f"os.environ['HOME'] = {str(tmp_path)!r}\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from datax_migrate.lazy import defer_imports\n"
        "defer_imports()\n"
        "import pyiceberg.table, pyarrow.compute, numba\n"
        "used = ['pyiceberg.expressions.parser', 'strictyaml', 'pydoc', 'yaml']\n"
        "print([type(sys.modules[n]).__name__ for n in used], 'pyparsing' in sys.modules)\n"
        "from pyiceberg.table import _parse_row_filter\n"  # the text parser, through pyiceberg's own binding
        "print(_parse_row_filter('a = 1 and b is null'))\n"
        "open('.pyiceberg.yaml', 'w').write('catalog:\\n  probe:\\n    warehouse: probe-warehouse\\n')\n"
        "from pyiceberg.utils.config import Config\n"  # the YAML reader, as pyiceberg reads ~/.pyiceberg.yaml
        "print(Config().get_catalog_config('probe'))\n"
        "import pydoc, yaml\n"
        "print(pydoc.getdoc(len), yaml.safe_load('a: [1, 2]'))\n"
        "print([type(sys.modules[n]).__name__ for n in used])"
    )
    assert out.splitlines() == [
        "['_Deferred', '_Deferred', '_Deferred', '_Deferred'] False",
        "And(left=EqualTo(term=Reference(name='a'), literal=LongLiteral(1)), right=IsNull(term=Reference(name='b')))",
        "{'warehouse': 'probe-warehouse'}",
        f"{len.__doc__} {{'a': [1, 2]}}",
        "['module', 'module', 'module', 'module']",  # the real modules are in place now
    ]


def test_deferring_leaves_loaded_and_missing_modules_alone() -> None:
    out = _run(
        "import sys, json\n"
        "from datax_migrate.lazy import defer_imports\n"
        "defer_imports(['json', 'no_such_module'])\n"
        "try:\n"
        "    import no_such_module\n"  # as `try: import yaml / except ImportError` expects
        "except ImportError as exc:\n"
        "    print(type(sys.modules['json']).__name__, type(exc).__name__)"
    )
    assert out == "module ModuleNotFoundError"


def test_a_submodule_imported_first_is_imported_once() -> None:
    out = _run(
        "import sys\n"
        "from datax_migrate.lazy import defer_imports\n"
        "defer_imports(['yaml'])\n"
        "import yaml.loader\n"  # through the stand-in's __path__, before any attribute of yaml is read
        "loader = sys.modules['yaml.loader']\n"
        "print(type(sys.modules['yaml']).__name__, yaml.safe_load('a: 1'))\n"
        "print(sys.modules['yaml.loader'] is loader, yaml.SafeLoader is loader.SafeLoader)"
    )
    assert out.splitlines() == ["module {'a': 1}", "True True"]  # the package was imported for its __path__
