"""datax-migrate: move a Databricks lakehouse to AWS, table by table, with proof."""

__version__ = "0.1.0"
