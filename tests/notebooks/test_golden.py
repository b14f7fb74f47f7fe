"""Golden tests: sample notebooks carry the findings they must produce, inline, as ucx's samples do.

A comment ``expect[code:+N]`` (``#`` in Python and shell, ``--`` in SQL, ``//`` in Scala) says the
finding ``code`` is reported N lines below the comment (``-N`` above, ``+0`` on its line) in the
same cell. Every blocker and review finding must be expected; expected info findings must be
present. Translated SQL must parse in the target dialect and the notebook must be valid nbformat.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import sqlglot

from datax_migrate.findings import Severity
from datax_migrate.notebooks.context import TranslateOptions
from datax_migrate.notebooks.emit import to_ipynb
from datax_migrate.notebooks.formats import read_notebook
from datax_migrate.notebooks.model import Notebook
from datax_migrate.notebooks.paths import Locations
from datax_migrate.notebooks.translate import translate_notebook

SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.*"))
_EXPECT = re.compile(r"expect\[([a-z0-9-]+):([+-]\d+)\]")
SPARK_ONLY = {"liquid-clustering"}
"""Rewrites Athena has no statement for: reported as ``athena-unsupported`` there."""
SPARK_SQL_ONLY = {"change-feed-read", "change-feed-unsupported"}
"""The same, in SQL only (where ``athena-unsupported`` is reported instead; Python reads run on Spark)."""


def expected_findings(notebook: Notebook) -> set[tuple[int, int, str]]:
    expected = set()
    for cell in notebook.cells:
        for number, line in enumerate(cell.source.splitlines(), start=1):
            for code, offset in _EXPECT.findall(line):
                expected.add((cell.index, number + int(offset), code))
    return expected


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
@pytest.mark.parametrize("dialect", ["spark", "athena"])
def test_sample_findings(sample: Path, dialect: str) -> None:
    notebook = read_notebook(sample)
    translated = translate_notebook(notebook, TranslateOptions(Locations(catalog="lake"), dialect=dialect))
    actual = {(f.cell, f.line, f.code) for f in translated.findings}
    needing_person = {(f.cell, f.line, f.code) for f in translated.findings if f.severity is not Severity.INFO}
    expected = expected_findings(notebook)
    if dialect == "athena":
        needing_person = {f for f in needing_person if f[2] != "athena-unsupported"}
        expected = {f for f in expected if f[2] not in SPARK_ONLY}
        athena = {f[:2] for f in actual if f[2] == "athena-unsupported"}
        expected = {f for f in expected if not (f[:2] in athena and f[2] in SPARK_SQL_ONLY)}
    assert needing_person - expected == set(), "reported but not expected"
    assert expected - actual == set(), "expected but not reported"
    document = to_ipynb(translated)
    nbformat.validate(nbformat.from_dict(document))
    for cell in translated.cells:
        if cell.source.startswith("%%sql\n"):
            sqlglot.parse_one(cell.source.split("\n", 1)[1], read=dialect)
