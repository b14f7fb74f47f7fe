"""Results of the convert benchmark and their rendering into docs/benchmarks.md.

The document is regenerated on every run: a fixed header, a targets summary, then one section per
row count with one block per table kind. Each block carries its results as JSON in an HTML comment,
so blocks of sizes and kinds not measured in this run are kept (and counted in the targets summary),
and the targets summary always reflects every block. Text between ``<!-- notes -->`` and
``<!-- /notes -->`` is kept as written, and so are the sections other benchmarks generate (between
``<!-- section NAME -->`` and ``<!-- /section NAME -->``, see :func:`replace_section`), after the
convert part.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TIME_TARGETS = {"partitioned": 1.25, "unpartitioned": 1.15}
RSS_LIMIT_MB = 1000.0
RSS_LIMIT_ROWS = 20_000_000
RSS_GROWTH_LIMIT = 1.25  # peak RSS at 20M rows over peak RSS at 5M rows that still counts as "not growing"

JOB_LABELS = {
    "floor": ("floor", "pyarrow `read_table` + `write_table({codec})` per file, 2 threads; in-process, after imports"),
    "ours": ("ours", "the whole `datax-migrate convert` process, start to exit"),
    "pyiceberg": (
        "naive pyiceberg",
        "deltalake `to_pyarrow_table` + SQL catalog `create_table` + `append`; in-process, after imports",
    ),
}

_BLOCK = re.compile(r"<!-- convert rows=(\d+) table=(\w+) -->\n.*?<!-- data (.*?) -->\n<!-- /convert -->", re.S)
_NOTES = re.compile(r"<!-- notes -->\n(.*?)<!-- /notes -->", re.S)
_SECTION = re.compile(r"<!-- section (\w+) -->\n.*?<!-- /section \1 -->\n", re.S)


@dataclass(frozen=True)
class JobResult:
    """One job on one table over all its runs."""

    job: str
    seconds: tuple[float, ...]
    process_seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...]
    peak_rss_mb: float
    sampled_peak_rss_mb: float
    others_cpu_seconds: float
    stolen_cpu_seconds: float
    output_files: int | None = None
    output_bytes: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        """Median of the timed runs."""
        return statistics.median(self.seconds)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        """A job as stored in the document (JSON lists back to tuples)."""
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


@dataclass(frozen=True)
class TableResult:
    """Every job on one benchmark table, with what is needed to reproduce and judge it."""

    kind: str
    rows: int
    delta_files: int
    delta_bytes: int
    delta_commits: int
    measured_at: str
    command: str
    repeat: int
    machine: dict[str, str]
    fingerprint: dict[str, Any]
    jobs: tuple[JobResult, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    def job(self, name: str) -> JobResult | None:
        """The result of job ``name``, if it ran."""
        return next((j for j in self.jobs if j.job == name), None)

    def median_of(self, name: str) -> float:
        """Median seconds of job ``name``, which must have run."""
        job = self.job(name)
        assert job is not None, name
        return job.median

    def ratio(self, name: str) -> float | None:
        """Median seconds of job ``name`` over the floor's."""
        job, floor = self.job(name), self.job("floor")
        return job.median / floor.median if job and floor else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as stored in the document."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableResult:
        """Inverse of :meth:`to_dict`."""
        jobs = tuple(JobResult.from_dict(job) for job in data["jobs"])
        return cls(**{**data, "jobs": jobs})


def _ours(result: TableResult) -> JobResult:
    ours = result.job("ours")
    assert ours is not None
    return ours


def process_ratio(result: TableResult) -> float:
    """Whole-process wall time of ours over the floor's whole process."""
    ours, floor = result.job("ours"), result.job("floor")
    assert ours is not None and floor is not None
    return statistics.median(ours.process_seconds) / statistics.median(floor.process_seconds)


def console_table(result: TableResult) -> str:
    """A plain-text table of one table's results, for the terminal."""
    header = f"{'job':<16}{'seconds':>9}{'x floor':>9}{'process s':>11}{'CPU s':>8}{'peak RSS MB':>13}  wrote"
    lines = [header]
    for job in result.jobs:
        lines.append(
            f"{JOB_LABELS[job.job][0]:<16}{job.median:>9.2f}{result.ratio(job.job) or 0:>9.2f}"
            f"{statistics.median(job.process_seconds):>11.2f}{statistics.median(job.cpu_seconds):>8.1f}"
            f"{job.peak_rss_mb:>13.0f}  {_wrote(job)}"
        )
    for name, reason in result.skipped.items():
        lines.append(f"{JOB_LABELS[name][0]:<16}  skipped: {reason}")
    if result.job("ours") and result.job("floor"):
        lines.append(f"ours / floor, whole process to whole process: {process_ratio(result):.2f}x")
    return "\n".join(lines)


def update_document(path: Path, results: list[TableResult]) -> None:
    """Write ``results`` into the document at ``path``, keeping other sizes' and kinds' blocks and the notes."""
    text = path.read_text() if path.exists() else ""
    blocks = {(int(m[1]), m[2]): TableResult.from_dict(json.loads(m[3])) for m in _BLOCK.finditer(text)}
    for result in results:
        blocks[(result.rows, result.kind)] = result
    notes = _NOTES.search(text)
    sections = "".join("\n" + m[0] for m in _SECTION.finditer(text))
    path.write_text(render_document(list(blocks.values()), notes[1] if notes else "") + sections)


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the generated section ``name`` set to ``body`` (appended if it is not there yet).

    The convert part of the document is regenerated around such sections and keeps them as they are.
    """
    section = f"<!-- section {name} -->\n{body.rstrip()}\n<!-- /section {name} -->\n"
    for match in _SECTION.finditer(text):
        if match[1] == name:
            return text[: match.start()] + section + text[match.end() :]
    return text.rstrip("\n") + "\n\n" + section if text.strip() else section


def render_document(results: list[TableResult], notes: str) -> str:
    """The whole document."""
    kept = [notes.rstrip("\n")] if notes.strip() else []
    lines = [_HEADER.rstrip("\n"), "", "<!-- notes -->", *kept, "<!-- /notes -->", ""]
    lines += _targets(results)
    for rows in sorted({r.rows for r in results}):
        lines += [f"## {rows:,} rows", ""]
        for result in sorted((r for r in results if r.rows == rows), key=lambda r: r.kind):
            lines += _block(result)
    return "\n".join(lines).rstrip("\n") + "\n"


def _targets(results: list[TableResult]) -> list[str]:
    lines = ["## Targets", "", "| target | table | measured | verdict |", "|---|---|---|---|"]
    for result in sorted(results, key=lambda r: (r.kind, r.rows)):
        ratio = result.ratio("ours")
        if ratio is None:
            continue
        target = TIME_TARGETS[result.kind]
        lines.append(
            f"| {result.kind}: ours <= {target}x the floor | {_size(result)} | {ratio:.2f}x "
            f"({_ours(result).median:.2f} s vs {result.median_of('floor'):.2f} s) | {_verdict(ratio <= target)} |"
        )
    big = [r for r in results if r.rows >= RSS_LIMIT_ROWS and r.job("ours")]
    rss_target = f"peak RSS of ours <= {RSS_LIMIT_MB:,.0f} MB at {RSS_LIMIT_ROWS:,} rows"
    for result in sorted(big, key=lambda r: (r.kind, r.rows)):
        peak = _ours(result).peak_rss_mb
        lines.append(
            f"| {rss_target} | {result.kind}, {_size(result)} | {peak:,.0f} MB | {_verdict(peak <= RSS_LIMIT_MB)} |"
        )
    if not big:
        lines.append(f"| {rss_target} | - | not measured | - |")
    by_kind: dict[str, list[TableResult]] = {}
    for result in results:
        if result.job("ours"):
            by_kind.setdefault(result.kind, []).append(result)
    for kind, sized in sorted(by_kind.items()):
        if len(sized) < 2:
            continue
        small, large = min(sized, key=lambda r: r.rows), max(sized, key=lambda r: r.rows)
        a, b = _ours(small).peak_rss_mb, _ours(large).peak_rss_mb
        lines.append(
            f"| peak RSS of ours not growing with table size (x{RSS_GROWTH_LIMIT} allowed for "
            f"x{large.rows // small.rows} rows) | {kind} | {small.rows // 1_000_000}M: {a:,.0f} MB, "
            f"{large.rows // 1_000_000}M: {b:,.0f} MB ({b / a:.2f}x) | {_verdict(b <= a * RSS_GROWTH_LIMIT)} |"
        )
    return [*lines, ""]


def _block(result: TableResult) -> list[str]:
    m = result.machine
    fp = result.fingerprint
    repeat = "1 run per job" if result.repeat == 1 else f"median of {result.repeat} runs per job"
    lines = [
        f"<!-- convert rows={result.rows} table={result.kind} -->",
        f"### {result.kind}, {result.rows:,} rows",
        "",
        f"Source: {result.delta_files:,} Delta data files, {result.delta_bytes / 1e6:,.1f} MB, "
        f"{result.delta_commits} commits"
        + (" (partitioned by `country, tx_date`)." if result.kind == "partitioned" else " (not partitioned)."),
        f"Measured {result.measured_at} ({repeat}) with `{result.command}` "
        f"on {m['cpus']} cores ({m['cpu_model']}), {m['ram']} RAM, {m['kernel']}; Python {m['python']}, "
        f"pyarrow {m['pyarrow']}, pyiceberg {m['pyiceberg']}, deltalake {m['deltalake']}; "
        f"datax-migrate at {m['commit']}.",
        "",
        "| job | what is timed | seconds | x floor | runs | process wall s | CPU s | peak RSS MB | wrote |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for job in result.jobs:
        label, timed = JOB_LABELS[job.job]
        timed = timed.format(codec=job.detail.get("codec", "zstd"))  # blocks measured before it was recorded: zstd
        runs = ", ".join(f"{s:.2f}" for s in job.seconds)
        lines.append(
            f"| {label} | {timed} | {job.median:.2f} | {result.ratio(job.job):.2f} | {runs} "
            f"| {statistics.median(job.process_seconds):.2f} | {statistics.median(job.cpu_seconds):.1f} "
            f"| {job.peak_rss_mb:,.0f} | {_wrote(job)} |"
        )
    for name, reason in result.skipped.items():
        lines.append(f"| {JOB_LABELS[name][0]} | skipped: {reason} | | | | | | | |")
    lines.append("")
    ratio = result.ratio("ours")
    if ratio is not None:
        target = TIME_TARGETS[result.kind]
        lines.append(f"Ours / floor = **{ratio:.2f}x**: {_verdict(ratio <= target)} (target <= {target}x).")
        lines.append(
            f"Process to process (the floor's process also starts Python, imports pyarrow and deltalake and lists "
            f"the files): ours / floor = {process_ratio(result):.2f}x."
        )
    details = [_detail(job) for job in result.jobs if job.detail]
    lines += [
        *[d for d in details if d],
        f"Every result verified against the Delta source read by deltalake: {fp['rows']:,} rows, "
        f"sum(id) = {fp['sum_id']:,}, sum(amount) = {fp['sum_amount']:,.2f} (within 1e-6), rows per country "
        f"({', '.join(f'{c} {n:,}' for c, n in fp['rows_per_country'])}).",
        f"CPU used by other processes during the runs: at most {max(j.others_cpu_seconds for j in result.jobs):.2f} s; "
        f"stolen by the hypervisor: at most {max(j.stolen_cpu_seconds for j in result.jobs):.2f} s. Peak RSS is "
        f"the process's `ru_maxrss` (psutil sampling every 50 ms saw at most "
        f"{', '.join(f'{JOB_LABELS[j.job][0]} {j.sampled_peak_rss_mb:,.0f} MB' for j in result.jobs)}).",
        "",
        "<!-- data " + json.dumps(result.to_dict()).replace("--", "-\\u002d") + " -->",
        "<!-- /convert -->",
        "",
    ]
    return lines


def _detail(job: JobResult) -> str:
    d = job.detail
    if job.job == "ours" and "convert_seconds" in d:
        layout = d.get("spec") or ["unpartitioned"]
        return (
            f"Ours, as reported by the CLI: `convert_table` took {statistics.median(d['convert_seconds']):.2f} s "
            f"of the process (the rest: interpreter start-up, imports, log replay, planning, opening the catalog, "
            f"interpreter exit); "
            f"Iceberg spec {', '.join(layout)}."
        )
    if job.job == "pyiceberg" and "read_seconds" in d:
        return (
            f"Naive pyiceberg: the deltalake read took {statistics.median(d['read_seconds']):.2f} s of it; "
            f"Iceberg spec {', '.join(d.get('spec') or ['unpartitioned'])}."
        )
    return ""


def _wrote(job: JobResult) -> str:
    if job.output_files is None or job.output_bytes is None:
        return "-"
    files = "1 file" if job.output_files == 1 else f"{job.output_files:,} files"
    return f"{files}, {job.output_bytes / 1e6:,.1f} MB"


def _size(result: TableResult) -> str:
    return f"{result.rows // 1_000_000}M rows"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


_HEADER = """# Benchmarks

<!-- Generated by benchmarks/convert_benchmark.py, the reconcile section by benchmarks/reconcile_benchmark.py;
     only the notes sections are kept as written. -->

## Convert: Delta to Iceberg

`python benchmarks/convert_benchmark.py [--rows 5000000|20000000] [--tables
partitioned,unpartitioned] [--repeat N] [--skip-pyiceberg | --with-pyiceberg]` generates (once, into
the git-ignored `benchmarks/data/`) the convert benchmark tables of ARCHITECTURE.md: rows `id
bigint, account int, amount double, ts timestamp (UTC), tx_date date, country string (7 values),
memo string, flag boolean`, `ts` spread over 30 days and `tx_date` its date, written by
`deltalake.write_deltalake` in 1M-row appends (seeded, deterministic), either partitioned by
`country, tx_date` (210 files per append) or not partitioned (one file per append). It then times,
one process at a time:

- **floor**: every active Delta data file read with `pyarrow.parquet.read_table` and written to a
  temporary folder with `write_table(compression=...)` and the codec our conversion writes by default
  (`ParquetSettings().compression`, snappy; blocks measured before the default changed say zstd), on
  a pool of 2 threads: the least work any rewrite must do. Timed inside its process, after the imports.
- **ours**: the whole `datax-migrate convert <delta path> bench.<name> --output json` process with
  `DATAX_HOME` set to a fresh temporary folder (embedded SQLite catalog and file warehouse), from
  spawn to exit: interpreter start-up, imports, log replay, planning, conversion and commit (the
  package byte-compiled first, as `pip install` leaves it; see `benchmarks/harness.py:cli_path`).
- **naive pyiceberg**: `deltalake.DeltaTable(path).to_pyarrow_table()`, a pyiceberg SQL catalog
  (SQLite + file warehouse in a temporary folder), `create_table` with the same partitioning
  (identity on `country` and `tx_date`, or none) and `table.append`. Timed inside its process, after
  the imports. Skipped by default above 5M rows (it holds the whole table in memory).

"x floor" is the job's seconds over the floor's. Every job also gets its whole-process wall time,
CPU time (user + system) and peak RSS (`ru_maxrss` of that one process, from `wait4` in a small
wrapper). Before a table's runs its files are read once so every job finds them in the page cache;
after each job the page cache is synced so no job pays for the previous one's writeback. Runs are
interleaved, the job order reversed every other round: a job run right after the floor was measured
slower, whatever the job, so no job always follows the same one. Each
converted table (ours and naive pyiceberg) is read back by field id (`datax_migrate.iceberg.read`,
on pyiceberg's file planning) and compared with the Delta source read by deltalake (row count,
sum(id), sum(amount) within 1e-6 relative, rows per country); the floor's output row count is
checked too. Any difference fails the run and nothing is written here.

`python benchmarks/profile_convert.py [--rows N] [--table partitioned|unpartitioned]` shows where the
time of ours goes: start-up and imports, a per-thread timeline of the phases, a cProfile, and
single-threaded references on the same files.
"""
