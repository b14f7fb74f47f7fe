"""Shared fixtures: the Delta corpus, a throwaway Iceberg catalog, the CLI in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog

CORPUS_ENV = "DATAX_DELTA_CORPUS"


def corpus_root() -> Path | None:
    """The Delta corpus: $DATAX_DELTA_CORPUS, else ../shared/delta-corpus beside the project."""
    candidates = [os.environ.get(CORPUS_ENV), Path(__file__).resolve().parents[2] / "shared" / "delta-corpus"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "golden").is_dir():
            return Path(candidate)
    return None


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
