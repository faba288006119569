"""Advisories as CSAF 2.0 (`csaf_security_advisory`) and as AVID reports.

Product ids come from the model and submission ids and the tracking id is the advisory's, so
both stay the same across revisions. CSAF status is `interim` until published, `final` after.
"""

from __future__ import annotations

from typing import Any

from airlock.accounts.models import Organisation
from airlock.core.access import Actor
from airlock.core.uow import UnitOfWork
from airlock.publishing import advisories
from airlock.publishing.advisories_models import Advisory, AdvisoryRevision
from airlock.publishing.advisories_rules import AdvisoryState, csaf_status
from airlock.submissions.models import AIModel, Submission

PUBLISHER_NAME = "Airlock AI model review program"
SEVERITY_IMPACT = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "None",
}


def _iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def product_id(submission: Submission) -> str:
    """The CSAF product id of a reviewed release candidate: the same in every revision."""
    return f"CSAFPID-{submission.model_id[:12]}-{submission.id[:12]}"


def _context(
    uow: UnitOfWork, actor: Actor, advisory_id: str
) -> tuple[Advisory, list[AdvisoryRevision], Submission, AIModel, Organisation]:
    adv = advisories.get(uow, actor=actor, advisory_id=advisory_id)
    case = advisories.check_may_export(uow, advisory=adv)
    sub = uow.session.get(Submission, case.submission_id)
    assert sub is not None
    model = uow.session.get(AIModel, sub.model_id)
    org = uow.session.get(Organisation, case.org_id)
    assert model is not None and org is not None
    return adv, advisories.revisions(uow, advisory_id=adv.id), sub, model, org


def csaf(uow: UnitOfWork, *, actor: Actor, advisory_id: str) -> dict[str, Any]:
    """The advisory as a CSAF 2.0 security advisory document."""
    adv, revs, sub, model, org = _context(uow, actor, advisory_id)
    return csaf_document(uow, adv, revs, sub, vendor=org.name, model_name=model.name)


def csaf_document(
    uow: UnitOfWork,
    adv: Advisory,
    revs: list[AdvisoryRevision],
    sub: Submission,
    *,
    vendor: str,
    model_name: str,
    version: str | None = None,
) -> dict[str, Any]:
    """The CSAF document of an advisory's revisions, naming the vendor and model as given
    (the public site passes neutral names when the firm did not agree to be named)."""
    latest = revs[-1]
    pid = product_id(sub)
    version = version or sub.version or sub.title
    vulnerabilities = []
    for finding_id, v in sorted(latest.vulnerabilities.items()):
        entry: dict[str, Any] = {
            "ids": [{"system_name": "Airlock finding", "text": finding_id}],
            "title": v["title"],
            "notes": [
                {"category": "description", "title": "Description", "text": v["description"]}
            ],
            "product_status": {"fixed" if v.get("fixed") else "known_affected": [pid]},
            "threats": [
                {"category": "impact", "details": SEVERITY_IMPACT.get(v["severity"], "Unknown")}
            ],
        }
        if v.get("cwe"):
            entry["cwe"] = {"id": v["cwe"], "name": v["cwe"]}
        if v.get("remediation"):
            entry["remediations"] = [
                {"category": "vendor_fix", "details": v["remediation"], "product_ids": [pid]}
            ]
        vulnerabilities.append(entry)
    settings = uow.services.settings
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "lang": "en",
            "publisher": {
                "category": "coordinator",
                "name": PUBLISHER_NAME,
                "namespace": settings.base_url,
            },
            "title": latest.title,
            "notes": [{"category": "summary", "title": "Summary", "text": latest.summary}],
            "distribution": {
                "tlp": {
                    "label": "WHITE"
                    if adv.state in {AdvisoryState.PUBLISHED, AdvisoryState.UPDATED}
                    else "AMBER"
                }
            },
            "tracking": {
                "id": adv.tracking_id,
                "status": csaf_status(AdvisoryState(adv.state)),
                "version": str(latest.number),
                "initial_release_date": _iso(adv.published_at or revs[0].created_at),
                "current_release_date": _iso(latest.created_at),
                "revision_history": [
                    {
                        "number": str(r.number),
                        "date": _iso(r.created_at),
                        "summary": r.change or "Revision",
                    }
                    for r in revs
                ],
                "generator": {"engine": {"name": "Airlock"}},
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": vendor,
                    "branches": [
                        {
                            "category": "product_name",
                            "name": model_name,
                            "branches": [
                                {
                                    "category": "product_version",
                                    "name": version,
                                    "product": {
                                        "name": f"{model_name} {version}",
                                        "product_id": pid,
                                    },
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        "vulnerabilities": vulnerabilities,
    }


def avid(uow: UnitOfWork, *, actor: Actor, advisory_id: str) -> dict[str, Any]:
    """The advisory as an AVID report (data_version 0.2)."""
    adv, revs, sub, model, org = _context(uow, actor, advisory_id)
    return avid_document(adv, revs, sub, vendor=org.name, model_name=model.name)


def avid_document(
    adv: Advisory,
    revs: list[AdvisoryRevision],
    sub: Submission,
    *,
    vendor: str,
    model_name: str,
    version: str | None = None,
) -> dict[str, Any]:
    """The AVID report of an advisory's revisions, naming the vendor and model as given."""
    latest = revs[-1]
    version = version or sub.version or sub.title
    return {
        "data_type": "AVID",
        "data_version": "0.2",
        "metadata": {"report_id": adv.tracking_id},
        "affects": {
            "developer": [vendor],
            "deployer": [],
            "artifacts": [{"type": "Model", "name": f"{model_name} {version}"}],
        },
        "problemtype": {
            "classof": "LLM Evaluation",
            "type": "Advisory",
            "description": {"lang": "eng", "value": latest.title},
        },
        "metrics": [],
        "references": [],
        "description": {"lang": "eng", "value": latest.summary},
        "impact": {
            "avid": {
                "risk_domain": ["Security"],
                "sep_view": ["S0100: Software Vulnerability"],
                "lifecycle_view": ["L06: Deployment"],
                "taxonomy_version": "0.2",
            }
        },
        "credit": [{"lang": "eng", "value": PUBLISHER_NAME}],
        "reported_date": (adv.published_at or latest.created_at).date().isoformat(),
    }
