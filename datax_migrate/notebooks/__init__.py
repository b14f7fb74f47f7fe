"""Databricks notebooks: read them, summarize what they use, translate them into Jupyter notebooks for AWS."""
