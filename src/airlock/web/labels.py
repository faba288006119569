"""Words for people: a human label for every internal value the pages show.

Each vocabulary is derived from the enum (or schema list) that defines the values, and a test
checks that every value has a label here, so a new state or role cannot reach a page raw.
Templates use the filters `label` (`{{ sub.state|label('submission') }}`), `action` (the
button that moves something to a state) and `field_title` (a dossier path as section and
field titles).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

from airlock.accounts import rules as token_rules
from airlock.core.roles import OrgKind, Role
from airlock.dossiers import validation
from airlock.dossiers.rules import DISCLOSURE_LEVELS
from airlock.enrollment.rules import FirmMove, ParticipationState, Scope
from airlock.publishing.report_rules import SnapshotState
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.rules import ScannerState
from airlock.submissions.rules import SubmissionState
from airlock.vault.rules import ArtifactKind, ArtifactState, UploadState


@functools.cache
def _schema() -> dict[str, Any]:
    return validation.load_schema()


def sources() -> dict[str, tuple[str, ...]]:
    """The values each vocabulary must cover, from the code and schema that define them."""
    return {
        "submission": tuple(s.value for s in SubmissionState),
        "participation": tuple(s.value for s in ParticipationState),
        "firm_move": tuple(m.value for m in FirmMove),
        "role": tuple(r.value for r in Role),
        "org_kind": tuple(k.value for k in OrgKind),
        "scope": tuple(s.value for s in Scope),
        "token_scope": tuple(token_rules.SCOPES),
        "artifact_kind": tuple(k.value for k in ArtifactKind),
        "artifact_state": tuple(s.value for s in ArtifactState),
        "upload": tuple(s.value for s in UploadState),
        "scanner": tuple(s.value for s in ScannerState),
        "verdict": tuple(v.value for v in Verdict),
        "severity": tuple(s.value for s in Severity),
        "disclosure": tuple(DISCLOSURE_LEVELS),
        "provenance": tuple(str(v) for v in _schema()["$defs"]["provenance"]["enum"]),
        "report_state": tuple(s.value for s in SnapshotState),
    }


LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "report_state": {"draft": "Draft (not public)", "published": "Published"},
    # Row and column keys of the transparency report's tables.
    "report": {
        "received": "Received",
        "reviewed_before_release": "Review completed before the declared release date",
        "reviewed_other": "Review completed later or with no release date",
        "acknowledge": "Time to acknowledge",
        "fix": "Time to fix",
        "findings": "Findings",
        "fixed_before_release": "Fixed before release",
        "not_fixed_before_release": "Not fixed before release",
        "critical": "Critical findings of models released in the period",
        "unclassified": "Not classified",
        "LLM01": "Prompt injection (LLM01)",
        "LLM02": "Sensitive information disclosure (LLM02)",
        "LLM03": "Supply chain (LLM03)",
        "LLM04": "Data and model poisoning (LLM04)",
        "LLM05": "Improper output handling (LLM05)",
        "LLM06": "Excessive agency (LLM06)",
        "LLM07": "System prompt leakage (LLM07)",
        "LLM08": "Vector and embedding weaknesses (LLM08)",
        "LLM09": "Misinformation (LLM09)",
        "LLM10": "Unbounded consumption (LLM10)",
    },
    "submission": {
        "draft": "Draft",
        "submitted": "Submitted",
        "accepted": "Accepted",
        "returned": "Returned to firm",
        "in_review": "In review",
        "review_complete": "Review complete",
        "closed": "Closed",
    },
    "participation": {
        "invited": "Invited",
        "enrolled": "Enrolled",
        "active": "Active",
        "suspended": "Suspended",
        "withdrawn": "Withdrawn",
    },
    "firm_move": {
        "register_model": "Register a model",
        "draft": "Start a submission",
        "edit": "Change a submission",
        "submit": "Submit for review",
        "upload": "Upload files",
        "assign": "Assign reviewers",
        "triage": "Accept or return",
        "review": "Review",
        "close": "Close",
    },
    "role": {
        "developer_admin": "Firm administrator",
        "developer_member": "Firm member",
        "reviewer": "Reviewer",
        "coordinator": "Coordinator",
        "agency_admin": "Agency administrator",
        "auditor": "Auditor (read-only)",
    },
    "org_kind": {"developer": "Developer firm", "agency": "Agency"},
    "token_scope": {
        "read": "Read",
        "submit": "Submit (a firm's changes)",
        "review": "Review (the agency's changes)",
    },
    "scope": {
        "architecture": "Architecture",
        "training_data_docs": "Training data documentation",
        "safeguards": "Safeguards",
        "weights": "Model weights",
        "eval_endpoint": "Evaluation endpoint",
    },
    "artifact_kind": {
        "weights": "Weights",
        "config": "Configuration",
        "tokenizer": "Tokenizer",
        "dataset_sample": "Dataset sample",
        "manifest": "Manifest",
        "eval_report": "Evaluation report",
        "other": "Other file",
    },
    "artifact_state": {"stored": "Stored", "destroyed": "Destroyed on withdrawal"},
    "upload": {
        "open": "Uploading",
        "completing": "Finishing",
        "completed": "Uploaded",
        "failed": "Failed",
        "expired": "Expired",
    },
    "scanner": {
        "enabled": "Enabled",
        "evaluation": "In evaluation (agency only)",
        "disabled": "Disabled",
    },
    "verdict": {"pass": "Passed", "review": "Needs review", "block": "Blocked"},
    "severity": {
        "critical": "Critical",
        "high": "High",
        "medium": "Medium",
        "low": "Low",
        "info": "Information",
    },
    "disclosure": {
        "public": "Public",
        "reviewer": "Assigned reviewers",
        "restricted": "Named reviewers only",
    },
    "provenance": {
        "self_reported": "Self-reported",
        "third_party": "Third party",
        "imported": "Imported from a file",
        "estimated": "Estimated",
        "measured": "Measured",
    },
}

# The button that moves a submission or a participation to a state: an action, not a state.
ACTIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "submission": {
        "draft": "Reopen as draft",
        "submitted": "Submit for review",
        "accepted": "Accept submission",
        "returned": "Return to firm",
        "in_review": "Start review",
        "review_complete": "Complete review",
        "closed": "Close submission",
    },
    "participation": {
        "invited": "Invite again",
        "enrolled": "Enroll",
        "active": "Activate participation",
        "suspended": "Suspend participation",
        "withdrawn": "Withdraw",
    },
}

# Roles from least to most powerful: forms offer the least powerful one first (and selected).
ROLE_POWER: Final[tuple[str, ...]] = (
    "developer_member",
    "developer_admin",
    "auditor",
    "reviewer",
    "coordinator",
    "agency_admin",
)

# USWDS tag colours per value, for `usa-tag` badges (a class suffix defined in app.css).
TONES: Final[Mapping[str, str]] = {
    "active": "ok",
    "accepted": "ok",
    "review_complete": "ok",
    "closed": "ok",
    "pass": "ok",
    "stored": "ok",
    "returned": "bad",
    "withdrawn": "bad",
    "suspended": "bad",
    "block": "bad",
    "destroyed": "bad",
    "submitted": "info",
    "in_review": "info",
    "enrolled": "info",
    "review": "warn",
    "draft": "neutral",
    "invited": "neutral",
}

# Confirmation messages a redirect may ask for with ?done=<key> (post/redirect/get): only
# these fixed texts are ever shown, so a link cannot put words on a page.
NOTICES: Final[Mapping[str, str]] = {
    "signed_out": "You are signed out.",
    "account_created": "Your account is ready. Sign in with your email address and password.",
    "token_revoked": "The token is revoked; programs using it can no longer sign in.",
    "enrolled": "You signed the participation agreement. Your firm is enrolled.",
    "withdrawn": "Your firm has withdrawn from the program.",
    "model_registered": "The model is registered.",
    "submission_created": "The draft submission is created. Fill in the dossier below.",
    "saved": "Your changes are saved.",
    "draft_saved": "Your draft is saved as typed. Anything left to fix is shown at its field; it"
    " only needs fixing before you submit.",
    "already_done": "That form was already sent; this is what it did the first time.",
    "submitted": "The submission is sent to the agency for review.",
    "moved": "The submission's status is changed.",
    "assigned": "The reviewer is assigned.",
    "firm_changed": "The firm's participation is changed.",
    "invitation_revoked": "The invitation is revoked; its link no longer works.",
    "role_changed": "The member's role is changed.",
    "member_deactivated": "The member is deactivated: they can no longer sign in or use tokens.",
    "password_changed": "Your password is changed. Your other sessions have ended.",
    "probe_started": "The probe run is started. Its progress shows below.",
    "public_name_saved": "Your choice about being named on the public site is saved.",
    "report_built": "The report snapshot is built. Check it below before publishing.",
    "report_published": "The report is published on the public site.",
}

_ACRONYMS: Final = {
    "id": "ID",
    "url": "URL",
    "flop": "FLOP",
    "api": "API",
    "sha256": "SHA-256",
    "cvss": "CVSS",
    "owasp": "OWASP",
    "nist": "NIST",
    "atlas": "ATLAS",
    "gpu": "GPU",
    "tpu": "TPU",
    "kwh": "kWh",
}
SEPARATOR: Final = " \u203a "  # a single right-pointing angle quotation mark between titles
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def label(value: Any, vocabulary: str) -> str:
    """The human label of an internal value; unknown values show as words, never raw."""
    if value is None or value == "":
        return ""
    text = str(value)
    known = LABELS.get(vocabulary, {}).get(text)
    return known if known is not None else humanize(text)


def action(value: Any, vocabulary: str = "submission") -> str:
    """The name of the button that moves something to the state `value`."""
    text = str(value)
    return ACTIONS.get(vocabulary, {}).get(text) or humanize(text)


def tone(value: Any) -> str:
    """A colour family for a value's tag: ok, bad, info, warn or neutral."""
    return TONES.get(str(value), "neutral")


def humanize(name: str) -> str:
    """A snake_case key as words: `training_flop` -> `Training FLOP`."""
    words = [_ACRONYMS.get(w.lower(), w) for w in name.replace("-", "_").split("_") if w]
    if not words:
        return name
    first = words[0]
    words[0] = first if first.isupper() or first in _ACRONYMS.values() else first.capitalize()
    return " ".join(words)


def _resolve(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        merged = dict(_schema()["$defs"].get(ref.removeprefix("#/$defs/"), {}))
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def section_title(key: str) -> str:
    """A dossier section's title from the schema, e.g. `B` -> `B. Model identity`."""
    sections = _schema()["properties"]["sections"]["properties"]
    node = _resolve(sections.get(key, {}))
    return str(node.get("title") or key)


def field_title(path: Any, *, section: str = "") -> str:
    """A dossier path as section and field titles joined by SEPARATOR.

    `sections.B.versions[1].digest` reads `B. Model identity`, `Versions 1`, `Digest`; pass
    `section` for a path inside one section (as the dossier tables hold them).
    """
    text = str(path or "")
    tokens = [(m.group(1), m.group(2)) for m in _TOKEN.finditer(text)]
    if tokens and tokens[0][0] == "sections":
        tokens = tokens[1:]
    node: dict[str, Any] = {}
    parts: list[str] = []
    if section:
        node = _resolve(_schema()["properties"]["sections"]["properties"].get(section, {}))
    elif tokens and tokens[0][0] and len(tokens[0][0]) == 1 and tokens[0][0].isupper():
        key = tokens.pop(0)[0]
        parts.append(section_title(key))
        node = _resolve(_schema()["properties"]["sections"]["properties"].get(key, {}))
    for key, index in tokens:
        if index is not None:
            if parts:
                parts[-1] = f"{parts[-1]} {index}"
            node = _resolve(_resolve(node).get("items", {}))
            continue
        if key == "value" and "disclosure" in _resolve(node).get("required", ()):
            continue
        child = _resolve(_resolve(node).get("properties", {}).get(key, {}))
        parts.append(str(child.get("title") or humanize(key)))
        node = child
    return SEPARATOR.join(parts) if parts else text


def least_powerful_first(roles: Any) -> list[str]:
    """Roles ordered from the least to the most powerful."""
    rank = {r: i for i, r in enumerate(ROLE_POWER)}
    return sorted((str(r) for r in roles), key=lambda r: (rank.get(r, len(rank)), r))


def install(env: Any) -> None:
    """Register the filters on a Jinja environment."""
    env.filters["label"] = label
    env.filters["action"] = action
    env.filters["tone"] = tone
    env.filters["field_title"] = field_title
    env.filters["humanize"] = humanize
    env.filters["least_powerful_first"] = least_powerful_first
