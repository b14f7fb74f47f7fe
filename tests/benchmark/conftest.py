"""Table pairs for the benchmark tests: real Delta tables (deltalake) and their conversions (our converter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

ROWS = 2_000


@dataclass(frozen=True)
class Lake:
    """Delta tables, their Iceberg conversions in a catalog config, a pairs file and a queries folder."""

    root: Path
    config: Path
    pairs: Path
    queries: Path

    def pairs_with_source(self, name: str, source: Path) -> Path:
        """A pairs file like :attr:`pairs` whose ``name`` reads ``source`` instead."""
        document = yaml.safe_load(self.pairs.read_text())
        document["pairs"][name]["source"] = str(source)
        path = self.root / f"pairs-{name}-{source.name}.yaml"
        path.write_text(yaml.safe_dump(document))
        return path


def orders() -> pa.Table:
    ids = list(range(ROWS))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "customer": pa.array([i % 50 for i in ids], pa.int32()),
            "amount": pa.array([round(i * 1.37 % 997, 2) for i in ids], pa.float64()),
            "price": pa.array([f"{i % 300}.{i % 100:02d}" for i in ids]).cast(pa.decimal128(12, 2)),
            "day": pa.array([i % 90 for i in ids], pa.int32()).cast(pa.date32()),
            "note": pa.array([None if i % 17 == 0 else f"note {i % 13}" for i in ids], pa.string()),
        }
    )


def customers() -> pa.Table:
    return pa.table({"customer": pa.array(range(50), pa.int32()), "region": [f"r{i % 4}" for i in range(50)]})


QUERIES = {
    "by_customer.sql": "SELECT customer, count(*) AS n, sum(amount) AS total, sum(price) AS price "
    "FROM orders GROUP BY customer",
    "by_region.sql": "SELECT c.region, avg(o.amount) AS mean, count(o.note) AS notes FROM orders o "
    "JOIN customers c ON o.customer = c.customer GROUP BY c.region ORDER BY c.region",
    "regions.sql": "SELECT region, count(*) AS n FROM customers GROUP BY region ORDER BY region",
}


def write_delta(path: Path, table: pa.Table) -> Path:
    import deltalake

    deltalake.write_deltalake(path, table)
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    from datax_migrate.config import Config
    from datax_migrate.convert import convert_table

    config = tmp_path / "catalogs.yaml"
    config.write_text(
        yaml.safe_dump({"catalogs": {"lake": {"type": "sql", "uri": "sqlite:///catalog.db", "warehouse": "warehouse"}}})
    )
    catalog = Config.load(config).catalog("lake")
    pairs = {}
    for name, table in (("orders", orders()), ("customers", customers())):
        source = write_delta(tmp_path / "delta" / name, table)
        convert_table(str(source), catalog, f"sales.{name}")
        pairs[name] = {"source": str(source), "target": f"sales.{name}", "catalog": "lake"}
    pairs_file = tmp_path / "pairs.yaml"
    pairs_file.write_text(yaml.safe_dump({"pairs": pairs}))
    queries = tmp_path / "queries"
    queries.mkdir()
    for name, sql in QUERIES.items():
        (queries / name).write_text(sql + ";\n")
    return Lake(tmp_path, config, pairs_file, queries)
