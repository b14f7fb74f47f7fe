"""Runtime helpers for notebooks translated by datax-migrate: what ``dbutils`` and ``display`` were.

Translated notebooks start with ``from datax_migrate.compat import ...``. On AWS:

- ``dbutils.fs`` works on ``s3://`` paths through boto3 (and on local paths);
- ``dbutils.secrets`` reads AWS Secrets Manager, secret ``{scope}/{key}`` by default (see
  :mod:`datax_migrate.compat.secrets` for the naming rule);
- ``dbutils.widgets`` reads papermill parameters (the cell tagged ``parameters``);
- ``dbutils.notebook.run`` runs another notebook through papermill, ``include_notebook`` is ``%run``;
- ``display``/``displayHTML`` show DataFrames and HTML;
- ``delta_version_snapshot``/``delta_timestamp_snapshot`` find the Iceberg snapshot converted from
  a Delta version or commit time; :mod:`datax_migrate.compat.delta` has ``DeltaTable``.

Imported in a plain IPython kernel (a local Jupyter, SageMaker Unified Studio's Python kernel),
it registers a ``%%sql`` cell magic that runs the cell through the notebook's ``spark`` session and
displays the result; EMR Studio's Spark kernels have their own ``%%sql`` and are left alone.
"""

from __future__ import annotations

import sys
from typing import Any

from datax_migrate.compat.delta import delta_timestamp_snapshot, delta_version_snapshot
from datax_migrate.compat.display import display, displayHTML
from datax_migrate.compat.fs import FileSystem
from datax_migrate.compat.notebook import NotebookRunner, include_notebook
from datax_migrate.compat.secrets import Secrets
from datax_migrate.compat.widgets import Widgets

__all__ = [
    "DBUtils",
    "dbutils",
    "delta_timestamp_snapshot",
    "delta_version_snapshot",
    "display",
    "displayHTML",
    "include_notebook",
]


class DBUtils:
    """The parts of Databricks ``dbutils`` that have an AWS equivalent: fs, secrets, widgets, notebook."""

    def __init__(self, spark: Any = None) -> None:
        self.fs = FileSystem()
        self.secrets = Secrets()
        self.widgets = Widgets()
        self.notebook = NotebookRunner()


dbutils = DBUtils()
"""The notebook-wide instance translated notebooks import."""


def _register_sql_magic() -> None:
    ipython = sys.modules.get("IPython")  # every IPython kernel has loaded it; elsewhere there is no shell
    if ipython is None:
        return
    shell = ipython.get_ipython()
    if shell is None or "sql" in shell.magics_manager.magics["cell"]:
        return

    def sql(line: str, cell: str) -> None:
        spark = shell.user_ns.get("spark")
        if spark is None:
            raise NameError("%%sql needs a SparkSession named 'spark' in the notebook")
        frame = spark.sql(cell)
        if frame.columns:
            display(frame)

    shell.register_magic_function(sql, magic_kind="cell", magic_name="sql")


_register_sql_magic()
