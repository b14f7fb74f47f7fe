"""Signed sign-offs: Ed25519 keys, verification against a pinned public key, forgeries that must fail."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.errors import SignoffError
from datax_migrate.reconcile.reports import write_reports
from datax_migrate.reconcile.signoff.ledger import VerifyStatus, new_key, sign_off, verify
from tests.support.sample_reports import match_report, mismatch_report


@pytest.fixture
def reports(tmp_path: Path) -> list[Path]:
    write_reports(match_report(), tmp_path / "match")
    write_reports(mismatch_report(), tmp_path / "mismatch")
    return [tmp_path / "match", tmp_path / "mismatch"]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger" / "signoffs.jsonl"


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "ann.pem"
    path.parent.mkdir()
    new_key(path)
    return path


def pub(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


def sign_three(reports: list[Path], ledger: Path, key: Path) -> list[str]:
    sign_off(reports[0], "ann", ledger=ledger, key=key)
    sign_off(reports[1], "ann", None, "known rounding", ledger, key)
    sign_off(reports[0], "ann", note="again", ledger=ledger, key=key, again=True)
    return ledger.read_text(encoding="utf-8").splitlines()


def rechain(lines: list[str]) -> str:
    """``lines`` with every ``previous`` recomputed: the SHA-256 chain made consistent again, as a forger would."""
    out, previous = [], None
    for line in lines:
        document = json.loads(line)
        document["previous"] = previous
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        out.append(text)
        previous = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return "\n".join(out) + "\n"


def test_new_key_writes_a_private_and_a_public_key_readable_by_the_owner_only(key: Path) -> None:
    for path in (key, pub(key)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub(key).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(SignoffError, match="exists already"):
        new_key(key)


def test_signed_entries_verify_against_the_pinned_key_and_hold_no_key(
    reports: list[Path], ledger: Path, key: Path
) -> None:
    lines = sign_three(reports, ledger, key)
    results = verify(ledger, pub(key))
    assert [r.status for r in results] == [VerifyStatus.OK] * 3
    signer = results[0].entry.signer if results[0].entry else None
    assert signer is not None and signer.startswith("sha256:")
    key_text = "".join(key.read_text().splitlines()[1:-1])
    pub_text = "".join(pub(key).read_text().splitlines()[1:-1])
    for line in lines:
        assert key_text not in line and pub_text not in line


def test_an_edited_and_rechained_ledger_passes_the_hash_chain_but_not_the_signatures(
    reports: list[Path], ledger: Path, key: Path
) -> None:
    lines = sign_three(reports, ledger, key)
    forged = [lines[0].replace('"by":"ann"', '"by":"eve"'), *lines[1:]]
    ledger.write_text(rechain(forged), encoding="utf-8")

    assert [r.status for r in verify(ledger)] == [VerifyStatus.OK] * 3  # the chain alone cannot tell
    results = verify(ledger, pub(key))
    assert [r.status for r in results] == [VerifyStatus.BAD_SIGNATURE] * 3

    dropped = [lines[0], lines[2]]  # a sign-off removed, the chain mended
    ledger.write_text(rechain(dropped), encoding="utf-8")
    assert [r.status for r in verify(ledger, pub(key))] == [VerifyStatus.OK, VerifyStatus.BAD_SIGNATURE]


def test_entries_signed_by_another_key_or_unsigned_fail_with_the_pinned_key(
    reports: list[Path], ledger: Path, key: Path, tmp_path: Path
) -> None:
    sign_off(reports[0], "ann", ledger=ledger, key=key)
    forger = tmp_path / "eve.pem"
    new_key(forger)
    sign_off(reports[0], "ann", ledger=ledger, key=forger, again=True)
    sign_off(reports[0], "ann", ledger=ledger, again=True)
    results = verify(ledger, pub(key))
    assert [r.status for r in results] == [VerifyStatus.OK, VerifyStatus.UNSIGNED, VerifyStatus.UNSIGNED]
    assert "another key" in results[1].detail and "not signed" in results[2].detail
    assert [r.status for r in verify(ledger)] == [VerifyStatus.OK] * 3  # without a pinned key: the chain only

    lines = ledger.read_text(encoding="utf-8").splitlines()
    resigned = json.loads(lines[1])
    resigned["signer"] = json.loads(lines[0])["signer"]  # claims the pinned key, keeps the forger's signature
    ledger.write_text("\n".join([lines[0], json.dumps(resigned, separators=(",", ":"))]) + "\n", encoding="utf-8")
    assert [r.status for r in verify(ledger, pub(key))] == [VerifyStatus.OK, VerifyStatus.BAD_SIGNATURE]


def test_signoff_commands_make_a_key_sign_and_verify_naming_the_line(
    reports: list[Path], ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "signer.pem"
    assert main(["signoff", "--new-key", str(key)]) == 0
    made = capsys.readouterr().out
    assert str(key) in made and "sha256:" in made and "BEGIN" not in made
    common = ["--ledger", str(ledger), "--key", str(key)]
    assert main(["signoff", str(reports[0]), "--by", "ann", *common]) == 0
    assert "signed with key sha256:" in capsys.readouterr().out
    assert main(["signoff", str(reports[0]), "--by", "bob", "--ledger", str(ledger), "--again"]) == 0
    capsys.readouterr()

    assert main(["signoff", "--verify", "--ledger", str(ledger)]) == 0
    capsys.readouterr()
    assert main(["signoff", "--verify", "--ledger", str(ledger), "--expect-pub", str(pub(key))]) == 1
    out = capsys.readouterr().out
    assert "line 1: ok" in out and "line 2: unsigned" in out and "1 with problems" in out

    assert main(["signoff", "--verify", "--ledger", str(ledger), "--expect-pub", str(key)]) == 2
    assert "not a PEM public key" in capsys.readouterr().err
    assert main(["signoff", str(reports[0]), "--by", "cy", "--ledger", str(ledger), "--key", str(pub(key))]) == 2
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
    assert main(["signoff", str(reports[0]), "--by", "cy", "--expect-pub", str(pub(key))]) == 2
