"""The plan step: how source names map onto target names (names.py), decided before anything is written."""
