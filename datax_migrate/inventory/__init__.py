"""Inventory and assessment: find what is in a Databricks lakehouse and judge how it moves.

``datax-migrate inventory`` crawls sources (:mod:`.sources`) into an :class:`~.model.Inventory`;
``datax-migrate assess`` turns it into findings, strategies and estimates (:mod:`.assess`).
"""
