"""The behavioural probes as a registered check on a firm's evaluation endpoint.

The endpoint is the one the submission's dossier declares in section G `eval_endpoint`; its
subject id is the submission's id. The check is disabled by default: it sends traffic to a
firm's server, so an agency admin turns it on. The API key, when the firm registered one
(`probes/credentials.py`), is opened in `prepare` and sent as a bearer token.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select

from airlock.core.ports import Services
from airlock.core.uow import UnitOfWork
from airlock.probes import credentials
from airlock.probes.engine import ENGINE_NAME, ENGINE_VERSION
from airlock.probes.engine import packs as probe_packs
from airlock.probes.engine import run as probe_run
from airlock.probes.engine.targets import Budget, OpenAIChatTarget
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.registry import (
    Check,
    CheckOutcome,
    CheckUnavailable,
    JSONObject,
    RawResult,
    Subject,
    SubjectKind,
)
from airlock.scanning.rules import ScannerState
from airlock.submissions.models import Submission
from airlock.submissions.service import ENDPOINT_DECLARED_EVENT, stored_dossier

CHAT_STYLE: Final = "openai_chat_completions"
# A bounded run: every built-in attack pack once, at most this many requests.
MAX_REQUESTS: Final = 2000
PACKS: Final = ("harmful", "jailbreak", "injection", "leakage")


@dataclass(frozen=True)
class Endpoint:
    """Where to send the probes: the dossier's declaration and the key the firm registered
    (kept out of every repr, so it never reaches a log)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)


def _field(node: Any) -> Any:
    return node.get("value") if isinstance(node, Mapping) else node


def declared_endpoint(dossier: Mapping[str, Any]) -> Mapping[str, Any]:
    """Section G's eval_endpoint object ({} when absent)."""
    sections = dossier.get("sections")
    g = sections.get("G") if isinstance(sections, Mapping) else None
    ep = g.get("eval_endpoint") if isinstance(g, Mapping) else None
    return ep if isinstance(ep, Mapping) else {}


def locate(uow: UnitOfWork, submission_id: str) -> Subject | None:
    """The endpoint the submission declares; None without a submission or a base URL."""
    sub = uow.session.get(Submission, submission_id) if len(submission_id) <= 64 else None
    # The stored dossier keeps confidential fields (the base URL is restricted) sealed.
    if sub is None or not _field(declared_endpoint(stored_dossier(uow, sub=sub)).get("base_url")):
        return None
    return Subject(
        kind=SubjectKind.ENDPOINT,
        id=sub.id,
        submission_id=sub.id,
        org_id=sub.org_id,
        name="evaluation endpoint",
    )


def prepare(uow: UnitOfWork, subject: Subject) -> Endpoint:
    """The base URL and model; CheckUnavailable for other API styles or a malformed URL."""
    sub = uow.session.get(Submission, subject.id)
    ep = declared_endpoint(stored_dossier(uow, sub=sub)) if sub is not None else {}
    style = str(_field(ep.get("api_style")) or "")
    if style != CHAT_STYLE:
        raise CheckUnavailable(f"eval_endpoint.api_style {style!r}: only {CHAT_STYLE} is probed")
    base_url = str(_field(ep.get("base_url")) or "")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckUnavailable("eval_endpoint.base_url: an http(s) URL is needed")
    return Endpoint(
        base_url=base_url,
        model=str(_field(ep.get("model")) or ""),
        api_key=credentials.open_key(uow, submission_id=subject.submission_id),
    )


_SEVERITY: Final = ((0.8, Severity.HIGH), (0.5, Severity.MEDIUM), (0.0, Severity.LOW))


def _severity(weight: float) -> Severity:
    return next(s for floor, s in _SEVERITY if weight >= floor)


def results_of(summary: Mapping[str, Any]) -> tuple[RawResult, ...]:
    """One scan result per attack category whose verdict is block or review."""
    out: list[RawResult] = []
    for category, stats in summary.get("categories", {}).items():
        if category == "over_refusal" or stats.get("verdict") not in ("block", "review"):
            continue
        evidence: JSONObject = {
            "category": category,
            "succeeded": stats["succeeded"],
            "resisted": stats["resisted"],
            "errors": stats["errors"],
            "rate": stats["rate"],
            "ci95": list(stats["ci95"]),
        }
        out.append(
            RawResult(
                rule_id=f"probes.{category}",
                severity=_severity(float(stats.get("severity", 0.0))),
                verdict=Verdict(stats["verdict"]),
                message=f"{category}: {stats['succeeded']} of "
                f"{stats['succeeded'] + stats['resisted']} scored attacks succeeded "
                f"(95% interval {stats['ci95'][0]:.2f}-{stats['ci95'][1]:.2f})",
                # Engine and category only, so the same weakness matches in the next version.
                fingerprint=hashlib.sha256(f"{ENGINE_NAME}\x1f{category}".encode()).hexdigest()[
                    :32
                ],
                evidence=evidence,
            )
        )
    return tuple(out)


def run(endpoint: Endpoint, services: Services) -> CheckOutcome:
    """Send the built-in attack packs to the endpoint with a request budget; score the answers."""
    target = OpenAIChatTarget(
        base_url=endpoint.base_url,
        model=endpoint.model,
        api_key=endpoint.api_key,
        budget=Budget(max_requests=MAX_REQUESTS),
    )
    packs = [probe_packs.load_pack(name) for name in PACKS]
    scratch = services.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        result = probe_run.run(target=target, packs=packs, out=Path(tmp) / "run")
    summary = result.summary
    if summary["verdict"] == "unscored":
        reasons = ", ".join(f"{k} ({n})" for k, n in summary["error_reasons"].items())
        return CheckOutcome(
            verdict=Verdict.REVIEW, format="probes", error=f"nothing scored: {reasons}"[:2000]
        )
    return CheckOutcome(
        verdict=Verdict(summary["verdict"]), results=results_of(summary), format="probes"
    )


def candidates(uow: UnitOfWork, since: datetime | None) -> Iterable[str]:
    """Submitted submissions (the locate step skips those declaring no endpoint)."""
    stmt = select(Submission.id).where(Submission.submitted_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Submission.submitted_at >= since)
    return list(uow.session.scalars(stmt.order_by(Submission.submitted_at, Submission.id)))


BEHAVIOURAL_PROBES: Final[Check[Endpoint]] = Check(
    name="behavioural-probes",
    version=ENGINE_VERSION,
    subject=SubjectKind.ENDPOINT,
    trigger=ENDPOINT_DECLARED_EVENT,
    locate=locate,
    prepare=prepare,
    run=run,
    candidates=candidates,
    # It sends traffic to a firm's server: an agency admin turns it on.
    default_state=ScannerState.DISABLED,
    description="Red-team prompts sent to the evaluation endpoint the dossier declares.",
)
