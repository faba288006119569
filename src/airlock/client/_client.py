"""`AirlockClient`: typed methods over the REST API for a firm's and a reviewer's work."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from airlock.client.models import (
    Artifact,
    Assignee,
    Case,
    Cases,
    CaseSummary,
    Dossier,
    DossierCheck,
    Finding,
    FindingDetail,
    Findings,
    Manifest,
    Me,
    Message,
    Messages,
    Model,
    QueuePage,
    ScanResults,
    Submission,
    Token,
    Transition,
    Upload,
)
from airlock.client.transfer import DEFAULT_IN_FLIGHT, TransferError, send_file

API: Final = "/api/v1"
# Every operation the client uses: name -> (method, path under /api/v1). Tests check each
# against the server's OpenAPI document.
ROUTES: Final[Mapping[str, tuple[str, str]]] = {
    "login": ("POST", "/auth/token"),
    "me": ("GET", "/me"),
    "models": ("GET", "/models"),
    "register_model": ("POST", "/models"),
    "submissions": ("GET", "/submissions"),
    "create_submission": ("POST", "/submissions"),
    "submission": ("GET", "/submissions/{submission_id}"),
    "update_submission": ("PATCH", "/submissions/{submission_id}"),
    "dossier": ("GET", "/submissions/{submission_id}/dossier"),
    "export_dossier": ("GET", "/submissions/{submission_id}/dossier/export"),
    "validate_dossier": ("POST", "/dossiers/validate"),
    "transition": ("POST", "/submissions/{submission_id}/transitions"),
    "history": ("GET", "/submissions/{submission_id}/history"),
    "assignees": ("GET", "/submissions/{submission_id}/assignments"),
    "assign": ("POST", "/submissions/{submission_id}/assignments"),
    "queue": ("GET", "/queue"),
    "start_upload": ("POST", "/submissions/{submission_id}/uploads"),
    "upload_status": ("GET", "/uploads/{upload_id}"),
    "put_chunk": ("PUT", "/uploads/{upload_id}/chunks/{index}"),
    "complete_upload": ("POST", "/uploads/{upload_id}/complete"),
    "artifacts": ("GET", "/submissions/{submission_id}/artifacts"),
    "scan_results": ("GET", "/submissions/{submission_id}/results"),
    "findings": ("GET", "/findings"),
    "finding": ("GET", "/findings/{finding_id}"),
    "confirm_finding": ("POST", "/findings/{finding_id}/confirm"),
    "false_positive": ("POST", "/findings/{finding_id}/false-positive"),
    "move_finding": ("POST", "/findings/{finding_id}/transitions"),
    "cases": ("GET", "/cases"),
    "case": ("GET", "/cases/{case_id}"),
    "thread": ("GET", "/threads/{thread_id}/messages"),
    "reply": ("POST", "/threads/{thread_id}/messages"),
}
# Request bodies the client sends: operation -> the fields it may set.
REQUEST_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "login": frozenset({"email", "password", "token_name"}),
    "register_model": frozenset({"name", "description"}),
    "create_submission": frozenset({"model_id", "title", "version", "carries", "dossier"}),
    "update_submission": frozenset({"title", "version", "carries", "dossier"}),
    "transition": frozenset({"to", "reason"}),
    "assign": frozenset({"reviewer_id"}),
    "start_upload": frozenset({"name", "kind", "media_type", "size", "sha256"}),
    "confirm_finding": frozenset({"severity", "cvss_vector", "atlas", "owasp_llm", "cwe", "note"}),
    "false_positive": frozenset({"reason"}),
    "move_finding": frozenset({"target", "reason"}),
    "reply": frozenset({"text"}),
}
# Query parameters the client sends: operation -> their names.
QUERY_PARAMS: Final[Mapping[str, frozenset[str]]] = {
    "queue": frozenset({"state", "mine", "org_id", "q", "page", "per_page"}),
    "findings": frozenset({"submission_id", "check", "rule", "severity", "state"}),
    "export_dossier": frozenset({"format", "audience"}),
}
# What each operation answers, for the same check.
RESPONSES: Final[Mapping[str, type[BaseModel]]] = {
    "login": Token,
    "me": Me,
    "models": Model,
    "register_model": Model,
    "submissions": Submission,
    "create_submission": Submission,
    "submission": Submission,
    "update_submission": Submission,
    "dossier": Dossier,
    "validate_dossier": DossierCheck,
    "transition": Submission,
    "history": Transition,
    "assignees": Assignee,
    "assign": Assignee,
    "queue": QueuePage,
    "start_upload": Upload,
    "upload_status": Upload,
    "put_chunk": Upload,
    "complete_upload": Artifact,
    "artifacts": Manifest,
    "scan_results": ScanResults,
    "findings": Findings,
    "finding": FindingDetail,
    "confirm_finding": Finding,
    "false_positive": Finding,
    "move_finding": Finding,
    "cases": Cases,
    "case": Case,
    "thread": Messages,
    "reply": Message,
}

T = TypeVar("T", bound=BaseModel)
Progress = Callable[[int, int], None]


class AirlockAPIError(Exception):
    """The server refused a request; status, message and the field errors it named."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors


def file_sha256(path: Path) -> str:
    """A file's SHA-256 in hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class AirlockClient:
    """A client of one Airlock server, authenticated with an API token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API, timeout=timeout, transport=transport
        )
        self._retries = retries
        if token:
            self.set_token(token)

    def __enter__(self) -> AirlockClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def set_token(self, token: str) -> None:
        """Send this API token with every request (in a header, never in the URL)."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    # --- plumbing ----------------------------------------------------------------------

    def _send(
        self, op: str, *, path: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        method, template = ROUTES[op]
        url = template.format(**{k: quote(str(v), safe="") for k, v in (path or {}).items()})
        response = self._http.request(method, url, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _one(self, op: str, model: type[T], **kwargs: Any) -> T:
        return model.model_validate(self._send(op, **kwargs).json())

    def _many(self, op: str, model: type[T], **kwargs: Any) -> list[T]:
        return TypeAdapter(list[model]).validate_python(self._send(op, **kwargs).json())  # type: ignore[valid-type]

    # --- accounts ----------------------------------------------------------------------

    def login(
        self,
        email: str,
        password: str,
        *,
        token_name: str = "airlock-client",  # noqa: S107
    ) -> Token:
        """Exchange a password for an API token, and use it from now on."""
        body = {"email": email, "password": password, "token_name": token_name}
        token = self._one("login", Token, json=body)
        self.set_token(token.secret)
        return token

    def me(self) -> Me:
        """Who the token belongs to."""
        return self._one("me", Me)

    # --- the firm's work ---------------------------------------------------------------

    def models(self) -> list[Model]:
        """The firm's registered models."""
        return self._many("models", Model)

    def register_model(self, name: str, *, description: str = "") -> Model:
        """Register a model."""
        return self._one("register_model", Model, json={"name": name, "description": description})

    def submissions(self) -> list[Submission]:
        """The firm's submissions, newest first."""
        return self._many("submissions", Submission)

    def create_submission(
        self,
        *,
        model_id: str,
        title: str,
        version: str = "",
        carries: Iterable[str] = (),
        dossier: Mapping[str, Any] | None = None,
    ) -> Submission:
        """Draft a release candidate, with its dossier if given."""
        body: dict[str, Any] = {
            "model_id": model_id,
            "title": title,
            "version": version,
            "carries": list(carries),
        }
        if dossier is not None:
            body["dossier"] = dict(dossier)
        return self._one("create_submission", Submission, json=body)

    def submission(self, submission_id: str) -> Submission:
        """One submission's state."""
        return self._one("submission", Submission, path={"submission_id": submission_id})

    def update_submission(
        self,
        submission_id: str,
        *,
        title: str | None = None,
        version: str | None = None,
        carries: Iterable[str] | None = None,
        dossier: Mapping[str, Any] | None = None,
    ) -> Submission:
        """Edit a draft or returned submission (only what is given changes)."""
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if version is not None:
            body["version"] = version
        if carries is not None:
            body["carries"] = list(carries)
        if dossier is not None:
            body["dossier"] = dict(dossier)
        path = {"submission_id": submission_id}
        return self._one("update_submission", Submission, path=path, json=body)

    def upload_dossier(self, submission_id: str, dossier: Mapping[str, Any] | Path) -> Submission:
        """Replace a draft's dossier with a document or a JSON file."""
        doc = json.loads(dossier.read_text("utf-8")) if isinstance(dossier, Path) else dossier
        return self.update_submission(submission_id, dossier=doc)

    def validate_dossier(self, dossier: Mapping[str, Any] | bytes | Path) -> DossierCheck:
        """Ask the server to check a dossier; errors and what a submission still needs."""
        if isinstance(dossier, Path):
            content = dossier.read_bytes()
        elif isinstance(dossier, bytes):
            content = dossier
        else:
            content = json.dumps(dict(dossier)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        return self._one("validate_dossier", DossierCheck, content=content, headers=headers)

    def dossier(self, submission_id: str) -> Dossier:
        """The dossier as the caller may see it."""
        return self._one("dossier", Dossier, path={"submission_id": submission_id})

    def export_dossier(self, submission_id: str, *, format: str, audience: str = "public") -> bytes:
        """The dossier as cyclonedx, spdx, eu-mdf, hf-card or sb53, for an audience."""
        params = {"format": format, "audience": audience}
        path = {"submission_id": submission_id}
        return self._send("export_dossier", path=path, params=params).content

    def transition(self, submission_id: str, to: str, *, reason: str = "") -> Submission:
        """Move a submission (submitted, accepted, returned, in_review, ...)."""
        path = {"submission_id": submission_id}
        return self._one("transition", Submission, path=path, json={"to": to, "reason": reason})

    def submit(self, submission_id: str) -> Submission:
        """Submit a draft for review."""
        return self.transition(submission_id, "submitted")

    def history(self, submission_id: str) -> list[Transition]:
        """Every state change of a submission."""
        return self._many("history", Transition, path={"submission_id": submission_id})

    def upload_artifact(
        self,
        submission_id: str,
        path: Path,
        *,
        kind: str,
        media_type: str = "",
        name: str | None = None,
        progress: Progress | None = None,
        in_flight: int = DEFAULT_IN_FLIGHT,
        notice: Callable[[str], None] | None = None,
    ) -> Artifact:
        """Upload a file in chunks, `in_flight` at once, hashing it while it is sent.

        progress(bytes_done, total) is called as chunks are acknowledged (chunks the server
        already had from an interrupted attempt count as done). Lost connections and 502/503/504
        are retried (each reported to notice); any other 5xx or a 4xx raises AirlockAPIError at
        once. The server keeps what it received, so calling again resumes.
        """
        size = path.stat().st_size
        done = 0
        lock = threading.Lock()

        def advance(n: int) -> None:
            nonlocal done
            with lock:
                done += n
                current = done
            if progress:
                progress(min(current, size), size)

        try:
            sent = send_file(
                self._http,
                submission_id=submission_id,
                path=path,
                name=name or path.name,
                kind=kind,
                media_type=media_type,
                in_flight=in_flight,
                advance=advance,
                notice=notice or (lambda message: None),
                api="",
            )
        except TransferError as exc:
            raise AirlockAPIError(exc.status, str(exc), []) from None
        return Artifact.model_validate(sent.artifact)

    def upload_status(self, upload_id: str) -> Upload:
        """Where an upload stands."""
        return self._one("upload_status", Upload, path={"upload_id": upload_id})

    def artifacts(self, submission_id: str) -> Manifest:
        """The submission's manifest."""
        return self._one("artifacts", Manifest, path={"submission_id": submission_id})

    def scan_results(self, submission_id: str) -> ScanResults:
        """Each artifact's verdict and the scan results the caller may see."""
        return self._one("scan_results", ScanResults, path={"submission_id": submission_id})

    # --- the reviewer's work -----------------------------------------------------------

    def queue(
        self,
        *,
        states: Iterable[str] = (),
        mine: bool = False,
        org_id: str | None = None,
        q: str = "",
        page: int = 1,
        per_page: int = 25,
    ) -> QueuePage:
        """The agency's queue, filtered and paginated."""
        params: list[tuple[str, str | int | bool]] = [("state", s) for s in states]
        params += [("mine", str(mine).lower()), ("q", q), ("page", page), ("per_page", per_page)]
        if org_id:
            params.append(("org_id", org_id))
        return self._one("queue", QueuePage, params=params)

    def assignees(self, submission_id: str) -> list[Assignee]:
        """Who reviews a submission."""
        return self._many("assignees", Assignee, path={"submission_id": submission_id})

    def assign(self, submission_id: str, reviewer_id: str) -> Assignee:
        """A coordinator assigns a reviewer."""
        path = {"submission_id": submission_id}
        return self._one("assign", Assignee, path=path, json={"reviewer_id": reviewer_id})

    # --- findings: the reviewer triages, the firm answers -------------------------------

    def findings(
        self,
        *,
        submission_id: str | None = None,
        states: Iterable[str] = (),
        check: str | None = None,
        rule: str | None = None,
        severity: str | None = None,
    ) -> list[Finding]:
        """Findings the caller may see: a reviewer's triage queue, or the firm's findings on
        its submissions (only those notified to it)."""
        params: list[tuple[str, str]] = [("state", s) for s in states]
        for name, value in (
            ("submission_id", submission_id),
            ("check", check),
            ("rule", rule),
            ("severity", severity),
        ):
            if value:
                params.append((name, value))
        return self._one("findings", Findings, params=params).findings

    def finding(self, finding_id: str) -> FindingDetail:
        """One finding with its evidence and triage decisions."""
        return self._one("finding", FindingDetail, path={"finding_id": finding_id})

    def confirm_finding(
        self,
        finding_id: str,
        *,
        severity: str,
        cvss_vector: str = "",
        atlas: Iterable[str] = (),
        owasp_llm: Iterable[str] = (),
        cwe: Iterable[str] = (),
        note: str = "",
    ) -> Finding:
        """A reviewer confirms a draft finding with its severity and taxonomy ids."""
        body = {
            "severity": severity,
            "cvss_vector": cvss_vector,
            "atlas": list(atlas),
            "owasp_llm": list(owasp_llm),
            "cwe": list(cwe),
            "note": note,
        }
        path = {"finding_id": finding_id}
        return self._one("confirm_finding", Finding, path=path, json=body)

    def mark_false_positive(self, finding_id: str, *, reason: str) -> Finding:
        """A reviewer marks a finding false positive; the reason is required."""
        path = {"finding_id": finding_id}
        return self._one("false_positive", Finding, path=path, json={"reason": reason})

    def move_finding(self, finding_id: str, target: str, *, reason: str = "") -> Finding:
        """Move a finding: notified, acknowledged, disputed, fix_in_progress, fix_submitted..."""
        path = {"finding_id": finding_id}
        body = {"target": target, "reason": reason}
        return self._one("move_finding", Finding, path=path, json=body)

    def notify(self, finding_id: str, *, reason: str = "") -> Finding:
        """A reviewer tells the firm about a confirmed finding."""
        return self.move_finding(finding_id, "notified", reason=reason)

    def acknowledge(self, finding_id: str, *, reason: str = "") -> Finding:
        """The firm acknowledges a finding notified to it."""
        return self.move_finding(finding_id, "acknowledged", reason=reason)

    def dispute(self, finding_id: str, *, reason: str) -> Finding:
        """The firm disputes a finding notified to it, saying why."""
        return self.move_finding(finding_id, "disputed", reason=reason)

    # --- cases and their threads ---------------------------------------------------------

    def cases(self) -> list[CaseSummary]:
        """The cases the caller may see."""
        return self._one("cases", Cases).cases

    def case(self, case_id: str) -> Case:
        """A case with its findings and threads."""
        return self._one("case", Case, path={"case_id": case_id})

    def case_of(self, submission_id: str) -> Case | None:
        """The case of a submission, when one was opened and the caller may see it."""
        found = next((c for c in self.cases() if c.submission_id == submission_id), None)
        return self.case(found.id) if found is not None else None

    def finding_thread(self, finding_id: str, submission_id: str) -> str | None:
        """The id of the thread about a finding, when its case has one."""
        case = self.case_of(submission_id)
        if case is None:
            return None
        return next((t.id for t in case.threads if t.finding_id == finding_id), None)

    def thread(self, thread_id: str) -> list[Message]:
        """A thread's messages, oldest first (participants only)."""
        return self._one("thread", Messages, path={"thread_id": thread_id}).messages

    def reply(self, thread_id: str, text: str) -> Message:
        """Write in a thread (participants only)."""
        return self._one("reply", Message, path={"thread_id": thread_id}, json={"text": text})


def _error(response: httpx.Response) -> AirlockAPIError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    message = detail if isinstance(detail, str) else response.reason_phrase or "error"
    errors = body.get("errors") if isinstance(body, dict) else None
    return AirlockAPIError(
        response.status_code, message, errors if isinstance(errors, list) else []
    )
