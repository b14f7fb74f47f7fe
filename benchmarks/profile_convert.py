"""Where the time of ``datax-migrate convert`` goes, on a benchmark table (see convert_benchmark.py).

    python benchmarks/profile_convert.py [--rows 5000000] [--table partitioned] [--top 25]

Measurements, each in a fresh process, one at a time:

1. start-up: interpreter alone, ``import datax_migrate.cli``, and every module the convert command
   imports (in its order); then ``-X importtime`` of a real ``datax-migrate convert`` run (largest
   top-level imports); and three whole ``datax-migrate convert`` processes split into interpreter
   start-up, ``import datax_migrate.cli``, ``main()`` outside ``convert_table``, ``convert_table``
   itself and what follows ``main()`` (thread shutdown, exit handlers, ``os._exit``);
2. timeline: the convert command's own flow (open the source and start reading ahead, import the
   Iceberg side, open the target catalog, ``convert_table`` on the default engine, a thread per
   core), with the library's phases (:data:`DELTA_PHASES`, :data:`ICEBERG_PHASES`) wrapped so each
   thread's wall and CPU time is charged to the innermost phase running (log replay, planning,
   reading, cast, partition tuple, Parquet encode + write, statistics, ``DataFile``, commit ...).
   Nothing in datax_migrate/ is changed: the wrappers live in this process;
3. cProfile of ``convert_table`` with the file groups run one after another on the main thread
   (cProfile sees one thread only), for the functions behind each phase;
4. single-threaded references on the same files: our reader alone vs. ``pq.read_table``, and the
   floor's read + write.

The phases name library functions; when one moves, the script stops before measuring anything and
names the attribute that is gone (map its phase to the function that now does the work).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import inspect
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
# What ``datax-migrate convert`` imports, in its order (datax_migrate/cli/convert.py, run_convert), with the
# deferred modules left for first use (datax_migrate.lazy.defer_imports, as its run() does): the
# source side, then pyarrow.dataset without pandas (as the program does in its own process), then the
# Iceberg side and the target catalog.
CONVERT_IMPORTS = (
    "import datax_migrate.cli",
    "from datax_migrate.lazy import defer_imports",
    "defer_imports()",
    "import datax_migrate.convert.source",
    "from datax_migrate.lazy import import_pyarrow_dataset_without_pandas",
    "import_pyarrow_dataset_without_pandas()",
    "import datax_migrate.convert.table",
    "import datax_migrate.iceberg.target",
    "import datax_migrate.progress",
    "import datax_migrate.plan.target",
    "import pyiceberg.catalog.sql",
    "import pyiceberg.io.pyarrow",
)


class Phase(NamedTuple):
    """A library function whose time the timeline charges to ``name``.

    ``attribute`` is looked up in ``module`` (``Class.method`` for a method); a module-level function
    is wrapped in the module that calls it (``from x import f`` binds ``f`` there).
    """

    module: str
    attribute: str
    name: str
    generator: bool = False


# Imported before the source opens, as the convert command does.
DELTA_PHASES = (
    Phase("datax_migrate.delta.table", "DeltaTable.snapshot", "log replay"),
    Phase("datax_migrate.convert.source", "ConversionSource.__init__", "planning: file reader, other"),
    Phase("datax_migrate.convert.source", "plan_file_groups", "planning: file groups"),
    Phase("datax_migrate.convert.source", "ConversionSource._read_group", "read-ahead bookkeeping"),
    Phase(
        "datax_migrate.convert.source", "ConversionSource.batches", "read: take read-ahead buffer / wait for it", True
    ),
    Phase("datax_migrate.delta.scan", "FileReader.batches", "read: decode Parquet + conform + partition columns", True),
)
# Imported while the source reads ahead, as the convert command does.
ICEBERG_PHASES = (
    Phase("datax_migrate.plan.target", "open_target", "open target: config, name rules"),
    Phase("datax_migrate.config", "Config.catalog", "open target: catalog (SQLite)"),
    Phase("datax_migrate.convert.table", "iceberg_schema", "map schema"),
    Phase("datax_migrate.convert.table", "partition_plan", "map partitioning"),
    Phase("datax_migrate.convert.table", "partition_spec", "map partitioning"),
    Phase("datax_migrate.convert.table", "_sort_columns", "sort order (clustering columns)"),
    Phase("datax_migrate.iceberg.target", "IcebergTarget.existing", "catalog: look up target"),
    Phase("datax_migrate.iceberg.target", "IcebergTarget.begin_create", "catalog: stage create-table transaction"),
    Phase("datax_migrate.iceberg.target", "IcebergTarget.sort_by", "sort order (clustering columns)"),
    Phase("datax_migrate.convert.task", "GroupWriter.for_conversion", "task setup (layout, statistics plan)"),
    Phase("datax_migrate.convert.engine", "LocalEngine.run", "engine: main thread waits for the workers"),
    Phase("datax_migrate.convert.table", "ProgressTracker.done", "progress (count, display)"),
    Phase("datax_migrate.convert.task", "GroupWriter.write", "task: other (partition values, writer setup)"),
    Phase("datax_migrate.convert.task", "GroupWriter._cast", "cast to the Iceberg Arrow schema", True),
    Phase("datax_migrate.iceberg.datafile", "DataFileWriter.write", "write: buffer batches"),
    Phase("datax_migrate.iceberg.datafile", "PartitionTracker.observe", "partition tuple (observe)"),
    Phase("datax_migrate.iceberg.datafile", "DataFileWriter._take_buffer", "write: concat buffered batches"),
    Phase("datax_migrate.iceberg.datafile", "DataFileWriter._write_row_group", "write: Parquet encode/compress/write"),
    Phase("datax_migrate.iceberg.datafile", "DataFileWriter._finish", "write: close file (footer)"),
    Phase(
        "datax_migrate.iceberg.datafile", "data_file_statistics_from_parquet_metadata", "statistics from Parquet footer"
    ),
    Phase("datax_migrate.iceberg.datafile", "DataFile.from_args", "build DataFile"),
    Phase("datax_migrate.convert.lineage", "Lineage.write", "lineage file"),
    Phase("datax_migrate.iceberg.target", "IcebergTarget.commit", "commit (manifests, metadata, SQLite)"),
)
# Called by ``datax_migrate.cli.run`` before ``main()`` in the program's own process (private: checked too).
KEEP_FREED_MEMORY = Phase("datax_migrate.cli", "_keep_freed_memory", "keep freed memory")


class PhaseMapError(SystemExit):
    """A phase names a module or function the library no longer has."""


def import_phase_module(phase: Phase) -> ModuleType:
    """The module ``phase`` names; exit naming it if it is gone."""
    try:
        return importlib.import_module(phase.module)
    except ModuleNotFoundError as exc:
        raise PhaseMapError(
            f"profile_convert.py: module {phase.module} is gone ({exc}); map the phase {phase.name!r} "
            "to the function that now does its work (DELTA_PHASES / ICEBERG_PHASES)"
        ) from None


def resolve(phase: Phase) -> tuple[Any, str]:
    """The object holding ``phase.attribute``'s last part, and that part; exit naming the attribute if it is gone."""
    owner: Any = import_phase_module(phase)
    *parents, attribute = phase.attribute.split(".")
    for part in [*parents, attribute]:
        # A class attribute counts only if the class (or a base other than ``object``) defines it.
        found = (
            any(part in vars(k) for k in owner.__mro__ if k is not object)
            if isinstance(owner, type)
            else hasattr(owner, part)
        )
        if not found:
            raise PhaseMapError(
                f"profile_convert.py: {phase.module} has no attribute {phase.attribute!r} any more; map the phase "
                f"{phase.name!r} to the function that now does its work (DELTA_PHASES / ICEBERG_PHASES)"
            )
        if part != attribute:
            owner = getattr(owner, part)
    return owner, attribute


def check_phase_map() -> None:
    """Exit, naming it, if any phase's function is gone: before anything is measured."""
    for phase in (*DELTA_PHASES, *ICEBERG_PHASES, KEEP_FREED_MEMORY):
        resolve(phase)


# --- 1. start-up -------------------------------------------------------------------------------


def startup(delta_path: Path, repeat: int = 5) -> dict[str, Any]:
    """Wall time of bare start-ups (median of ``repeat``) and the largest imports of a real convert run."""

    def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    py = sys.executable
    imports = "; ".join(CONVERT_IMPORTS)
    result = {
        "python -c pass": wall([py, "-c", "pass"]),
        "python -c 'import pyarrow.parquet'": wall([py, "-c", "import pyarrow.parquet"]),
        "python -c 'import datax_migrate.cli'": wall([py, "-c", "import datax_migrate.cli"]),
        "python -c 'import <every module convert uses>'": wall([py, "-c", imports]),
        "datax-migrate --version": wall([str(Path(py).parent / "datax-migrate"), "--version"]),
    }
    with tempfile.TemporaryDirectory(prefix="datax-profile-") as home:
        cli = str(Path(py).parent / "datax-migrate")
        done = subprocess.run(
            [py, "-X", "importtime", cli, "convert", str(delta_path), "bench.importtime"],
            capture_output=True,
            text=True,
            env={**os.environ, "DATAX_HOME": home},
            check=True,
        )
    top_level = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m[3]) == 1:  # one space of indent: imported by the program itself, not by another module
            top_level.append((int(m[2]) / 1e6, m[4]))
    return {
        "walls": result,
        "importtime_total": sum(s for s, _ in top_level),
        "importtime_top": sorted(top_level, reverse=True)[:12],
    }


# The real program (``datax_migrate.cli.run``, which ends with ``os._exit``), with marks: its first line,
# ``datax_migrate.cli`` imported, ``main()`` returned; written to stderr by the last exit handler.
ANATOMY_SCRIPT = """\
import atexit, json, sys, time
marks = {"entered": time.time()}
atexit.register(lambda: print("profile-marks " + json.dumps(marks), file=sys.stderr, flush=True))
import datax_migrate.cli as cli
marks["imported"] = time.time()
main = cli.main
def timed_main(argv=None):
    try:
        return main(argv)
    finally:
        marks["returned"] = time.time()
cli.main = timed_main
cli.run()
"""


def process_anatomy(delta_path: Path, repeat: int = 3) -> list[dict[str, float]]:
    """Split whole ``datax-migrate convert`` processes into start-up, before/in/after ``convert_table``, exit."""
    runs = []
    for index in range(repeat):
        with tempfile.TemporaryDirectory(prefix="datax-profile-") as home:
            argv = [sys.executable, "-c", ANATOMY_SCRIPT, "convert", str(delta_path), f"bench.anatomy{index}"]
            spawned = time.time()
            done = subprocess.run(
                [*argv, "--output", "json"], capture_output=True, text=True, env={**os.environ, "DATAX_HOME": home}
            )
            exited = time.time()
            if done.returncode != 0:
                raise SystemExit(f"convert failed:\n{done.stderr[-4000:]}")
            marks = json.loads(done.stderr.rsplit("profile-marks ", 1)[1])
            convert = json.loads(done.stdout)["seconds"]
            runs.append(
                {
                    "process": exited - spawned,
                    "interpreter start-up (to the first line)": marks["entered"] - spawned,
                    "import datax_migrate.cli": marks["imported"] - marks["entered"],
                    "main() outside convert_table (imports, log replay, planning, catalog, output)": marks["returned"]
                    - marks["imported"]
                    - convert,
                    "convert_table (read, cast, write, statistics, commit)": convert,
                    "after main() returns (thread shutdown, exit handlers, os._exit)": exited - marks["returned"],
                }
            )
    return runs


# --- 2. timeline ---------------------------------------------------------------------------------


class PhaseClock:
    """Charges each thread's wall and CPU time to the innermost phase it is in."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        self.threads: dict[str, list[float]] = {}  # thread name -> [first seen, last seen]

    @staticmethod
    def kind() -> str:
        name = threading.current_thread().name
        return "main" if name == "MainThread" else name.rsplit("_", 1)[0]

    def _state(self) -> dict[str, Any]:
        state = getattr(self.local, "state", None)
        if state is None:
            state = self.local.state = {"stack": [], "wall": time.perf_counter(), "cpu": time.thread_time()}
        return state

    def _charge(self, state: dict[str, Any]) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if state["stack"]:
            with self.lock:
                total = self.totals[(self.kind(), state["stack"][-1])]
                total[0] += now - state["wall"]
                total[1] += cpu - state["cpu"]
                seen = self.threads.setdefault(threading.current_thread().name, [now, now])
                seen[1] = now
        state["wall"], state["cpu"] = now, cpu

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        state = self._state()
        self._charge(state)
        state["stack"].append(name)
        try:
            yield
        finally:
            self._charge(state)
            state["stack"].pop()
            with self.lock:
                self.totals[(self.kind(), name)][2] += 1

    def wrap(self, phase: Phase) -> None:
        """Charge the calls of ``phase``'s function (each step of it, for a generator) to ``phase.name``."""
        owner, attribute = resolve(phase)
        name = phase.name
        original = getattr(owner, attribute)
        if isinstance(owner, type) and isinstance(inspect.getattr_static(owner, attribute), classmethod):
            function = original.__func__

            def call_classmethod(cls: Any, *args: Any, **kwargs: Any) -> Any:
                with self.phase(name):
                    return function(cls, *args, **kwargs)

            setattr(owner, attribute, classmethod(call_classmethod))
            return
        if phase.generator:

            def each(*args: Any, **kwargs: Any) -> Iterator[Any]:
                items = original(*args, **kwargs)
                while True:
                    with self.phase(name):
                        try:
                            item = next(items)
                        except StopIteration:
                            return
                    yield item

            setattr(owner, attribute, each)
        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                with self.phase(name):
                    return original(*args, **kwargs)

            setattr(owner, attribute, call)


def import_phase_modules(phases: tuple[Phase, ...]) -> None:
    for module in dict.fromkeys(p.module for p in phases):
        importlib.import_module(module)


def timeline(delta_path: Path) -> dict[str, Any]:
    """The convert command's flow in this process, every phase timed per thread (see the module docstring).

    It follows ``datax_migrate.cli.convert.run_convert`` in a process of its own: the cyclic GC paused until
    the catalog is open, the source opened and reading ahead while the Iceberg side is imported.
    """
    clock = PhaseClock()
    marks: dict[str, float] = {}
    started = time.perf_counter()
    with clock.phase("imports: command line"):
        import_phase_modules((KEEP_FREED_MEMORY,))
    owner, attribute = resolve(KEEP_FREED_MEMORY)
    getattr(owner, attribute)()
    from datax_migrate.lazy import defer_imports

    defer_imports()  # as the program's run() does
    gc.disable()
    with clock.phase("imports: delta side"):
        import_phase_modules(DELTA_PHASES)
    for phase in DELTA_PHASES:
        clock.wrap(phase)
    from datax_migrate.convert.source import ConversionSource

    with clock.phase("open source"):
        source = ConversionSource.open(str(delta_path))
    marks["source opened"] = time.perf_counter() - started
    with clock.phase("start read-ahead"):
        source.start_read_ahead()
    with clock.phase("imports: iceberg side (read-ahead runs meanwhile)"):
        from datax_migrate.lazy import import_pyarrow_dataset_without_pandas

        import_pyarrow_dataset_without_pandas()
        import_phase_modules(ICEBERG_PHASES)
        from datax_migrate.progress import conversion_progress
    for phase in ICEBERG_PHASES:
        clock.wrap(phase)
    from datax_migrate.convert.table import ConvertOptions, convert_table
    from datax_migrate.plan import target as target_module

    with tempfile.TemporaryDirectory(prefix="datax-profile-") as home:
        os.environ["DATAX_HOME"] = home
        try:
            target = target_module.open_target("bench.profile")
            gc.enable()
            marks["catalog opened"] = time.perf_counter() - started
            with clock.phase("convert_table: other"), conversion_progress(target.name.identifier) as progress:
                result = convert_table(
                    source, target.catalog, target.name.identifier, options=ConvertOptions(), progress=progress
                )
        finally:
            source.close()
    marks["committed"] = time.perf_counter() - started
    ordered = sorted(clock.totals.items(), key=lambda item: (item[0][0] != "main", item[0][0], -item[1][0]))
    phases = [
        {"thread": kind, "phase": phase, "wall": v[0], "cpu": v[1], "calls": int(v[2])} for (kind, phase), v in ordered
    ]
    return {
        "marks": marks,
        "phases": phases,
        "threads": {name: {"first": a - started, "last": b - started} for name, (a, b) in clock.threads.items()},
        "groups": len(source.groups),
        "data_files": result.data_files,
        "convert_seconds": result.seconds,
    }


# --- 3. cProfile, serial ---------------------------------------------------------------------------


class SerialEngine:
    """Runs every file-group task on the calling thread, one after another (for cProfile)."""

    def run(self, groups: Any, task: Callable[..., Any], on_done: Callable[..., Any] | None = None) -> list[Any]:
        stop = threading.Event()
        results = []
        for group in groups:
            result = task(group, stop)
            if on_done is not None:
                on_done(group, result)
            results.append(result)
        return results


def serial_profile(delta_path: Path, top: int) -> dict[str, Any]:
    """cProfile of ``convert_table`` with the groups run serially on this thread."""
    from datax_migrate.config import Config
    from datax_migrate.convert.table import convert_table

    with tempfile.TemporaryDirectory(prefix="datax-profile-") as home:
        os.environ["DATAX_HOME"] = home
        catalog = Config.load(None).catalog(None)
        unprofiled = []
        for attempt in range(2):
            started = time.perf_counter()
            convert_table(str(delta_path), catalog, f"bench.unprofiled{attempt}", engine=SerialEngine())
            unprofiled.append(time.perf_counter() - started)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(convert_table, str(delta_path), catalog, "bench.profiled", engine=SerialEngine())
        profiled = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    by_tottime = out.getvalue()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"snapshot|replay|plan_file_groups|batches|_conform|_constant|conform_array|iceberg_schema|partition_plan|"
        r"partition_spec|for_conversion|for_table|_cast|write_all|_flush|observe|close|data_file_statistics|"
        r"from_args|lineage|commit|begin_create|write_table|iter_batches|existing|_ParquetWriter|ParquetFile",
        top,
    )
    return {
        "serial_seconds": unprofiled,
        "profiled_seconds": profiled,
        "by_tottime": by_tottime,
        "cumulative": out.getvalue(),
    }


# --- 4. single-threaded references ------------------------------------------------------------------


def references(delta_path: Path) -> dict[str, float]:
    """Single-threaded costs on the same files: our reader, pyarrow's reader, the floor's rewrite."""
    import pyarrow.parquet as pq

    from datax_migrate.delta.scan import FileReader
    from datax_migrate.delta.table import DeltaTable

    snapshot = DeltaTable(str(delta_path)).snapshot()
    reader = FileReader(snapshot)
    paths = [snapshot.storage.resolve(add.path) for add in snapshot.files]
    out: dict[str, float] = {}

    def timed(label: str, work: Callable[[], None]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        out[label] = time.perf_counter() - wall
        out[label + " (CPU)"] = time.process_time() - cpu

    def ours() -> None:
        for add in snapshot.files:
            for _ in reader.batches(add):
                pass

    def read_table() -> None:
        for path in paths:
            pq.read_table(path, use_threads=False)

    def iter_batches() -> None:
        for path in paths:
            for _ in pq.ParquetFile(path).iter_batches(batch_size=131072, use_threads=False):
                pass

    with tempfile.TemporaryDirectory(prefix="datax-profile-") as scratch:

        def floor() -> None:
            for index, path in enumerate(paths):
                pq.write_table(pq.read_table(path, use_threads=False), f"{scratch}/{index}.parquet", compression="zstd")

        timed("our reader (FileReader.batches), 1 thread", ours)
        timed("pq.ParquetFile.iter_batches(131072), 1 thread", iter_batches)
        timed("pq.read_table(use_threads=False), 1 thread", read_table)
        timed("floor read + write zstd, 1 thread", floor)
    return out


# --- driver ------------------------------------------------------------------------------------------


def _child(mode: str, delta_path: Path, top: int) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", mode, "--path", str(delta_path), "--top", str(top)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"profile child {mode} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, result: dict[str, Any]) -> str:
    lines = [f"# profile of datax-migrate convert on {name}", ""]
    start = result["startup"]
    lines.append("## 1. start-up (median of 5 fresh processes)")
    for label, seconds in start["walls"].items():
        lines.append(f"  {seconds:6.3f} s  {label}")
    lines.append(
        f"  -X importtime of a real convert run: {start['importtime_total']:.3f} s of top-level imports; largest:"
    )
    for seconds, module in start["importtime_top"]:
        lines.append(f"    {seconds:6.3f} s  {module}")
    lines += ["", "## 1b. whole `datax-migrate convert` processes, split (3 runs)"]
    for label in result["anatomy"][0]:
        values = ", ".join(f"{run[label]:.3f}" for run in result["anatomy"])
        lines.append(f"  {values} s  {label}")
    tl = result["timeline"]
    lines += [
        "",
        "## 2. timeline of the convert command, in-process, a writer thread per core (exclusive time per phase)",
    ]
    lines.append(
        f"  source opened at {tl['marks']['source opened']:.3f} s, catalog opened at "
        f"{tl['marks']['catalog opened']:.3f} s, committed at {tl['marks']['committed']:.3f} s "
        f"(after this process's own start-up); {tl['groups']} file groups -> {tl['data_files']} data files; "
        f"convert_table reported {tl['convert_seconds']:.3f} s"
    )
    lines.append(f"  {'thread':<18}{'wall s':>8}{'CPU s':>8}{'calls':>8}  phase")
    for row in tl["phases"]:
        lines.append(f"  {row['thread']:<18}{row['wall']:8.3f}{row['cpu']:8.3f}{row['calls']:8d}  {row['phase']}")
    per_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in tl["phases"]:
        per_kind[row["thread"]][0] += row["wall"]
        per_kind[row["thread"]][1] += row["cpu"]
    for kind, (wall, cpu) in per_kind.items():
        lines.append(f"  total {kind:<12}{wall:8.3f}{cpu:8.3f}")
    lines.append("  threads (first/last phase activity, s after start):")
    for thread, seen in sorted(tl["threads"].items()):
        lines.append(f"    {thread:<22} {seen['first']:7.3f} .. {seen['last']:7.3f}")
    sp = result["serial"]
    lines += [
        "",
        "## 3. cProfile, groups run serially on one thread",
        f"  serial convert_table without profiler: {', '.join(f'{v:.3f}' for v in sp['serial_seconds'])} s; "
        f"with cProfile: {sp['profiled_seconds']:.3f} s",
        sp["by_tottime"],
        sp["cumulative"],
        "## 4. single-threaded references on the same files",
    ]
    for label, seconds in result["references"].items():
        lines.append(f"  {seconds:7.3f} s  {label}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--table", default="partitioned", choices=["partitioned", "unpartitioned"])
    parser.add_argument("--top", type=int, default=25, help="functions listed from the cProfile")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        path = Path(args.path)
        work = {"timeline": timeline, "serial": lambda p: serial_profile(p, args.top), "references": references}
        result = work[args.child](path)
        print(json.dumps(result, default=str))
        return 0
    check_phase_map()
    from tables import bench_table

    table = bench_table(args.table, args.rows)
    result = {
        "startup": startup(table.path),
        "timeline": _child("timeline", table.path, args.top),
        "serial": _child("serial", table.path, args.top),
        "references": _child("references", table.path, args.top),
        "anatomy": process_anatomy(table.path),
    }
    text = report(table.name, result)
    print(text)
    saved = HERE / "data" / f"profile-{table.name}.txt"
    saved.write_text(text + "\n")
    print(f"\nsaved {saved.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
