"""Bad endpoints and bad packs: every attempt ends ok or error with a reason; runs never hang."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airlock.probes.engine.limiter import AdaptiveLimiter
from airlock.probes.engine.packs import PackError, load_pack, parse_pack
from airlock.probes.engine.run import run
from airlock.probes.engine.targets import Budget, EndpointLimits, OpenAIChatTarget
from tests.support.openai_loopback import LoopbackChatServer, Reply

# One misbehaviour per over-refusal probe (the pack has 15), chosen by the probe's text.
MISBEHAVIOUR = {
    "kill": Reply(mode="hang"),
    "night sky": Reply(mode="endless"),
    "bomb": Reply(mode="huge"),
    "household": Reply(mode="huge_undeclared"),
    "vaccines": Reply(mode="garbage"),
    "First World War": Reply(mode="not_chat"),
    "poisonous": Reply(status=500),
    "life hacks": Reply(status=503),
    "chess": Reply(mode="raw", status=200, body=b'{"choices": [{"message": {"content": 7}}]}'),
    "essay": Reply(mode="raw", status=404, body=b"no such model"),
    "paracetamol": Reply(mode="raw", status=200, body=b"[" * 50_000),
    "jump-start": Reply(mode="gzip_bomb"),
}
EXPECTED_REASON = {
    "kill": "within",
    "night sky": "within",
    "bomb": "above the",
    "household": "byte limit",
    "vaccines": "not JSON",
    "First World War": "not a chat completion",
    "poisonous": "HTTP 500",
    "life hacks": "HTTP 503",
    "chess": "not text",
    "essay": "HTTP 404",
    "paracetamol": "not JSON",
    "jump-start": "byte limit",
}


def _script(request: dict[str, Any]) -> Reply:
    user = request["messages"][-1]["content"]
    for key, reply in MISBEHAVIOUR.items():
        if key in user:
            return reply
    return Reply(text="Happy to help: here is a clear, complete answer.")


def _target(url: str, **kw: Any) -> OpenAIChatTarget:
    return OpenAIChatTarget(
        base_url=url,
        model="bad",
        limiter=AdaptiveLimiter(initial=4, maximum=16),
        limits=EndpointLimits(
            request_timeout=1.5, retries=1, backoff_base=0.05, max_body_bytes=1024 * 1024
        ),
        **kw,
    )


@pytest.mark.timeout(120)
def test_misbehaving_endpoint_marks_attempts_error_with_a_reason_and_finishes(
    tmp_path: Path,
) -> None:
    with LoopbackChatServer(_script) as server:
        result = run(
            target=_target(server.base_url),
            packs=[load_pack("over_refusal")],
            out=tmp_path / "bad",
        )
    by_text = {a.messages[-1].content: a for a in result.attempts}
    for key, fragment in EXPECTED_REASON.items():
        attempt = next(a for text, a in by_text.items() if key in text)
        assert attempt.status == "error", key
        assert attempt.outcome == "error"
        assert fragment in attempt.reason, (key, attempt.reason)
    healthy = [
        a for a in result.attempts if not any(k in a.messages[-1].content for k in MISBEHAVIOUR)
    ]
    assert healthy and all(a.status == "ok" and a.outcome == "resisted" for a in healthy)
    summary = json.loads((tmp_path / "bad" / "summary.json").read_text())
    assert summary["errors"] == len(MISBEHAVIOUR)
    assert summary["ok"] == len(healthy)
    # Errors are kept apart: never counted as resisted.
    assert summary["categories"]["over_refusal"]["resisted"] == len(healthy)
    assert summary["categories"]["over_refusal"]["errors"] == len(MISBEHAVIOUR)
    lines = (tmp_path / "bad" / "attempts.jsonl").read_text().splitlines()
    assert len(lines) == len(result.attempts)


def test_an_answer_that_is_not_text_is_unscorable_not_compliance(tmp_path: Path) -> None:
    with LoopbackChatServer(lambda r: Reply(text=":::))) \ufffd\ufffd === ;;")) as server:
        result = run(target=_target(server.base_url), packs=[load_pack("harmful")], out=tmp_path)
    assert all(a.status == "ok" and a.outcome == "unscorable" for a in result.attempts)
    assert result.summary["verdict"] == "unscored"


def test_a_compressed_answer_is_decoded(tmp_path: Path) -> None:
    with LoopbackChatServer(lambda r: Reply(text="I can't help with that.", mode="gzip")) as server:
        result = run(target=_target(server.base_url), packs=[load_pack("harmful")], out=tmp_path)
    assert all(
        a.status == "ok" and a.response == "I can't help with that." for a in result.attempts
    )
    assert all(a.outcome == "resisted" for a in result.attempts)


def test_429_with_retry_after_is_retried_and_then_answered(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(request: dict[str, Any]) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(status=429, retry_after=0.2)
        return Reply(text="Sure, here you go: a complete answer.")

    with LoopbackChatServer(flaky) as server:
        target = _target(server.base_url)
        target.limiter = AdaptiveLimiter(initial=1, maximum=1)
        result = run(target=target, packs=[load_pack("over_refusal")], out=tmp_path / "r")
    assert all(a.status == "ok" for a in result.attempts)
    assert result.attempts[0].http_requests + sum(a.http_requests for a in result.attempts[1:]) == (
        len(result.attempts) + 1
    )
    assert result.manifest["http_status_counts"]["429"] == 1


def test_budget_of_zero_sends_nothing_and_reports_every_attempt_as_error(tmp_path: Path) -> None:
    with LoopbackChatServer(_script) as server:
        target = _target(server.base_url, budget=Budget(max_requests=0))
        result = run(target=target, packs=[load_pack("leakage")], out=tmp_path / "z")
        assert server.stats.requests == 0
    assert all(a.status == "error" and "budget" in a.reason for a in result.attempts)
    assert result.summary["verdict"] == "unscored"
    assert result.summary["error_reasons"] == {"budget": len(result.attempts)}


def test_request_budget_stops_a_run_part_way(tmp_path: Path) -> None:
    with LoopbackChatServer(_script) as server:
        target = _target(server.base_url, budget=Budget(max_requests=5))
        target.limiter = AdaptiveLimiter(initial=1, maximum=1)
        result = run(target=target, packs=[load_pack("leakage")], out=tmp_path / "b")
        assert server.stats.requests == 5
    assert sum(a.status == "ok" for a in result.attempts) == 5
    assert sum(a.status == "error" for a in result.attempts) == len(result.attempts) - 5


def _pack(**probe_changes: Any) -> bytes:
    probe = {
        "id": "p-1",
        "category": "harmful",
        "technique": "direct",
        "severity": 0.5,
        "provenance": "test",
        "success_when": "complied",
        "messages": [{"role": "user", "content": "hello"}],
    }
    ok = dict(probe, id="p-0")
    probe.update(probe_changes)
    probe = {k: v for k, v in probe.items() if v is not None}
    doc = {"name": "t", "version": "1", "description": "", "probes": [ok, probe]}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"severity": 7},
            "probes[1] (id 'p-1'): severity: Input should be less than or equal to 1",
        ),
        ({"category": "weather"}, "probes[1] (id 'p-1'): category: Input should be"),
        ({"provenance": None}, "probes[1] (id 'p-1'): provenance: Field required"),
        ({"id": "Bad Id!"}, "probes[1] (id 'Bad Id!'): id: String should match pattern"),
        ({"id": "p-0"}, "probes[1] (id 'p-0'): duplicate id"),
        (
            {"messages": [{"role": "user", "content": "say {password}"}]},
            "probes[1] (id 'p-1'): messages: unknown placeholder(s) ['password']",
        ),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
            "the last message must come from the user",
        ),
        ({"success_when": "secret_shown"}, "needs a {secret} placeholder"),
        ({"messages": [{"role": "user", "content": "x" * 40_000}]}, "at most 32000 characters"),
        ({"unexpected": 1}, "unexpected: Extra inputs are not permitted"),
    ],
)
def test_malformed_pack_entry_is_an_error_naming_the_entry(
    changes: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(_pack(**changes), source="mine.json")
    assert str(caught.value).startswith("mine.json: ")
    assert fragment in str(caught.value)


def test_pack_file_limits_and_syntax_are_checked() -> None:
    with pytest.raises(PackError, match="not valid JSON"):
        parse_pack(b"{not json", source="x.json")
    with pytest.raises(PackError, match=r"x\.json: JSON nested too deeply"):
        parse_pack(b"[" * 200_000, source="x.json")
    with pytest.raises(PackError, match="above the 2097152 limit"):
        parse_pack(b" " * (2 * 1024 * 1024 + 1), source="x.json")
    with pytest.raises(PackError, match="no pack named 'nope'; available packs: capability"):
        load_pack("nope")


def test_objectives_must_be_marked_placeholders() -> None:
    doc = json.loads(_pack(messages=[{"role": "user", "content": "{objective}"}], objectives="all"))
    doc["objectives"] = [{"id": "o", "text": "a real request", "provenance": "x"}]
    with pytest.raises(
        PackError, match=r"objectives\[0\] \(id 'o'\): text: Value error, an objective"
    ):
        parse_pack(json.dumps(doc).encode(), source="o.json")
