"""Bad sources are refused with exit 2 and a one-line reason, and nothing is left behind."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import STAGE_CREATE, open_catalog
from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import ConversionResult, convert_table
from datax_migrate.convert.engine import LocalEngine
from datax_migrate.convert.plan import FileGroup
from datax_migrate.errors import DataxError, TargetExistsError
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.iceberg import files_the_table_references

Result = TypeVar("Result")


def simple_table(root: Path, rows: int = 10) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    data = pa.table({"id": pa.array(range(rows), pa.int64()), "name": [f"n{i}" for i in range(rows)]})
    builder.commit(
        builder.protocol(),
        builder.metadata([field("id", "long"), field("name", "string")]),
        builder.data_file(data),
    )
    builder.commit(builder.data_file(data))
    return builder


def assert_nothing_left(home: Path) -> None:
    catalog = Config.load().catalog()
    assert ("bad",) not in catalog.list_namespaces()
    warehouse = home / "warehouse"
    leftovers = [p for p in warehouse.rglob("*") if p.is_file()] if warehouse.exists() else []
    assert leftovers == []


def run_convert(source: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["convert", str(source), "bad.table"])
    err = capsys.readouterr().err.strip()
    return code, err


def test_corrupt_commit_json(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = simple_table(tmp_path / "t")
    (builder.log / "00000000000000000001.json").write_text('{"add": {"path": "x.parquet", \n')
    code, err = run_convert(builder.root, capsys)
    assert code == 2
    assert "00000000000000000001.json line 1 is not valid JSON" in err
    assert "\n" not in err and "Traceback" not in err
    assert_nothing_left(datax_home)


def test_missing_data_file(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = simple_table(tmp_path / "t")
    victim = sorted(builder.root.glob("part-*.parquet"))[0]
    victim.unlink()
    code, err = run_convert(builder.root, capsys)
    assert code == 2
    assert f"data file {victim} is missing" in err
    assert_nothing_left(datax_home)


def test_missing_checkpoint_part(
    corpus: Path, tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t"
    shutil.copytree(corpus / "golden" / "multi-part-checkpoint" / "delta", source)
    part = source / "_delta_log" / "00000000000000000001.checkpoint.0000000002.0000000002.parquet"
    part.unlink()
    (source / "_delta_log" / "00000000000000000000.json").unlink()  # no way round the missing part
    code, err = run_convert(source, capsys)
    assert code == 2
    assert "cannot be reconstructed" in err and "(checkpoint 1 lacks part(s) 2 of 2)" in err
    assert_nothing_left(datax_home)


def test_unknown_reader_feature(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(3, 7, ["deletionVectors", "catalogOwned-preview"]),
        builder.metadata([field("id", "long")]),
        builder.data_file(pa.table({"id": pa.array([1], pa.int64())})),
    )
    code, err = run_convert(builder.root, capsys)
    assert code == 2
    assert "unsupported Delta reader feature(s): catalogOwned-preview" in err
    assert_nothing_left(datax_home)


def test_gap_in_log(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = simple_table(tmp_path / "t")
    builder.commit(builder.data_file(pa.table({"id": pa.array([5], pa.int64()), "name": ["x"]})))
    (builder.log / "00000000000000000001.json").unlink()
    code, err = run_convert(builder.root, capsys)
    assert code == 2
    assert "gap" in err and "00000000000000000001.json" in err


def test_not_a_delta_table(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_convert(tmp_path, capsys)
    assert code == 2 and "no _delta_log folder" in err


def test_variant_column_refused_by_name(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(3, 7, ["variantType"]),
        builder.metadata([field("id", "long"), field("payload", "variant")]),
        builder.data_file(pa.table({"id": pa.array([1], pa.int64())})),
    )
    code, err = run_convert(builder.root, capsys)
    assert code == 2
    assert "column 'payload' has Delta type variant" in err
    assert_nothing_left(datax_home)


def test_version_beyond_latest(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = simple_table(tmp_path / "t")
    assert main(["convert", str(builder.root), "bad.table", "--version", "7"]) == 2
    assert "version 7 does not exist (latest is 1)" in capsys.readouterr().err


def test_a_failure_after_the_pending_table_was_created_purges_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = simple_table(tmp_path / "t")
    victim = sorted(builder.root.glob("part-*.parquet"))[-1]
    victim.write_bytes(b"\0" * victim.stat().st_size)  # same size, not Parquet: fails while reading
    warehouse = tmp_path / "wh"
    catalog = open_catalog(
        "unstaged",
        {
            "type": "sql",
            "uri": f"sqlite:///{tmp_path / 'c.db'}",
            "warehouse": warehouse.as_uri(),
            STAGE_CREATE: "false",
        },
    )
    with pytest.raises(DataxError):
        convert_table(str(builder.root), catalog, "bad.table")
    assert not catalog.table_exists("bad.table")
    assert ("bad",) not in catalog.list_namespaces()
    assert [p for p in warehouse.rglob("*") if p.is_file()] == []


class MeetingEngine:
    """The local engine, then a wait until every conversion sharing ``barrier`` has written its data files."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    def run(
        self,
        groups: Sequence[FileGroup],
        task: Callable[[FileGroup, threading.Event], Result],
        on_done: Callable[[FileGroup, Result], None] | None = None,
    ) -> list[Result]:
        results = LocalEngine(1).run(groups, task, on_done)
        self.barrier.wait(timeout=60)
        return results


def test_the_loser_of_two_concurrent_conversions_deletes_its_own_files(tmp_path: Path, catalog: Catalog) -> None:
    builder = simple_table(tmp_path / "t", rows=1000)
    meeting = threading.Barrier(2)  # both have staged the table and written their files before either commits
    outcomes: list[ConversionResult | DataxError] = []

    def convert() -> None:
        try:
            outcomes.append(convert_table(str(builder.root), catalog, "race.t", engine=MeetingEngine(meeting)))
        except DataxError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    won = [o for o in outcomes if isinstance(o, ConversionResult)]
    lost = [o for o in outcomes if isinstance(o, DataxError)]
    assert len(won) == len(lost) == 1
    assert isinstance(lost[0], TargetExistsError) and "created by someone else during the conversion" in str(lost[0])
    table = catalog.load_table("race.t")
    folder = Path(table.location().removeprefix("file://"))
    on_disk = {p for p in folder.rglob("*") if p.is_file()}
    assert on_disk == files_the_table_references(table)
    assert len(list((folder / "metadata").glob("*.avro"))) == 2  # the winner's manifest and manifest list only
