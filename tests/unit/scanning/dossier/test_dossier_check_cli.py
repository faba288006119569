"""Done-when: `airlock dossier check` on a transformers model folder signed with model-signing."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from airlock.cli.main import app

transformers = pytest.importorskip("transformers")
model_signing = pytest.importorskip("model_signing")

EMAILS = ["ada.lovelace@example.org", "grace.hopper@navy.example.mil"]
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004"]
AWS_KEY = "AKIAZ7QWERTYUPLK3MNB"
runner = CliRunner()


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": "self_reported"}


@pytest.fixture(scope="module")
def signed_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("done")
    folder = root / "tiny-llama"
    cfg = transformers.LlamaConfig(
        vocab_size=256,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(cfg)
        model.save_pretrained(folder)
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\n---\n# Tiny llama\nA test model.\n"
    )
    rows = [{"text": f"hello world {i}"} for i in range(200)]
    rows[10]["text"] += f" write to {EMAILS[0]}"
    rows[50]["text"] += f" card {CARDS[0]}"
    rows[90] = {"text": f"mail {EMAILS[1]} pay {CARDS[1]}", "cfg": f"aws_access_key_id={AWS_KEY}"}
    (folder / "data").mkdir()
    (folder / "data" / "sample.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = root / "firm.pem", root / "firm.pub"
    priv.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
    ).sign(folder, folder / "model.sig")
    true = sum(p.numel() for p in model.parameters())
    dossier = root / "dossier.json"
    dossier.write_text(
        json.dumps(
            {
                "schema_version": "1.0",
                "sections": {
                    "C": {
                        "architecture": _field("dense_transformer"),
                        "parameters_total": _field(true * 3),
                    },
                    "F": {"distribution_channels": _field(["api"])},
                    "H": {
                        "controls": [
                            {
                                "control_id": _field("AML.M0015"),
                                "title": _field("Input filtering"),
                                "status": _field("implemented"),
                            }
                        ]
                    },
                },
            }
        )
    )
    return {"folder": folder, "pub": pub, "dossier": dossier, "true": true, "root": root}


def _check(m: dict[str, Any], *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app,
        [
            "dossier",
            "check",
            str(m["folder"]),
            "--dossier",
            str(m["dossier"]),
            "--public-key",
            str(m["pub"]),
            "--format",
            "json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _plain(output: str) -> str:
    """CLI output without Rich's box drawing and line wrapping."""
    return re.sub(r"[│╭╮╰╯─\s]+", " ", output)


def _results(doc: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return next(c for c in doc["checks"] if c["check"] == check)["results"]


def test_reports_true_count_flags_declared_count_and_verifies_signature(
    signed_model: dict[str, Any],
) -> None:
    doc = _check(signed_model)
    declared = next(c for c in doc["checks"] if c["check"] == "declared")
    assert declared["summary"]["parameters"]["actual"] == signed_model["true"]
    [mismatch] = [r for r in declared["results"] if r["rule_id"] == "DOS-DEC-001"]
    assert mismatch["details"]["declared"] == signed_model["true"] * 3
    assert mismatch["details"]["actual"] == signed_model["true"]
    integrity = next(c for c in doc["checks"] if c["check"] == "integrity")
    assert integrity["summary"]["signatures"][0]["status"] == "verified"
    assert not integrity["results"]


def test_coverage_lists_uncovered_techniques_for_input_filtering_only(
    signed_model: dict[str, Any],
) -> None:
    doc = _check(signed_model)
    cov = next(c for c in doc["checks"] if c["check"] == "coverage")
    uncovered = {r["details"]["technique"] for r in cov["results"] if r["rule_id"] == "DOS-COV-001"}
    assert {"AML.T0051", "AML.T0054", "AML.T0010"} <= uncovered
    assert "AML.T0015" not in uncovered  # evasion is what input detection addresses
    tactics = {g["name"]: g for g in cov["summary"]["by_tactic"]}
    assert "AML.T0051" in tactics["Execution"]["uncovered"]


def test_data_check_finds_planted_values_and_no_output_contains_them(
    signed_model: dict[str, Any],
) -> None:
    doc = _check(signed_model)
    [sample] = next(c for c in doc["checks"] if c["check"] == "datasamples")["summary"]["samples"]
    assert sample["path"] == "data/sample.jsonl"
    assert sample["counts"]["personal_data"]["email"] == 2
    assert sample["counts"]["personal_data"]["card_number"] == 2
    assert sample["counts"]["secret"]["aws_access_key"] == 1
    outputs = [json.dumps(doc)]
    for fmt in ("sarif", "text"):
        res = runner.invoke(
            app,
            [
                "dossier",
                "check",
                str(signed_model["folder"]),
                "--dossier",
                str(signed_model["dossier"]),
                "--format",
                fmt,
            ],
        )
        outputs.append(res.stdout)
    assert "Training-data samples" in outputs[2] and "DOS-DAT-002" in outputs[1]
    for out in outputs:
        for raw in [*EMAILS, *CARDS, AWS_KEY, *(c.replace(" ", "") for c in CARDS)]:
            assert raw not in out


def test_file_changed_after_signing_is_flagged_and_attestation_round_trips(
    signed_model: dict[str, Any], tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    kp, pubp, out = tmp_path / "airlock.pem", tmp_path / "airlock.pub", tmp_path / "outcome.json"
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pubp.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    _check(signed_model, "--attest-key", str(kp), "--attest-out", str(out))
    ok = runner.invoke(
        app,
        [
            "attest",
            "verify",
            str(out),
            "--public-key",
            str(pubp),
            "--artifacts",
            str(signed_model["folder"]),
        ],
    )
    assert ok.exit_code == 0, ok.output
    readme = signed_model["folder"] / "README.md"
    original = readme.read_text()
    readme.write_text(original + "\nEdited after signing.\n")
    try:
        doc = _check(signed_model)
        [changed] = _results(doc, "integrity")
        assert changed["rule_id"] == "DOS-INT-005" and changed["details"]["files"] == ["README.md"]
        bad = runner.invoke(
            app,
            [
                "attest",
                "verify",
                str(out),
                "--public-key",
                str(pubp),
                "--artifacts",
                str(signed_model["folder"]),
            ],
        )
        assert bad.exit_code == 1 and "README.md" in _plain(bad.output)
    finally:
        readme.write_text(original)
    wrong = runner.invoke(
        app, ["attest", "verify", str(out), "--public-key", str(signed_model["pub"])]
    )
    assert wrong.exit_code == 1 and "not Ed25519" in _plain(wrong.output)


def test_bad_cli_input_gives_clear_errors(signed_model: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "d.json"
    bad.write_text("{not json")
    res = runner.invoke(
        app, ["dossier", "check", str(signed_model["folder"]), "--dossier", str(bad)]
    )
    assert res.exit_code == 2 and "not JSON" in _plain(res.output)
    res = runner.invoke(app, ["dossier", "check", str(signed_model["folder"]), "--format", "xml"])
    assert res.exit_code == 2 and "text, json or sarif" in _plain(res.output)
    res = runner.invoke(
        app,
        [
            "dossier",
            "check",
            str(signed_model["folder"]),
            "--fail-on",
            "high",
            "--format",
            "json",
            "--dossier",
            str(signed_model["dossier"]),
        ],
    )
    assert res.exit_code == 1  # the declared-count mismatch is high


def test_sarif_log_has_the_rule_catalogue_and_locations(signed_model: dict[str, Any]) -> None:
    res = runner.invoke(
        app,
        [
            "dossier",
            "check",
            str(signed_model["folder"]),
            "--dossier",
            str(signed_model["dossier"]),
            "--format",
            "sarif",
        ],
    )
    log = json.loads(res.stdout)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert len(r["partialFingerprints"]["airlockDossier/v1"]) == 32
    dec = next(r for r in run["results"] if r["ruleId"] == "DOS-DEC-001")
    assert dec["level"] == "error"
    assert dec["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "sections.C.parameters_total"
    )
    data = next(r for r in run["results"] if r["ruleId"] == "DOS-DAT-001")
    assert (
        data["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "data/sample.jsonl"
    )
