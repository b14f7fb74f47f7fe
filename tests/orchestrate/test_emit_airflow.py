"""`datax-migrate emit airflow`: the DAG loads in a real Airflow (its own venv) and maps one EMR job run per table."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from datax_migrate import __version__
from datax_migrate.cli import main
from datax_migrate.emr.job import JobSpec
from tests.orchestrate.conftest import ROOT, row, write_plan

pytestmark = pytest.mark.slow  # Airflow imports in a few seconds

AIRFLOW_PYTHON = Path(os.environ.get("DATAX_AIRFLOW_PYTHON", ROOT / ".venv-airflow" / "bin" / "python"))
STAGING = "s3://stage-bucket/waves/w1"
ROLE = "arn:aws:iam::123456789012:role/datax-emr"
ARCHIVE = "s3://stage-bucket/env/datax-venv.tar.gz"

# Runs in the Airflow venv: load the folder in a DagBag, then render each mapped task's arguments
# with Jinja as Airflow does at run time, given the params a trigger would pass.
DAGBAG = """
import json, sys
import jinja2
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(sys.argv[1])
params = json.loads(sys.argv[2])

def render(value):
    if isinstance(value, str):
        return jinja2.Template(value).render(params=params)
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    return value

dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for task in dag.tasks:
        partial = task.partial_kwargs
        tasks[task.task_id] = {
            "operator": type(task).__name__ + ":" + task.operator_class.__name__,
            "application_id": render(partial["application_id"]),
            "execution_role_arn": render(partial["execution_role_arn"]),
            "waits": partial["waiter_delay"] * partial["waiter_max_attempts"],
            "monitoring": render(partial["configuration_overrides"])["monitoringConfiguration"],
            "count": len(task.expand_input.value),
            "mapped": render(task.expand_input.value[:10] + task.expand_input.value[10:][-1:]),  # first ten, last
        }
    params = {k: dag.params[k] for k in dag.params}
    dags[dag_id] = {"params": params, "max_active_tasks": dag.max_active_tasks, "tasks": tasks}
print(json.dumps({"import_errors": {str(k): v for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture
def airflow_python() -> Path:
    if not AIRFLOW_PYTHON.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{AIRFLOW_PYTHON} is missing: `make test` builds it (.venv-airflow)")
        pytest.skip(f"no Airflow venv at {AIRFLOW_PYTHON}: `make .venv-airflow/.installed-stamp` builds it")
    return AIRFLOW_PYTHON


def load_dags(python: Path, folder: Path, tmp_path: Path, params: dict[str, str]) -> dict:
    env = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": str(tmp_path / "airflow-home"), "HOME": str(tmp_path)}
    run = subprocess.run(
        [str(python), "-c", DAGBAG, str(folder), json.dumps(params)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_dag_loads_in_airflow_and_runs_each_table_as_emr_submit_would(
    plan_dir: Path, config: Path, tmp_path: Path, airflow_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dags = tmp_path / "dags"
    arguments = ["emit", "airflow", str(plan_dir), "--wave", "1", "--out", str(dags), "--config", str(config)]
    arguments += ["--application-id", "app-1", "--role", ROLE, "--archive", ARCHIVE, "--workers", "4"]
    assert main([*arguments, "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["command"], out["version"]) == ("emit airflow", __version__)
    assert out["params_to_give"] == ["staging"]  # staged locally: its S3 URI is known only once copied there
    staged = Path(out["staged"])

    loaded = load_dags(
        airflow_python,
        dags,
        tmp_path,
        {"staging": STAGING + "/", "application_id": "app-1", "execution_role_arn": ROLE},
    )
    assert loaded["import_errors"] == {}
    assert list(loaded["dags"]) == [out["dag_id"]]
    dag = loaded["dags"][out["dag_id"]]
    assert dag["params"] == {"staging": "", "application_id": "app-1", "execution_role_arn": ROLE}
    assert dag["max_active_tasks"] == 4
    task = dag["tasks"]["convert_and_reconcile"]
    assert task["operator"] == "MappedOperator:EmrServerlessStartJobOperator"
    assert (task["application_id"], task["execution_role_arn"]) == ("app-1", ROLE)
    assert task["waits"] == 24 * 3600  # a big table's job run is waited for a day, not the default 25 minutes
    assert task["monitoring"] == {"s3MonitoringConfiguration": {"logUri": f"{STAGING}/logs/"}}
    assert [run["name"] for run in task["mapped"]] == [
        "datax-migrate lake.sales.orders",
        "datax-migrate glue.crm.customers",
    ]
    for run, table in zip(task["mapped"], out["tables"], strict=True):
        driver = run["job_driver"]["sparkSubmit"]
        assert driver["entryPoint"] == f"{STAGING}/entry.py"
        assert driver["entryPointArguments"] == [f"{STAGING}/{table['spec']}"]
        assert driver["sparkSubmitParameters"].startswith(f"--py-files {STAGING}/datax_migrate.zip ")
        assert f"spark.archives={ARCHIVE}#environment" in driver["sparkSubmitParameters"]
        # what the job run reads once the staged folder is copied to STAGING: this table's spec
        spec = JobSpec.from_json((staged / table["spec"]).read_text())
        assert [(t.source, t.target) for t in spec.tables] == [(table["source"], table["target"])]
        assert spec.catalog == table["catalog"]


def test_a_wave_over_the_map_limit_is_split_into_mapped_tasks(
    tmp_path: Path, config: Path, airflow_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write_plan(tmp_path / "plan", [row("lake", "big", f"t{i:04d}", 1) for i in range(1001)])
    dags = tmp_path / "dags"
    staging = str(tmp_path / "stage")
    arguments = ["emit", "airflow", str(plan), "--wave", "1", "--out", str(dags), "--config", str(config)]
    assert main([*arguments, "--staging", staging]) == 0
    assert "give these params when triggering it" in capsys.readouterr().out

    loaded = load_dags(
        airflow_python, dags, tmp_path, {"staging": STAGING, "application_id": "a", "execution_role_arn": ROLE}
    )
    assert loaded["import_errors"] == {}
    (dag,) = loaded["dags"].values()
    sizes = {task_id: task["count"] for task_id, task in dag["tasks"].items()}
    assert sizes == {"convert_and_reconcile_0": 1000, "convert_and_reconcile_1": 1}
    for task_id, first, last in (("convert_and_reconcile_0", 0, 999), ("convert_and_reconcile_1", 1000, 1000)):
        mapped = dag["tasks"][task_id]["mapped"]
        for run, number in ((mapped[0], first), (mapped[-1], last)):
            arguments = run["job_driver"]["sparkSubmit"]["entryPointArguments"]
            assert arguments == [f"{STAGING}/tables/{number:04d}-lake.big.t{number:04d}/job.json"]
