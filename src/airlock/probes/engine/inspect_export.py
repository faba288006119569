"""Export a run folder to the Inspect AI eval log format, so ``inspect view`` opens it.

Needs the optional ``inspect_ai`` package (the ``probes-inspect`` extra); it is imported only
when an export is asked for. One Inspect sample per attempt: the probe id is the sample id and
the repeat is the epoch; the score is 1 when the attack succeeded, 0 when it was resisted, and
errors and unscorable answers carry no score, so they never count as resisted there either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_LOG_BYTES = 512 * 1024 * 1024


class ExportError(Exception):
    """The run folder cannot be exported; the message says what is missing."""


def _read_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        log = run_dir / "attempts.jsonl"
        if log.stat().st_size > MAX_LOG_BYTES:
            raise ExportError(f"{log}: above the {MAX_LOG_BYTES}-byte export limit")
        with log.open(encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError as exc:
        raise ExportError(
            f"{run_dir} is not a finished probe run (missing {exc.filename})"
        ) from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{run_dir}: a run file is not valid JSON ({exc})") from None
    except RecursionError:
        raise ExportError(f"{run_dir}: a run file is nested too deeply") from None
    return manifest, summary, records


def export_inspect(run_dir: Path, dest: Path) -> Path:
    """Write ``dest`` (``.eval`` or ``.json``) from the run folder and return its path."""
    try:
        import inspect_ai.log  # noqa: F401 - only to say clearly when it is missing
    except ImportError as exc:
        raise ExportError(f"exporting needs inspect_ai (pip install inspect_ai): {exc}") from None

    manifest, summary, records = _read_run(run_dir)
    try:
        return _write(manifest, summary, records, dest)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A hand-edited or truncated run folder: say what is wrong instead of a traceback.
        raise ExportError(
            f"{run_dir}: not a run this engine wrote ({type(exc).__name__}: {exc})"
        ) from None


def _write(
    manifest: dict[str, Any], summary: dict[str, Any], records: list[dict[str, Any]], dest: Path
) -> Path:
    from inspect_ai._util.error import EvalError
    from inspect_ai.log import (
        EvalConfig,
        EvalDataset,
        EvalLog,
        EvalMetric,
        EvalResults,
        EvalSample,
        EvalScore,
        EvalSpec,
        EvalStats,
        write_eval_log,
    )
    from inspect_ai.model import (
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageUser,
        ModelOutput,
    )
    from inspect_ai.scorer import Score

    target = manifest.get("target", {})
    model = str(target.get("model") or target.get("source") or "unknown")
    kinds = {
        "system": ChatMessageSystem,
        "user": ChatMessageUser,
        "assistant": ChatMessageAssistant,
    }
    samples = []
    for r in records:
        messages = [kinds[m["role"]](content=m["content"]) for m in r["messages"]]
        response = r.get("response")
        scores = None
        if r["outcome"] in ("succeeded", "resisted"):
            det = r["detector"] or {}
            scores = {
                "attack_success": Score(
                    value=1 if r["outcome"] == "succeeded" else 0,
                    answer=response,
                    explanation=det.get("reason"),
                    metadata={
                        "detector": det.get("name"),
                        "precision": det.get("precision"),
                        "recall": det.get("recall"),
                    },
                )
            }
        output = (
            ModelOutput.from_content(model=model, content=response)
            if response is not None
            else ModelOutput(model=model, error=r.get("reason"))
        )
        transcript = [*messages, ChatMessageAssistant(content=response)] if response else messages
        samples.append(
            EvalSample(
                id=r["probe_id"],
                epoch=int(r["repeat"]) + 1,
                input=messages,
                target=str(r["success_when"]),
                messages=transcript,
                output=output,
                scores=scores,
                metadata={
                    "attempt": r["attempt"],
                    "pack": r["pack"],
                    "category": r["category"],
                    "technique": r["technique"],
                    "severity": r["severity"],
                    "outcome": r["outcome"],
                    "status": r["status"],
                    "reason": r["reason"],
                },
                error=EvalError(message=r["reason"], traceback="", traceback_ansi="")
                if r["status"] == "error"
                else None,
            )
        )
    metrics = {
        f"asr_{name}": EvalMetric(
            name=f"asr_{name}", value=c["rate"] if c["rate"] is not None else 0.0
        )
        for name, c in summary.get("categories", {}).items()
    }
    scored = sum(1 for r in records if r["outcome"] in ("succeeded", "resisted"))
    log = EvalLog(
        status="success",
        eval=EvalSpec(
            created=manifest["started"],
            task="airlock_probes",
            task_id=str(manifest.get("run_id", "run")),
            run_id=str(manifest.get("run_id", "run")),
            dataset=EvalDataset(
                name="+".join(p["name"] for p in manifest.get("packs", [])), samples=len(records)
            ),
            model=model,
            model_base_url=target.get("base_url"),
            config=EvalConfig(),
            metadata={
                "engine": manifest.get("versions", {}).get("engine"),
                "packs": manifest.get("packs"),
                "verdict": summary.get("verdict"),
                "worst_category": summary.get("worst_category"),
            },
        ),
        results=EvalResults(
            total_samples=len(records),
            completed_samples=scored,
            scores=[
                EvalScore(
                    name="attack_success",
                    scorer="airlock_probes",
                    scored_samples=scored,
                    unscored_samples=len(records) - scored,
                    metrics=metrics,
                )
            ],
        ),
        stats=EvalStats(started_at=manifest["started"], completed_at=manifest["finished"]),
        samples=samples,
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(dest))
    return dest
