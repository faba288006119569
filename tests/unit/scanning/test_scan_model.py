"""Findings and reports: fingerprints, serialisation, and the engine's isolation rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pickle_factory as pf

import airlock.scanning.engine as engine
from airlock.scanning.engine import ENGINE_NAME, ENGINE_VERSION, scan_bytes

ENGINE_DIR = Path(engine.__file__).parent


def test_fingerprint_is_stable_across_versions_of_a_model():
    v1 = scan_bytes(pf.torch_zip(pf.os_system_v4("a")), name="model-v1.pt").findings[0]
    v2 = scan_bytes(
        pf.torch_zip(b"\x80\x02N0" + pf.os_system_v4("bb")), name="model-v2.pt"
    ).findings[0]
    assert v1.evidence.offset != v2.evidence.offset
    assert v1.fingerprint() == v2.fingerprint()


def test_fingerprint_differs_by_global_and_member():
    a = scan_bytes(pf.torch_zip(pf.os_system_v4()), name="m.pt").findings[0]
    b = scan_bytes(pf.torch_zip(pf.os_system_v4(), prefix="other"), name="m.pt").findings[0]
    assert a.fingerprint() != b.fingerprint()


def test_reports_serialise_to_plain_json_types():
    import json

    report = scan_bytes(pf.os_system_v4(), name="x.pkl")
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["findings"][0]["atlas"] == ["AML.T0010", "AML.T0011"]
    assert doc["findings"][0]["fingerprint"] == report.findings[0].fingerprint()


def test_engine_identity_is_exported():
    assert ENGINE_NAME == "airlock-artifact-safety"
    assert ENGINE_VERSION.count(".") == 2


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_engine_imports_nothing_else_from_airlock():
    for src in ENGINE_DIR.glob("*.py"):
        bad = {m for m in _imports(src) if m.startswith("airlock")}
        assert not bad, (src.name, bad)


def test_engine_never_loads_what_it_scans():
    import re

    forbidden = re.compile(
        r"pickle\.loads?\(|torch\.load\(|joblib\.load\(|allow_pickle|marshal\.loads?\(|"
        r"(?<![\w.])(eval|exec)\(|^\s*import pickle|^\s*from pickle",
        re.M,
    )
    for src in ENGINE_DIR.glob("*.py"):
        m = forbidden.search(src.read_text())
        assert m is None, (src.name, m.group(0) if m else "")
