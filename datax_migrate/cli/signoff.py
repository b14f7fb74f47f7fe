"""The ``signoff`` command: sign off a reconcile report (or a plan's wave) in the ledger, or verify the ledger."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from datax_migrate.cli.common import EXIT_DIFFERENCES, EXIT_OK, add_common_options, exit_codes, print_json
from datax_migrate.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the signoff command to ``commands``."""
    signoff = commands.add_parser(
        "signoff",
        help="sign off a reconciliation report (or every matched table of a plan's wave) in the append-only ledger, "
        "or --verify the ledger",
        epilog=exit_codes(
            "0 signed off (with --plan: every table of the wave that was reconciled), key pair written, or every "
            "sign-off verified",
            "1 --verify found a changed report, an edited ledger or a wrong signature; with --plan, tables of the "
            "wave are left unsigned (mismatches without --accept-differences, or not reconciled yet)",
        ),
    )
    signoff.add_argument("report_dir", metavar="REPORT_DIR", nargs="?", help="the folder `reconcile` wrote")
    signoff.add_argument(
        "--plan", metavar="PLAN_DIR", help="sign off every MATCHED table of a wave of this plan (with --wave)"
    )
    signoff.add_argument("--wave", metavar="N", type=int, help="the wave of --plan to sign off")
    signoff.add_argument("--by", metavar="NAME", help="who signs off")
    signoff.add_argument("--note", metavar="TEXT", help="a free-text note kept with the sign-off")
    signoff.add_argument(
        "--accept-differences", metavar="REASON", help="sign off a mismatch, saying why its differences are acceptable"
    )
    signoff.add_argument("--ledger", metavar="FILE", help="the ledger (default: $DATAX_HOME/signoffs.jsonl)")
    signoff.add_argument(
        "--again", action="store_true", help="sign off a report the ledger holds a sign-off of already"
    )
    signoff.add_argument(
        "--verify", action="store_true", help="check every sign-off: the ledger's hash chain and the signed reports"
    )
    signoff.add_argument("--key", metavar="FILE", help="sign the entry with this Ed25519 private key (PEM)")
    signoff.add_argument(
        "--new-key", metavar="FILE", help="write a new Ed25519 key pair: FILE (private) and FILE.pub, mode 0600"
    )
    signoff.add_argument(
        "--expect-pub",
        metavar="FILE",
        help="with --verify: every entry must be signed by this public key (FILE.pub of --new-key)",
    )
    add_common_options(signoff)
    signoff.set_defaults(run=run_signoff)


def run_signoff(args: argparse.Namespace) -> int:
    """Run ``signoff``: sign off a report, write a key pair, or verify the ledger."""
    from pathlib import Path

    from datax_migrate.reconcile.signoff.ledger import (
        CUTOVER,
        describe_sign_off,
        new_key,
        sign_off,
        signed_off_before,
        verify,
    )
    from datax_migrate.words import plural

    ledger = Path(args.ledger) if args.ledger else None
    if args.plan is not None or args.wave is not None:
        return _run_wave_signoff(args, ledger)
    if args.new_key:
        if args.report_dir or args.by or args.verify:
            raise ConfigError("--new-key only writes a key pair: give no REPORT_DIR, --by or --verify with it")
        signer = new_key(Path(args.new_key))
        if args.output == "json":
            print_json(args, {"private_key": args.new_key, "public_key": f"{args.new_key}.pub", "signer": signer})
        else:
            print(f"wrote the private key {args.new_key} and the public key {args.new_key}.pub (key {signer})")
        return EXIT_OK
    if args.expect_pub and not args.verify:
        raise ConfigError("--expect-pub goes with --verify")
    if args.verify:
        if args.report_dir or args.by or args.key:
            raise ConfigError("--verify checks the whole ledger: give no REPORT_DIR, --by or --key with it")
        results = verify(ledger, Path(args.expect_pub) if args.expect_pub else None)
        broken = sum(not r.ok for r in results)
        if args.output == "json":
            lines = [{**asdict(r), "status": r.status.value} for r in results]
            print_json(args, {"sign_offs": len(results), "problems": broken, "lines": lines})
            return EXIT_DIFFERENCES if broken else EXIT_OK
        for result in results:
            table = result.entry.table if result.entry else "?"
            verb = "cut over" if result.entry and result.entry.kind == CUTOVER else "signed"
            by = f" {verb} by {result.entry.by} at {result.entry.at}" if result.entry else ""
            if result.entry and result.entry.signer and not args.expect_pub:
                by += f" (key {result.entry.signer}, not checked: give --expect-pub)"
            detail = f": {result.detail}" if result.detail else ""
            print(f"line {result.line}: {result.status.value:<14} {table}{by}{detail}")
        last = f"; last line sha256 {results[-1].line_sha256}" if results else ""
        print(f"{plural(len(results), 'sign-off')}, {broken} with problems{last}")
        return EXIT_DIFFERENCES if broken else EXIT_OK
    if not args.report_dir or not args.by:
        raise ConfigError("signoff needs REPORT_DIR and --by NAME (or --verify)")
    key = Path(args.key) if args.key else None
    earlier = signed_off_before(Path(args.report_dir), ledger) if args.again else None
    if earlier is not None:
        print(f"warning: signing off again: signed off before ({describe_sign_off(*earlier, ledger)})", file=sys.stderr)
    entry = sign_off(Path(args.report_dir), args.by, args.note, args.accept_differences, ledger, key, args.again)
    if args.output == "json":
        print_json(args, asdict(entry))
        return EXIT_OK
    signed = f"; signed with key {entry.signer}" if entry.signer else ""
    print(
        f"signed off: {entry.table} ({entry.verdict}, Delta version {entry.delta_version}, "
        f"snapshot {entry.snapshot_id}) by {entry.by} at {entry.at}; report sha256 {entry.report_sha256}{signed}"
    )
    return EXIT_OK


def _run_wave_signoff(args: argparse.Namespace, ledger: Path | None) -> int:
    """``signoff --plan PLAN_DIR --wave N``: sign off the wave's reconciled tables, list what is left."""
    from datax_migrate.estate.signoff import sign_off_wave
    from datax_migrate.words import plural

    if args.plan is None or args.wave is None:
        raise ConfigError("a wave sign-off needs both --plan PLAN_DIR and --wave N")
    if args.report_dir or args.verify or args.new_key or args.again:
        raise ConfigError("--plan signs off a wave: give no REPORT_DIR, --verify, --new-key or --again with it")
    if not args.by:
        raise ConfigError("signoff --plan needs --by NAME")
    key = Path(args.key) if args.key else None
    result = sign_off_wave(Path(args.plan), args.wave, args.by, args.note, args.accept_differences, ledger, key)
    code = EXIT_DIFFERENCES if result.left else EXIT_OK
    if args.output == "json":
        print_json(args, result.to_dict())
        return code
    for signed in result.signed:
        again = " (already in the sign-off ledger)" if signed.resumed else ""
        print(f"signed off: {signed.table} ({signed.verdict}){again}; report {signed.report_dir}")
    for left in result.left:
        print(f"not signed off: {left.table}: {left.why}")
    print(
        f"wave {result.wave}: {plural(len(result.signed), 'table')} signed off by {args.by}, "
        f"{len(result.left)} left, {result.already} signed off before"
    )
    return code
