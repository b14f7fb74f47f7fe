"""Reconciliation: prove that a converted table holds the same rows as its source."""
