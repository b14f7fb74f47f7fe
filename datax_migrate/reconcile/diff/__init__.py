"""Row diffs of the buckets whose checksums differ: by whole row (rows.py) and by key (keyed.py)."""
