"""Inventory: find what is in a Databricks lakehouse, as facts without judgement.

``datax-migrate inventory`` crawls sources (:mod:`.sources`) into an :class:`~.model.Inventory`;
``datax-migrate assess`` turns it into findings, strategies and estimates (:mod:`datax_migrate.assess`).
"""

DEFAULT_WORKERS = 8
"""Objects a source reads at once (per-table GETs, Delta logs, notebook exports, folder listings)."""
