from pathlib import Path

import pytest

from datax_migrate.benchmark.model import BenchmarkError
from datax_migrate.benchmark.pairs import TablePair, load_pairs


def test_pairs_file_in_the_documented_format(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(
        "pairs:\n"
        "  orders:                          # the name the queries use\n"
        "    source: s3://lake/sales/orders # Delta table\n"
        "    target: finance.orders         # Iceberg table\n"
        "    catalog: lake\n"
        "  customers:\n"
        "    source: /data/customers\n"
        "    target: finance.customers\n"
    )

    assert load_pairs(path) == (
        TablePair("orders", "s3://lake/sales/orders", "finance.orders", "lake"),
        TablePair("customers", "/data/customers", "finance.customers", None),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pairs: []\n", "expected a 'pairs:' mapping"),
        ("other: 1\n", "expected a 'pairs:' mapping"),
        ("pairs:\n  orders: {source: /a}\n", "pair 'orders': 'target:' is missing"),
        ("pairs:\n  orders: {source: /a, target: n.t, owner: me}\n", "unknown key 'owner'"),
        ("pairs:\n  my-orders: {source: /a, target: n.t}\n", "must be an SQL identifier"),
        ("pairs: [\n", "is not valid YAML"),
    ],
)
def test_a_malformed_pairs_file_is_refused_naming_the_pair(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(text)
    with pytest.raises(BenchmarkError, match=message):
        load_pairs(path)


def test_a_missing_pairs_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="does not exist"):
        load_pairs(tmp_path / "nope.yaml")
