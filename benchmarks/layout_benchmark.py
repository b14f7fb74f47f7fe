"""Layout benchmark: what Parquet settings and sort order do to DuckDB queries on converted tables (derived from TPC-H).

    python benchmarks/layout_benchmark.py --scale 1 --runs 5

Data derived from TPC-H (not an audited TPC result): tpchgen-cli writes the tables, deltalake writes
them as Delta (its defaults: snappy, dictionary on, 1Mi-row row groups), our converter converts them
once per layout, and DuckDB (threads=2; delta, avro, iceberg and tpch extensions from PyPI, loaded
by file path) runs the queries on every side in the same process, in alternating order.

Two parts, one run:

- ``codec``: the 22 TPC-H queries on the Delta source and on Iceberg targets written with different
  Parquet settings (the default and one change at a time). Per setting: the geometric mean over the
  queries of the target/source ratio of median times, and the sum of medians. Every side's answers
  must equal the Delta side's (floats within 1e-9 relative), or the benchmark fails.
- ``sort``: lineitem converted unsorted and sorted by ``l_shipdate`` (``--sort-by l_shipdate``; sorted
  within each data file), with date-range queries of shrinking width and TPC-H Q1 (almost every row)
  as the control. Also the share of row groups whose ``l_shipdate`` bounds exclude the range: those
  DuckDB skips.

The machine is shared: compare ratios measured in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from harness import DOC, ROOT, BenchmarkFailure, machine
from report import replace_section

from datax_migrate.iceberg.datafile import ParquetSettings

SECTION = "layout"
DATA = ROOT / "benchmarks" / "data"
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
EXTENSIONS = ("delta", "avro", "iceberg", "tpch")  # avro before iceberg
DEFAULT = ParquetSettings()
CODEC_VARIANTS: dict[str, ParquetSettings] = {
    "default": DEFAULT,
    "previous default: zstd, dictionary where values repeat": replace(DEFAULT, compression="zstd", dictionary="auto"),
    "codec zstd (Iceberg's default codec)": replace(DEFAULT, compression="zstd"),
    "dictionary only where values repeat": replace(DEFAULT, dictionary="auto"),
    "codec lz4 (LZ4_RAW; not every reader has it)": replace(DEFAULT, compression="lz4"),
    "row groups of 128Ki rows": replace(DEFAULT, row_group_rows=131_072),
}
SORT_QUERIES = {
    "one year (TPC-H Q6)": None,  # taken from the tpch extension
    "one month": "SELECT sum(l_extendedprice * l_discount) AS revenue, count(*) AS n FROM lineitem "
    "WHERE l_shipdate >= DATE '1995-03-01' AND l_shipdate < DATE '1995-04-01'",
    "one week": "SELECT sum(l_quantity) AS q, count(*) AS n FROM lineitem "
    "WHERE l_shipdate >= DATE '1996-06-10' AND l_shipdate < DATE '1996-06-17'",
    "one day": "SELECT sum(l_extendedprice) AS p, count(*) AS n FROM lineitem WHERE l_shipdate = DATE '1997-01-15'",
    "every row (TPC-H Q1, control)": None,
}
SORT_RANGES = {  # [low, high) of l_shipdate each query reads; for the row-group skipping figure
    "one year (TPC-H Q6)": ("1994-01-01", "1995-01-01"),
    "one month": ("1995-03-01", "1995-04-01"),
    "one week": ("1996-06-10", "1996-06-17"),
    "one day": ("1997-01-15", "1997-01-16"),
    "every row (TPC-H Q1, control)": ("1900-01-01", "1998-09-03"),
}


@dataclass(frozen=True)
class Side:
    """One set of tables the queries run on: the Delta source or one Iceberg layout."""

    name: str
    scans: dict[str, str]  # table -> DuckDB table function call
    bytes: int
    files: int


def tpch_delta(scale: float) -> Path:
    """The TPC-H tables at ``scale`` as Delta tables under benchmarks/data (generated once)."""
    root = DATA / f"tpch-sf{scale:g}"
    marker = root / "delta.json"
    if marker.exists():
        return root / "delta"
    shutil.rmtree(root, ignore_errors=True)
    generator = shutil.which("tpchgen-cli", path=str(Path(sys.executable).parent)) or shutil.which("tpchgen-cli")
    if generator is None:
        raise SystemExit("tpchgen-cli is not installed: pip install tpchgen-cli")
    from deltalake import write_deltalake

    started = time.perf_counter()
    subprocess.run([generator, "parquet", "-s", f"{scale:g}", f"--output-dir={root / 'parquet'}"], check=True)
    for table in TABLES:
        data = pq.read_table(root / "parquet" / f"{table}.parquet")
        # tpchgen writes Parquet field ids; Delta files without column mapping must not carry them
        # (DuckDB's delta reader then resolves columns by id and reads NULLs), and string_view is new.
        fields = [
            pa.field(f.name, pa.string() if f.type == pa.string_view() else f.type, f.nullable) for f in data.schema
        ]
        write_deltalake(root / "delta" / table, data.cast(pa.schema(fields)), mode="overwrite")
    shutil.rmtree(root / "parquet")
    marker.write_text(json.dumps({"scale": scale, "seconds": round(time.perf_counter() - started, 1)}))
    return root / "delta"


def convert_layout(
    delta: Path, work: Path, name: str, settings: ParquetSettings, tables: Sequence[str], sort_by: tuple[str, ...] = ()
) -> Side:
    """Convert ``tables`` with ``settings`` (sorted by ``sort_by``) into a catalog of their own."""
    from pyiceberg.catalog.sql import SqlCatalog

    from datax_migrate.convert import ConvertOptions, convert_table

    warehouse = work / name.replace(" ", "_")
    shutil.rmtree(warehouse, ignore_errors=True)
    warehouse.mkdir(parents=True)
    catalog = SqlCatalog("bench", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=warehouse.as_uri())
    options = ConvertOptions(parquet=settings, sort_by=sort_by)
    scans, size, files = {}, 0, 0
    for table in tables:
        result = convert_table(str(delta / table), catalog, f"tpch.{table}", options=options)
        location = catalog.load_table(f"tpch.{table}").metadata_location
        scans[table] = f"iceberg_scan('{location}')"
        size, files = size + result.bytes_written, files + result.data_files
    return Side(name, scans, size, files)


def delta_side(delta: Path, tables: Sequence[str]) -> Side:
    """The Delta source tables."""
    data = [f for table in tables for f in (delta / table).glob("*.parquet")]
    return Side(
        "Delta source",
        {t: f"delta_scan('{delta / t}')" for t in tables},
        sum(f.stat().st_size for f in data),
        len(data),
    )


def connect(side: Side) -> Any:
    """A DuckDB connection (threads=2, extensions by path, offline) whose views name ``side``'s tables."""
    import duckdb

    config = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    connection = duckdb.connect(config={**config, "allow_unsigned_extensions": "true"})
    for name in EXTENSIONS:
        module = importlib.import_module(f"duckdb_extension_{name}")
        (path,) = Path(module.__file__ or "").parent.glob(f"extensions/*/{name}.duckdb_extension")
        connection.execute(f"LOAD '{path}'")
    connection.execute("SET threads = 2")
    for table, scan in side.scans.items():
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {scan}")
    return connection


def tpch_queries() -> dict[str, str]:
    """The 22 queries as the tpch extension ships them."""
    connection = connect(Side("queries", {}, 0, 0))
    return {
        f"Q{number:02d}": sql
        for number, sql in connection.execute("SELECT query_nr, query FROM tpch_queries()").fetchall()
    }


def same_answers(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Equal rows (in the same order, or tied rows in another order); floats within 1e-9 relative."""
    return len(a) == len(b) and (_same_rows(a, b) or _same_rows(sorted(a, key=repr), sorted(b, key=repr)))


def _same_rows(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    for row_a, row_b in zip(a, b, strict=True):
        for x, y in zip(row_a, row_b, strict=True):
            if isinstance(x, float) and isinstance(y, (float, Decimal)):
                if not math.isclose(x, float(y), rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def time_queries(sides: list[Side], queries: dict[str, str], runs: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per side per query: one warm-up per side (its answer checked against the first side's),
    then ``runs`` rounds, the order of the sides rotating from round to round."""
    connections = {side.name: connect(side) for side in sides}
    seconds: dict[str, dict[str, list[float]]] = {side.name: {} for side in sides}
    for query, sql in queries.items():
        answers = {name: connection.execute(sql).fetchall() for name, connection in connections.items()}
        first = sides[0].name
        for name, answer in answers.items():
            if not same_answers(answer, answers[first]):
                raise BenchmarkFailure(f"{query}: {name} answers differently from {first}")
        for round_ in range(runs):
            order = sides[round_ % len(sides) :] + sides[: round_ % len(sides)]
            for side in order:
                started = time.perf_counter()
                connections[side.name].execute(sql).fetchall()
                seconds[side.name].setdefault(query, []).append(time.perf_counter() - started)
        print(
            f"  {query}: " + ", ".join(f"{n} {statistics.median(s[query]):.3f} s" for n, s in seconds.items()),
            flush=True,
        )
    return seconds


def geomean(values: Sequence[float]) -> float:
    """Geometric mean."""
    return math.exp(statistics.fmean(math.log(v) for v in values))


def medians(seconds: dict[str, list[float]]) -> dict[str, float]:
    """Median seconds per query."""
    return {query: statistics.median(times) for query, times in seconds.items()}


def codec_part(delta: Path, work: Path, runs: int, variants: dict[str, ParquetSettings]) -> dict[str, Any]:
    """Every variant against the Delta source on the 22 queries."""
    source = delta_side(delta, TABLES)
    sides = [source]
    for name, settings in variants.items():
        print(f"converting with {name}: {settings}", flush=True)
        sides.append(convert_layout(delta, work, name, settings, TABLES))
    seconds = time_queries(sides, tpch_queries(), runs)
    base = medians(seconds[source.name])
    rows = []
    for side in sides:
        mine = medians(seconds[side.name])
        settings = variants.get(side.name)
        rows.append(
            {
                "side": side.name,
                "settings": settings.__dict__ if settings else None,
                "bytes": side.bytes,
                "files": side.files,
                "sum_of_medians": sum(mine.values()),
                "geomean_ratio": geomean([mine[q] / base[q] for q in base]),
                "medians": mine,
            }
        )
    return {"runs": runs, "sides": rows}


def skippable_row_groups(files: list[str], low: str, high: str) -> tuple[int, int]:
    """Row groups of ``files`` whose ``l_shipdate`` bounds lie outside [low, high), and all row groups."""
    low_date, high_date = dt.date.fromisoformat(low), dt.date.fromisoformat(high)
    skipped = total = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        index = metadata.schema.to_arrow_schema().get_field_index("l_shipdate")
        for group in range(metadata.num_row_groups):
            statistics_ = metadata.row_group(group).column(index).statistics
            total += 1
            if statistics_ is not None and (statistics_.max < low_date or statistics_.min >= high_date):
                skipped += 1
    return skipped, total


def sort_part(delta: Path, work: Path, runs: int) -> dict[str, Any]:
    """lineitem unsorted and sorted by l_shipdate, with date-range queries of shrinking width."""
    unsorted = convert_layout(delta, work, "lineitem unsorted", DEFAULT, ["lineitem"])
    by_date = ("l_shipdate",)
    ordered = convert_layout(delta, work, "lineitem sorted by l_shipdate", DEFAULT, ["lineitem"], by_date)
    small = replace(DEFAULT, row_group_rows=131_072)
    finer = convert_layout(delta, work, "sorted, row groups of 128Ki rows", small, ["lineitem"], by_date)
    sides = [delta_side(delta, ["lineitem"]), unsorted, ordered, finer]
    shipped = tpch_queries()
    queries = {name: sql or shipped["Q06" if "Q6" in name else "Q01"] for name, sql in SORT_QUERIES.items()}
    seconds = time_queries(sides, queries, runs)
    files = {side.name: _data_files(side) for side in sides[1:]}
    rows = []
    for query in queries:
        low, high = SORT_RANGES[query]
        figures = {side.name: statistics.median(seconds[side.name][query]) for side in sides}
        skips = {name: skippable_row_groups(paths, low, high) for name, paths in files.items()}
        rows.append({"query": query, "medians": figures, "skippable_row_groups": skips})
    return {"runs": runs, "queries": rows, "bytes": {s.name: s.bytes for s in sides}}


def _data_files(side: Side) -> list[str]:
    from pyiceberg.table import StaticTable

    (scan,) = side.scans.values()
    table = StaticTable.from_metadata(scan.split("'")[1])
    return [task.file.file_path.removeprefix("file://") for task in table.scan().plan_files()]


def render(result: dict[str, Any]) -> str:
    """The docs/benchmarks.md section."""
    lines = [
        "## Layout: Parquet settings and sort order (DuckDB, derived from TPC-H)",
        "",
        f"Measured {result['measured_at']} with `{result['command']}` ({result['machine']}). Data derived from "
        "TPC-H (not an audited TPC result), scale factor "
        f"{result['scale']:g}; DuckDB {result['duckdb']}, threads=2, every side in one process, runs alternating; "
        "times are medians. The machine is shared: the ratios within one run are the figures, not absolute times.",
        "",
    ]
    if codec := result.get("codec"):
        default = DEFAULT.__dict__
        lines += [
            "### Parquet settings: TPC-H, 22 queries, Iceberg target against the Delta source",
            "",
            f"Default settings: `{', '.join(f'{k}={v}' for k, v in default.items())}`. Each other row changes one "
            f"setting from the default. {codec['runs']} timed runs per query per side; the answers of every side "
            "equal the Delta side's.",
            "",
            "| side | data bytes | files | sum of medians | geomean ratio target/source |",
            "|---|---|---|---|---|",
        ]
        for row in codec["sides"]:
            ratio = "1 (reference)" if row["settings"] is None else f"{row['geomean_ratio']:.3f}"
            size = f"{row['bytes'] / 1e6:,.1f} MB"
            lines.append(f"| {row['side']} | {size} | {row['files']} | {row['sum_of_medians']:.2f} s | {ratio} |")
        lines += [
            "",
            "Each row against the default shows what that setting contributes. The default is Delta's own writer "
            "settings (snappy, a dictionary on every column, row groups of 1Mi rows): zstd writes about a quarter "
            "fewer bytes but decodes slower, and plain pages for columns whose first values are distinct cost more "
            "than they save here. lz4 (LZ4_RAW) decodes fastest, but Parquet readers before parquet-mr 1.13 cannot "
            "read it, so it is not the default (`ConvertOptions(parquet=ParquetSettings(compression='lz4'))`).",
            "",
        ]
    if ordered := result.get("sort"):
        names = list(ordered["bytes"])
        lines += [
            "### Sort order: lineitem sorted by l_shipdate, date-range queries",
            "",
            "`convert --sort-by l_shipdate` (default Parquet settings otherwise) against the same conversion unsorted "
            "and the Delta source, and sorted with row groups of 128Ki rows instead of 1Mi. Rows are sorted within "
            "each data file, so each row group covers a narrow date range and DuckDB skips the row groups whose "
            f"bounds exclude the query's range. {ordered['runs']} timed runs per query per side.",
            "",
            "| query | "
            + " | ".join(names)
            + " | sorted / unsorted | row groups skippable of all (each Iceberg side in order) |",
            "|---|" + "---|" * len(names) + "---|---|",
        ]
        for row in ordered["queries"]:
            m = row["medians"]
            skips = [f"{s}/{t}" for s, t in row["skippable_row_groups"].values()]
            lines.append(
                f"| {row['query']} | "
                + " | ".join(f"{m[n]:.3f} s" for n in names)
                + f" | {m[names[2]] / m[names[1]]:.2f} | {', '.join(skips)} |"
            )
        lines.append("")
    lines.append(f"<!-- layout-data {json.dumps(result, sort_keys=True)} -->")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 ok, 1 an answer differs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor (1 = about 1 GB of text)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query per side (after one warm-up)")
    parser.add_argument("--parts", default="codec,sort", help="comma-separated: codec,sort")
    parser.add_argument("--variants", help=f"comma-separated codec variants (default all: {', '.join(CODEC_VARIANTS)})")
    parser.add_argument("--no-doc", action="store_true", help="print the results only")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if unknown := parts - {"codec", "sort"}:
        raise SystemExit(f"unknown --parts {sorted(unknown)}")
    chosen = [v.strip() for v in args.variants.split(",")] if args.variants else list(CODEC_VARIANTS)
    if unknown_variants := [v for v in chosen if v not in CODEC_VARIANTS]:
        raise SystemExit(f"unknown --variants {unknown_variants}")
    import duckdb

    delta = tpch_delta(args.scale)
    work = DATA / f"layout-sf{args.scale:g}"
    shown = ["benchmarks/layout_benchmark.py", *(argv if argv is not None else sys.argv[1:])]
    result: dict[str, Any] = {
        "scale": args.scale,
        "duckdb": duckdb.__version__,
        "measured_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + shlex.join(shown),
        "machine": ", ".join(f"{k} {v}" for k, v in machine().items()),
    }
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "codec": lambda: codec_part(delta, work, args.runs, {v: CODEC_VARIANTS[v] for v in chosen}),
        "sort": lambda: sort_part(delta, work, args.runs),
    }
    try:
        for part in ("codec", "sort"):
            if part in parts:
                print(f"\n{part} part, scale factor {args.scale:g}", flush=True)
                result[part] = steps[part]()
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    body = render(result)
    print("\n" + body.rsplit("\n", 1)[0])
    if not args.no_doc:
        text = DOC.read_text() if DOC.exists() else ""
        DOC.write_text(replace_section(text, SECTION, body))
        print(f"\nwrote the layout section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
