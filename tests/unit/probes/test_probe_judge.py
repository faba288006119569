"""The optional judge model: second opinions on a run, and its own measured precision/recall."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import probe_script
from typer.testing import CliRunner

from airlock.cli.main import app
from airlock.probes.engine.calibrate import labelled_set
from airlock.probes.engine.judge import measure_judge
from airlock.probes.engine.packs import load_pack
from airlock.probes.engine.run import run
from airlock.probes.engine.targets import OpenAIChatTarget
from tests.support.openai_loopback import LoopbackChatServer, Reply


def naive_refused(answer: str) -> bool:
    return any(w in answer.lower() for w in ("sorry", "can't", "cannot", "won't"))


def judge_script(request: dict[str, Any]) -> Reply:
    """A crude judge: refusal words in the answer mean REFUSED."""
    prompt = request["messages"][-1]["content"]
    answer = prompt.split("ANSWER:\n", 1)[1].rsplit("\n\nVerdict", 1)[0]
    return Reply(text="REFUSED" if naive_refused(answer) else "COMPLIED.")


def test_judge_gives_a_second_opinion_on_every_refusal_scored_attempt(tmp_path: Path) -> None:
    with (
        LoopbackChatServer(probe_script.reply) as target_server,
        LoopbackChatServer(judge_script) as judge_server,
    ):
        result = run(
            target=OpenAIChatTarget(base_url=target_server.base_url, model="scripted"),
            packs=[load_pack("harmful"), load_pack("leakage")],
            out=tmp_path / "j",
            judge=OpenAIChatTarget(base_url=judge_server.base_url, model="judge"),
        )
    refusal_scored = [
        a for a in result.attempts if a.detection and a.detection.detector == "refusal"
    ]
    secret_scored = [a for a in result.attempts if a.detection and a.detection.detector == "secret"]
    assert refusal_scored and secret_scored
    assert all(a.judge is not None and a.judge.refused is not None for a in refusal_scored)
    assert all(a.judge is None for a in secret_scored)
    for a in refusal_scored:
        assert a.judge is not None and a.judge.refused == naive_refused(a.response or "")
    judge = result.summary["judge"]
    assert judge["asked"] == judge["verdicts"] == len(refusal_scored)
    agree = sum(1 for a in refusal_scored if a.judge and a.judge.refused == a.detection.positive)
    assert judge["agree_with_refusal_detector"] == agree
    records = [json.loads(x) for x in (tmp_path / "j" / "attempts.jsonl").read_text().splitlines()]
    assert sum(r["judge"] is not None for r in records) == len(refusal_scored)


def test_judge_precision_and_recall_are_measured_on_the_held_out_split() -> None:
    items = [it for it in labelled_set()["refusal"] if it["split"] == "test"]
    tp = sum(1 for it in items if naive_refused(it["text"]) and it["label"] == "refused")
    fp = sum(1 for it in items if naive_refused(it["text"]) and it["label"] != "refused")
    fn = sum(1 for it in items if not naive_refused(it["text"]) and it["label"] == "refused")

    async def measure() -> Any:
        with LoopbackChatServer(judge_script) as server:
            judge = OpenAIChatTarget(base_url=server.base_url, model="judge")
            try:
                return await measure_judge(judge)
            finally:
                await judge.aclose()

    scores = asyncio.run(measure())
    assert scores.n == len(items)
    assert scores.precision == round(tp / (tp + fp), 3)
    assert scores.recall == round(tp / (tp + fn), 3)


def test_judge_that_answers_nonsense_leaves_no_verdict_and_the_run_goes_on(tmp_path: Path) -> None:
    with (
        LoopbackChatServer(probe_script.reply) as target_server,
        LoopbackChatServer(lambda r: Reply(text="maybe?")) as judge_server,
    ):
        result = run(
            target=OpenAIChatTarget(base_url=target_server.base_url, model="scripted"),
            packs=[load_pack("harmful")],
            out=tmp_path / "n",
            judge=OpenAIChatTarget(base_url=judge_server.base_url, model="judge"),
        )
    assert all(a.status == "ok" for a in result.attempts)
    assert all(
        a.judge and a.judge.refused is None and "no REFUSED" in a.judge.error
        for a in result.attempts
    )
    assert result.summary["judge"]["verdicts"] == 0


def test_judge_calibrate_command_prints_the_figures() -> None:
    with LoopbackChatServer(judge_script) as server:
        out = CliRunner().invoke(app, ["probe", "judge-calibrate", "--target", server.base_url])
    assert out.exit_code == 0, out.output
    assert "refusal precision" in out.output and "on 100 held-out answers" in out.output
