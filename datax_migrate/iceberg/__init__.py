"""Iceberg side of a conversion: type map, partitioning, data files, the target table, and reading it back."""
