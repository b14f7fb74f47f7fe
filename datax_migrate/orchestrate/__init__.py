"""Run an estate plan's wave from an orchestrator: Airflow DAGs and Step Functions state machines."""
