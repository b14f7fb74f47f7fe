"""The checksum specification: canonical encoding, row hash, table and bucket checksums, and the SQL generator."""
