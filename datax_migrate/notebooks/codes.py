"""Every finding code notebook translation reports, its severity and what a person should do.

Documented one by one in ``docs/reference/findings.md`` (section "Notebooks (translation)"); a test
keeps the two in step. Severity ``info`` marks a rewrite done (with ``original`` and
``replacement``), ``review`` something translated or kept that a person must check or finish, and
``blocker`` something that cannot run on AWS as it is.
"""

from __future__ import annotations

from datax_migrate.findings import Severity

BLOCK, REVIEW, INFO = Severity.BLOCKER, Severity.REVIEW, Severity.INFO

CODES: dict[str, tuple[Severity, str]] = {
    # reading and parsing
    "notebook-unreadable": (BLOCK, "The file or archive entry could not be read as a notebook: {detail}"),
    "notebook-over-limit": (
        BLOCK,
        "The notebook is over a limit of the run and was not read: {detail}. Split it, export it without "
        "outputs, or raise the limit (see the README, 'Limits').",
    ),
    "output-refused": (
        BLOCK,
        "The translation was not written: {detail}. Remove what is in the way in the output folder, or "
        "choose another --out.",
    ),
    "cell-over-limit": (
        REVIEW,
        "This cell is {detail}: it is kept as is, not translated; translate it by hand, or raise the limit "
        "(see the README, 'Limits').",
    ),
    "python-parse-error": (REVIEW, "This Python cell does not parse ({detail}); it is kept as is: fix it by hand."),
    "sql-parse-error": (
        REVIEW,
        "This SQL statement does not parse ({detail}); it is kept as is: check it runs on Spark.",
    ),
    # magics
    "magic-sql": (INFO, "SQL cell written as a %%sql cell (EMR Studio / SageMaker Unified Studio Spark kernels)."),
    "magic-run": (
        INFO,
        "%run includes another notebook: rewritten to include_notebook(), which runs the translated "
        "notebook in this namespace; keep the two notebooks side by side.",
    ),
    "magic-pip": (
        REVIEW,
        "%pip installs into the notebook kernel only: on EMR install the package on the cluster "
        "(bootstrap action or sc.install_pypi_package) instead.",
    ),
    "magic-sh": (
        REVIEW,
        "%sh runs on the notebook host, not the Spark driver: written as %%bash; check what it touches.",
    ),
    "magic-fs": (INFO, "%fs rewritten to the matching dbutils.fs call of datax_migrate.compat (S3 through boto3)."),
    "magic-scala": (
        REVIEW,
        "Scala cell kept as a %%scalaspark cell: its code is not translated; check names and APIs.",
    ),
    "magic-r": (REVIEW, "R cell kept as a %%rspark cell: its code is not translated; check names and APIs."),
    "magic-unknown": (REVIEW, "Unknown magic %{detail}: the cell is kept unexecuted (raw); translate it by hand."),
    # dbutils and display
    "dbutils-fs": (INFO, "dbutils.fs.{detail} runs through datax_migrate.compat (S3 through boto3)."),
    "dbutils-secrets": (
        INFO,
        "dbutils.secrets.{detail} reads AWS Secrets Manager through datax_migrate.compat; create the "
        "secrets under the configured naming rule (default '{{scope}}/{{key}}').",
    ),
    "dbutils-widgets": (INFO, "Widget {detail} became a papermill parameter (the 'parameters' cell)."),
    "dbutils-notebook": (INFO, "dbutils.notebook.{detail} runs through datax_migrate.compat (papermill)."),
    "dbutils-unsupported": (
        REVIEW,
        "dbutils.{detail} has no AWS equivalent in datax_migrate.compat: rewrite it by hand.",
    ),
    "dbutils-import": (INFO, "DBUtils comes from datax_migrate.compat instead of pyspark.dbutils."),
    # names, paths, settings
    "table-mapped": (INFO, "Table name mapped {detail}."),
    "table-not-in-name-map": (
        REVIEW,
        "Table {detail} is not in the name map: mapped by the default naming rule; add it to the map "
        "or check the target exists.",
    ),
    "table-name-resolved": (
        INFO,
        "Table name given as {detail}: resolved from the notebook's own constants (module-level assignments, "
        "f-strings and + of known parts) and mapped; the call now names the mapped table as a literal.",
    ),
    "table-name-widget": (
        REVIEW,
        "Table name given as {detail}: resolved with the widget's default value and mapped; the call now names "
        "the mapped table as a literal, so a run with another widget value still uses this table: build "
        "the AWS name from the widget by hand if it must vary.",
    ),
    "table-name-dynamic": (
        REVIEW,
        "Table name given as {detail} cannot be resolved in the notebook (not only constants assigned once "
        "at module level, widget defaults, f-strings and + of known parts): it is not mapped; check it "
        "names the table on AWS.",
    ),
    "path-mapped": (INFO, "Path mapped through the configured path map."),
    "path-not-mapped": (
        REVIEW,
        "Databricks path {detail} has no entry in the path map: it is kept and will not resolve on "
        "AWS; add a prefix to the path map (--path-map).",
    ),
    "dbfs-fuse-path": (
        REVIEW,
        "The /dbfs FUSE mount does not exist on AWS: local file APIs (open, os, pandas) on this path "
        "need s3fs or boto3.",
    ),
    "databricks-setting-removed": (REVIEW, "Databricks-only setting {detail} removed; check nothing relied on it."),
    # Delta API
    "delta-read": (INFO, "Delta read rewritten to an Iceberg table read."),
    "location-mapped": (
        INFO,
        "Delta location {detail} (by the inventory, --inventory, or the path map's 'tables'): read and "
        "written by that table's name on AWS.",
    ),
    "delta-path-read": (
        REVIEW,
        "Delta table read by path {detail}: Iceberg tables are read by name; map the path to a table "
        "(--inventory with the table's location, path map 'tables') or rewrite it by hand.",
    ),
    "delta-write": (INFO, "Delta write rewritten to DataFrameWriterV2 writeTo(...).using('iceberg')."),
    "delta-write-option": (REVIEW, "Delta write option {detail} has no Iceberg equivalent and was dropped."),
    "delta-path-write": (
        REVIEW,
        "Delta table written by path {detail}: Iceberg tables are written by name; map the path to a "
        "table (--inventory with the table's location, path map 'tables') or rewrite it by hand.",
    ),
    "delta-table-api": (
        INFO,
        "DeltaTable comes from datax_migrate.compat.delta: the same API (merge, update, delete, "
        "history) run as Iceberg SQL (MERGE INTO, UPDATE, DELETE, metadata tables).",
    ),
    "delta-import": (
        REVIEW,
        "Import from the delta package ({detail}) has no Iceberg equivalent: remove or rewrite it.",
    ),
    "time-travel": (
        INFO,
        "Delta version {detail} read as the Iceberg snapshot the converter recorded for it "
        "(summary 'datax.source-delta-version'), looked up when the cell runs.",
    ),
    "time-travel-at-syntax": (
        INFO,
        "Databricks time travel {detail} rewritten as VERSION AS OF / TIMESTAMP AS OF, then read as the "
        "converted snapshot (see time-travel).",
    ),
    "time-travel-timestamp": (
        REVIEW,
        "Timestamp time travel ({detail}): read as the snapshot of the last Delta commit at or before "
        "it (summary 'datax.source-commit-timestamp'); versions written on AWS use their own commit times.",
    ),
    "change-feed-read": (
        REVIEW,
        "Delta change data feed {detail} read through Iceberg's changelog view (create_changelog_view) "
        "between the snapshots converted from those Delta versions or commit times, looked up when the cell "
        "runs; in SQL, Delta _change_type values compared with the column became Iceberg's. Check what reads "
        "its columns: _change_type is INSERT, DELETE, UPDATE_BEFORE, UPDATE_AFTER (Delta: insert, delete, "
        "update_preimage, update_postimage), and an update shows as a DELETE and an "
        "INSERT unless identifier_columns are passed to create_changelog_view; there is no _commit_version "
        "or _commit_timestamp but _commit_snapshot_id and _change_ordinal (the Delta version of a converted "
        "snapshot is its summary['datax.source-delta-version']).",
    ),
    "change-feed-unsupported": (
        BLOCK,
        "Delta change data feed {detail} cannot be translated: rewrite it over an Iceberg changelog view "
        "(CALL <catalog>.system.create_changelog_view) by hand.",
    ),
    "sql-resolved": (
        INFO,
        "SQL given as {detail}: resolved from the notebook's own constants (module-level assignments, "
        "f-strings and + of known parts) and translated; the call now runs the translated SQL as a literal.",
    ),
    "sql-not-literal": (
        REVIEW,
        "SQL built at run time ({detail}): not translated; check its table names and Delta syntax by hand.",
    ),
    # SQL
    "using-delta": (INFO, "USING DELTA became USING iceberg."),
    "delta-table-property": (REVIEW, "Delta table property {detail} has no Iceberg equivalent and was dropped."),
    "generated-column": (
        REVIEW,
        "Generated column {detail}: Iceberg has no generated columns; the column is kept as a plain "
        "column and writers must now compute it (or partition by a transform such as days(ts)).",
    ),
    "identity-column": (
        REVIEW,
        "Identity column {detail}: Iceberg has no identity columns; the column is kept as a plain "
        "column and writers must now assign its values.",
    ),
    "check-constraint": (
        REVIEW,
        "CHECK constraint {detail} dropped: Iceberg does not enforce constraints; enforce it in the writing jobs.",
    ),
    "liquid-clustering": (
        INFO,
        "Liquid clustering {detail} became the Iceberg table sort order (ALTER TABLE ... WRITE ORDERED BY): "
        "new writes are sorted (lexicographically over several columns, not by a space-filling curve); "
        "OPTIMIZE (rewrite_data_files, strategy 'sort') reclusters older files.",
    ),
    "optimize": (
        INFO,
        "OPTIMIZE became the Iceberg procedure rewrite_data_files (ZORDER BY as a zorder sort of every file).",
    ),
    "vacuum": (
        INFO,
        "VACUUM became the Iceberg procedures expire_snapshots and remove_orphan_files; its retention "
        "is not carried over (Iceberg defaults: snapshots older than 5 days, orphan files older than 3 days).",
    ),
    "vacuum-managed": (
        INFO,
        "VACUUM dropped: Amazon S3 Tables expires snapshots and removes unreferenced files itself "
        "(table maintenance settings).",
    ),
    "restore": (
        INFO,
        "RESTORE became rollback_to_snapshot to the Iceberg snapshot recorded for that Delta version, "
        "looked up when the cell runs.",
    ),
    "describe-history": (
        INFO,
        "DESCRIBE HISTORY became a query of the Iceberg 'history' metadata table joined to 'snapshots' "
        "(Delta versions in summary['datax.source-delta-version']).",
    ),
    "sql-widget-parameter": (
        REVIEW,
        "SQL widget reference {detail}: not substituted on AWS and not bound as a parameter (text "
        "substitution may stand for a name or SQL, or it is inside spark.sql()); pass the value through "
        "spark.sql() in a Python cell.",
    ),
    "sql-widget-bound": (
        INFO,
        "Widget reference {detail} in a SQL cell became a named parameter marker bound to the widget: the "
        "cell runs as spark.sql(..., args={{name: dbutils.widgets.get(name)}}) (values are strings, as on Databricks).",
    ),
    "athena-unsupported": (REVIEW, "{detail} has no Athena equivalent: run it on Spark (--dialect spark)."),
    # what cannot be translated
    "convert-to-delta": (
        BLOCK,
        "CONVERT TO DELTA has no meaning on AWS: convert the table with 'datax-migrate convert' "
        "(or the Iceberg 'migrate' procedure for Parquet tables) and drop this statement.",
    ),
    "clone": (
        REVIEW,
        "{detail} CLONE: DEEP CLONE became CREATE TABLE ... AS SELECT (data only, no history); "
        "SHALLOW CLONE has no Iceberg equivalent (consider a branch or tag).",
    ),
    "delta-live-tables": (
        BLOCK,
        "Delta Live Tables pipeline code cannot run outside Databricks: rebuild it as Spark jobs "
        "(e.g. EMR Serverless steps or AWS Glue jobs) writing Iceberg tables.",
    ),
    "auto-loader": (
        BLOCK,
        "Auto Loader (cloudFiles) exists only on Databricks: use Spark Structured Streaming's file "
        "source or S3 event notifications instead.",
    ),
    "mlflow": (
        REVIEW,
        "MLflow on Databricks is tracked by the workspace: point MLFLOW_TRACKING_URI at a tracking "
        "server on AWS (e.g. SageMaker managed MLflow) and check model registry URIs.",
    ),
    "delta-sql-unsupported": (
        REVIEW,
        "Delta-only statement {detail} has no Iceberg equivalent: kept unexecuted (raw).",
    ),
}
