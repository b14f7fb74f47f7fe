"""SQLite catalogs write local files through a FileIO that creates a file's folder only when it is missing."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pyiceberg.io import PY_IO_IMPL

from datax_migrate.catalogs import open_catalog
from datax_migrate.catalogs.localfs import LazyFolderFileIO
from datax_migrate.config import local_catalog_properties


@pytest.mark.parametrize("folder", ["", "a/b/c"], ids=["existing folder", "missing folders"])
def test_a_file_is_written_whether_or_not_its_folder_exists(tmp_path: Path, folder: str) -> None:
    io = LazyFolderFileIO()
    path = tmp_path / folder / "part-0.parquet"
    with io.new_output(str(path)).create(overwrite=True) as stream:
        stream.write(b"rows")
    with io.new_output(str(path)).create(overwrite=True) as stream:  # replaced, the folder exists now
        stream.write(b"other rows")
    assert path.read_bytes() == b"other rows"
    assert io.new_input(path.as_uri()).open().read() == b"other rows"


def test_a_folder_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"")
    with pytest.raises(OSError):
        LazyFolderFileIO().new_output(str(tmp_path / "taken" / "part-0.parquet")).create(overwrite=True)


def test_the_embedded_catalog_uses_it_unless_its_config_names_another(tmp_path: Path) -> None:
    properties = local_catalog_properties(tmp_path)
    assert open_catalog("local", properties).properties[PY_IO_IMPL] == "datax_migrate.catalogs.localfs.LazyFolderFileIO"
    named = {**properties, PY_IO_IMPL: "pyiceberg.io.pyarrow.PyArrowFileIO"}
    assert open_catalog("local", named).properties[PY_IO_IMPL] == "pyiceberg.io.pyarrow.PyArrowFileIO"


def test_a_pickled_file_io_still_creates_missing_folders(tmp_path: Path) -> None:
    """pyiceberg FileIOs can travel pickled (a table sent to another process): the lazy folders survive it."""
    io = pickle.loads(pickle.dumps(LazyFolderFileIO()))
    path = tmp_path / "x" / "y" / "part-0.parquet"
    with io.new_output(str(path)).create(overwrite=True) as stream:
        stream.write(b"rows")
    assert isinstance(io, LazyFolderFileIO) and path.read_bytes() == b"rows"
