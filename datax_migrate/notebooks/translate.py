"""Translate notebooks: cells through the magic, Python and SQL rules, then the setup cells on top.

:func:`translate_notebook` is pure (a :class:`~datax_migrate.notebooks.model.Notebook` in, a
:class:`TranslatedNotebook` out); :func:`translate_tree` reads folders, writes ``.ipynb`` files and
reports, and never writes outside its output folder.
"""

from __future__ import annotations

import json
import keyword
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from datax_migrate.errors import TranslateError
from datax_migrate.findings import Finding
from datax_migrate.notebooks.codes import CODES
from datax_migrate.notebooks.constants import Constants
from datax_migrate.notebooks.context import Recorder, TranslateOptions
from datax_migrate.notebooks.limits import ENVIRONMENT, NotebookLimits
from datax_migrate.notebooks.model import Cell, Notebook, NotebookReadFailure, OutputCell, TranslatedNotebook
from datax_migrate.notebooks.outputs import OutputFolder
from datax_migrate.notebooks.python_rules import translate_python
from datax_migrate.notebooks.sql_rules import Statement, translate_sql

if TYPE_CHECKING:
    from datax_migrate.notebooks.report import NotebookOutcome

SUMMARY_JSON = "translation-summary.json"
SUMMARY_MD = "translation-summary.md"
SETUP_TAG = "datax-setup"
"""Tag of the cells the translation adds at the top (imports, parameters, widget binding)."""
_LANGUAGE_MAGICS = {"scala": ("%%scalaspark", "magic-scala"), "r": ("%%rspark", "magic-r")}
_FS_COMMANDS = {"ls", "cp", "mv", "rm", "mkdirs", "head", "put"}


def translate_notebook(notebook: Notebook, options: TranslateOptions | None = None) -> TranslatedNotebook:
    """Translate one notebook.

    A cell that does not parse is kept as it was, with a finding; the other cells are translated.
    """
    rec = Recorder(subject=notebook.path, options=options or TranslateOptions())
    rec.constants = Constants.scan(_python_within_limits(notebook, rec.options.limits))
    body: list[OutputCell] = []
    for cell in notebook.cells:
        rec.cell = cell.index
        body.extend(_translate_cell(cell, notebook.language, rec))
    cells = [*_setup_cells(rec), *body]
    return TranslatedNotebook(
        source=notebook,
        cells=tuple(cells),
        findings=tuple(rec.findings),
        tables=tuple(rec.tables),
        paths=tuple(rec.paths),
        dbutils_calls=tuple(rec.dbutils_calls),
        widgets=tuple(rec.widgets.items()),
        run_dependencies=tuple(rec.run_dependencies),
        magics=tuple(rec.magics),
    )


def _python_within_limits(notebook: Notebook, limits: NotebookLimits) -> list[str]:
    """The Python cells that will be parsed (the limits of :func:`_within_limits`), in order."""
    sources: list[str] = []
    parsed = 0
    for cell in notebook.cells:
        if cell.kind != "code" or cell.language not in ("python", "sql"):
            continue
        size = len(cell.source.encode("utf-8"))
        if _over_limit(size, parsed, limits) is None:
            parsed += size
            if cell.language == "python":
                sources.append(cell.source)
    return sources


def _translate_cell(cell: Cell, default_language: str, rec: Recorder) -> list[OutputCell]:
    if cell.language != default_language:
        rec.magics.setdefault("md" if cell.language == "markdown" else cell.language, None)
    if cell.kind == "markdown":
        return [OutputCell("markdown", cell.source, cell.index)]
    if cell.language in ("python", "sql") and not _within_limits(cell, rec):
        return [OutputCell("code", cell.source if cell.language == "python" else f"%%sql\n{cell.source}", cell.index)]
    if cell.language == "python":
        translated = translate_python(cell.source, rec)
        return [OutputCell("code", cell.source if translated is None else translated, cell.index)]
    if cell.language == "sql":
        return _sql_cell(cell, default_language, rec)
    if cell.language in _LANGUAGE_MAGICS:
        magic, code = _LANGUAGE_MAGICS[cell.language]
        rec.report(code, 1, original=cell.source.split("\n", 1)[0])
        return [OutputCell("code", f"{magic}\n{cell.source}", cell.index)]
    if cell.language == "sh":
        rec.report("magic-sh", 1, original=cell.source.split("\n", 1)[0])
        return [OutputCell("code", f"%%bash\n{cell.source}", cell.index)]
    if cell.language == "pip":
        rec.report("magic-pip", 1, original=cell.source)
        return [OutputCell("code", cell.source, cell.index)]
    if cell.language == "run":
        return _run_cell(cell, rec)
    if cell.language == "fs":
        return _fs_cell(cell, rec)
    rec.report("magic-unknown", 1, cell.language, original=cell.source.split("\n", 1)[0])
    return [OutputCell("raw", cell.source, cell.index)]


def _within_limits(cell: Cell, rec: Recorder) -> bool:
    """Whether a cell may be parsed: under the cell size limit and the notebook's parse budget.

    Reports ``cell-over-limit`` naming the limit when it may not; counts its bytes when it may.
    """
    size = len(cell.source.encode("utf-8"))
    over = _over_limit(size, rec.parsed_bytes, rec.options.limits)
    if over is None:
        rec.parsed_bytes += size
        return True
    rec.report("cell-over-limit", None, over)
    return False


def _over_limit(size: int, parsed: int, limits: NotebookLimits) -> str | None:
    """Which limit a cell of ``size`` bytes passes when ``parsed`` bytes were parsed before it (``None``: none)."""
    if size > limits.cell_bytes:
        return f"{size:,} bytes, over the {limits.cell_bytes:,}-byte cell limit ({ENVIRONMENT['cell_bytes']})"
    if parsed + size > limits.parse_bytes:
        return (
            f"past the {limits.parse_bytes:,} bytes of code parsed per notebook, the notebook limit "
            f"({ENVIRONMENT['parse_bytes']})"
        )
    return None


def _sql_cell(cell: Cell, default_language: str, rec: Recorder) -> list[OutputCell]:
    if default_language != "sql":
        rec.report("magic-sql", 1, original="%sql", replacement="%%sql")
    cells = []
    for statement in translate_sql(cell.source, rec, bind_widgets=True):
        if statement.kind == "raw":
            cells.append(OutputCell("raw", statement.sql, cell.index))
        elif statement.needs_lookup or statement.parameters:
            for part in statement.parts:
                if not isinstance(part, str):
                    rec.imports.setdefault(part.python().split("(", 1)[0], None)
            rec.imports.setdefault("display", None)
            cells.append(
                OutputCell("code", f"display(spark.sql({statement.python()}{_arguments(statement, rec)}))", cell.index)
            )
        elif statement.kind == "sql":
            rec.imports.setdefault("sql_magic", None)
            cells.append(OutputCell("code", f"%%sql\n{statement.sql}", cell.index))
    return cells


def _arguments(statement: Statement, rec: Recorder) -> str:
    """The ``args=`` of ``spark.sql`` binding a statement's parameter markers to their widgets."""
    if not statement.parameters:
        return ""
    rec.imports.setdefault("dbutils", None)
    for name in statement.parameters:
        rec.widgets.setdefault(name, None)
    bound = ", ".join(f"{name!r}: dbutils.widgets.get({name!r})" for name in statement.parameters)
    return f", args={{{bound}}}"


def _run_cell(cell: Cell, rec: Recorder) -> list[OutputCell]:
    try:
        words = shlex.split(cell.source.split("\n", 1)[0])[1:]
    except ValueError:
        words = []
    if not words:
        rec.report("magic-unknown", 1, "run", original=cell.source)
        return [OutputCell("raw", cell.source, cell.index)]
    target = words[0]
    rec.run_dependencies.setdefault(target, None)
    rec.imports.setdefault("include_notebook", None)
    code = f"include_notebook({_notebook_file(target)!r}, globals())"
    rec.report("magic-run", 1, original=cell.source, replacement=code)
    return [OutputCell("code", code, cell.index)]


def _fs_cell(cell: Cell, rec: Recorder) -> list[OutputCell]:
    try:
        words = shlex.split(cell.source.split("\n", 1)[0])[1:]
    except ValueError:
        words = []
    command, arguments = (words[0], words[1:]) if words else ("", [])
    flags = [a for a in arguments if a.startswith("-")]
    arguments = [a for a in arguments if not a.startswith("-")]
    if command not in _FS_COMMANDS or not arguments:
        rec.report("magic-unknown", 1, "fs " + command, original=cell.source)
        return [OutputCell("raw", cell.source, cell.index)]
    call_arguments = ", ".join(repr(a) for a in arguments)
    if flags and command in ("rm", "cp", "mv"):
        call_arguments += ", True"
    code = f"display(dbutils.fs.{command}({call_arguments}))"
    rec.report("magic-fs", 1, original=cell.source, replacement=code)
    translated = translate_python(code, rec)
    return [OutputCell("code", translated or code, cell.index)]


def _notebook_file(target: str) -> str:
    """The translated notebook a Databricks notebook path refers to (``./x`` -> ``./x.ipynb``)."""
    return target if target.endswith(".ipynb") else f"{target}.ipynb"


def _setup_cells(rec: Recorder) -> list[OutputCell]:
    if not rec.imports and not rec.widgets:
        return []
    compat = sorted(n for n in rec.imports if ":" not in n and n != "sql_magic")
    if rec.widgets and "dbutils" not in compat:
        compat = sorted([*compat, "dbutils"])
    lines = [f"from {module} import {name}" for module, name in sorted(n.split(":") for n in rec.imports if ":" in n)]
    lines.append(f"from datax_migrate.compat import {', '.join(compat)}" if compat else "import datax_migrate.compat")
    if "sql_magic" in rec.imports and compat:
        lines[-1] += "  # also registers %%sql outside EMR"
    cells = [OutputCell("code", "\n".join(lines), None, (SETUP_TAG,))]
    if rec.widgets:
        variables = {name: _variable(name, index) for index, name in enumerate(rec.widgets)}
        assignments = [f"{variables[name]} = {default!r}" for name, default in rec.widgets.items()]
        cells.append(OutputCell("code", "\n".join(assignments), None, ("parameters", SETUP_TAG)))
        bound = ", ".join(f"{name!r}: {variables[name]}" for name in rec.widgets)
        cells.append(OutputCell("code", f"dbutils.widgets.bind({{{bound}}})", None, (SETUP_TAG,)))
    return cells


def _variable(widget: str, index: int) -> str:
    """A Python variable name for a widget (papermill parameters are variables)."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in widget)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"widget_{index}_{name}"
    return name


def translate_tree(sources: list[Path], out: Path, options: TranslateOptions | None = None) -> list[NotebookOutcome]:
    """Translate every notebook under ``sources`` into ``out``, keeping the folder structure.

    Each notebook ``a/b.py`` becomes ``out/a/b.ipynb`` with ``out/a/b.report.json`` and
    ``out/a/b.report.md``; ``out/translation-summary.json`` and ``.md`` cover the run. Files and
    archive entries that cannot be read are reported and skipped. Nothing is written outside ``out``,
    and nothing through a symbolic link inside it (see :mod:`~datax_migrate.notebooks.outputs`): a
    notebook whose outputs meet one gets an ``output-refused`` finding.

    Raises:
        TranslateError: a source does not exist, there is no notebook in the sources (nothing is
            written then), or a run summary file is a symbolic link.
    """
    from datax_migrate.notebooks.emit import to_ipynb
    from datax_migrate.notebooks.formats import iter_notebooks
    from datax_migrate.notebooks.report import (
        NotebookOutcome,
        notebook_markdown,
        notebook_report,
        run_markdown,
        run_report,
    )

    for source in sources:
        if not source.exists():
            raise TranslateError(f"{source} does not exist: give notebook files or folders")
    folder = OutputFolder(out)
    summaries = [folder.root / SUMMARY_JSON, folder.root / SUMMARY_MD]
    for path in summaries:
        if folder.link_at(path):
            raise TranslateError(f"{path} is a symbolic link: not written through; remove it or choose another --out")
    outcomes: list[NotebookOutcome] = []
    written: set[Path] = set()
    skipped: list[str] = []
    for source in sources:
        for item in iter_notebooks(
            source, (options or TranslateOptions()).limits, lambda path, _: skipped.append(path)
        ):
            if isinstance(item, NotebookReadFailure):
                outcomes.append(NotebookOutcome(item.path, None, (_unreadable(item.path, item.reason, item.code),)))
                continue
            stem = item.path.rsplit(".", 1)[0] if "." in item.path.rsplit("/", 1)[-1] else item.path
            target = folder.path(f"{stem}.ipynb")
            refusal = _refusal(folder, target, written)
            if target is None or refusal:
                outcomes.append(NotebookOutcome(item.path, None, (_unreadable(item.path, refusal, "output-refused"),)))
                continue
            written.add(target)
            translated = translate_notebook(item, options)
            relative = target.relative_to(folder.root).as_posix()
            report = notebook_report(translated, relative)
            try:
                folder.write(target, json.dumps(to_ipynb(translated), indent=1, ensure_ascii=False) + "\n")
                folder.write(target.with_suffix(".report.json"), json.dumps(report, indent=2) + "\n")
                folder.write(target.with_suffix(".report.md"), notebook_markdown(report))
            except OSError as exc:  # a folder, or a link made since the check, where a file goes
                reason = f"cannot write {relative} or its reports ({exc.strerror or exc})"
                outcomes.append(NotebookOutcome(item.path, None, (_unreadable(item.path, reason, "output-refused"),)))
                continue
            outcomes.append(NotebookOutcome(item.path, relative, translated.findings))
    if not outcomes:
        raise TranslateError(_nothing_found(sources, skipped))
    summary = run_report(outcomes)
    try:
        folder.write(summaries[0], json.dumps(summary, indent=2) + "\n")
        folder.write(summaries[1], run_markdown(summary))
    except OSError as exc:
        raise TranslateError(f"cannot write the run summary in {folder.root}: {exc.strerror or exc}") from None
    return outcomes


def _nothing_found(sources: list[Path], skipped: list[str]) -> str:
    """The one-line reason a run found no notebook."""
    where = ", ".join(str(s) for s in sources)
    files = f"{len(skipped)} file(s) not notebooks (e.g. {skipped[0]})" if skipped else "no files"
    return (
        f"no notebooks in {where}: {files}; expected Databricks SOURCE exports (.py, .sql, .scala, .r with the "
        "'Databricks notebook source' header), .ipynb, .dbc or .zip exports"
    )


def _refusal(folder: OutputFolder, target: Path | None, written: set[Path]) -> str:
    """Why a notebook's outputs must not be written at ``target`` (its ``.ipynb``), or ``""``."""
    if target is None:
        return "its output would leave the output folder"
    if target in written:
        return f"another notebook was already written to {target.relative_to(folder.root).as_posix()}"
    for path in (target, target.with_suffix(".report.json"), target.with_suffix(".report.md")):
        link = folder.link_at(path)
        if link:
            return f"{link} in the output folder is a symbolic link; not written through"
    return ""


def _unreadable(path: str, reason: str, code: str = "notebook-unreadable") -> Finding:
    severity, template = CODES[code]
    return Finding(code, severity, template.format(detail=reason), subject=path)
