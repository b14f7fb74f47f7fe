# Every target sets up what it needs: a virtualenv in .venv with the package and its tools.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2
SPARK_JARS := $(VENV)/spark-jars/jars.txt
CHROMIUM := /usr/bin/chromium
AIRFLOW_VENV ?= .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed-stamp
ASL_VALIDATOR := tools/asl/node_modules/.bin/asl-validator

.PHONY: setup demo test unit lint bench bench-reconcile clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e ".[demo,notebooks,translate]" --group dev
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Iceberg runtime for the local Spark used by the `spark` tests (offline; see the script).
$(SPARK_JARS): $(STAMP) scripts/spark-jars.sh
	scripts/spark-jars.sh $(PY) $(VENV)/spark-jars

# Headless Chromium for the `slow` report-rendering test (Debian's package; no browser download).
$(CHROMIUM):
	scripts/debian-package.sh chromium $(CHROMIUM)

# Airflow in a virtualenv of its own (its pins clash with ours), for the test that loads the DAG
# `emit airflow` writes in a real DagBag. Pinned: requirements.txt, every package in constraints.txt.
$(AIRFLOW_STAMP): tools/airflow/requirements.txt tools/airflow/constraints.txt
	test -x $(AIRFLOW_VENV)/bin/python || python3 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet -r tools/airflow/requirements.txt -c tools/airflow/constraints.txt
	touch $(AIRFLOW_STAMP)

# The npm asl-validator (locked in tools/asl), for the test of the state machine `emit stepfunctions` writes.
$(ASL_VALIDATOR): tools/asl/package.json tools/asl/package-lock.json
	cd tools/asl && npm ci --no-audit --no-fund --loglevel=error
	touch $(ASL_VALIDATOR)

setup: $(STAMP) $(SPARK_JARS) $(CHROMIUM) $(AIRFLOW_STAMP) $(ASL_VALIDATOR)

## The main job on the embedded default: build a small banking lake and convert it.
demo: $(STAMP)
	$(VENV)/bin/datax-migrate demo --workdir demo-output

## The import contracts (pyproject.toml), then every test, including the Delta corpus and slow ones (what CI runs).
test: $(STAMP) $(SPARK_JARS) $(CHROMIUM) $(AIRFLOW_STAMP) $(ASL_VALIDATOR)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -m "" -n $(PYTEST_WORKERS) --dist loadgroup -q

## The offline unit suite only (seconds).
unit: $(STAMP)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check datax_migrate tests benchmarks
	$(VENV)/bin/mypy datax_migrate
	$(VENV)/bin/lint-imports

## Convert benchmark at 5M rows, both tables (writes docs/benchmarks.md).
bench: $(STAMP)
	$(PY) benchmarks/convert_benchmark.py

## Reconcile benchmark at 5M rows: pyarrow scan of both sides vs. ours vs. datacompy (writes docs/benchmarks.md).
bench-reconcile: $(STAMP)
	$(PY) benchmarks/reconcile_benchmark.py --repeat 3

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) tools/asl/node_modules .datax demo-output
