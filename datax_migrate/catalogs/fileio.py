"""File IO for S3 Tables table buckets: write without listing, retry what S3 asks to retry.

S3 Tables' managed storage refuses ListObjectsV2 and DeleteObject. pyiceberg's ``PyArrowFileIO``
checks that a metadata file does not exist before writing it (``OutputFile.create(overwrite=False)``);
for a missing key pyarrow's S3 filesystem then lists the prefix to rule out a "directory", which
the table bucket refuses. Every file we write has a fresh, unique name (a UUID or our run id), so
the check buys nothing: :class:`NoListFileIO` skips it.

Retries: pyarrow's own S3 client retries throttling (503 SlowDown), 5xx and connection resets with
exponential backoff; :class:`PatientRetryStrategy` raises its attempts from 3 to 10.
"""

from __future__ import annotations

from pyarrow.fs import AwsStandardS3RetryStrategy
from pyiceberg.io import InputFile, OutputFile, OutputStream
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO

S3_ATTEMPTS = 10


class PatientRetryStrategy(AwsStandardS3RetryStrategy):
    """The AWS SDK's standard retry strategy with :data:`S3_ATTEMPTS` attempts per request."""

    def __init__(self) -> None:
        """Use :data:`S3_ATTEMPTS` attempts (pyiceberg instantiates it without arguments)."""
        super().__init__(max_attempts=S3_ATTEMPTS)


class UncheckedOutputFile(OutputFile):
    """An output file that is created (or replaced) without first asking whether it exists."""

    def __init__(self, file: PyArrowFile) -> None:
        """Wrap pyarrow's output file for the same location."""
        super().__init__(file.location)
        self._file = file

    def __len__(self) -> int:
        """The file's size (a HEAD request)."""
        return len(self._file)

    def exists(self) -> bool:
        """Whether the file exists (may list the prefix when it does not: avoid on table buckets)."""
        return self._file.exists()

    def to_input_file(self) -> InputFile:
        """The file, for reading."""
        return self._file.to_input_file()

    def create(self, overwrite: bool = False) -> OutputStream:
        """Open the file for writing; ``overwrite`` is ignored (every name we write is new)."""
        return self._file.create(overwrite=True)


class NoListFileIO(PyArrowFileIO):
    """``PyArrowFileIO`` whose output files never probe for an existing file before writing."""

    def new_output(self, location: str) -> UncheckedOutputFile:  # type: ignore[override]
        """An output file for ``location`` that writes without an existence check."""
        return UncheckedOutputFile(super().new_output(location))
