"""The catalog contract's fixture: one fresh catalog of each target kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from datax_migrate.catalogs import open_catalog
from tests.support.catalogs import TARGETS, OpenCatalog, catalog_properties


@pytest.fixture(params=TARGETS)
def open_target(request: pytest.FixtureRequest, tmp_path: Path) -> OpenCatalog:
    """Opens a new client of one fresh catalog per call (moto through ``aws_env`` for AWS targets)."""
    if not request.param.startswith("sql"):
        request.getfixturevalue("aws_env")
    properties = catalog_properties(request.param, tmp_path)
    return lambda: open_catalog(request.param, properties)
