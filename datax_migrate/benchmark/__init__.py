"""Query benchmarks: the same queries on the Delta source and the Iceberg target, answers checked, timed."""
