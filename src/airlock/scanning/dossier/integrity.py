"""Integrity: a hash manifest of every artifact, the dossier's declared hashes, and signatures.

Signatures are OpenSSF model signing bundles (`model-signing`), verified offline in key mode
(elliptic-curve public keys) or certificate mode (certificate chains), against trust material
the agency configures. Keyless Sigstore bundles would need the public transparency log and are
reported as not verifiable offline.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .results import CheckReport, CheckResult, DossierView, Severity

CHECK: Final = "integrity"
VERSION: Final = "1.0.0"
MAX_FILES: Final = 100_000
CHUNK: Final = 4 << 20
MAX_SIGNATURE_BYTES: Final = 16 * 1024 * 1024
SIGNATURE_NAMES: Final = ("model.sig", "model.sig.json", "signature.sig")
ATLAS_SUPPLY_CHAIN: Final = ("AML.T0010",)


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """Trust material the agency configures: public keys and certificate chains (PEM files)."""

    public_keys: tuple[Path, ...] = ()
    certificate_chains: tuple[Path, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing is configured, so no signature can be verified."""
        return not self.public_keys and not self.certificate_chains


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file's size and digests."""

    path: str
    size: int
    sha256: str
    blake3: str | None


@dataclass(slots=True)
class SignatureOutcome:
    """What verifying one signature bundle found."""

    path: str
    status: str  # verified | invalid | mismatch | malformed | unverifiable
    mode: str | None = None
    detail: str = ""
    files: list[str] = field(default_factory=list)


def _blake3() -> Any:
    try:
        from blake3 import blake3
    except ImportError:  # the checks extra is not installed: SHA-256 alone
        return None
    return blake3()


def hash_file(path: Path) -> tuple[int, str, str | None]:
    """Size, SHA-256 and (when the blake3 package is there) BLAKE3 in one streamed pass."""
    sha = hashlib.sha256()
    b3 = _blake3()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            if b3 is not None:
                b3.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), (b3.hexdigest() if b3 is not None else None)


def manifest(folder: Path, *, skip: Sequence[str] = ()) -> tuple[list[ManifestEntry], list[str]]:
    """Digests of every regular file under folder (links are listed as problems, not followed)."""
    entries: list[ManifestEntry] = []
    problems: list[str] = []
    count = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            problems.append(f"{rel}: symbolic link, not hashed")
            continue
        if not path.is_file() or rel in skip or rel.startswith(".git/"):
            continue
        count += 1
        if count > MAX_FILES:
            problems.append(f"more than {MAX_FILES} files; the rest were not hashed")
            break
        try:
            size, sha, b3 = hash_file(path)
        except OSError as exc:
            problems.append(f"{rel}: cannot be read: {exc.strerror}")
            continue
        entries.append(ManifestEntry(rel, size, sha, b3))
    return entries, problems


def _result(
    rule: str, sev: Severity, title: str, msg: str, where: str, key: str, **d: Any
) -> CheckResult:
    return CheckResult(rule, CHECK, sev, title, msg, where, key, d, ATLAS_SUPPLY_CHAIN)


def _declared_hashes(view: DossierView) -> list[tuple[str, str | None, str]]:
    """(dossier path, artifact name or None, sha256 hex) for every authenticity hash."""
    out: list[tuple[str, str | None, str]] = []
    for vi, version in enumerate(view.items("B", "versions")):
        hashes = version.get("authenticity_hashes")
        if not isinstance(hashes, list):
            continue
        for hi, item in enumerate(hashes):
            if not isinstance(item, Mapping):
                continue
            where = f"sections.B.versions.{vi}.authenticity_hashes.{hi}"
            digest = DossierView.unwrap(item.get("digest"))
            artifact = DossierView.unwrap(item.get("artifact"))
            out.append((where, artifact if isinstance(artifact, str) else None, str(digest)))
    return out


_SHA256: Final = re.compile(r"sha256:([0-9a-f]{64})")


def compare_declared(view: DossierView, entries: Sequence[ManifestEntry]) -> list[CheckResult]:
    """Each declared authenticity hash against the manifest."""
    results: list[CheckResult] = []
    by_path = {e.path: e for e in entries}
    by_name: dict[str, list[ManifestEntry]] = {}
    for e in entries:
        by_name.setdefault(e.path.rsplit("/", 1)[-1], []).append(e)
    all_digests = {e.sha256 for e in entries}
    for where, artifact, digest in _declared_hashes(view):
        m = _SHA256.fullmatch(digest)
        if m is None:
            results.append(
                _result(
                    "DOS-INT-007",
                    Severity.LOW,
                    "Declared hash is not a SHA-256 digest",
                    f"{where}: expected sha256:<64 lowercase hex digits> (got {digest[:80]!r})",
                    where,
                    where,
                )
            )
            continue
        hexd = m.group(1)
        if artifact is None:
            if hexd not in all_digests:
                results.append(
                    _result(
                        "DOS-INT-002",
                        Severity.MEDIUM,
                        "Declared hash matches no shared artifact",
                        f"{where}: no file in the folder has SHA-256 {hexd}",
                        where,
                        hexd,
                        declared=digest,
                    )
                )
            continue
        same_name = by_name.get(artifact) or []
        found = by_path.get(artifact) or (same_name[0] if same_name else None)
        if found is None:
            results.append(
                _result(
                    "DOS-INT-002",
                    Severity.MEDIUM,
                    "Declared artifact is missing",
                    f"{where}: the dossier hashes {artifact!r}, which is not in the folder",
                    where,
                    artifact,
                    declared=digest,
                )
            )
        elif found.sha256 != hexd:
            results.append(
                _result(
                    "DOS-INT-001",
                    Severity.HIGH,
                    "Artifact does not match the hash the dossier declares",
                    f"{found.path}: the dossier declares sha256:{hexd}, the file has "
                    f"sha256:{found.sha256}",
                    found.path,
                    artifact,
                    declared=digest,
                    declared_source=where,
                    actual=f"sha256:{found.sha256}",
                    actual_source=f"file {found.path}",
                )
            )
    return results


# --- signatures -----------------------------------------------------------------------

# model-signing reports differences as the repr of a list of sentences, so quotes may be escaped.
_MISMATCH_FILE: Final = re.compile(r"Hash mismatch for \\?'([^'\\]+)\\?'")
_LISTED: Final = re.compile(
    r"(Extra|Missing) files (?:found )?in model \\?'[^']*\\?': ([^\"'\]\\]+)"
)


def _changed_files(message: str) -> list[str]:
    files = _MISMATCH_FILE.findall(message)
    for kind, names in _LISTED.findall(message):
        files.extend(f"{n.strip()} ({kind.lower()})" for n in names.split(","))
    return files


def _read_bundle(sig: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        if sig.stat().st_size > MAX_SIGNATURE_BYTES:
            return None, f"bundle is larger than {MAX_SIGNATURE_BYTES} bytes"
        doc = json.loads(sig.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"bundle is not JSON: {str(exc)[:120]}"
    if not isinstance(doc, dict) or not isinstance(doc.get("verificationMaterial"), dict):
        return None, "bundle has no verificationMaterial"
    if not isinstance(doc.get("dsseEnvelope"), dict):
        return None, "bundle has no dsseEnvelope"
    return doc, ""


def _attempt(folder: Path, sig: Path, configure: Any) -> str | None:
    """Verify with model-signing; None on success, else the error message."""
    from model_signing import hashing, verifying

    rel = sig.relative_to(folder).as_posix() if sig.is_relative_to(folder) else None
    errors: list[str] = []
    # First as the signer recorded it (ignored paths from the manifest), then as the
    # model_signing CLI verifies: default hashing with the signature file itself ignored.
    for explicit in (False, True):
        config = configure(verifying.Config())  # type: ignore[no-untyped-call]
        if explicit and rel is not None:
            hashing_config = hashing.Config()  # type: ignore[no-untyped-call]
            config.set_hashing_config(hashing_config.set_ignored_paths(paths=[rel]))
        try:
            config.verify(folder, sig)
            return None
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:2000])
    # Prefer the second error when the first only complained about the signature file.
    first, second = errors
    if rel is not None and f": {rel}" in first and "Extra files" in first:
        return second
    return first if "Signature mismatch" in first else second


def verify_signature(folder: Path, sig: Path, trust: TrustConfig) -> SignatureOutcome:
    """Verify one bundle against every configured key and chain, offline."""
    rel = sig.relative_to(folder).as_posix() if sig.is_relative_to(folder) else str(sig)
    doc, problem = _read_bundle(sig)
    if doc is None:
        return SignatureOutcome(rel, "malformed", detail=problem)
    material = doc["verificationMaterial"]
    if "publicKey" in material:
        mode, anchors = "key", trust.public_keys
    elif "x509CertificateChain" in material or "certificate" in material:
        mode, anchors = "certificate", trust.certificate_chains
    else:
        return SignatureOutcome(rel, "malformed", detail="verification material is unknown")
    if material.get("tlogEntries") and mode == "certificate" and not trust.certificate_chains:
        return SignatureOutcome(
            rel,
            "unverifiable",
            mode="sigstore",
            detail="keyless Sigstore bundles need the transparency log",
        )
    if not anchors:
        return SignatureOutcome(
            rel, "unverifiable", mode=mode, detail=f"no {mode} trust material is configured"
        )
    try:
        import model_signing  # noqa: F401 - only to say clearly when it is missing
    except ImportError:
        return SignatureOutcome(
            rel, "unverifiable", mode=mode, detail="model-signing is not installed"
        )
    errors: list[str] = []
    for anchor in anchors:
        if mode == "key":

            def configure(c: Any, a: Path = anchor) -> Any:
                return c.use_elliptic_key_verifier(public_key=a)
        else:

            def configure(c: Any, a: Path = anchor) -> Any:
                return c.use_certificate_verifier(certificate_chain=[a])

        err = _attempt(folder, sig, configure)
        if err is None:
            return SignatureOutcome(rel, "verified", mode=mode, detail=anchor.name)
        errors.append(err)
    mismatch = next((e for e in errors if "Signature mismatch" in e), None)
    if mismatch is not None:
        return SignatureOutcome(rel, "mismatch", mode, mismatch[:500], _changed_files(mismatch))
    return SignatureOutcome(rel, "invalid", mode=mode, detail=errors[0][:500])


def find_signatures(folder: Path) -> list[Path]:
    """Signature bundles shipped in the folder's top level."""
    return [folder / n for n in SIGNATURE_NAMES if (folder / n).is_file()] + sorted(
        p for p in folder.glob("*.sig") if p.name not in SIGNATURE_NAMES and p.is_file()
    )


def check_integrity(
    folder: Path,
    doc: Mapping[str, Any] | None,
    *,
    trust: TrustConfig | None = None,
    skip: Sequence[str] = (),
) -> CheckReport:
    """Hash manifest, declared hashes and signature verification for one model folder."""
    view = DossierView(doc)
    trust = trust or TrustConfig()
    entries, problems = manifest(folder, skip=skip)
    results = [
        _result("DOS-INT-008", Severity.LOW, "File was not hashed", p, p.split(":")[0], p)
        for p in problems
    ]
    results.extend(compare_declared(view, entries))
    outcomes = [verify_signature(folder, s, trust) for s in find_signatures(folder)]
    if not outcomes:
        results.append(
            _result(
                "DOS-INT-003",
                Severity.MEDIUM,
                "Model folder is not signed",
                "no model signing bundle (model.sig) ships with the folder",
                ".",
                "unsigned",
            )
        )
    for o in outcomes:
        if o.status == "mismatch":
            results.append(
                _result(
                    "DOS-INT-005",
                    Severity.HIGH,
                    "Files changed after signing",
                    f"{o.path}: the signature is valid but these files differ from what "
                    f"was signed: {', '.join(o.files) or o.detail}",
                    o.path,
                    "mismatch",
                    files=o.files,
                    mode=o.mode,
                )
            )
        elif o.status in ("invalid", "malformed"):
            results.append(
                _result(
                    "DOS-INT-004",
                    Severity.HIGH,
                    "Signature is invalid or malformed",
                    f"{o.path}: {o.detail}",
                    o.path,
                    o.status,
                    mode=o.mode,
                )
            )
        elif o.status == "unverifiable":
            results.append(
                _result(
                    "DOS-INT-006",
                    Severity.LOW,
                    "Signature could not be verified offline",
                    f"{o.path}: {o.detail}",
                    o.path,
                    "unverifiable",
                    mode=o.mode,
                )
            )
    summary = {
        "files": [
            {"path": e.path, "size": e.size, "sha256": e.sha256, "blake3": e.blake3}
            for e in entries
        ],
        "declared_hashes": len(_declared_hashes(view)),
        "signatures": [
            {"path": o.path, "status": o.status, "mode": o.mode, "detail": o.detail[:300]}
            for o in outcomes
        ],
    }
    return CheckReport(CHECK, VERSION, summary, tuple(results))
