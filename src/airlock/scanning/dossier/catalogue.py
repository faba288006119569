"""The control catalogue: MITRE ATLAS, OWASP Top 10 for LLM Applications 2025, NIST AI 600-1.

ATLAS tactics, techniques and mitigations (with the techniques each addresses) are compiled
from the published `ATLAS.yaml` into `data/catalogue.json`, shipped with the package so the
check runs without the source file:

    python -m airlock.scanning.dossier.catalogue path/to/ATLAS.yaml

OWASP ids carry their edition (`LLM01:2025`): the 2026 edition renumbers them. NIST AI 600-1
entries are limited to what the reference notes list (the twelve risk titles and the action
ids named there); nothing else is invented.
"""

from __future__ import annotations

import functools
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Final

MAX_ATLAS_BYTES: Final = 32 * 1024 * 1024

OWASP_LLM_2025: Final[tuple[tuple[str, str], ...]] = (
    ("LLM01:2025", "Prompt Injection"),
    ("LLM02:2025", "Sensitive Information Disclosure"),
    ("LLM03:2025", "Supply Chain"),
    ("LLM04:2025", "Data and Model Poisoning"),
    ("LLM05:2025", "Improper Output Handling"),
    ("LLM06:2025", "Excessive Agency"),
    ("LLM07:2025", "System Prompt Leakage"),
    ("LLM08:2025", "Vector and Embedding Weaknesses"),
    ("LLM09:2025", "Misinformation"),
    ("LLM10:2025", "Unbounded Consumption"),
)

# The twelve risks NIST AI 600-1 (July 2024) tags its actions with; titles only, as published.
NIST_AI_600_1_RISKS: Final[tuple[str, ...]] = (
    "CBRN Information or Capabilities",
    "Confabulation",
    "Dangerous, Violent, or Hateful Content",
    "Data Privacy",
    "Environmental Impacts",
    "Harmful Bias and Homogenization",
    "Human-AI Configuration",
    "Information Integrity",
    "Information Security",
    "Intellectual Property",
    "Obscene, Degrading, and/or Abusive Content",
    "Value Chain and Component Integration",
)

# Action ids the reference notes name, with what they say of each; other well-formed ids are
# accepted but reported as not checkable against the reference list.
NIST_AI_600_1_ACTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("GV-1.2-002", "capability evaluation"),
    ("GV-1.3-002", "go/no-go decisions"),
    ("GV-1.3-003", "CBRN and cyber test plan"),
    ("GV-1.3-007", "plan to halt development or deployment"),
    ("GV-1.6-003", "AI system inventory items"),
    ("GV-2.1-004", "national-security experts"),
    ("GV-2.1-005", "whistleblower protections"),
    ("GV-4.3-002", "minimum incident report fields"),
    ("MG-4.3-003", "legal incident reporting"),
)


def compile_atlas(doc: Any) -> dict[str, Any]:
    """The parts of a parsed ATLAS.yaml the coverage check needs, in matrix order."""
    if not isinstance(doc, dict) or not isinstance(doc.get("matrices"), list):
        raise ValueError("ATLAS data has no matrices")
    matrix = doc["matrices"][0]
    tactics = [{"id": t["id"], "name": t["name"]} for t in matrix["tactics"]]
    techniques = [
        {
            "id": t["id"],
            "name": t["name"],
            "tactics": list(t.get("tactics", [])),
            "parent": t.get("subtechnique-of"),
        }
        for t in matrix["techniques"]
    ]
    mitigations = [
        {
            "id": m["id"],
            "name": m["name"],
            "techniques": sorted({x["id"] for x in m.get("techniques", []) if "id" in x}),
        }
        for m in matrix["mitigations"]
    ]
    return {
        "version": str(doc.get("version", "")),
        "tactics": tactics,
        "techniques": techniques,
        "mitigations": mitigations,
    }


def compile_catalogue(atlas_yaml: Path) -> dict[str, Any]:
    """The whole catalogue from an ATLAS.yaml file (needs PyYAML, at build time only)."""
    import yaml

    if atlas_yaml.stat().st_size > MAX_ATLAS_BYTES:
        raise ValueError(f"{atlas_yaml} is larger than {MAX_ATLAS_BYTES} bytes")
    doc = yaml.safe_load(atlas_yaml.read_text(encoding="utf-8"))
    return {
        "atlas": compile_atlas(doc),
        "owasp_llm_2025": [{"id": i, "title": t} for i, t in OWASP_LLM_2025],
        "nist_ai_600_1": {
            "risks": list(NIST_AI_600_1_RISKS),
            "actions": [{"id": i, "note": n} for i, n in NIST_AI_600_1_ACTIONS],
        },
    }


@functools.cache
def load_catalogue() -> dict[str, Any]:
    """The shipped catalogue (data/catalogue.json)."""
    raw = resources.files(__package__).joinpath("data/catalogue.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(raw)
    return doc


def main(argv: list[str]) -> int:
    """Compile ATLAS.yaml into the shipped catalogue."""
    if len(argv) != 1:
        print("usage: python -m airlock.scanning.dossier.catalogue ATLAS.yaml", file=sys.stderr)
        return 2
    out = Path(__file__).with_name("data") / "catalogue.json"
    out.write_text(json.dumps(compile_catalogue(Path(argv[0])), indent=1) + "\n", "utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
