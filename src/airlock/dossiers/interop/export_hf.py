"""Export a dossier as a Hugging Face model card (README.md): YAML front matter with the
Hub's metadata keys and the Markdown sections of the Hub's model card template.

The front matter is written by a small emitter (strings JSON-quoted, which YAML reads as
double-quoted scalars) so the server needs no YAML library; tests read it back with
`huggingface_hub.ModelCard`. Pure.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from airlock.dossiers.interop.common import View, item_value
from airlock.dossiers.interop.import_hf import BASE_RELATIONS, PIPELINE_MODALITIES

_HUB_LICENSE: Final = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _yaml(value: object, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, dict | list) and child:
                lines.append(f"{pad}{key}:")
                lines += _yaml(child, indent + 2)
            else:
                lines.append(f"{pad}{key}: {_scalar(child)}")
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, dict | list) and child:
                nested = _yaml(child, indent + 2)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines.append(f"{pad}- {_scalar(child)}")
    return lines


def _pipeline(view: View) -> str | None:
    wanted = (
        tuple(view.get("C.input_modalities") or ()),
        tuple(view.get("C.output_modalities") or ()),
    )
    return next((tag for tag, pair in PIPELINE_MODALITIES.items() if pair == wanted), None)


def front_matter(view: View) -> dict[str, Any]:
    """The card's metadata as the Hub's keys."""
    data: dict[str, Any] = {}
    if view.get("B.model_name"):
        data["model_name"] = view.get("B.model_name")
    if view.get("C.languages"):
        data["language"] = list(view.get("C.languages"))
    licence = view.get("F.model_licence")
    if isinstance(licence, str):
        if _HUB_LICENSE.match(licence):
            data["license"] = licence
        else:
            data["license"], data["license_name"] = "other", licence
    bases = [b for b in view.items("B.base_models") if item_value(b, "name")]
    if bases:
        data["base_model"] = [item_value(b, "name") for b in bases]
        relations = {item_value(b, "relation") for b in bases}
        hub = {v: k for k, v in BASE_RELATIONS.items()}
        if len(relations) == 1 and (relation := relations.pop()) in hub:
            data["base_model_relation"] = hub[relation]
    datasets = [item_value(d, "name") for d in view.items("E.datasets") if item_value(d, "name")]
    if datasets:
        data["datasets"] = datasets
    tag = _pipeline(view)
    if tag:
        data["pipeline_tag"] = tag
    results = [
        {
            "task": {"type": tag or "other"},
            "dataset": {"name": item_value(e, "name"), "type": item_value(e, "name")},
            "metrics": [
                {"type": item_value(e, "metric") or "score", "value": item_value(e, "score")}
            ],
        }
        for e in view.items("G.evaluations")
        if item_value(e, "name") and item_value(e, "score") is not None
    ]
    if results:
        data["model-index"] = [{"name": view.get("B.model_name") or "model", "results": results}]
    emissions: dict[str, Any] = {}
    if view.get("D.emissions_tco2e") is not None:
        emissions["emissions"] = view.get("D.emissions_tco2e") * 1_000_000  # grams on the Hub
    if view.get("D.hardware.accelerator"):
        emissions["hardware_used"] = view.get("D.hardware.accelerator")
    if "emissions" in emissions:
        data["co2_eq_emissions"] = emissions
    return data


def _bullets(pairs: list[tuple[str, object]]) -> list[str]:
    return [f"- **{label}:** {value}" for label, value in pairs if value not in (None, "")]


def export_hf_card(doc: dict[str, Any]) -> str:
    """Return an audience-filtered dossier as a Hugging Face model card (Markdown)."""
    view = View(doc)
    name = view.get("B.model_name") or "this model"
    bases = [item_value(b, "name") for b in view.items("B.base_models") if item_value(b, "name")]
    lines = ["---", *_yaml(front_matter(view)), "---", "", f"# Model Card for {name}", ""]
    lines += ["## Model Details", "", "### Model Description", ""]
    if view.get("A.summary"):
        lines += [" ".join(str(view.get("A.summary")).split()), ""]
    lines += _bullets(
        [
            ("Developed by", view.get("A.developer_name")),
            ("License", view.get("F.model_licence")),
            ("Finetuned from model", bases[0] if bases else None),
        ]
    )
    lines += ["", "## Uses", ""]
    if view.get("F.intended_uses"):
        lines += ["### Direct Use", "", *[f"- {u}" for u in view.get("F.intended_uses")], ""]
    if view.get("F.downstream_integration"):
        lines += ["### Downstream Use", "", str(view.get("F.downstream_integration")), ""]
    if view.get("F.prohibited_uses"):
        lines += [
            "### Out-of-Scope Use",
            "",
            *[f"- {u}" for u in view.get("F.prohibited_uses")],
            "",
        ]
    if view.get("E.summary"):
        lines += [
            "## Training Details",
            "",
            "### Training Data",
            "",
            str(view.get("E.summary")),
            "",
        ]
    evals = view.items("G.evaluations")
    if evals:
        lines += ["## Evaluation", "", "| Benchmark | Metric | Score |", "|---|---|---|"]
        for e in evals:
            metric = item_value(e, "metric") or ""
            lines.append(f"| {item_value(e, 'name')} | {metric} | {item_value(e, 'score')} |")
        lines.append("")
    impact = _bullets(
        [
            ("Hardware Type", view.get("D.hardware.accelerator")),
            ("Hours used", view.get("D.hardware.training_hours")),
            ("Cloud Provider", view.get("D.hardware.compute_provider")),
            (
                "Carbon Emitted",
                view.get("D.emissions_tco2e") and f"{view.get('D.emissions_tco2e')} tCO2eq",
            ),
        ]
    )
    if impact:
        lines += ["## Environmental Impact", "", *impact, ""]
    spec = _bullets(
        [
            ("Architecture", view.get("C.architecture")),
            ("Parameters", view.get("C.parameters_total")),
            ("Context length", view.get("C.context_length")),
        ]
    )
    if spec or view.get("C.architecture_description"):
        lines += ["## Technical Specifications", "", "### Model Architecture and Objective", ""]
        if view.get("C.architecture_description"):
            lines += [str(view.get("C.architecture_description")), ""]
        lines += [*spec, ""]
    if view.get("A.contact_email"):
        lines += ["## Model Card Contact", "", str(view.get("A.contact_email")), ""]
    return "\n".join(lines).rstrip() + "\n"
