"""Full runs against a scripted loopback endpoint: outcomes, logs and summaries match the script."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import probe_script

from airlock.probes.engine.cache import ResponseCache
from airlock.probes.engine.limiter import AdaptiveLimiter
from airlock.probes.engine.packs import SuccessWhen, builtin_names, load_pack
from airlock.probes.engine.run import RunConfig, run
from airlock.probes.engine.targets import Budget, OpenAIChatTarget
from tests.support.openai_loopback import LoopbackChatServer


def expected(record: dict[str, object]) -> str:
    request = {"messages": record["messages"]}
    what = probe_script.intent(request)
    when = SuccessWhen(str(record["success_when"]))
    if when == SuccessWhen.COMPLIED:
        won = what == "comply"
    elif when == SuccessWhen.REFUSED:
        won = what == "refuse"
    else:
        won = what in ("leak", "decode")
    return "succeeded" if won else "resisted"


def test_scripted_endpoint_run_matches_the_script_for_every_attempt(tmp_path: Path) -> None:
    packs = [load_pack(name) for name in builtin_names()]
    with LoopbackChatServer(probe_script.reply, latency=0.01) as server:
        target = OpenAIChatTarget(
            base_url=server.base_url,
            model="scripted",
            api_key="sk-test-never-logged",
            limiter=AdaptiveLimiter(initial=4, maximum=16),
        )
        result = run(target=target, packs=packs, out=tmp_path / "run", config=RunConfig(repeats=1))
    records = [
        json.loads(line) for line in (tmp_path / "run" / "attempts.jsonl").read_text().splitlines()
    ]
    assert len(records) == sum(len(p.probes) for p in packs) == result.summary["attempts"]
    assert all(r["status"] == "ok" for r in records)
    mismatched = [
        (r["probe_id"], r["outcome"], expected(r)) for r in records if r["outcome"] != expected(r)
    ]
    assert mismatched == []
    # The script makes each kind of outcome happen somewhere, so the check above means something.
    outcomes = {(r["category"], r["outcome"]) for r in records}
    for pair in [
        ("jailbreak", "succeeded"),
        ("jailbreak", "resisted"),
        ("harmful", "resisted"),
        ("leakage", "succeeded"),
        ("leakage", "resisted"),
        ("prompt_injection", "succeeded"),
        ("capability", "succeeded"),
        ("over_refusal", "succeeded"),
        ("over_refusal", "resisted"),
    ]:
        assert pair in outcomes
    # Every scored record carries its detector's measured precision and recall.
    assert all(r["detector"]["precision"] > 0 and r["detector"]["recall"] > 0 for r in records)


def test_summary_counts_and_intervals_agree_with_the_log(tmp_path: Path) -> None:
    packs = [load_pack("jailbreak"), load_pack("harmful")]
    with LoopbackChatServer(probe_script.reply) as server:
        target = OpenAIChatTarget(base_url=server.base_url, model="scripted")
        result = run(target=target, packs=packs, out=tmp_path / "r", config=RunConfig(repeats=2))
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    jb = summary["categories"]["jailbreak"]
    records = [a.record() for a in result.attempts if a.probe.category == "jailbreak"]
    assert jb["succeeded"] == sum(r["outcome"] == "succeeded" for r in records)
    assert jb["resisted"] == sum(r["outcome"] == "resisted" for r in records)
    low, high = jb["ci95"]
    assert 0 <= low <= jb["rate"] <= high <= 1
    assert summary["worst_category"] == "jailbreak"  # harmful is refused throughout
    assert summary["categories"]["harmful"]["rate"] == 0.0
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert {p["name"] for p in manifest["packs"]} == {"jailbreak", "harmful"}
    assert all(len(p["sha256"]) == 64 for p in manifest["packs"])
    assert manifest["target"]["model"] == "scripted"


def test_api_key_is_sent_but_never_written_to_the_run_folder(tmp_path: Path) -> None:
    key = "sk-secret-value-123456"
    with LoopbackChatServer(probe_script.reply) as server:
        target = OpenAIChatTarget(base_url=server.base_url, model="m", api_key=key)
        run(target=target, packs=[load_pack("over_refusal")], out=tmp_path / "k")
        assert server.stats.auth_headers[0] == f"Bearer {key}"
    for path in (tmp_path / "k").iterdir():
        assert key not in path.read_text()


def test_seeded_rerun_reads_every_answer_from_the_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    config = RunConfig(seed="fixed-seed")
    packs = [load_pack("leakage"), load_pack("capability")]
    with LoopbackChatServer(probe_script.reply) as server:
        target = OpenAIChatTarget(base_url=server.base_url, model="scripted")
        first = run(target=target, packs=packs, out=tmp_path / "a", config=config, cache=cache)
        sent = server.stats.requests
        target = OpenAIChatTarget(base_url=server.base_url, model="scripted")
        again = run(target=target, packs=packs, out=tmp_path / "b", config=config, cache=cache)
        assert server.stats.requests == sent  # nothing new was sent
        target = OpenAIChatTarget(base_url=server.base_url, model="scripted")
        fresh = run(target=target, packs=packs, out=tmp_path / "c", cache=cache)
        assert server.stats.requests == 2 * sent  # a new seed plants new secrets
    cache.close()
    assert again.manifest["cache_hits"] == len(again.attempts)
    assert [a.secret for a in again.attempts] == [a.secret for a in first.attempts]
    assert [a.outcome for a in again.attempts] == [a.outcome for a in first.attempts]
    assert {a.secret for a in fresh.attempts}.isdisjoint({a.secret for a in first.attempts})


def test_token_budget_stops_sending_once_spent(tmp_path: Path) -> None:
    # The loopback server reports 15 tokens per answer: a budget of 40 allows three requests.
    with LoopbackChatServer(probe_script.reply) as server:
        target = OpenAIChatTarget(
            base_url=server.base_url,
            model="scripted",
            limiter=AdaptiveLimiter(initial=1, maximum=1),
            budget=Budget(max_tokens=40),
        )
        result = run(target=target, packs=[load_pack("over_refusal")], out=tmp_path / "t")
        assert server.stats.requests == 3
    assert sum(a.status == "ok" for a in result.attempts) == 3
    assert all(
        "token budget of 40 spent" in a.reason for a in result.attempts if a.status == "error"
    )


def test_interactive_escalation_sends_each_turn_with_the_models_own_answers(
    tmp_path: Path,
) -> None:
    seen: list[list[dict[str, str]]] = []

    def recording(request: dict[str, Any]) -> Any:
        seen.append(request["messages"])
        return probe_script.reply(request)

    pack = load_pack("jailbreak")
    live = [p for p in pack.probes if p.interactive]
    assert len(live) == 10  # two interactive probes x five objectives
    with LoopbackChatServer(recording) as server:
        target = OpenAIChatTarget(
            base_url=server.base_url,
            model="scripted",
            limiter=AdaptiveLimiter(initial=1, maximum=1),
        )
        one = replace(pack, probes=(live[0],))
        result = run(target=target, packs=[one], out=tmp_path / "live")
    [attempt] = result.attempts
    assert attempt.status == "ok" and attempt.http_requests == 3
    assert [len(m) for m in seen] == [2, 4, 6]  # system + user, then each answer and next turn
    first_answer = probe_script.reply({"messages": seen[0]}).text
    assert seen[1][2] == {"role": "assistant", "content": first_answer}
    # The record keeps the conversation as it happened; the last answer is the response.
    roles = [m["role"] for m in attempt.record()["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert attempt.outcome == "resisted"  # the script refuses the final, plain objective
