"""An Airflow DAG that runs a plan's wave on EMR Serverless (``datax-migrate emit airflow``).

The DAG maps one ``EmrServerlessStartJobOperator`` (apache-airflow-providers-amazon) over the
wave's tables: each mapped task is the job run ``emr submit`` would start for that table. The DAG
file holds the table list; the environment (staging URI, application, role) is in its params.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from datax_migrate import __version__
from datax_migrate.emr.submit import spark_submit_options
from datax_migrate.orchestrate.wave import CODE, StagedWave

STAGING_TEMPLATE = "{{ params.staging.rstrip('/') }}"
"""How the DAG refers to the staged folder: an Airflow template over its ``staging`` param."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("datax_migrate.orchestrate", "templates"),
    autoescape=False,  # Python source, not HTML: values go in through the pyrepr filter
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENVIRONMENT.filters["pyrepr"] = repr


def render_dag(
    wave: StagedWave,
    application_id: str | None = None,
    role_arn: str | None = None,
    archive: str | None = None,
    workers: int = 10,
) -> str:
    """The source of the DAG running ``wave``.

    Args:
        wave: the staged wave.
        application_id: the default of the ``application_id`` param (else empty: give it at trigger).
        role_arn: the default of the ``execution_role_arn`` param.
        archive: the virtualenv archive the job runs use (docs/emr.md), or ``None``.
        workers: how many tables run at a time (the DAG's ``max_active_tasks``).

    """
    code = f"{STAGING_TEMPLATE}/{CODE}"
    return _ENVIRONMENT.get_template("airflow_dag.py.j2").render(
        wave=wave,
        version=__version__,
        dag_id=wave.name,
        description=f"datax-migrate: wave {wave.wave} of {Path(wave.plan_dir).name}, {len(wave.tables)} tables",
        workers=workers,
        staging=wave.folder if wave.on_s3 else "",
        application_id=application_id or "",
        role_arn=role_arn or "",
        spark_submit_parameters=" ".join(spark_submit_options(code, archive)),
    )


def write_dag(
    wave: StagedWave,
    out_dir: Path,
    application_id: str | None = None,
    role_arn: str | None = None,
    archive: str | None = None,
    workers: int = 10,
) -> Path:
    """Write the DAG of ``wave`` into ``out_dir`` as ``<dag id>.py`` (arguments as for :func:`render_dag`)."""
    from datax_migrate.files import write_atomically

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{wave.name}.py"
    write_atomically(path, render_dag(wave, application_id, role_arn, archive, workers))
    return path
