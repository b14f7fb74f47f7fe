"""Results of the reconcile benchmark and their rendering into the reconcile section of docs/benchmarks.md.

The section (between ``<!-- section reconcile -->`` and ``<!-- /section reconcile -->``, which the
convert benchmark keeps as it is) is regenerated on every run: a fixed introduction, notes kept as
written (between ``<!-- reconcile-notes -->`` and ``<!-- /reconcile-notes -->``), a targets table,
then one block per row count. Each block carries its results as JSON in an HTML comment, so sizes not
measured in this run are kept and still counted in the targets table.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from report import JobResult, replace_section

SECTION = "reconcile"
SCAN_RATIO_TARGET = 2.0
SCAN_RATIO_ROWS = 5_000_000
DATACOMPY_SPEEDUP_TARGET = 2.5
DATACOMPY_MEMORY_SHARE = 1 / 3
DATACOMPY_REFERENCE = {"polars": (6.0, 2800.0), "pandas": (59.7, 3400.0)}  # seconds, peak RSS MB, from the issue
RSS_LIMIT_MB = 1500.0
RSS_LIMIT_ROWS = 20_000_000
DATACOMPY_JOBS = ("polars", "pandas")

JOB_LABELS = {
    "scan": (
        "scan",
        "pyarrow `pq.read_table` of every data file of both sides, default threads; in-process, after "
        "imports and file listing",
    ),
    "ours": ("ours", "the whole `datax-migrate reconcile --key id` process on the pair without differences"),
    "ours_changed": ("ours, 1 changed cell", "the same, on the pair with one changed cell"),
    "polars": (
        "datacompy PolarsCompare",
        "load both sides whole + `PolarsCompare(join_columns='id')` + `matches()`; in-process, after imports",
    ),
    "pandas": (
        "datacompy PandasCompare",
        "load both sides whole + `PandasCompare(join_columns='id')` + `matches()`; in-process, after imports",
    ),
}

_BLOCK = re.compile(r"<!-- reconcile rows=(\d+) -->\n.*?<!-- data (.*?) -->\n<!-- /reconcile -->", re.S)
_NOTES = re.compile(r"<!-- reconcile-notes -->\n(.*?)<!-- /reconcile-notes -->", re.S)
_SECTION_TEXT = re.compile(r"<!-- section reconcile -->\n(.*?)<!-- /section reconcile -->", re.S)


@dataclass(frozen=True)
class ReconcileResult:
    """Every job on one pair size, with what is needed to reproduce and judge it."""

    rows: int
    delta_files: int
    delta_bytes: int
    iceberg_files: int
    iceberg_bytes: int
    base_version: int
    changed_version: int
    changed: dict[str, Any]
    measured_at: str
    command: str
    repeat: int
    machine: dict[str, str]
    jobs: tuple[JobResult, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    def job(self, name: str) -> JobResult | None:
        """The result of job ``name``, if it ran."""
        return next((j for j in self.jobs if j.job == name), None)

    def ratio(self, name: str) -> float | None:
        """Median seconds of job ``name`` over the scan's."""
        job, scan = self.job(name), self.job("scan")
        return job.median / scan.median if job and scan else None

    def process_ratio(self, name: str) -> float | None:
        """Median whole-process wall time of job ``name`` over the scan's whole process."""
        job, scan = self.job(name), self.job("scan")
        if not job or not scan:
            return None
        return statistics.median(job.process_seconds) / statistics.median(scan.process_seconds)

    def in_process_ratio(self, name: str) -> float | None:
        """Median seconds job ``name``'s report.json gives its reconciliation, over the scan's (both after imports)."""
        job, scan = self.job(name), self.job("scan")
        if not job or not scan or "report_seconds" not in job.detail:
            return None
        return _median(job.detail["report_seconds"]) / scan.median

    def fastest_datacompy(self) -> JobResult | None:
        """The datacompy class with the lowest median, among those that ran."""
        ran = [job for name in DATACOMPY_JOBS if (job := self.job(name))]
        return min(ran, key=lambda job: job.median) if ran else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as stored in the document."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReconcileResult:
        """Inverse of :meth:`to_dict`."""
        jobs = tuple(JobResult.from_dict(job) for job in data["jobs"])
        return cls(**{**data, "jobs": jobs})


def console_table(result: ReconcileResult) -> str:
    """A plain-text table of one size's results, for the terminal."""
    lines = [f"{'job':<26}{'seconds':>9}{'x scan':>8}{'process s':>11}{'CPU s':>8}{'peak RSS MB':>13}  found"]
    for job in result.jobs:
        lines.append(
            f"{JOB_LABELS[job.job][0]:<26}{job.median:>9.2f}{result.ratio(job.job) or 0:>8.2f}"
            f"{statistics.median(job.process_seconds):>11.2f}{statistics.median(job.cpu_seconds):>8.1f}"
            f"{job.peak_rss_mb:>13,.0f}  {_found(job)}"
        )
    for name, reason in result.skipped.items():
        lines.append(f"{JOB_LABELS[name][0]:<26}  skipped: {reason}")
    return "\n".join(lines)


def update_document(path: Path, results: list[ReconcileResult]) -> None:
    """Write ``results`` into the reconcile section of ``path``, keeping other sizes' blocks, the notes, the rest."""
    text = path.read_text() if path.exists() else ""
    current = _SECTION_TEXT.search(text)
    section = current[1] if current else ""
    blocks = {int(m[1]): ReconcileResult.from_dict(json.loads(m[2])) for m in _BLOCK.finditer(section)}
    for result in results:
        blocks[result.rows] = result
    notes = _NOTES.search(section)
    path.write_text(replace_section(text, SECTION, render_section(list(blocks.values()), notes[1] if notes else "")))


def render_section(results: list[ReconcileResult], notes: str) -> str:
    """The whole reconcile section, without its markers."""
    lines = [_INTRO.rstrip("\n"), "", "<!-- reconcile-notes -->"]
    if notes.strip():
        lines.append(notes.rstrip("\n"))
    lines += ["<!-- /reconcile-notes -->", ""]
    lines += _targets(results)
    for result in sorted(results, key=lambda r: r.rows):
        lines += _block(result)
    return "\n".join(lines).rstrip("\n") + "\n"


def target_verdicts(results: list[ReconcileResult]) -> list[tuple[str, str, str, bool | None]]:
    """Every target as ``(target, pair, measured, met)``; ``met`` is ``None`` when it was not measured."""
    rows: list[tuple[str, str, str, bool | None]] = []
    by_rows = {r.rows: r for r in results}
    small = by_rows.get(SCAN_RATIO_ROWS)
    scan_target = f"no differences, all checks: ours <= {SCAN_RATIO_TARGET:g}x the scan of both sides"
    if small and (ratio := small.ratio("ours")) is not None:
        ours, scan = small.job("ours"), small.job("scan")
        assert ours and scan
        inside = small.in_process_ratio("ours")
        rows.append(
            (
                scan_target,
                _size(small),
                f"{ratio:.2f}x ({ours.median:.2f} s vs {scan.median:.2f} s); process to process "
                f"{small.process_ratio('ours'):.2f}x"
                + (f"; in-process (report.json seconds vs the scan's) {inside:.2f}x" if inside else ""),
                ratio <= SCAN_RATIO_TARGET,
            )
        )
    else:
        rows.append((scan_target, _size_of(SCAN_RATIO_ROWS), "not measured", None))
    rows += _datacompy_targets(small)
    found_target = "one changed cell: found, reported with its key and column, in the same run"
    if small and (changed := small.job("ours_changed")):
        found = changed.detail.get("found", False)
        rows.append((found_target, _size(small), _found(changed), bool(found)))
    else:
        rows.append((found_target, _size_of(SCAN_RATIO_ROWS), "not measured", None))
    rss_target = f"peak RSS of ours <= {RSS_LIMIT_MB:,.0f} MB (1.5 GB)"
    big = by_rows.get(RSS_LIMIT_ROWS)
    ours_big = [j for j in (big.job("ours"), big.job("ours_changed")) if j] if big else []
    if big and ours_big:
        peak = max(j.peak_rss_mb for j in ours_big)
        measured = ", ".join(f"{JOB_LABELS[j.job][0]} {j.peak_rss_mb:,.0f} MB" for j in ours_big)
        rows.append((rss_target, _size(big), measured, peak <= RSS_LIMIT_MB))
    else:
        rows.append((rss_target, _size_of(RSS_LIMIT_ROWS), "not measured", None))
    return rows


def _datacompy_targets(small: ReconcileResult | None) -> list[tuple[str, str, str, bool | None]]:
    target = (
        f"same verdict as datacompy's fastest class, >= {DATACOMPY_SPEEDUP_TARGET:g}x faster, "
        f"<= 1/{round(1 / DATACOMPY_MEMORY_SHARE)} of its peak RSS"
    )
    ours = small.job("ours") if small else None
    fastest = small.fastest_datacompy() if small else None
    if not small or not ours:
        return [(target, _size_of(SCAN_RATIO_ROWS), "not measured", None)]
    rows: list[tuple[str, str, str, bool | None]] = []
    same = ours.detail.get("verdict") == "match"
    if fastest:
        same = same and fastest.detail.get("matches") is True
        speedup, share = fastest.median / ours.median, ours.peak_rss_mb / fastest.peak_rss_mb
        rows.append(
            (
                target + " (measured here)",
                _size(small),
                f"{JOB_LABELS[fastest.job][0]} {fastest.median:.2f} s, {fastest.peak_rss_mb:,.0f} MB, "
                f"matches() {fastest.detail.get('matches')}; ours {ours.median:.2f} s, {ours.peak_rss_mb:,.0f} MB, "
                f"verdict {ours.detail.get('verdict')}: **{speedup:.2f}x faster, {share:.2f} of its RSS**",
                same and speedup >= DATACOMPY_SPEEDUP_TARGET and share <= DATACOMPY_MEMORY_SHARE,
            )
        )
    else:
        rows.append((target + " (measured here)", _size(small), "datacompy not run", None))
    seconds, rss = min(DATACOMPY_REFERENCE.values())
    speedup, share = seconds / ours.median, ours.peak_rss_mb / rss
    rows.append(
        (
            target + " (the issue's figures: PolarsCompare 6.0 s, 2.8 GB)",
            _size(small),
            f"ours {ours.median:.2f} s, {ours.peak_rss_mb:,.0f} MB: **{speedup:.2f}x faster, {share:.2f} of its RSS**",
            ours.detail.get("verdict") == "match"
            and speedup >= DATACOMPY_SPEEDUP_TARGET
            and share <= DATACOMPY_MEMORY_SHARE,
        )
    )
    return rows


def _targets(results: list[ReconcileResult]) -> list[str]:
    lines = ["### Reconcile targets", "", "| target | pair | measured | verdict |", "|---|---|---|---|"]
    for target, pair, measured, met in target_verdicts(results):
        lines.append(f"| {target} | {pair} | {measured} | {'-' if met is None else _verdict(met)} |")
    return [*lines, ""]


def _block(result: ReconcileResult) -> list[str]:
    m = result.machine
    repeat = "1 run per job" if result.repeat == 1 else f"median of {result.repeat} runs per job"
    c = result.changed
    lines = [
        f"<!-- reconcile rows={result.rows} -->",
        f"### Reconcile, {result.rows:,} rows",
        "",
        f"Pair: Delta version {result.base_version} ({result.delta_files} data files, {result.delta_bytes / 1e6:,.1f} "
        f"MB) and its Iceberg twin ({result.iceberg_files} data files, {result.iceberg_bytes / 1e6:,.1f} MB); changed "
        f"cell: Delta version {result.changed_version}, `{c['column']}` of `id = {c['id']}` {c['from']} -> {c['to']}.",
        f"Measured {result.measured_at} ({repeat}) with `{result.command}` on {m['cpus']} cores ({m['cpu_model']}), "
        f"{m['ram']} RAM, {m['kernel']}; Python {m['python']}, pyarrow {m['pyarrow']}, pyiceberg {m['pyiceberg']}, "
        f"deltalake {m['deltalake']}, datacompy {m.get('datacompy', '?')}, polars {m.get('polars', '?')}, pandas "
        f"{m.get('pandas', '?')}; datax-migrate at {m['commit']}.",
        "",
        "| job | what is timed | seconds | x scan | runs | process wall s | CPU s | peak RSS MB | found |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for job in result.jobs:
        label, timed = JOB_LABELS[job.job]
        runs = ", ".join(f"{s:.2f}" for s in job.seconds)
        lines.append(
            f"| {label} | {timed} | {job.median:.2f} | {result.ratio(job.job):.2f} | {runs} "
            f"| {statistics.median(job.process_seconds):.2f} | {statistics.median(job.cpu_seconds):.1f} "
            f"| {job.peak_rss_mb:,.0f} | {_found(job)} |"
        )
    for name, reason in result.skipped.items():
        lines.append(f"| {JOB_LABELS[name][0]} | skipped: {reason} | | | | | | | |")
    lines.append("")
    lines += [d for job in result.jobs if (d := _detail(job))]
    noise = max(j.others_cpu_seconds for j in result.jobs), max(j.stolen_cpu_seconds for j in result.jobs)
    lines += [
        f"CPU used by other processes during the runs: at most {noise[0]:.2f} s; stolen by the hypervisor: at most "
        f"{noise[1]:.2f} s. Peak RSS is the process's `ru_maxrss` (psutil sampling every 50 ms saw at most "
        f"{', '.join(f'{JOB_LABELS[j.job][0]} {j.sampled_peak_rss_mb:,.0f} MB' for j in result.jobs)}).",
        "",
        "<!-- data " + json.dumps(result.to_dict()).replace("--", "-\\u002d") + " -->",
        "<!-- /reconcile -->",
        "",
    ]
    return lines


def _detail(job: JobResult) -> str:
    d = job.detail
    if job.job == "scan" and "list_seconds" in d:
        return (
            f"Scan: Delta side {_median(d['delta_seconds']):.2f} s, "
            f"Iceberg side {_median(d['iceberg_seconds']):.2f} s; "
            f"listing the files (Delta log, Iceberg catalog and manifests, not in its seconds) "
            f"{_median(d['list_seconds']):.2f} s."
        )
    if job.job in ("ours", "ours_changed") and "report_seconds" in d:
        parts = ", ".join(f"{name} {_median(d[key]):.2f} s" for name, key in _OURS_PARTS if key in d)
        return (
            f"{JOB_LABELS[job.job][0].capitalize()}, as its report.json says: {_median(d['report_seconds']):.2f} s "
            f"for the reconciliation ({parts}); the rest of the process is interpreter start-up, imports and report "
            f"writing. Checks: {d.get('checks', '?')}."
        )
    if job.job in DATACOMPY_JOBS and "load_seconds" in d:
        reference = DATACOMPY_REFERENCE[job.job]
        return (
            f"{JOB_LABELS[job.job][0]}: loading both sides {_median(d['load_seconds']):.2f} s, the compare "
            f"{_median(d['compare_seconds']):.2f} s, `matches()` {_median(d['matches_seconds']):.2f} s; "
            f"`matches()` = {d.get('matches')}. (The issue measured it elsewhere at {reference[0]} s total, "
            f"{reference[1] / 1000:.1f} GB.)"
        )
    return ""


_OURS_PARTS = (
    ("the scan of both sides", "scan_seconds"),
    ("of which finding repeated key hashes, per side", "repeat_search_seconds"),
    ("the row diff", "row_diff_seconds"),
    ("the unique-keys check after the scan", "unique_keys_seconds"),
)


def _found(job: JobResult) -> str:
    d = job.detail
    if job.job in ("ours", "ours_changed"):
        differences = d.get("differences") or []
        shown = "; ".join(
            f"{x['kind']} {json.dumps(x['key'])} `{x['column']}` {x['source']} -> {x['target']}"
            for x in differences[:3]
        )
        return f"verdict {d.get('verdict')}, {d.get('differences_total', 0)} difference(s)" + (
            f": {shown}" if shown else ""
        )
    if job.job in DATACOMPY_JOBS:
        return f"matches() {d.get('matches')}"
    if job.job == "scan":
        return f"{d.get('rows', '?'):,} + {d.get('rows', '?'):,} rows" if isinstance(d.get("rows"), int) else "-"
    return "-"


def _median(values: Any) -> float:
    return statistics.median(values) if isinstance(values, list) else float(values)


def _size(result: ReconcileResult) -> str:
    return _size_of(result.rows)


def _size_of(rows: int) -> str:
    return f"{rows // 1_000_000}M rows"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


_INTRO = """## Reconcile: Delta against Iceberg

`python benchmarks/reconcile_benchmark.py [--rows 5000000|20000000] [--repeat N] [--with-pandas]
[--with-datacompy]` generates (once, into the git-ignored `benchmarks/data/`) the reconcile benchmark
pair of ARCHITECTURE.md: rows `id bigint, customer int, amount decimal(18,2), rate double, booked
timestamp (UTC, spread over 2024), currency string (5 values), note string` (NULL for every 17th `id`,
else a short text), written unpartitioned by `deltalake.write_deltalake` in 1M-row appends (seeded,
deterministic); its last append version converted by our CLI (`datax-migrate convert --version N`)
into an embedded catalog of its own, the *Iceberg twin*; then one more Delta version, made with
deltalake `DeltaTable.update`, that adds one cent to `amount` of the one row `id = 3141592` (deltalake
rewrites the 1M-row file that holds it; the twin is not touched). So the twin against the Delta
version it was converted from is a pair **without differences**, and against the updated version a pair
with **exactly one changed cell** (the generator checks both, reading the two versions back). It then
times, one process at a time:

- **scan**: every data file of both sides (the Delta version's active files from
  `DeltaTable.file_uris()`, the twin's from pyiceberg `scan().plan_files()`) read with
  `pyarrow.parquet.read_table` (default threads), one file after another, Delta side then Iceberg
  side: the least work any check that reads every value must do. Timed inside its process after the
  imports and after listing the files; both sides summed.
- **ours**: the whole `datax-migrate reconcile <delta path> bench.reconcile_<n>m --key id --version
  <N> --report-dir <tmp>` process with `DATAX_HOME` set to the twin's catalog home, from spawn to
  exit: interpreter start-up, imports, every check (schema, row count, aggregates, bucketed
  checksums, unique keys, and the keyed row diff when a checksum differs) and writing the reports.
  Its exit code and `report.json` are checked: exit 0 and verdict `match` with no differences on the
  pair without differences; exit 1, verdict `mismatch` and a `cell` difference with key `{"id":
  3141592}` and column `amount` on the changed pair; on both, the `unique_keys` check passes (every
  `id` occurs once); else the run fails.
- **datacompy PolarsCompare**: the Delta version by deltalake `to_pyarrow_table()`, the twin by
  pyiceberg `scan().to_arrow()`, both into polars (`polars.from_arrow`), then
  `PolarsCompare(delta, iceberg, join_columns="id")` and `matches()`; on the pair without
  differences (its `matches()` must be `True`: the same verdict as ours). Timed inside its process,
  after the imports: load + compare + `matches()` (no `report()`). Skipped by default above 5M rows:
  it holds both sides and their join in memory (run it with `--with-datacompy`).
- **datacompy PandasCompare**: the same with pandas frames (`to_pandas()`); only with
  `--with-pandas` (about a minute per run).

"x scan" is the job's seconds over the scan's; the targets table also gives the ratio of whole
processes and the in-process ratio (the seconds ours' `report.json` gives the reconciliation, after
imports, over the scan's). Every job also gets its whole-process wall time, CPU
time (user + system) and peak RSS (`ru_maxrss` of that one process, from `wait4` in a small
wrapper). Before a size's runs every file of both sides is read once so every job finds them in the
page cache; runs are interleaved (each round runs every job once, in the order given and reversed
every other round, so no job always follows the same one) and the median is reported.
"""
