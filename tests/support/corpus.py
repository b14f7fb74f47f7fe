"""The Delta corpus (golden tables of delta-rs and Delta Acceptance Tests) and its expected contents."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CORPUS_ENV = "DATAX_DELTA_CORPUS"


def corpus_root() -> Path | None:
    """The Delta corpus: $DATAX_DELTA_CORPUS, else ../shared/delta-corpus beside the project."""
    candidates = [os.environ.get(CORPUS_ENV), Path(__file__).resolve().parents[3] / "shared" / "delta-corpus"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "golden").is_dir():
            return Path(candidate)
    return None


ROOT = corpus_root()
"""The corpus folder, or None when it is absent (its tests then skip)."""
GOLDEN = sorted(p.name for p in (ROOT / "golden").iterdir()) if ROOT else []
DAT = sorted(p.name for p in (ROOT / "dat").iterdir()) if ROOT else []
CASES = [("golden", name) for name in GOLDEN] + [("dat", name) for name in DAT]
PARTITIONED = ("golden", "dv-partitioned-with-checkpoint")


def expected_table(kind: str, name: str, version: str = "latest") -> pa.Table:
    assert ROOT is not None
    if kind == "golden":
        files = sorted((ROOT / "golden" / name / "expected").rglob("*.parquet"))
    else:
        files = [ROOT / "dat" / name / "expected" / version / "table_content.parquet"]
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def source(corpus: Path, case: tuple[str, str]) -> str:
    return str(corpus / case[0] / case[1] / "delta")
