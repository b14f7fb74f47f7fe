"""Exceptions raised by datax-migrate.

Every error a user can act on derives from :class:`DataxError`; the CLI turns it into exit code 2
and a one-line message. Sub-roots group errors by the phase of the flow they come from.
"""

from __future__ import annotations


class DataxError(Exception):
    """Root of every expected datax-migrate error (exit code 2 on the command line)."""


class ConfigError(DataxError):
    """The configuration file, a catalog definition or a command-line value is invalid."""


def missing_extra(package: str, extra: str, needed_by: str) -> ConfigError:
    """The error for an optional dependency that is not installed: what needs it and the install line.

    Args:
        package: The distribution that is missing (``boto3``).
        extra: The datax-migrate extra that installs it (``aws``).
        needed_by: What needs it (``S3 Tables``).
    """
    return ConfigError(f"{needed_by} needs {package}: pip install 'datax-migrate[{extra}]'")


class DeltaError(DataxError):
    """The Delta source cannot be read faithfully."""


class CorruptLogError(DeltaError):
    """The Delta log is malformed: unparsable JSON, a gap in versions, an inconsistent checkpoint."""


class MissingFileError(DeltaError):
    """A file the Delta log refers to (data file, checkpoint part, deletion vector) is missing."""


class UnsupportedFeatureError(DeltaError):
    """The table uses a Delta feature or value that cannot be converted faithfully."""


class VersionNotFoundError(DeltaError):
    """The requested version or timestamp is not reconstructable from the log."""


class MappingError(DataxError):
    """A Delta type, partitioning or property has no faithful Iceberg equivalent."""


class TargetError(DataxError):
    """The Iceberg target refused the conversion (exists already, commit failed, ...)."""


class TargetExistsError(TargetError):
    """The target table exists and holds something other than the requested conversion."""


class IcebergReadError(DataxError):
    """An Iceberg snapshot cannot be read faithfully (equality deletes, files without field ids or name mapping)."""


class ReconcileError(DataxError):
    """A reconciliation cannot run: an unreadable side, a missing or mismatched key column, ..."""


class EncodingError(ReconcileError):
    """A column has a type the canonical row encoding does not cover."""


class SignoffError(DataxError):
    """A sign-off is refused (no readable report, an unaccepted mismatch, no signer) or the ledger is unusable."""


class TranslateError(DataxError):
    """A notebook translation cannot run: unreadable input, an unusable name or path map, ..."""


class NotebookFormatError(TranslateError):
    """A file is not a notebook in a format we read (SOURCE, .ipynb, .dbc), or it is damaged."""


class InventoryError(DataxError):
    """An inventory or assessment cannot run: an unreachable workspace, an unreadable inventory file, ..."""
