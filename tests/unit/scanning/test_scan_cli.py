"""The standalone CLI: report formats, SARIF schema validity, exit codes, parallel jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pickle_factory as pf
import pytest
import typer
from typer.testing import CliRunner

from airlock.scanning.engine.cli import app, scan_command

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "evil.pkl").write_bytes(pf.os_system_v4())
    (tmp_path / "ref.pkl").write_bytes(pf.unknown_reference_only())
    (tmp_path / "ok.pkl").write_bytes(pf.allowlisted_call())
    return tmp_path


def test_json_output_is_one_object_with_files_and_summary(files):
    result = runner.invoke(app, ["--format", "json", str(files)])
    assert result.exit_code == 1  # evil.pkl is block
    doc = json.loads(result.stdout)
    assert set(doc) == {"files", "summary"}
    assert {f["verdict"] for f in doc["files"]} == {"block", "review", "pass"}
    assert doc["summary"]["verdicts"] == {"pass": 1, "review": 1, "block": 1}
    f = next(f for f in doc["files"] if f["verdict"] == "block")
    assert {"path", "verdict", "format", "findings"} <= set(f)
    assert f["findings"][0]["evidence"]["global"] == "os.system"


def test_sarif_output_validates_against_the_official_schema(files, tmp_path):
    out = tmp_path / "out.sarif"
    result = runner.invoke(app, ["--format", "sarif", "--output", str(out), str(files)])
    assert result.exit_code == 1
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["version"] == "2.1.0"
    assert {r["level"] for r in log["runs"][0]["results"]} == {"error", "warning"}


@pytest.mark.parametrize(
    ("fail_on", "code"), [("block", 1), ("review", 1), (None, 1), ("never", 0)]
)
def test_fail_on_sets_the_exit_code(files, fail_on, code):
    args = ["--format", "json", str(files)] + (["--fail-on", fail_on] if fail_on else [])
    assert runner.invoke(app, args).exit_code == code


def test_fail_on_review_passes_on_clean_files(files):
    assert runner.invoke(app, ["--fail-on", "review", str(files / "ok.pkl")]).exit_code == 0
    assert runner.invoke(app, ["--fail-on", "block", str(files / "ref.pkl")]).exit_code == 0
    assert runner.invoke(app, [str(files / "ref.pkl")]).exit_code == 0  # review only


def test_a_blocked_file_exits_1_by_default_like_picklescan(files):
    assert runner.invoke(app, ["--format", "json", str(files / "sub")]).exit_code == 1


def test_a_scanner_error_exits_2_unless_a_file_is_blocked(files, tmp_path):
    fifo = tmp_path / "pipe.pkl"
    os.mkfifo(fifo)  # not a regular file: the scanner reports AIR-ERR-001 for it
    result = runner.invoke(app, ["--format", "json", str(fifo), str(files / "ok.pkl")])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["files"][0]["findings"][0]["rule_id"] == "AIR-ERR-001"
    blocked = runner.invoke(app, ["--format", "json", str(fifo), str(files / "sub")])
    assert blocked.exit_code == 1
    assert runner.invoke(app, ["--fail-on", "never", str(fifo)]).exit_code == 2


def test_the_airlock_script_scans_without_importing_typer_or_rich(files):
    code = (
        "import sys; sys.argv = ['airlock', 'scan', '--format', 'json', sys.argv[1]]\n"
        "from airlock.cli.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "heavy = sorted(m for m in ('typer', 'rich', 'click', 'fastapi', 'sqlalchemy') "
        "if m in sys.modules)\n"
        "print('STATUS', status, 'HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(files)], capture_output=True, text=True, check=False
    )
    assert "STATUS 1 HEAVY []" in proc.stderr
    assert json.loads(proc.stdout)["summary"]["files"] == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml", "x"],
        ["--fail-on", "maybe", "x"],
        ["/no/such/file"],
        [],
        ["--jobs", "0", "x"],
    ],
)
def test_usage_errors_exit_2(files, args):
    args = [str(files) if a == "x" else a for a in args]
    assert runner.invoke(app, args).exit_code == 2


def test_text_report_names_verdicts_and_rules(files):
    result = runner.invoke(app, [str(files)])
    assert "BLOCK" in result.stdout and "AIR-PKL-001" in result.stdout


def test_parallel_jobs_give_the_same_verdicts(files):
    one = json.loads(runner.invoke(app, ["--format", "json", str(files)]).stdout)
    two = json.loads(runner.invoke(app, ["--format", "json", "--jobs", "2", str(files)]).stdout)
    assert [f["verdict"] for f in one["files"]] == [f["verdict"] for f in two["files"]]


def test_python_dash_m_runs_the_cli(files):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "airlock.scanning.engine",
            "--format",
            "json",
            "--fail-on",
            "block",
            str(files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["summary"]["files"] == 3


def test_scan_command_can_be_mounted_on_another_app(files):
    main = typer.Typer()
    main.command("scan")(scan_command)
    main.command("other")(lambda: None)
    result = runner.invoke(main, ["scan", "--format", "json", str(files / "ok.pkl")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["verdicts"]["pass"] == 1
