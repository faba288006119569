"""A Python client of the Airlock REST API, importable with httpx and pydantic alone.

from airlock.client import AirlockClient

with AirlockClient("https://airlock.example", token="...") as client:
    model = client.register_model("Atlas-70B")
    sub = client.create_submission(model_id=model.id, title="RC 1", dossier=doc)
    client.upload_artifact(sub.id, Path("model.safetensors"), kind="weights")
    client.submit(sub.id)
"""

from airlock.client._client import ROUTES, AirlockAPIError, AirlockClient
from airlock.client.models import (
    Artifact,
    ArtifactScan,
    Assignee,
    Dossier,
    DossierCheck,
    DossierProblem,
    Manifest,
    Me,
    Model,
    QueueItem,
    QueuePage,
    ScanResult,
    ScanResults,
    Submission,
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
    "Dossier",
    "DossierCheck",
    "DossierProblem",
    "Manifest",
    "Me",
    "Model",
    "QueueItem",
    "QueuePage",
    "ScanResult",
    "ScanResults",
    "Submission",
    "Token",
    "Transition",
    "Upload",
]
