"""Iceberg side of a conversion: type map, partitioning, data files and the target table."""
