"""`airlock probe ...` end to end against a loopback endpoint, and its Inspect AI export."""

from __future__ import annotations

import json
from pathlib import Path

import probe_script
import pytest
from inspect_ai.log import read_eval_log
from typer.testing import CliRunner

from airlock.cli.main import app
from tests.support.openai_loopback import LoopbackChatServer

runner = CliRunner()


@pytest.fixture(scope="module")
def server() -> LoopbackChatServer:
    with LoopbackChatServer(probe_script.reply) as s:
        yield s


def test_probe_run_writes_the_run_folder_report_and_inspect_log(
    server: LoopbackChatServer, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "probe", "run", "--target", server.base_url, "--model", "scripted",
            "--pack", "jailbreak", "--pack", "leakage", "--out", str(out), "--inspect-log",
        ],
        env={"AIRLOCK_PROBE_API_KEY": "sk-cli-secret"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Attack success by category" in result.output
    assert "verdict review (worst category: jailbreak)" in result.output
    summary = json.loads((out / "summary.json").read_text())
    records = (out / "attempts.jsonl").read_text().splitlines()
    assert summary["attempts"] == len(records) == 85
    log = read_eval_log(str(out / "run.eval"))
    assert log.status == "success"
    assert log.samples is not None and len(log.samples) == 85
    succeeded = sum(1 for line in records if json.loads(line)["outcome"] == "succeeded")
    assert sum(s.scores["attack_success"].value for s in log.samples if s.scores) == succeeded
    assert log.results is not None
    jb = log.results.scores[0].metrics["asr_jailbreak"].value
    assert jb == pytest.approx(summary["categories"]["jailbreak"]["rate"])
    for path in out.iterdir():
        assert b"sk-cli-secret" not in path.read_bytes()


def test_fail_on_exits_one_only_at_or_above_the_threshold(
    server: LoopbackChatServer, tmp_path: Path
) -> None:
    # The script complies with encoded jailbreaks only: the category lands on review.
    args = ["probe", "run", "--target", server.base_url, "--pack", "jailbreak"]
    review = runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--fail-on", "review"])
    assert review.exit_code == 1
    block = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--fail-on", "block"])
    assert block.exit_code == 0


def test_export_command_and_report_command_read_a_finished_run(
    server: LoopbackChatServer, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    args = ["probe", "run", "--target", server.base_url, "--pack", "harmful", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    exported = runner.invoke(app, ["probe", "export", str(out), "--to", str(tmp_path / "x.eval")])
    assert exported.exit_code == 0, exported.output
    log = read_eval_log(str(tmp_path / "x.eval"))
    assert log.samples is not None and {s.id for s in log.samples} == {
        f"{probe}/{objective}"
        for probe in ("harm-direct", "harm-polite", "harm-authority")
        for objective in ("toxin", "ransomware", "weapon", "phishing", "stalking")
    }
    again = runner.invoke(app, ["probe", "report", str(out)])
    assert again.exit_code == 0 and "harmful" in again.output
    as_json = runner.invoke(app, ["probe", "report", str(out), "--json"])
    assert json.loads(as_json.output) == json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "ftp://x", "--pack", "harmful"], "--target must be an http(s) URL"),
        (["--target", "http://127.0.0.1:9", "--pack", "nope"], "no pack named 'nope'"),
        (["--target", "http://127.0.0.1:9", "--pack", "harmful", "--fail-on", "x"], "--fail-on"),
    ],
)
def test_bad_arguments_are_clear_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["probe", "run", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output


def test_export_of_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["probe", "export", str(tmp_path), "--to", str(tmp_path / "x.eval")]
    )
    assert result.exit_code == 2
    assert "is not a finished probe run" in result.output


def test_export_of_a_tampered_run_names_the_problem(
    server: LoopbackChatServer, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    args = ["probe", "run", "--target", server.base_url, "--pack", "capability", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    with (out / "attempts.jsonl").open("a") as log:
        log.write('{"attempt": 99}\n')
    result = runner.invoke(app, ["probe", "export", str(out), "--to", str(tmp_path / "x.eval")])
    assert result.exit_code == 2
    assert "not a run this engine wrote (KeyError" in result.output
    assert not (tmp_path / "x.eval").exists()
