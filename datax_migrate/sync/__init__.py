"""Keep a living Delta table in step with its Iceberg copy: history, incremental sync and cutover."""
