"""The demo: a small banking lake converted into the embedded catalog, with checks and a report."""

from datax_migrate.demo.run import run_demo

__all__ = ["run_demo"]
