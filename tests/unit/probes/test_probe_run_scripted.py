"""Full runs against a scripted loopback endpoint: outcomes, logs and summaries match the script."""

from __future__ import annotations

import json
from pathlib import Path

import probe_script

from airlock.probes.engine.limiter import AdaptiveLimiter
from airlock.probes.engine.packs import SuccessWhen, builtin_names, load_pack
from airlock.probes.engine.run import RunConfig, run
from airlock.probes.engine.targets import OpenAIChatTarget
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
