"""File IO for S3 Tables table buckets: write without listing, retry what S3 asks to retry.

S3 Tables' managed storage refuses ListObjectsV2 and DeleteObject. pyiceberg's ``PyArrowFileIO``
checks that a metadata file does not exist before writing it (``OutputFile.create(overwrite=False)``);
for a missing key pyarrow's S3 filesystem then lists the prefix to rule out a "directory", which
the table bucket refuses. Every file we write has a fresh, unique name (a UUID or our run id), so
the check buys nothing: :class:`NoListFileIO` skips it.

Retries: pyarrow's own S3 client retries throttling (503 SlowDown), 5xx and connection resets with
exponential backoff; :class:`PatientRetryStrategy` (used unless ``s3.retry-strategy-impl`` names
another) raises its attempts from 3 to 10.
"""

from __future__ import annotations

from pyarrow.fs import AwsStandardS3RetryStrategy, FileSystem
from pyiceberg.io import S3_RETRY_STRATEGY_IMPL, InputFile, OutputFile, OutputStream
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO, _import_retry_strategy

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
    """``PyArrowFileIO`` whose output files never probe for an existing file before writing.

    Its S3 filesystem also opens uploads lazily (pyarrow's ``allow_delayed_open``): a file smaller
    than one part goes up in a single PutObject instead of a three-request multipart upload.
    """

    def _initialize_s3_fs(self, netloc: str | None) -> FileSystem:
        # pyiceberg has no property for allow_delayed_open: rebuild its filesystem with it, from
        # the options pyarrow pickles it with (which leave out the retry strategy).
        rebuild, (options,) = super()._initialize_s3_fs(netloc).__reduce__()
        impl = self.properties.get(S3_RETRY_STRATEGY_IMPL)
        strategy = _import_retry_strategy(impl) if impl else None
        return rebuild({**options, "allow_delayed_open": True, "retry_strategy": strategy or PatientRetryStrategy()})

    def delete(self, location: str | InputFile | OutputFile) -> None:
        """Delete a file; a table bucket's refusal (405 MethodNotAllowed) is not an error.

        Table buckets refuse deletes: files a failed commit leaves behind are unreferenced, and S3
        Tables' unreferenced-file removal reclaims them.
        """
        try:
            super().delete(location)
        except OSError as exc:
            if "MethodNotAllowed" not in str(exc) and "HTTP status 405" not in str(exc):
                raise

    def new_output(self, location: str) -> UncheckedOutputFile:  # type: ignore[override]
        """An output file for ``location`` that writes without an existence check."""
        return UncheckedOutputFile(super().new_output(location))
