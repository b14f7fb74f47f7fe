"""The Parquet settings of converted data files: codec, dictionary encoding, row groups, as set."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog

from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.iceberg.datafile import ParquetSettings
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.tables import assert_same_rows

ROWS = pa.table(
    {
        "id": pa.array(range(3000), pa.int64()),  # every value distinct
        "kind": pa.array([f"k{i % 3}" for i in range(3000)]),  # three values
    }
)


def converted_files(tmp_path: Path, catalog: Catalog, settings: ParquetSettings) -> list[pq.ParquetFile]:
    builder = DeltaBuilder(tmp_path / "delta")
    builder.commit(
        builder.protocol(), builder.metadata([field("id", "long"), field("kind", "string")]), builder.data_file(ROWS)
    )
    name = f"settings.t{len(list(tmp_path.iterdir()))}"
    convert_table(str(builder.root), catalog, name, options=ConvertOptions(parquet=settings))
    table = catalog.load_table(name)
    assert_same_rows(read_snapshot(table), ROWS)
    assert table.properties["write.parquet.compression-codec"] == settings.compression
    return [pq.ParquetFile(t.file.file_path.removeprefix("file://")) for t in table.scan().plan_files()]


def dictionary_encoded(files: list[pq.ParquetFile], column: int) -> bool:
    chunks = [f.metadata.row_group(g).column(column) for f in files for g in range(f.metadata.num_row_groups)]
    return all(chunk.has_dictionary_page for chunk in chunks)


def test_defaults_write_snappy_dictionary_encoded_columns_in_row_groups_of_1mi_rows(
    tmp_path: Path, catalog: Catalog
) -> None:
    assert (ParquetSettings().compression, ParquetSettings().dictionary) == ("snappy", "all")
    assert ParquetSettings().row_group_rows == 1_048_576
    files = converted_files(tmp_path, catalog, ParquetSettings())
    codecs = {f.metadata.row_group(0).column(c).compression for f in files for c in range(2)}
    assert codecs == {"SNAPPY"}
    assert dictionary_encoded(files, 0) and dictionary_encoded(files, 1)


def test_settings_choose_codec_row_groups_and_dictionary(tmp_path: Path, catalog: Catalog) -> None:
    settings = ParquetSettings(compression="zstd", row_group_rows=1000, dictionary="auto")
    files = converted_files(tmp_path, catalog, settings)
    groups = [f.metadata.row_group(g) for f in files for g in range(f.metadata.num_row_groups)]
    assert {g.column(0).compression for g in groups} == {"ZSTD"}
    assert max(g.num_rows for g in groups) <= 1000 and sum(g.num_rows for g in groups) == 3000
    # auto: the distinct ids are written plain, the repeating kinds with a dictionary
    assert not dictionary_encoded(files, 0) and dictionary_encoded(files, 1)
