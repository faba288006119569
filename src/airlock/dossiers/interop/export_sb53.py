"""Export a dossier as the transparency report items of California's SB 53 (Transparency in
Frontier AI Act, Bus. & Prof. Code §22757.12(c)), in Markdown with the statute's letters:
(c)(1)(A)-(G) for every frontier developer, (c)(2)(A)-(D) summaries for large ones. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from airlock.dossiers.interop.common import View, item_value

NOT_PROVIDED: Final = "not provided"
CATASTROPHIC: Final = frozenset({"cbrn", "cyber", "autonomy", "persuasion", "safety"})

Render = Callable[[View], str | None]


def _value(path: str) -> Render:
    def render(view: View) -> str | None:
        value = view.get(path)
        if isinstance(value, list):
            return ", ".join(map(str, value)) or None
        return None if value is None else str(value)

    return render


def _contact(view: View) -> str | None:
    parts = [view.get("A.contact_name"), view.get("A.contact_email")]
    return " ".join(str(p) for p in parts if p) or None


def _release(view: View) -> str | None:
    dates = [
        f"{item_value(v, 'version')}: "
        + (item_value(v, "release_date") or f"planned {item_value(v, 'planned_release_date')}")
        for v in view.items("B.versions")
        if item_value(v, "release_date") or item_value(v, "planned_release_date")
    ]
    return "; ".join(dates) or None


def _restrictions(view: View) -> str | None:
    parts = []
    if view.get("F.prohibited_uses"):
        parts.append("prohibited: " + "; ".join(view.get("F.prohibited_uses")))
    if view.get("F.acceptable_use_policy"):
        parts.append(f"acceptable use policy: {view.get('F.acceptable_use_policy')}")
    if view.get("F.model_licence"):
        parts.append(f"licence: {view.get('F.model_licence')}")
    return "; ".join(parts) or None


def _risk_evaluations(view: View) -> list[dict[str, Any]]:
    return [e for e in view.items("G.evaluations") if item_value(e, "category") in CATASTROPHIC]


def _assessments(view: View) -> str | None:
    evals = [
        f"{item_value(e, 'name')} ({item_value(e, 'category')})" for e in _risk_evaluations(view)
    ]
    exercises = [item_value(x, "name") for x in view.items("G.red_team_exercises")]
    parts = []
    if evals:
        parts.append("evaluations: " + "; ".join(evals))
    if any(exercises):
        parts.append("red-team exercises: " + "; ".join(x for x in exercises if x))
    return "; ".join(parts) or None


def _results(view: View) -> str | None:
    lines = []
    for e in _risk_evaluations(view):
        score = item_value(e, "score")
        summary = item_value(e, "summary")
        text = f"{item_value(e, 'name')}: {item_value(e, 'metric') or 'score'} {score}"
        lines.append(f"{text} ({summary})" if summary else text)
    for x in view.items("G.red_team_exercises"):
        if item_value(x, "findings_summary"):
            lines.append(f"{item_value(x, 'name')}: {item_value(x, 'findings_summary')}")
    return "; ".join(lines) or None


def _third_parties(view: View) -> str | None:
    developer = view.get("A.developer_name")
    evaluators = sorted(
        {
            str(item_value(e, "evaluator"))
            for e in view.items("G.evaluations")
            if item_value(e, "evaluator") and item_value(e, "evaluator") != developer
        }
    )
    teams = sorted(
        {
            str(item_value(x, "team"))
            for x in view.items("G.red_team_exercises")
            if item_value(x, "team") and item_value(x, "team") != developer
        }
    )
    audits = [str(item_value(a, "auditor")) for a in view.items("J.third_party_audits")]
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (("evaluators", evaluators), ("red teams", teams), ("audits", audits))
        if names
    ]
    return "; ".join(parts) or None


def _framework(view: View) -> str | None:
    parts = []
    if view.get("J.safety_framework"):
        parts.append(f"frontier AI framework: {view.get('J.safety_framework')}")
    if view.get("J.risk_management_process"):
        parts.append(str(view.get("J.risk_management_process")))
    return "; ".join(parts) or None


ALL_DEVELOPERS: Final[Sequence[tuple[str, str, Render]]] = (
    ("A", "Website of the frontier developer", _value("A.website")),
    ("B", "Mechanism to communicate with the frontier developer", _contact),
    ("C", "Release date of the frontier model", _release),
    ("D", "Languages supported by the frontier model", _value("C.languages")),
    ("E", "Modalities of output supported by the frontier model", _value("C.output_modalities")),
    ("F", "Intended uses of the frontier model", _value("F.intended_uses")),
    ("G", "Generally applicable restrictions or conditions on uses", _restrictions),
)
LARGE_DEVELOPERS: Final[Sequence[tuple[str, str, Render]]] = (
    ("A", "Assessments of catastrophic risks from the frontier model", _assessments),
    ("B", "Results of those assessments", _results),
    ("C", "Extent of third-party evaluators' involvement", _third_parties),
    ("D", "Other steps taken to fulfil the frontier AI framework", _framework),
)


def export_sb53(doc: dict[str, Any], *, now: datetime | None = None) -> str:
    """Return an audience-filtered dossier as SB 53 transparency report items, in Markdown."""
    view = View(doc)
    name = view.get("B.model_name") or "the model"
    developer = view.get("A.developer_name") or NOT_PROVIDED
    today = (now or datetime.now(UTC)).date().isoformat()
    lines = [
        f"# Transparency report: {name}",
        "",
        f"Frontier developer: {developer}. Prepared {today} under Cal. Bus. & Prof. Code "
        "§22757.12(c). A system card or model card containing these items may serve as the "
        "report.",
        "",
        "## §22757.12(c)(1): every frontier developer",
        "",
    ]
    for letter, title, render in ALL_DEVELOPERS:
        value = render(view)
        lines.append(
            f"- **({letter}) {title}:** {' '.join(value.split()) if value else f'*{NOT_PROVIDED}*'}"
        )
    lines += ["", "## §22757.12(c)(2): summaries a large frontier developer adds", ""]
    for letter, title, render in LARGE_DEVELOPERS:
        value = render(view)
        lines.append(
            f"- **({letter}) {title}:** {' '.join(value.split()) if value else f'*{NOT_PROVIDED}*'}"
        )
    return "\n".join(lines) + "\n"
