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
