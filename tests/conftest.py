"""Shared fixtures: the Delta corpus, a throwaway Iceberg catalog, the CLI in-process.

The service fixtures come as plugins from ``tests/support``: the moto server (marker ``aws``) and the
local Spark session (marker ``spark``). Both are session-scoped and start only when a test asks for
them, so the offline suite starts neither.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog

from tests.support.corpus import CORPUS_ENV, corpus_root

pytest_plugins = ["tests.support.moto", "tests.support.spark"]


@pytest.fixture
def corpus() -> Path:
    root = corpus_root()
    if root is None:
        pytest.skip(f"Delta corpus not found: set {CORPUS_ENV} or place it at ../shared/delta-corpus")
    return root


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    return SqlCatalog("test", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=warehouse.as_uri())


@pytest.fixture
def datax_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the embedded ``local`` catalog at a fresh folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("DATAX_HOME", str(home))
    return home
