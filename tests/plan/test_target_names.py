"""Target names a catalog cannot hold faithfully are refused with exit 2, before anything is created.

On the embedded local (SQL) catalog: too many namespace levels, control characters, ``#``, ``?``,
path characters, over-long names. Nothing is left behind: no namespace, no table, no file. Two
names that would share one warehouse folder (``ns.a<TAB>b`` and ``ns.ab``) cannot both be created.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import convert_table
from datax_migrate.errors import ConfigError
from tests.support.delta_tables import one_row_table

REFUSED = [
    ("a.b.c.d", "namespace 'a.b.c' has 3 levels, but the SQL catalog allows single-level namespaces"),
    ("ns.a\tb", "must not hold control or invisible characters (U+0009 at position 1)"),
    ("ns.a\x00b", "must not hold control or invisible characters (U+0000 at position 1)"),
    ("ns.h#x", "must not hold '#'"),
    ("ns.q?x", "must not hold '?'"),
    ("ns.a/b", "must not hold '/'"),
    ("ns.a%20b", "must not hold '%'"),
    ("ns." + "x" * 256, "must be 1 to 255 bytes long (UTF-8), not 256"),
    ("n\ts.t", "namespace name 'n\\ts' is not valid in the SQL catalog"),
]


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.mark.parametrize(("target", "rule"), REFUSED, ids=[repr(t)[:24] for t, _ in REFUSED])
def test_a_refused_name_creates_nothing(
    target: str, rule: str, tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = one_row_table(tmp_path / "t")

    assert main(["convert", str(source), target]) == 2

    err = capsys.readouterr().err
    assert rule in err and err.count("\n") == 1, err
    catalog = Config.load().catalog()
    assert catalog.list_namespaces() == []
    assert files_under(datax_home / "warehouse") == []


def test_the_library_refuses_before_creating_a_namespace(tmp_path: Path, datax_home: Path) -> None:
    source = one_row_table(tmp_path / "t")
    catalog = Config.load().catalog()
    with pytest.raises(ConfigError, match="namespace 'a.b.c' has 3 levels"):
        convert_table(str(source), catalog, "a.b.c.d")
    assert catalog.list_namespaces() == []
    assert files_under(datax_home / "warehouse") == []


def test_two_names_never_share_a_warehouse_folder(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = one_row_table(tmp_path / "t")
    assert main(["convert", str(source), "ns.ab"]) == 0
    assert main(["convert", str(source), "ns.a\tb"]) == 2
    capsys.readouterr()
    catalog = Config.load().catalog()
    assert catalog.list_tables("ns") == [("ns", "ab")]
    folders = {path.relative_to(datax_home / "warehouse").parts[:2] for path in files_under(datax_home / "warehouse")}
    assert folders == {("ns", "ab")}
    # Names the local catalog takes as they are still go to folders of their own.
    assert main(["convert", str(source), "Finance.Sales-EU"]) == 0
    assert catalog.load_table("Finance.Sales-EU").location().endswith("/warehouse/Finance/Sales-EU")
