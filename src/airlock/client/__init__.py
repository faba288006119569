"""A Python client of the Airlock REST API, importable with httpx and pydantic alone.

from airlock.client import AirlockClient

with AirlockClient("https://airlock.example", token="...") as client:
    model = client.register_model("Atlas-70B")
    sub = client.create_submission(model_id=model.id, title="RC 1", dossier=doc)
    client.upload_artifact(sub.id, Path("model.safetensors"), kind="weights")
    client.submit(sub.id)
    for finding in client.findings(submission_id=sub.id):  # those notified to the firm
        client.acknowledge(finding.id)
        thread = client.finding_thread(finding.id, sub.id)
        if thread:
            client.reply(thread, "We are on it.")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airlock.client._client import ROUTES, AirlockAPIError, AirlockClient
    from airlock.client.models import (
        Artifact,
        ArtifactScan,
        Assignee,
        Case,
        CaseFinding,
        Cases,
        CaseSummary,
        Dossier,
        DossierCheck,
        DossierProblem,
        Finding,
        FindingDecision,
        FindingDetail,
        FindingEvidence,
        Findings,
        Manifest,
        Me,
        Message,
        Messages,
        Model,
        QueueItem,
        QueuePage,
        ScanResult,
        ScanResults,
        Submission,
        Thread,
        Token,
        Transition,
        Upload,
    )

__all__ = [
    "ROUTES",
    "AirlockAPIError",
    "AirlockClient",
    "Artifact",
    "ArtifactScan",
    "Assignee",
    "Case",
    "CaseFinding",
    "CaseSummary",
    "Cases",
    "Dossier",
    "DossierCheck",
    "DossierProblem",
    "Finding",
    "FindingDecision",
    "FindingDetail",
    "FindingEvidence",
    "Findings",
    "Manifest",
    "Me",
    "Message",
    "Messages",
    "Model",
    "QueueItem",
    "QueuePage",
    "ScanResult",
    "ScanResults",
    "Submission",
    "Thread",
    "Token",
    "Transition",
    "Upload",
]


def __getattr__(name: str) -> Any:
    """Import the client and its models on first use: `airlock submit` needs only the
    transfer module, and the models take longer to import than a chunk takes to send."""
    if name not in __all__:
        raise AttributeError(f"module 'airlock.client' has no attribute {name!r}")
    if name in ("ROUTES", "AirlockAPIError", "AirlockClient"):
        from airlock.client import _client as source
    else:
        from airlock.client import models as source  # type: ignore[no-redef]
    value = getattr(source, name)
    globals()[name] = value
    return value
