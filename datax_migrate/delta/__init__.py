"""Delta Lake protocol reader: log replay, snapshots and data files as Arrow."""
