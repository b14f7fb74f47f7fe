"""Run file-group tasks on Spark: one Spark task per file group, one commit on the driver.

Executors run the same picklable :class:`~datax_migrate.convert.task.GroupTask` the local engine
runs in threads, so both write the same data files. Results stream back as tasks finish
(:func:`datax_migrate.spark.jobs.run_tasks`): progress shows while the job runs, and when it fails
the conversion still learns which files finished tasks wrote, and deletes them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from datax_migrate.convert.plan import FileGroup
from datax_migrate.spark.jobs import run_tasks

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.convert.table import ConversionResult, ConvertOptions, ProgressCallback

Result = TypeVar("Result")


TASKS_PER_CORE = 4


class SparkEngine:
    """Runs file-group tasks in Spark tasks of a ``SparkSession``, a few Spark tasks per core.

    File groups are dealt round-robin (largest first) into ``tasks_per_core`` Spark tasks per core:
    a Spark task costs a fixed overhead, and a table has many small partitions more often than not.
    Each file group still becomes one data file, the same as with the local engine.
    """

    def __init__(self, spark: Any, tasks_per_core: int = TASKS_PER_CORE) -> None:
        """Use ``spark`` (a ``SparkSession``)."""
        self.spark = spark
        self.tasks_per_core = tasks_per_core

    @property
    def parallelism(self) -> int:
        """How many tasks the cluster runs at once (Spark's default parallelism)."""
        return int(self.spark.sparkContext.defaultParallelism)

    def run(
        self,
        groups: Sequence[FileGroup],
        task: Callable[[FileGroup, threading.Event], Result],
        on_done: Callable[[FileGroup, Result], None] | None = None,
    ) -> list[Result]:
        """Run every group as a Spark task; on the first failure (or Ctrl-C) cancel the job and raise it."""
        results: dict[int, Result] = {}

        def collect(position: int, result: Result) -> None:
            results[position] = result
            if on_done is not None:
                on_done(groups[position], result)

        slices = self.parallelism * self.tasks_per_core
        run_tasks(self.spark, groups, lambda group: task(group, threading.Event()), collect, slices)
        return [results[position] for position in range(len(groups))]


def convert_table(
    spark: Any,
    source: str,
    catalog: Catalog,
    identifier: str,
    *,
    version: int | None = None,
    timestamp: dt.datetime | None = None,
    options: ConvertOptions | None = None,
    progress: ProgressCallback | None = None,
    commit_times: str = "auto",
    history: bool = False,
    from_version: int | None = None,
    tag_versions: bool = False,
) -> ConversionResult:
    """Convert a Delta table into an Iceberg table with ``spark`` running the file groups.

    Takes the arguments of :func:`datax_migrate.convert.convert_table`, plus the ``SparkSession``;
    file groups are planned for the session's default parallelism.
    """
    from datax_migrate.convert.source import ConversionSource
    from datax_migrate.convert.table import ConvertOptions
    from datax_migrate.convert.table import convert_table as convert

    options = options or ConvertOptions()
    engine = SparkEngine(spark)
    if history:
        return convert(
            source,
            catalog,
            identifier,
            version=version,
            options=options,
            engine=engine,
            progress=progress,
            commit_times=commit_times,
            history=True,
            from_version=from_version,
            tag_versions=tag_versions,
        )
    opened = ConversionSource.open(
        source, version, timestamp, options.target_file_bytes, engine.parallelism, commit_times=commit_times
    )
    return convert(opened, catalog, identifier, options=options, engine=engine, progress=progress)
