"""Wave sign-off: every reconciled table of a wave signed off in the sign-off ledger, and SIGNED_OFF in the run ledger.

Each table's report folder (``PLAN_DIR/<report_path>``) gets one entry in the hash-chained sign-off
ledger (:func:`datax_migrate.reconcile.signoff.ledger.sign_off`), then the table is marked
SIGNED_OFF in the plan's run ledger. A run interrupted between the two is finished by the next: a
report the sign-off ledger holds already is not signed twice, its table is only marked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datax_migrate.errors import ConfigError, SignoffError
from datax_migrate.estate.ledger import Ledger, TableRecord
from datax_migrate.reconcile.signoff.ledger import LedgerEntry, sign_off, signed_off_before

NOT_MIGRATED = ("SKIPPED", "BLOCKED")
"""States of tables the plan does not move: nothing to sign off."""


@dataclass(frozen=True)
class SignedTable:
    """A table signed off by this run.

    Attributes:
        table: ``catalog.namespace.table``.
        verdict: the report's verdict (``match`` or ``mismatch``).
        report_dir: the report folder signed off.
        by: who signed it off.
        at: when (ISO-8601 UTC).
        resumed: the sign-off ledger held this report already (an interrupted run): only the run
            ledger was brought in step.

    """

    table: str
    verdict: str
    report_dir: str
    by: str
    at: str
    resumed: bool


@dataclass(frozen=True)
class LeftTable:
    """A table of the wave left unsigned, and why."""

    table: str
    state: str
    why: str


@dataclass(frozen=True)
class WaveSignoff:
    """What a wave sign-off did.

    Attributes:
        plan_dir: the plan folder.
        wave: the wave.
        signed: the tables signed off now.
        left: the tables left unsigned: mismatches without accepted differences, tables not
            reconciled yet, reports that cannot be signed off.
        already: tables signed off before this run.
        not_migrated: skipped and blocked tables (nothing to sign off).

    """

    plan_dir: str
    wave: int
    signed: tuple[SignedTable, ...]
    left: tuple[LeftTable, ...]
    already: int
    not_migrated: int

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return asdict(self)


def sign_off_wave(
    plan_dir: Path,
    wave: int,
    by: str,
    note: str | None = None,
    accept_differences: str | None = None,
    ledger: Path | None = None,
    key: Path | None = None,
) -> WaveSignoff:
    """Sign off every MATCHED table of ``wave`` (and every MISMATCHED one given ``accept_differences``).

    Args:
        plan_dir: the plan folder.
        wave: the wave.
        by: who signs off.
        note: a free-text note kept with each sign-off.
        accept_differences: why the differences of the wave's mismatches are acceptable; without
            it mismatches are left unsigned (and listed).
        ledger: the sign-off ledger (default ``$DATAX_HOME/signoffs.jsonl``).
        key: an Ed25519 private key (PEM) that signs each entry.

    Raises:
        ConfigError: the run ledger holds no table of ``wave``.
        SignoffError: ``by`` is empty, or the key or the sign-off ledger cannot be used.

    """
    if not by.strip():
        raise SignoffError("say who signs off: --by NAME")
    reason = (accept_differences or "").strip() or None
    run_ledger = Ledger.open(plan_dir)
    try:
        records = run_ledger.records(wave)
        if not records:
            raise ConfigError(
                f"wave {wave} has no tables in the run ledger of {plan_dir}: run `datax-migrate migrate {plan_dir} "
                f"--wave {wave}` first"
            )
        signed: list[SignedTable] = []
        left: list[LeftTable] = []
        for record in records:
            if record.state in ("SIGNED_OFF", *NOT_MIGRATED):
                continue
            name = f"{record.catalog}.{record.target}"
            why = _not_signable(record, reason)
            if why is None:
                try:
                    signed.append(_sign(record, plan_dir, by, note, reason, ledger, key))
                    run_ledger.mark_signed_off(record.catalog, record.target, signed[-1].by, signed[-1].at)
                    continue
                except SignoffError as exc:
                    if str((plan_dir / str(record.report_path)).resolve()) not in str(exc):
                        raise  # not about this table's report (the key, the ledger): the same for every table
                    why = str(exc)
            left.append(LeftTable(name, record.state, why))
    finally:
        run_ledger.close()
    return WaveSignoff(
        plan_dir=str(plan_dir),
        wave=wave,
        signed=tuple(signed),
        left=tuple(left),
        already=sum(r.state == "SIGNED_OFF" for r in records),
        not_migrated=sum(r.state in NOT_MIGRATED for r in records),
    )


def _not_signable(record: TableRecord, accept_differences: str | None) -> str | None:
    """Why ``record`` cannot be signed off now, or ``None``."""
    if record.state == "MISMATCHED" and accept_differences is None:
        return (
            f"MISMATCHED: its report ({record.report_path}) lists the differences; to sign it off anyway, say why "
            'they are acceptable with --accept-differences "reason"'
        )
    if record.state not in ("MATCHED", "MISMATCHED"):
        detail = f" ({record.reason})" if record.reason else ""
        return f"{record.state}{detail}: not reconciled yet"
    if not record.report_path:
        return f"{record.state}, but the run ledger names no report folder: rerun `migrate` for it"
    return None


def _sign(
    record: TableRecord,
    plan_dir: Path,
    by: str,
    note: str | None,
    accept_differences: str | None,
    ledger: Path | None,
    key: Path | None,
) -> SignedTable:
    report_dir = plan_dir / str(record.report_path)
    earlier = signed_off_before(report_dir, ledger)
    entry: LedgerEntry
    if earlier is not None:
        entry = earlier[1]
    else:
        reason = accept_differences if record.state == "MISMATCHED" else None
        entry = sign_off(report_dir, by, note, reason, ledger, key)
    name = f"{record.catalog}.{record.target}"
    return SignedTable(name, entry.verdict, entry.report_dir, entry.by, entry.at, resumed=earlier is not None)
