"""Safeguards coverage: the dossier's declared controls (section H) against MITRE ATLAS.

Each declared ATLAS mitigation covers the techniques ATLAS says it addresses. Techniques
relevant to the model's deployment (open weights, API, agentic use) that some ATLAS mitigation
addresses but no declared, implemented control does become results, grouped by tactic.
Techniques no ATLAS mitigation addresses are listed, not reported: no control id could cover
them. OWASP LLM 2025 and NIST AI 600-1 controls are checked against their catalogues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from typing import Any, Final

from .catalogue import load_catalogue
from .results import CheckReport, CheckResult, DossierView, Severity

CHECK: Final = "coverage"
VERSION: Final = "1.0.0"
DEPLOYMENTS: Final = ("open_weights", "api", "agentic")

# Which deployments make a technique reachable. Techniques not listed apply to every model.
# Judged from each technique's ATLAS description: inference-API techniques need a served
# model; full-model-access ones need the weights; agent and retrieval ones need tool use.
ONLY_FOR: Final[Mapping[str, frozenset[str]]] = {
    **dict.fromkeys(
        (
            "AML.T0040",
            "AML.T0024",
            "AML.T0029",
            "AML.T0034",
            "AML.T0046",
            "AML.T0056",
            "AML.T0063",
            "AML.T0069",
            "AML.T0047",
            "AML.T0049",
            "AML.T0077",
            "AML.T0092",
            "AML.T0093",
            "AML.T0096",
            "AML.T0006",
        ),
        frozenset({"api"}),
    ),
    **dict.fromkeys(
        ("AML.T0044", "AML.T0058", "AML.T0076", "AML.T0109", "AML.T0111"),
        frozenset({"open_weights"}),
    ),
    **dict.fromkeys(
        (
            "AML.T0050",
            "AML.T0053",
            "AML.T0061",
            "AML.T0064",
            "AML.T0066",
            "AML.T0070",
            "AML.T0071",
            "AML.T0072",
            "AML.T0080",
            "AML.T0081",
            "AML.T0082",
            "AML.T0083",
            "AML.T0084",
            "AML.T0086",
            "AML.T0094",
            "AML.T0098",
            "AML.T0099",
            "AML.T0100",
            "AML.T0101",
            "AML.T0102",
            "AML.T0103",
            "AML.T0104",
            "AML.T0105",
            "AML.T0108",
            "AML.T0110",
        ),
        frozenset({"agentic"}),
    ),
}

CHANNEL_DEPLOYMENT: Final[Mapping[str, str]] = {
    "api": "api",
    "consumer_app": "api",
    "enterprise": "api",
    "cloud_marketplace": "api",
    "internal_only": "api",
    "open_weights": "open_weights",
    "research_access": "open_weights",
}
_AGENTIC: Final = re.compile(
    r"\b(agent|agents|agentic|tool[- ]use|tool calling|function calling|autonomous|"
    r"retrieval|rag|browser|computer use|plugin)s?\b",
    re.IGNORECASE,
)
_ATLAS_ID: Final = re.compile(r"AML\.M\d{4}")
_OWASP_ID: Final = re.compile(r"LLM(0[1-9]|10):2025")
_NIST_ID: Final = re.compile(r"(GV|MP|MS|MG)-[1-9]\.[1-9]\d?-\d{3}")
COVERING_STATUS: Final = frozenset({"implemented", "partial"})


def deployment_of(view: DossierView) -> tuple[frozenset[str], str]:
    """The deployments a dossier declares (section F), and how they were decided."""
    channels = view.field("F", "distribution_channels")
    found: set[str] = set()
    if isinstance(channels, list):
        found |= {CHANNEL_DEPLOYMENT[c] for c in channels if c in CHANNEL_DEPLOYMENT}
    texts = [view.field("F", "downstream_integration")]
    uses = view.field("F", "intended_uses")
    if isinstance(uses, list):
        texts.extend(uses)
    if any(isinstance(t, str) and _AGENTIC.search(t) for t in texts):
        found.add("agentic")
    if not found:
        return frozenset(DEPLOYMENTS), "no distribution channel declared: all deployments assumed"
    return frozenset(found), "from sections.F"


def relevant(technique_id: str, deployment: Set[str]) -> bool:
    """Whether a (top-level) technique is reachable in any of the given deployments."""
    only = ONLY_FOR.get(technique_id)
    return only is None or bool(only & deployment)


def _result(
    rule: str, sev: Severity, title: str, msg: str, where: str, key: str, **d: Any
) -> CheckResult:
    atlas = (key,) if key.startswith("AML.T") else ()
    return CheckResult(rule, CHECK, sev, title, msg, where, key, d, atlas)


def _declared_controls(view: DossierView) -> tuple[list[dict[str, Any]], list[CheckResult]]:
    out: list[dict[str, Any]] = []
    problems: list[CheckResult] = []
    for i, item in enumerate(view.items("H", "controls")):
        where = f"sections.H.controls.{i}"
        cid = DossierView.unwrap(item.get("control_id"))
        status = DossierView.unwrap(item.get("status"))
        title = DossierView.unwrap(item.get("title"))
        if not isinstance(cid, str):
            problems.append(
                _result(
                    "DOS-COV-002",
                    Severity.LOW,
                    "Control id is not recognised",
                    f"{where}.control_id: must be an ATLAS mitigation, NIST AI 600-1 action "
                    f"or OWASP LLM 2025 id (got {str(cid)[:40]!r})",
                    where,
                    where,
                )
            )
            continue
        out.append(
            {
                "where": where,
                "id": cid.strip(),
                "status": status if isinstance(status, str) else "implemented",
                "title": title if isinstance(title, str) else "",
            }
        )
    return out, problems


def check_coverage(
    doc: Mapping[str, Any] | None, *, deployment: Set[str] | None = None
) -> CheckReport:
    """Which ATLAS techniques the declared controls leave uncovered, grouped by tactic."""
    view = DossierView(doc)
    cat = load_catalogue()
    atlas = cat["atlas"]
    mitigations = {m["id"]: m for m in atlas["mitigations"]}
    techniques = {t["id"]: t for t in atlas["techniques"]}
    owasp = {o["id"]: o["title"] for o in cat["owasp_llm_2025"]}
    nist = {a["id"]: a["note"] for a in cat["nist_ai_600_1"]["actions"]}
    if deployment is None:
        deploy, how = deployment_of(view)
    else:
        deploy, how = frozenset(deployment), "given"
    controls, results = _declared_controls(view)
    covered: dict[str, list[str]] = {}  # top-level technique -> control ids covering it
    declared_out: list[dict[str, Any]] = []
    for c in controls:
        cid, where = c["id"], c["where"]
        entry = {"id": cid, "status": c["status"], "title": c["title"], "catalogue": None}
        if _ATLAS_ID.fullmatch(cid):
            m = mitigations.get(cid)
            if m is None:
                results.append(
                    _result(
                        "DOS-COV-002",
                        Severity.LOW,
                        "Control id is not recognised",
                        f"{where}.control_id: {cid} is not a mitigation in ATLAS "
                        f"{atlas['version']}",
                        where,
                        cid,
                    )
                )
            else:
                entry.update(catalogue="ATLAS", name=m["name"], addresses=len(m["techniques"]))
                if c["status"] in COVERING_STATUS:
                    for tid in m["techniques"]:
                        top = (techniques.get(tid) or {}).get("parent") or tid
                        covered.setdefault(top, []).append(cid)
        elif _OWASP_ID.fullmatch(cid):
            entry.update(catalogue="OWASP LLM Top 10 2025", name=owasp[cid])
        elif _NIST_ID.fullmatch(cid):
            entry.update(catalogue="NIST AI 600-1", name=nist.get(cid), verified=cid in nist)
        else:
            results.append(
                _result(
                    "DOS-COV-002",
                    Severity.LOW,
                    "Control id is not recognised",
                    f"{where}.control_id: {cid[:40]!r} is not an ATLAS mitigation "
                    "(AML.M0015), NIST AI 600-1 action (GV-1.1-001) or OWASP LLM 2025 id "
                    "(LLM01:2025); OWASP ids need their edition",
                    where,
                    cid[:40],
                )
            )
        declared_out.append(entry)
    addressable = {
        (techniques.get(tid) or {}).get("parent") or tid
        for m in atlas["mitigations"]
        for tid in m["techniques"]
    }
    tactic_names = {t["id"]: t["name"] for t in atlas["tactics"]}
    groups: dict[str, list[dict[str, Any]]] = {t["id"]: [] for t in atlas["tactics"]}
    matrix: list[dict[str, Any]] = []
    unaddressable: list[str] = []
    for t in atlas["techniques"]:
        if t["parent"] or not relevant(t["id"], deploy):
            continue
        status = "covered" if t["id"] in covered else "uncovered"
        if t["id"] not in addressable:
            status = "no_mitigation"
            unaddressable.append(t["id"])
        cell = {
            "id": t["id"],
            "name": t["name"],
            "tactics": t["tactics"],
            "status": status,
            "controls": sorted(set(covered.get(t["id"], []))),
        }
        matrix.append(cell)
        for tac in t["tactics"]:
            groups.setdefault(tac, []).append(cell)
        if status == "uncovered":
            ways = sorted(
                m["id"] for m in atlas["mitigations"] if _addresses(m, t["id"], techniques)
            )
            tactics = ", ".join(tactic_names.get(x, x) for x in t["tactics"])
            results.append(
                _result(
                    "DOS-COV-001",
                    Severity.MEDIUM,
                    "ATLAS technique not covered by any declared control",
                    f"{t['id']} {t['name']} ({tactics}) is reachable in the declared deployment "
                    f"({', '.join(sorted(deploy))}) and no declared control addresses it; "
                    f"ATLAS mitigations that do: {', '.join(ways)}",
                    "sections.H.controls",
                    t["id"],
                    technique=t["id"],
                    name=t["name"],
                    tactics=t["tactics"],
                    tactic_names=[tactic_names.get(x, x) for x in t["tactics"]],
                    mitigations=ways,
                )
            )
    summary = {
        "atlas_version": atlas["version"],
        "deployment": sorted(deploy),
        "deployment_source": how,
        "declared": declared_out,
        "by_tactic": [
            {
                "tactic": tid,
                "name": tactic_names.get(tid, tid),
                "covered": sum(1 for c in cells if c["status"] == "covered"),
                "uncovered": [c["id"] for c in cells if c["status"] == "uncovered"],
                "no_mitigation": [c["id"] for c in cells if c["status"] == "no_mitigation"],
            }
            for tid, cells in groups.items()
            if cells
        ],
        "matrix": matrix,
        "owasp_llm_2025": [
            {"id": i, "title": t, "declared": any(c["id"] == i for c in controls)}
            for i, t in owasp.items()
        ],
        "nist_ai_600_1_risks": cat["nist_ai_600_1"]["risks"],
        "unaddressable": unaddressable,
    }
    return CheckReport(CHECK, VERSION, summary, tuple(results))


def _addresses(m: Mapping[str, Any], tid: str, techniques: Mapping[str, Any]) -> bool:
    return any(x == tid or (techniques.get(x) or {}).get("parent") == tid for x in m["techniques"])
