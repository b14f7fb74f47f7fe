"""Every finding code the assessment can emit is documented in docs/reference/findings.md."""

from __future__ import annotations

import re
from pathlib import Path

import datax_migrate.assess.assessment as assessment
import datax_migrate.assess.rules as rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "findings.md"


def test_every_code_is_documented_in_the_tables_and_jobs_section() -> None:
    text = DOCS.read_text()
    section = text.split("## Tables and jobs (inventory and assessment)")[1].split("\n## ")[0]
    documented = set(re.findall(r"`([a-z][a-z0-9-]*)`", section))
    emitted = set()
    for module in (rules, assessment):
        source = Path(module.__file__ or "").read_text()
        emitted |= set(re.findall(r'Finding\(\s*"([a-z0-9-]+)"', source))
        emitted |= set(re.findall(r'^\s+"([a-z]+(?:-[a-z0-9]+)+)",\n\s+Severity\.', source, re.MULTILINE))
    emitted |= {"column-mapping-name", "column-mapping-id"}  # built from the mode
    assert emitted - documented == set()
    assert len(emitted) >= 25
