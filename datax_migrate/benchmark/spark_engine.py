"""The Spark engine: local Spark (or the active session) with the project's Iceberg runtime.

No Delta jars are available offline, so the Delta source is read by datax-migrate's own Delta reader:
a DataFrame whose partitions each read some of the snapshot's data files (``mapInArrow``), deletion
vectors and column mapping applied as the converter applies them. The Iceberg target is read through
the Spark catalog of the pair's catalog name when the session defines one
(``spark.sql.catalog.<name>``) and that catalog holds the table at the metadata file our catalog
records, else through Iceberg's reader of that metadata file.
A query runs on temporary views named as the pairs name the tables, one side's views at a time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from datax_migrate.benchmark.model import SIDES, SOURCE, TARGET, BenchmarkError, EngineInfo
from datax_migrate.benchmark.pairs import OpenedPair

TASKS_PER_CORE = 2
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
SPARK_JARS_ENV = "DATAX_SPARK_JARS"
"""A folder holding ``jars.txt`` (the Iceberg runtime ``scripts/spark-jars.sh`` prepares) for a local session."""
DATAX, DELTA_SPARK = "datax", "delta-spark"
SOURCE_READERS = {
    DATAX: "datax-migrate's own Delta reader, as a DataFrame (mapInArrow over the data files; no Delta jars): "
    "Python workers decode the files, so Delta scans pay for an Arrow transfer Iceberg scans do not",
    DELTA_SPARK: "delta-spark, the session's Delta data source",
}


class SparkEngine:
    """Both sides of every pair as DataFrames of one Spark session."""

    def __init__(self, pairs: tuple[OpenedPair, ...], spark: Any | None = None, delta_reader: str = DATAX) -> None:
        """Define both sides' DataFrames on ``spark`` (default: the active session, else a local one).

        ``delta_reader`` is ``datax`` (our Delta reader) or ``delta-spark`` (the session's Delta
        data source, as on EMR).
        """
        if delta_reader not in (DATAX, DELTA_SPARK):
            raise BenchmarkError(f"delta reader {delta_reader!r} is not {DATAX} or {DELTA_SPARK}")
        self.spark = spark if spark is not None else benchmark_session()
        self.delta_reader = delta_reader
        self.frames: dict[str, dict[str, Any]] = {side: {} for side in SIDES}
        self.target_reads: list[str] = []
        for opened in pairs:
            self.frames[SOURCE][opened.pair.name] = (
                delta_dataframe(self.spark, opened.pair.source)
                if delta_reader == DATAX
                else self.spark.read.format("delta").load(opened.pair.source)
            )
            self.frames[TARGET][opened.pair.name] = self._iceberg(opened)
        self._side: str | None = None

    def _iceberg(self, opened: OpenedPair) -> Any:
        catalog = opened.pair.catalog
        if catalog and self._same_table(f"{catalog}.{opened.pair.target}", opened.metadata_location):
            self.target_reads.append(f"{opened.pair.name}: Spark catalog {catalog}")
            return self.spark.table(f"{catalog}.{opened.pair.target}")
        self.target_reads.append(f"{opened.pair.name}: metadata file")
        try:
            return self.spark.read.format("iceberg").load(opened.metadata_location)
        except Exception as exc:  # noqa: BLE001 - py4j and pyspark raise several types for a missing runtime
            raise BenchmarkError(
                f"Spark cannot read Iceberg table {opened.pair.target} ({' '.join(str(exc).split())[:200]}): the "
                "session needs Iceberg's Spark runtime (spark.jars or --packages, and IcebergSparkSessionExtensions; "
                f"locally: {SPARK_JARS_ENV}=FOLDER of scripts/spark-jars.sh)"
            ) from None

    def _same_table(self, name: str, metadata_location: str) -> bool:
        """Whether the session's catalog holds ``name`` at the metadata file our catalog records."""
        from pyspark.errors import AnalysisException

        try:
            latest = self.spark.sql(
                f"SELECT file FROM {name}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1"
            ).collect()
        except AnalysisException:  # no such catalog or table in the session
            return False
        return bool(latest) and _path(latest[0][0]) == _path(metadata_location)

    def info(self) -> EngineInfo:
        """Spark's version, master and the settings that shape query plans."""
        conf = self.spark.conf
        names = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled", "spark.sql.files.maxPartitionBytes")
        settings = {"master": self.spark.sparkContext.master}
        settings.update({name: str(conf.get(name)) for name in names})
        settings["default parallelism"] = str(self.spark.sparkContext.defaultParallelism)
        return EngineInfo(
            name="spark",
            version=self.spark.version,
            settings=settings,
            source_reader=SOURCE_READERS[self.delta_reader],
            target_reader="Spark's Iceberg runtime (" + "; ".join(self.target_reads) + ")",
        )

    def run(self, side: str, sql: str) -> pa.Table:
        """Run ``sql`` on ``side``'s temporary views; the answer collected as Arrow."""
        if side != self._side:
            for name, frame in self.frames[side].items():
                frame.createOrReplaceTempView(name)
            self._side = side
        return collect_arrow(self.spark.sql(sql))

    def close(self) -> None:
        """Drop the temporary views (the session stays: it may be the caller's)."""
        for name in self.frames[SOURCE]:
            self.spark.catalog.dropTempView(name)


def benchmark_session() -> Any:
    """The active Spark session (spark-submit, pyspark, EMR), else a local one.

    A local session gets the Iceberg runtime listed in ``$DATAX_SPARK_JARS/jars.txt`` (the folder
    ``scripts/spark-jars.sh`` writes; ``make setup`` puts it in ``.venv/spark-jars``) and Iceberg's
    SQL extensions; without it, it has no Iceberg reader and the engine says so.
    """
    from datax_migrate.spark.session import spark_session

    listing = Path(os.environ.get(SPARK_JARS_ENV, "")) / "jars.txt"
    if not os.environ.get(SPARK_JARS_ENV) or not listing.is_file():
        return spark_session("datax-migrate benchmark")
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is not None:
        return SparkSession.getActiveSession()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jars = ",".join(line.strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip())
    builder = SparkSession.builder.appName("datax-migrate benchmark").master("local[*]").config("spark.jars", jars)
    builder = builder.config(
        "spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    )
    return builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()


def delta_dataframe(spark: Any, location: str) -> Any:
    """The current version of the Delta table at ``location`` as a DataFrame read by our Delta reader."""
    from pyspark.sql.pandas.types import from_arrow_schema

    from datax_migrate.delta.scan import FileReader
    from datax_migrate.delta.table import DeltaTable

    snapshot = DeltaTable(location).snapshot()
    reader = FileReader(snapshot)
    files = snapshot.files

    def read(indexes: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in indexes:
            for index in batch.column(0).to_pylist():
                yield from reader.batches(files[index])

    partitions = max(1, min(len(files), spark.sparkContext.defaultParallelism * TASKS_PER_CORE))
    return spark.range(len(files), numPartitions=partitions).mapInArrow(read, from_arrow_schema(reader.target))


def _path(location: str) -> str:
    return location.removeprefix("file:").lstrip("/")


def collect_arrow(frame: Any) -> pa.Table:
    """A DataFrame's rows as one Arrow table (Spark 3.5 has no public ``toArrow``)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    batches = frame._collect_as_arrow()
    schema = to_arrow_schema(frame.schema)
    return pa.Table.from_batches(batches, schema) if batches else schema.empty_table()
