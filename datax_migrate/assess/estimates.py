"""Estimates: bytes to move, conversion time from measured throughput, S3 Tables monthly cost.

**Time.** :data:`MEASURED_THROUGHPUT` is a fit of ``seconds = startup + bytes / rate + files x
per_file`` through the three 2-core runs of ``datax-migrate convert`` in docs/benchmarks.md
(2026-11-28): 178.4 MB in 1,050 files in 4.19 s, 713.7 MB in 4,200 files in 9.42 s, 508.7 MB in 20
files in 4.83 s. It reproduces all three; it is a planning figure for one table at a time on two
cores, not a promise (object storage latency and wide schemas add to it).

**Cost.** :data:`S3_TABLES_PRICES` are Amazon S3 Tables list prices for US East (N. Virginia), from
the S3 Tables tab of https://aws.amazon.com/s3/pricing/ as read on 2026-11-29: storage $0.0265 per
GB-month for the first 50 TB, $0.0253 for the next 450 TB, $0.0242 over 500 TB; object monitoring
$0.025 per 1,000 objects a month; PUT $0.005 and GET $0.0004 per 1,000 requests; compaction $0.002
per 1,000 objects and $0.005 per GB processed (binpack). Prices change and differ by Region: pass a
price file (``--prices FILE``, YAML or JSON with any of the :class:`S3TablesPrices` fields) to use
others. The estimate assumes the Iceberg data takes as many bytes as the Delta data (zstd usually
makes it smaller) in files of the converter's target size, plus three metadata objects per table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from datax_migrate.convert.plan import DEFAULT_TARGET_FILE_BYTES
from datax_migrate.errors import ConfigError

GB = 1024**3
METADATA_OBJECTS_PER_TABLE = 3
"""metadata.json, manifest list and manifest of a freshly converted table."""


@dataclass(frozen=True)
class ConversionThroughput:
    """How long a conversion takes, as ``startup + bytes / bytes_per_second + files x seconds_per_file``.

    Attributes:
        startup_seconds: Process start, imports, log replay and the commit.
        bytes_per_second: Delta bytes rewritten per second.
        seconds_per_file: Cost of each Delta data file opened.
        measured: Where the figures come from.
    """

    startup_seconds: float
    bytes_per_second: float
    seconds_per_file: float
    measured: str

    def seconds(self, total_bytes: int, file_count: int) -> float:
        """Estimated seconds to convert a table of ``total_bytes`` in ``file_count`` files."""
        return self.startup_seconds + total_bytes / self.bytes_per_second + file_count * self.seconds_per_file


MEASURED_THROUGHPUT = ConversionThroughput(
    startup_seconds=2.45,
    bytes_per_second=215e6,
    seconds_per_file=0.00087,
    measured="fit through the 2-core `datax-migrate convert` runs in docs/benchmarks.md (2026-11-28)",
)


@dataclass(frozen=True)
class S3TablesPrices:
    """Amazon S3 Tables prices (USD) used for the monthly estimate.

    Attributes:
        region: The Region these prices are for.
        as_of: When they were read.
        source: Where they were read.
        storage_tiers: ``(up to GB a month, USD per GB-month)`` in order; the last tier's bound is ``None``.
        monitoring_per_1000_objects: Object monitoring, per 1,000 objects a month.
        put_per_1000: PUT, POST and LIST requests, per 1,000.
        get_per_1000: GET and other requests, per 1,000.
        compaction_per_1000_objects: Compaction, per 1,000 objects processed.
        compaction_per_gb: Compaction (binpack), per GB processed.
    """

    region: str = "us-east-1"
    as_of: str = "2026-11-29"
    source: str = "https://aws.amazon.com/s3/pricing/ (S3 Tables)"
    storage_tiers: tuple[tuple[float | None, float], ...] = ((50 * 1024, 0.0265), (500 * 1024, 0.0253), (None, 0.0242))
    monitoring_per_1000_objects: float = 0.025
    put_per_1000: float = 0.005
    get_per_1000: float = 0.0004
    compaction_per_1000_objects: float = 0.002
    compaction_per_gb: float = 0.005

    @classmethod
    def load(cls, path: Path) -> S3TablesPrices:
        """Defaults overridden by the fields given in a YAML or JSON file.

        Raises:
            ConfigError: the file cannot be read or names an unknown field.
        """
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the price file {path}: {exc}") from exc
        if not isinstance(document, dict):
            raise ConfigError(f"the price file {path} must hold a mapping of price names to values")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigError(
                f"the price file {path} names unknown prices: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        if "storage_tiers" in document:
            document["storage_tiers"] = tuple((bound, float(rate)) for bound, rate in document["storage_tiers"])
        return cls(**document)

    def storage_per_month(self, gigabytes: float) -> float:
        """Monthly storage charge for ``gigabytes``, tier by tier."""
        charge, below = 0.0, 0.0
        for bound, rate in self.storage_tiers:
            upper = gigabytes if bound is None else min(gigabytes, bound)
            if upper > below:
                charge += (upper - below) * rate
            if bound is None or gigabytes <= bound:
                break
            below = bound
        return charge

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return json.loads(json.dumps(asdict(self)))


S3_TABLES_PRICES = S3TablesPrices()


@dataclass(frozen=True)
class TableEstimate:
    """What moving one table takes.

    Attributes:
        total_bytes: Delta bytes to rewrite.
        file_count: Delta data files read.
        seconds: Estimated conversion seconds.
        target_objects: Iceberg data and metadata objects written.
    """

    total_bytes: int
    file_count: int
    seconds: float
    target_objects: int


@dataclass(frozen=True)
class Totals:
    """Figures for every table that would be converted.

    Attributes:
        tables: Tables estimated.
        total_bytes: Delta bytes to rewrite.
        file_count: Delta data files.
        seconds: Conversion seconds, one table after another.
        target_objects: Objects in S3 Tables afterwards.
        storage_per_month: S3 Tables storage, USD a month.
        monitoring_per_month: Object monitoring, USD a month.
        conversion_requests: PUT requests of the conversion itself, USD once.
        unsized_tables: Tables whose size is unknown (not in the figures).
    """

    tables: int
    total_bytes: int
    file_count: int
    seconds: float
    target_objects: int
    storage_per_month: float
    monitoring_per_month: float
    conversion_requests: float
    unsized_tables: int

    @property
    def per_month(self) -> float:
        """Storage and monitoring, USD a month."""
        return self.storage_per_month + self.monitoring_per_month


def estimate_table(
    total_bytes: int,
    file_count: int,
    throughput: ConversionThroughput = MEASURED_THROUGHPUT,
    target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
) -> TableEstimate:
    """Estimate the conversion of one table of ``total_bytes`` in ``file_count`` Delta files."""
    data_objects = max(1, math.ceil(total_bytes / target_file_bytes))
    return TableEstimate(
        total_bytes=total_bytes,
        file_count=file_count,
        seconds=throughput.seconds(total_bytes, file_count),
        target_objects=data_objects + METADATA_OBJECTS_PER_TABLE,
    )


def total(estimates: list[TableEstimate], unsized_tables: int, prices: S3TablesPrices = S3_TABLES_PRICES) -> Totals:
    """Add up table estimates and price them."""
    total_bytes = sum(e.total_bytes for e in estimates)
    objects = sum(e.target_objects for e in estimates)
    return Totals(
        tables=len(estimates),
        total_bytes=total_bytes,
        file_count=sum(e.file_count for e in estimates),
        seconds=sum(e.seconds for e in estimates),
        target_objects=objects,
        storage_per_month=prices.storage_per_month(total_bytes / GB),
        monitoring_per_month=objects / 1000 * prices.monitoring_per_1000_objects,
        conversion_requests=objects / 1000 * prices.put_per_1000,
        unsized_tables=unsized_tables,
    )
