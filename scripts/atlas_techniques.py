"""Write the ATLAS technique ids and names Airlock validates against, from MITRE's ATLAS.yaml.

Usage: python scripts/atlas_techniques.py /work/shared/data/atlas/ATLAS.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "src/airlock/findings/data/atlas_techniques.json"


def main(path: str) -> None:
    """Read the matrix and write {version, techniques: {id: name}} next to the findings stage."""
    doc = yaml.safe_load(Path(path).read_text())
    techniques = {
        t["id"]: t["name"]
        for matrix in doc["matrices"]
        for t in matrix.get("techniques", [])
        if t.get("object-type") == "technique"
    }
    OUT.write_text(
        json.dumps(
            {"version": doc["version"], "techniques": dict(sorted(techniques.items()))}, indent=1
        )
        + "\n"
    )
    print(f"{len(techniques)} techniques of ATLAS {doc['version']} -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
