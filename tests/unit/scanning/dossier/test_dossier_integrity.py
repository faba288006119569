"""Integrity: manifest vs declared hashes, model-signing bundles (key and certificate), in-toto."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airlock.scanning.dossier import attestation, integrity

model_signing = pytest.importorskip("model_signing")


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": "self_reported"}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00" * 1000)
    (folder / "config.json").write_text('{"a": 1}')
    return folder


def _ec_key(tmp_path: Path, name: str) -> tuple[Path, Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub"
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
    return priv, pub, key


def _sign_key_mode(folder: Path, priv: Path) -> Path:
    sig = folder / "model.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
    ).sign(folder, sig)
    return sig


def test_manifest_has_sha256_and_blake3_and_declared_hash_mismatch_is_a_result(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    good = hashlib.sha256(b"\x00" * 1000).hexdigest()
    doc = {
        "sections": {
            "B": {
                "versions": [
                    {
                        "version": _field("1"),
                        "authenticity_hashes": [
                            {"artifact": _field("weights.bin"), "digest": _field(f"sha256:{good}")},
                            {
                                "artifact": _field("config.json"),
                                "digest": _field("sha256:" + "0" * 64),
                            },
                            {
                                "artifact": _field("gone.bin"),
                                "digest": _field("sha256:" + "1" * 64),
                            },
                            {"digest": _field("sha256:" + "2" * 64)},
                            {"digest": _field("md5:abc")},
                        ],
                    }
                ]
            }
        }
    }
    report = integrity.check_integrity(folder, doc)
    files = {f["path"]: f for f in report.summary["files"]}
    assert files["weights.bin"]["sha256"] == good
    blake3 = pytest.importorskip("blake3")
    assert files["weights.bin"]["blake3"] == blake3.blake3(b"\x00" * 1000).hexdigest()
    rules = sorted(r.rule_id for r in report.results)
    assert rules == ["DOS-INT-001", "DOS-INT-002", "DOS-INT-002", "DOS-INT-003", "DOS-INT-007"]
    [mismatch] = [r for r in report.results if r.rule_id == "DOS-INT-001"]
    assert (
        mismatch.location == "config.json" and mismatch.details["declared"] == "sha256:" + "0" * 64
    )


def test_key_mode_signature_verifies_and_a_changed_file_is_named(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    priv, pub, _ = _ec_key(tmp_path, "firm")
    _sign_key_mode(folder, priv)
    trust = integrity.TrustConfig(public_keys=(pub,))
    report = integrity.check_integrity(folder, None, trust=trust)
    assert report.summary["signatures"][0]["status"] == "verified"
    assert report.summary["signatures"][0]["mode"] == "key"
    assert not report.results
    (folder / "config.json").write_text('{"a": 2}')
    report = integrity.check_integrity(folder, None, trust=trust)
    [res] = report.results
    assert res.rule_id == "DOS-INT-005" and res.details["files"] == ["config.json"]


def test_signature_made_without_ignoring_itself_still_verifies(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    priv, pub, _ = _ec_key(tmp_path, "firm")
    model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).sign(
        folder, folder / "model.sig"
    )
    report = integrity.check_integrity(
        folder, None, trust=integrity.TrustConfig(public_keys=(pub,))
    )
    assert report.summary["signatures"][0]["status"] == "verified"


def test_wrong_key_missing_trust_and_malformed_bundles_are_results(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    priv, _, _ = _ec_key(tmp_path, "firm")
    _, other, _ = _ec_key(tmp_path, "other")
    sig = _sign_key_mode(folder, priv)
    wrong = integrity.check_integrity(
        folder, None, trust=integrity.TrustConfig(public_keys=(other,))
    )
    assert [r.rule_id for r in wrong.results] == ["DOS-INT-004"]
    assert "Key mismatch" in wrong.results[0].message
    none = integrity.check_integrity(folder, None)
    assert [r.rule_id for r in none.results] == ["DOS-INT-006"]
    for junk in (
        b"{not json",
        b'{"a": 1}',
        b"\xff\xfe",
        b'{"verificationMaterial": {}, "dsseEnvelope": {}}',
    ):
        sig.write_bytes(junk)
        bad = integrity.check_integrity(
            folder, None, trust=integrity.TrustConfig(public_keys=(other,))
        )
        assert [r.rule_id for r in bad.results] == ["DOS-INT-004"], junk


def _cert(subject: str, key: Any, issuer: tuple[str, Any] | None, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = (
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]) if issuer else name
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def test_certificate_mode_verifies_against_the_agency_configured_chain(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Agency test CA", ca_key, None, ca=True)
    priv, _, leaf_key = _ec_key(tmp_path, "leaf")
    leaf = _cert("firm signer", leaf_key, ("Agency test CA", ca_key), ca=False)
    ca_pem, leaf_pem = tmp_path / "ca-cert.pem", tmp_path / "leaf-cert.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaf_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    model_signing.signing.Config().use_certificate_signer(
        private_key=priv, signing_certificate=leaf_pem, certificate_chain=[ca_pem]
    ).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
    ).sign(folder, folder / "model.sig")
    trust = integrity.TrustConfig(certificate_chains=(ca_pem,))
    report = integrity.check_integrity(folder, None, trust=trust)
    assert report.summary["signatures"][0] == {
        **report.summary["signatures"][0],
        "status": "verified",
        "mode": "certificate",
    }
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = tmp_path / "other-ca.pem"
    other.write_bytes(
        _cert("Someone else", other_key, None, ca=True).public_bytes(serialization.Encoding.PEM)
    )
    report = integrity.check_integrity(
        folder, None, trust=integrity.TrustConfig(certificate_chains=(other,))
    )
    assert [r.rule_id for r in report.results] == ["DOS-INT-004"]


def test_signed_in_toto_statement_verifies_and_detects_tampering(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    entries, _ = integrity.manifest(folder)
    report = integrity.check_integrity(folder, None)
    key = Ed25519PrivateKey.generate()
    statement = attestation.build_statement(entries, [report], outcome="review_complete")
    env = attestation.sign_statement(statement, key)
    raw = json.dumps(env).encode()
    got = attestation.verify_envelope(raw, [key.public_key()])
    assert got["predicate"]["checks"][0] == {
        "name": "integrity",
        "version": integrity.VERSION,
        "results": 1,
        "rules": ["DOS-INT-003"],
    }
    assert {s["name"] for s in got["subject"]} == {"weights.bin", "config.json"}
    assert attestation.verify_subjects(got, folder) == []
    (folder / "weights.bin").write_bytes(b"\x01")
    assert attestation.verify_subjects(got, folder) == [
        "weights.bin: SHA-256 differs from the attested digest"
    ]
    with pytest.raises(attestation.AttestationError, match="no signature verifies"):
        attestation.verify_envelope(raw, [Ed25519PrivateKey.generate().public_key()])
    forged = dict(
        env,
        payload=base64.b64encode(
            json.dumps({**statement, "predicate": {"outcome": "pass"}}).encode()
        ).decode(),
    )
    with pytest.raises(attestation.AttestationError, match="no signature verifies"):
        attestation.verify_envelope(json.dumps(forged).encode(), [key.public_key()])
    for junk in (b"", b"[]", b'{"payloadType": "x"}', b"\xff"):
        with pytest.raises(attestation.AttestationError):
            attestation.verify_envelope(junk, [key.public_key()])
