"""The built-in benchmark derived from TPC-H (not an audited TPC result).

    >>> from datax_migrate.benchmark.tpch import run_tpch
    >>> report = run_tpch(0.1, "tpch-work")

In ``workdir/sf<scale>-<generator>/``: the generator writes the eight tables as Parquet
(``generated/``, kept and reused), deltalake writes them as Delta tables (``delta/``, kept and
reused), our converter converts them into a fresh embedded Iceberg catalog (``iceberg/``, made anew
each run, so the target is what today's converter writes), and the 22 queries run on both sides.
``pairs.yaml`` and ``catalogs.yaml`` there let ``benchmark run`` rerun the queries.

Both sides' answers are checked against each other and against reference answers:

- generator ``dbgen`` (the default): DuckDB's tpch extension generates the data (``CALL dbgen``), and
  the reference answers are the ones the extension ships for SF 0.01, 0.1 and 1.
- generator ``tpchgen-cli``: tpchgen-cli writes the data. Its random text columns (addresses,
  comments) differ from dbgen's, so the shipped answers do not apply (six of the 22 differ at SF
  0.01: q02, q10, q13, q15, q20 through addresses and comments); the reference answers are the 22
  queries run by DuckDB on the generated Parquet files themselves, a third reading of the same data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import yaml

from datax_migrate.benchmark.answers import as_text
from datax_migrate.benchmark.duckdb_engine import duckdb_connection, tpch_answers, tpch_queries
from datax_migrate.benchmark.engine import QueryEngine
from datax_migrate.benchmark.model import BenchmarkError, BenchmarkReport
from datax_migrate.benchmark.pairs import TablePair
from datax_migrate.benchmark.queries import Query
from datax_migrate.benchmark.run import Reference, run_benchmark
from datax_migrate.errors import missing_extra

if TYPE_CHECKING:
    from datax_migrate.convert import ConvertOptions

DBGEN, TPCHGEN = "dbgen", "tpchgen-cli"
GENERATORS = (DBGEN, TPCHGEN)
TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")
NAMESPACE = "tpch"
CATALOG = "tpch"
LABEL = "Derived from TPC-H; not an audited TPC result and not comparable with published TPC-H results."
_DONE = ".complete"


def run_tpch(
    scale: float,
    workdir: str | Path,
    *,
    engine: str | QueryEngine = "duckdb",
    generator: str = DBGEN,
    runs: int = 5,
    warmup: int = 1,
    report_dir: str | Path | None = None,
    convert_options: ConvertOptions | None = None,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkReport:
    """Generate TPC-H data at ``scale``, write it as Delta, convert it, and benchmark the 22 queries on both sides.

    Args:
        scale: The TPC-H scale factor (1 is about 1 GB of data; 0.01, 0.1 and 1 have reference answers).
        workdir: Where the data, the catalog and (by default) the report go.
        engine: ``duckdb`` (default) or ``spark``, or an engine object.
        generator: ``dbgen`` (DuckDB's tpch extension; default) or ``tpchgen-cli``: see the module.
        runs: Timed runs per query per side.
        warmup: Untimed runs per query per side first.
        report_dir: Where the reports go (default: ``workdir/sf<scale>/report``).
        convert_options: :class:`~datax_migrate.convert.ConvertOptions` for the conversion (default: the defaults).
        threads: Engine threads (default: the engine's default).
        progress: Called with a line per step and per query.

    Returns:
        The report; its ``passed`` is false when an answer differs from the other side's or the reference.

    Raises:
        BenchmarkError: the generator, deltalake or a query fails.
    """
    say = progress or (lambda _line: None)
    if not scale > 0:
        raise BenchmarkError(f"--scale must be positive, not {scale}")
    if generator not in GENERATORS:
        raise BenchmarkError(f"generator {generator!r} is not one of {', '.join(GENERATORS)}")
    folder = data_folder(workdir, scale, generator)
    began = time.perf_counter()
    generated = generate(scale, folder / "generated", generator, say)
    generated_at = time.perf_counter()
    delta = write_delta(generated, folder / "delta", say)
    written_at = time.perf_counter()
    config = convert(delta, folder / "iceberg", convert_options, say)
    converted_at = time.perf_counter()
    pairs = tuple(TablePair(table, str(delta / table), f"{NAMESPACE}.{table}", CATALOG) for table in TABLES)
    pairs_file = folder / "pairs.yaml"
    pairs_file.write_text(
        yaml.safe_dump(
            {"pairs": {p.name: {"source": p.source, "target": p.target, "catalog": p.catalog} for p in pairs}},
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    queries = tpch_queries()
    reference = reference_answers(scale, generator, generated, queries)
    notes = [
        f"data: {generator} at SF {scale:g} ({generated_at - began:.1f} s, reused when present), Delta written by "
        f"deltalake ({written_at - generated_at:.1f} s, reused when present), converted by datax-migrate "
        f"({converted_at - written_at:.1f} s); pairs file {pairs_file}, catalog config {config}",
    ]
    if reference is None:
        notes.append(f"no reference answers for SF {scale:g} (DuckDB ships them for 0.01, 0.1 and 1)")
    return run_benchmark(
        pairs,
        queries,
        engine=engine,
        runs=runs,
        warmup=warmup,
        report_dir=report_dir if report_dir is not None else folder / "report",
        config=str(config),
        reference=reference,
        title=f"TPC-H SF {scale:g} (derived from TPC-H), Delta vs Iceberg",
        label=LABEL,
        notes=notes,
        threads=threads,
        progress=progress,
    )


def data_folder(workdir: str | Path, scale: float, generator: str = DBGEN) -> Path:
    """Where a run at ``scale`` with ``generator`` keeps its data, catalog, pairs file and report."""
    return Path(workdir).resolve() / f"sf{scale:g}-{generator}"


def reference_answers(scale: float, generator: str, generated: Path, queries: tuple[Query, ...]) -> Reference | None:
    """The answers both sides are checked against (see the module); ``None`` when there are none."""
    if generator == DBGEN:
        answers = tpch_answers(scale)
        return Reference(answers, f"DuckDB tpch extension, tpch_answers() at SF {scale:g}") if answers else None
    con = duckdb_connection(())
    try:
        for table in TABLES:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{generated / table}.parquet')")
        answers = {query.name: _answer_text(con.sql(query.sql)) for query in queries}
    finally:
        con.close()
    return Reference(answers, f"the queries run by DuckDB on the Parquet files {generator} generated")


def generate(scale: float, folder: Path, generator: str, say: Callable[[str], None]) -> Path:
    """The eight tables as Parquet files (reused when a previous run completed them)."""
    if (folder / _DONE).exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    say(f"generating TPC-H SF {scale:g} with {generator}")
    if generator == DBGEN:
        _dbgen(scale, folder)
    else:
        _tpchgen(scale, folder)
    (folder / _DONE).touch()
    return folder


def _dbgen(scale: float, folder: Path) -> None:
    con = duckdb_connection(("tpch",))
    try:
        con.execute(f"CALL dbgen(sf = {scale:g})")
        for table in TABLES:
            con.execute(f"COPY {table} TO '{folder / table}.parquet' (FORMAT parquet)")
    finally:
        con.close()


def _tpchgen(scale: float, folder: Path) -> None:
    program = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
    if not Path(program).exists():
        raise missing_extra("tpchgen-cli", "benchmark", "datax-migrate benchmark tpch --generator tpchgen-cli")
    done = subprocess.run(
        [program, "parquet", "--scale-factor", f"{scale:g}", "--output-dir", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"tpchgen-cli failed (exit {done.returncode}): {' '.join(done.stderr.split())[:300]}")


def write_delta(generated: Path, folder: Path, say: Callable[[str], None]) -> Path:
    """Each generated table as a Delta table written by deltalake (reused when a previous run completed them)."""
    if (folder / _DONE).exists():
        return folder
    try:
        import deltalake
    except ImportError:
        raise missing_extra("deltalake", "benchmark", "datax-migrate benchmark tpch") from None
    import pyarrow.dataset as ds

    shutil.rmtree(folder, ignore_errors=True)
    for table in TABLES:
        say(f"writing {table} as Delta")
        dataset = ds.dataset(generated / f"{table}.parquet")
        schema = pa.schema([pa.field(f.name, _plain(f.type), f.nullable) for f in dataset.schema])
        batches = (batch.cast(schema) for batch in dataset.to_batches())
        deltalake.write_deltalake(folder / table, pa.RecordBatchReader.from_batches(schema, batches))
    (folder / _DONE).touch()
    return folder


def convert(delta: Path, folder: Path, options: ConvertOptions | None, say: Callable[[str], None]) -> Path:
    """Convert each Delta table into a fresh embedded catalog in ``folder``; return its config file."""
    from datax_migrate.config import Config
    from datax_migrate.convert import convert_table

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config_file = folder.parent / "catalogs.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "catalogs": {
                    CATALOG: {
                        "type": "sql",
                        "uri": f"sqlite:///{folder / 'catalog.db'}",
                        "warehouse": (folder / "warehouse").as_uri(),
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    catalog = Config.load(config_file).catalog(CATALOG)
    for table in TABLES:
        say(f"converting {table} to Iceberg")
        convert_table(str(delta / table), catalog, f"{NAMESPACE}.{table}", options=options)
    return config_file


def _answer_text(relation: Any) -> str:
    """An answer as DuckDB's tpch extension prints its reference answers: a header, ``|``, NULL as nothing."""
    lines = ["|".join(relation.columns)]
    lines += ["|".join(as_text(value) for value in row) for row in relation.fetchall()]
    return "\n".join(lines) + "\n"


def _plain(kind: pa.DataType) -> pa.DataType:
    """Arrow's plain string for tpchgen's string views (Delta writers take both; readers expect strings)."""
    return pa.string() if kind == pa.string_view() else kind
