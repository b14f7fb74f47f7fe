"""Every command behaves alike: ``--output text|json``, exit codes in ``--help`` and the README, JSON
that names the command and the version, and quiet exits into a closed pipe."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from datax_migrate import __version__
from datax_migrate.cli import _parser, main
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import table_of_2023

README = Path(__file__).resolve().parents[2] / "README.md"
SHARED_EXIT_CODES = ("2 refused or failed", "130 interrupted", "141 standard output closed", "143 terminated")
CHECKED_UNDER_AWS = {"pending", "emr submit", "benchmark emr"}
"""Commands that need AWS (moto): their JSON is checked by ``aws`` tests (test_s3tables_pending, test_emr_submit,
test_benchmark_emr)."""


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every runnable command of the parser, as its words (``("emr", "submit")``)."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield prefix
        return
    for name, sub in subparsers[0].choices.items():
        yield from leaf_commands(sub, (*prefix, name))


COMMANDS = sorted(" ".join(words) for words in leaf_commands(_parser()))


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command.split(), "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_the_commands_are_the_documented_ones() -> None:
    assert COMMANDS == [
        "assess",
        "benchmark emr",
        "benchmark run",
        "benchmark tpch",
        "convert",
        "demo",
        "emr submit",
        "inventory",
        "names",
        "pending",
        "reconcile",
        "signoff",
        "translate",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_documents_output_and_exit_codes(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(command, capsys)
    assert "--output {text,json}" in text
    assert "one JSON document on stdout whose 'command' and 'version' keys" in text
    epilog = text[text.index("Exit codes: ") :]
    assert epilog.startswith("Exit codes: 0 ")
    assert all(code in epilog for code in SHARED_EXIT_CODES)


def test_readme_table_lists_every_exit_code_of_every_help(capsys: pytest.CaptureFixture[str]) -> None:
    section = README.read_text(encoding="utf-8").split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = {row.split("|")[1].strip().strip("`"): row for row in section.splitlines() if row.startswith("| `")}
    for command in COMMANDS:
        epilog = help_text(command, capsys).split("Exit codes: ", 1)[1]
        for code in re.findall(r"(?:^|, )(\d+) ", epilog):
            assert code in rows, f"exit code {code} of `{command}` is not in the README table"
            if code == "1":
                assert f"`{command}`" in rows[code], f"`{command}` exits 1, and the README's row does not say so"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A Delta table converted into a fresh embedded catalog, reconciled, and inventoried."""
    root = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAX_HOME", str(root / "home"))
        builder = DeltaBuilder(root / "storage" / "sales" / "orders")
        data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
        builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))
        notebook = root / "notebooks" / "orders.py"
        notebook.parent.mkdir()
        notebook.write_text("# Databricks notebook source\ndf = spark.table('main.sales.orders')\n")
        paths = {"table": builder.root, "report": root / "report", "inventory": root / "inventory.json"}
        paths["notebook"] = notebook
        assert main(["convert", str(builder.root), "sales.orders"]) == 0
        assert main(["reconcile", str(builder.root), "sales.orders", "--report-dir", str(paths["report"])]) == 0
        assert main(["inventory", "--storage", str(root / "storage"), "--out", str(paths["inventory"])]) == 0
        yield paths


def benchmark_run(lake: dict[str, Path], tmp: Path) -> list[str]:
    """``benchmark run`` over the lake's table and its conversion, with one query."""
    (tmp / "pairs.yaml").write_text(f"pairs:\n  orders:\n    source: {lake['table']}\n    target: sales.orders\n")
    (tmp / "q.sql").write_text("SELECT count(*) AS n, sum(id) AS total FROM orders")
    return ["benchmark", "run", "--pairs", str(tmp / "pairs.yaml"), "--queries", str(tmp / "q.sql"), "--runs", "1"]


Arguments = Callable[[dict[str, Path], Path], list[str]]
RUNS: dict[str, tuple[Arguments, int, str]] = {
    # command: (its arguments, given the lake and a fresh folder; its exit code; a key of its own JSON)
    "assess": (lambda lake, tmp: ["assess", str(lake["inventory"]), "--report-dir", str(tmp / "a")], 0, "tables"),
    "benchmark run": (benchmark_run, 0, "geomean_ratio"),
    "benchmark tpch": (
        lambda lake, tmp: ["benchmark", "tpch", "--scale", "0.01", "--workdir", str(tmp), "--runs", "1"],
        0,
        "geomean_ratio",
    ),
    "convert": (lambda lake, tmp: ["convert", str(lake["table"]), "sales.orders"], 0, "snapshot_id"),
    "demo": (lambda lake, tmp: ["demo", "--workdir", str(tmp / "demo")], 0, "matches"),
    "inventory": (
        lambda lake, tmp: ["inventory", "--storage", str(lake["table"].parent), "--out", str(tmp / "i.json")],
        0,
        "tables",
    ),
    "names": (lambda lake, tmp: ["names", "main.sales.orders"], 0, "entries"),
    "reconcile": (
        lambda lake, tmp: ["reconcile", str(lake["table"]), "sales.orders", "--report-dir", str(tmp / "r")],
        0,
        "verdict",
    ),
    "signoff": (
        lambda lake, tmp: ["signoff", str(lake["report"]), "--by", "ann", "--ledger", str(tmp / "ledger.jsonl")],
        0,
        "report_sha256",
    ),
    "translate": (lambda lake, tmp: ["translate", str(lake["notebook"]), "--out", str(tmp / "t")], 0, "outcomes"),
}


def test_every_command_has_a_json_run() -> None:
    assert sorted([*RUNS, *CHECKED_UNDER_AWS]) == COMMANDS


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=[pytest.mark.slow] if c in ("demo", "benchmark tpch") else []) for c in sorted(RUNS)],
)
def test_json_output_names_the_command_and_the_version(
    command: str, lake: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments, code, own_key = RUNS[command]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAX_HOME", str(lake["report"].parent / "home"))
        capsys.readouterr()
        assert main([*arguments(lake, tmp_path), "--output", "json"]) == code
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["version"]) == (command, __version__)
    assert own_key in document


def test_signoff_new_key_and_verify_print_json(
    lake: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, ledger = tmp_path / "k.pem", tmp_path / "ledger.jsonl"
    assert main(["signoff", "--new-key", str(key), "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["public_key"]) == ("signoff", f"{key}.pub")
    assert main(["signoff", str(lake["report"]), "--by", "ann", "--key", str(key), "--ledger", str(ledger)]) == 0
    capsys.readouterr()
    assert main(["signoff", "--verify", "--ledger", str(ledger), "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["sign_offs"], document["problems"]) == ("signoff", 1, 0)
    assert document["lines"][0]["status"] == "ok" and document["lines"][0]["entry"]["by"] == "ann"


def test_reconcile_timestamp_resolves_the_version_as_convert_does(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(table_of_2023(tmp_path / "t").root)  # a copied log: commitInfo times 2023, file times now
    assert main(["convert", root, "ns.t", "--timestamp", "2023-07-01", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"]["delta_version"] == 1

    reports = tmp_path / "r"
    arguments = ["reconcile", root, "ns.t", "--timestamp", "2023-07-01", "--report-dir", str(reports)]
    assert main([*arguments, "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["command"], report["verdict"], report["source"]["version"]) == ("reconcile", "match", 1)
    assert json.loads((reports / "report.json").read_text())["source"]["version"] == 1

    # --commit-times is honoured: by file times (the copy's, today) no version is that old
    assert main([*arguments, "--commit-times", "mtime"]) == 2
    assert "by its commit file modification time" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["reconcile", root, "ns.t", "--timestamp", "2023-07-01", "--version", "1"])
    assert exited.value.code == 2 and "not allowed with argument --timestamp" in capsys.readouterr().err

    emitted = ["reconcile", root, "ns.t", "--timestamp", "2023-07-01", "--emit-sql", "trino", "--output", "json"]
    assert main(emitted) == 0
    sql = json.loads(capsys.readouterr().out)
    assert sql["command"] == "reconcile" and sql["dialect"] == "trino" and sql["sql"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "datax_migrate.cli", *args]


PIPED = [
    pytest.param(lambda lake, tmp: ["names", "main.sales.orders"], id="names"),
    pytest.param(lambda lake, tmp: ["convert", str(lake["table"]), "sales.orders"], id="convert"),
    pytest.param(
        lambda lake, tmp: ["reconcile", str(lake["table"]), "sales.orders", "--report-dir", str(tmp / "r")],
        id="reconcile",
    ),
    pytest.param(lambda lake, tmp: ["assess", str(lake["inventory"]), "--report-dir", str(tmp / "a")], id="assess"),
    pytest.param(lambda lake, tmp: ["translate", str(lake["notebook"]), "--out", str(tmp / "t")], id="translate"),
]


@pytest.mark.slow  # one process per command and output: several seconds in all
@pytest.mark.parametrize("arguments", PIPED)
@pytest.mark.parametrize("output", ["json", "text"])
def test_a_closed_pipe_ends_the_command_quietly(
    arguments: Arguments, output: str, lake: dict[str, Path], tmp_path: Path
) -> None:
    env = {**os.environ, "DATAX_HOME": str(lake["report"].parent / "home")}
    command = cli(*arguments(lake, tmp_path), "--output", output)
    # The reader is gone before the command writes (as `| head -1` once it has its line): exit 141, stderr quiet.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Error" not in stderr and "unexpected" not in stderr and "Exception ignored" not in stderr

    # Through a shell: head prints the first line; the command exits 0 (done before head left) or 141.
    shell = f"set -o pipefail; {shlex.join(command)} | head -1"
    piped = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=env, timeout=120)
    assert piped.returncode in (0, 141), piped.stderr
    assert piped.stdout.count("\n") == 1 and "Error" not in piped.stderr and "unexpected" not in piped.stderr
    if output == "json":
        assert piped.stdout == "{\n"
