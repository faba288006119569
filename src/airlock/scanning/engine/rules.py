"""The rule catalogue: every finding the engine can raise, with its default severity and verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .model import ATLAS_CODE_EXEC, ATLAS_SUPPLY_CHAIN, Severity, Verdict


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule id with its title and default classification."""

    rule_id: str
    title: str
    severity: Severity
    verdict: Verdict
    atlas: tuple[str, ...] = ()


_B, _R, _P = Verdict.BLOCK, Verdict.REVIEW, Verdict.PASS
_C, _H, _M, _L, _I = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)
_SC = (ATLAS_SUPPLY_CHAIN,)

_ALL: Final = (
    # pickle machine
    Rule("AIR-PKL-001", "Known-dangerous global in a pickle", _C, _B, ATLAS_CODE_EXEC),
    Rule("AIR-PKL-002", "Pickle calls a callable that is not allowlisted", _H, _B, ATLAS_CODE_EXEC),
    Rule("AIR-PKL-003", "Pickle references a global that is not allowlisted", _M, _R, _SC),
    Rule(
        "AIR-PKL-004", "Pickle calls something that is not a plain global", _H, _B, ATLAS_CODE_EXEC
    ),
    Rule("AIR-PKL-005", "Pickle BUILD sets attributes on a global", _H, _B, ATLAS_CODE_EXEC),
    Rule("AIR-PKL-006", "Pickle global name is not a constant string", _H, _B, ATLAS_CODE_EXEC),
    Rule("AIR-PKL-007", "Pickle uses the copyreg extension registry", _M, _R, _SC),
    Rule("AIR-PKL-008", "Pickle stream could not be fully parsed", _M, _R),
    Rule("AIR-PKL-009", "Pickle opcode straddles a frame boundary", _L, _R),
    Rule("AIR-PKL-010", "Data after the last pickle stream", _I, _P),
    Rule("AIR-PKL-011", "Pickle holds a nested pickle in a string", _M, _R, _SC),
    Rule(
        "AIR-PKL-012",
        "Pickle makes the loader open a file outside the model folder",
        _H,
        _B,
        ATLAS_CODE_EXEC,
    ),
    Rule("AIR-PKL-013", "Pickle makes the loader open a file beside it", _M, _R, _SC),
    # engine bounds and errors
    Rule("AIR-LIM-001", "A scan limit was reached", _M, _R),
    Rule("AIR-LIM-002", "The per-file time limit was reached", _M, _R),
    Rule("AIR-ERR-001", "The scanner failed on this file", _M, _R),
    Rule("AIR-ERR-002", "The file is empty", _L, _R),
    # containers
    Rule("AIR-ARC-001", "Archive member path escapes the extraction folder", _H, _B, _SC),
    Rule("AIR-ARC-002", "Zip local and central names differ", _H, _R, _SC),
    Rule("AIR-ARC-003", "Zip member CRC does not match its content", _M, _R),
    Rule("AIR-ARC-004", "Bytes before or after the archive", _M, _R, _SC),
    Rule("AIR-ARC-005", "Archive expansion is out of bounds (bomb)", _M, _R),
    Rule("AIR-ARC-006", "Encrypted archive member was not scanned", _I, _P),
    Rule("AIR-ARC-007", "Archive format not supported: content was not scanned", _M, _R),
    Rule("AIR-ARC-008", "Archive structure is malformed", _M, _R),
    Rule("AIR-ARC-009", "Archive member is a link", _H, _R, _SC),
    Rule("AIR-ARC-010", "Zip member uses unusual flag bits", _L, _R),
    # array and tensor formats
    Rule("AIR-NPY-001", "NumPy header is malformed", _M, _R),
    Rule("AIR-SFT-001", "safetensors header is invalid", _M, _R),
    Rule("AIR-SFT-002", "safetensors tensor offsets are inconsistent", _M, _R),
    Rule("AIR-GGUF-001", "GGUF structure is out of bounds", _M, _R),
    Rule(
        "AIR-GGUF-002",
        "GGUF chat template can escape the template sandbox",
        _C,
        _B,
        ATLAS_CODE_EXEC,
    ),
    Rule("AIR-GGUF-003", "GGUF chat template uses unusual constructs", _M, _R, _SC),
    Rule("AIR-ONNX-001", "ONNX external data path leaves the model folder", _H, _B, _SC),
    Rule("AIR-ONNX-002", "ONNX model uses a custom operator domain", _M, _R, _SC),
    Rule("AIR-ONNX-003", "ONNX protobuf is malformed", _M, _R),
    Rule("AIR-KRS-001", "Keras Lambda layer carries code", _C, _B, ATLAS_CODE_EXEC),
    Rule("AIR-KRS-002", "Keras config references an arbitrary module or function", _M, _R, _SC),
    Rule("AIR-KRS-003", "Keras TFSMLayer loads an external SavedModel", _H, _B, _SC),
    Rule("AIR-KRS-004", "Keras config could not be read", _M, _R),
    Rule(
        "AIR-KRS-005",
        "Keras config names a class or function Keras does not register",
        _H,
        _B,
        ATLAS_CODE_EXEC,
    ),
    Rule("AIR-TF-001", "TensorFlow graph runs Python or writes files", _C, _B, ATLAS_CODE_EXEC),
    Rule("AIR-TF-002", "TensorFlow graph reads files or touches the system", _M, _R, _SC),
    Rule("AIR-TF-003", "TensorFlow protobuf is malformed", _M, _R),
    Rule("AIR-TF-004", "TensorFlow graph uses an op outside the allowlist", _M, _R, _SC),
)

RULES: Final[dict[str, Rule]] = {r.rule_id: r for r in _ALL}

# Rule ids other modules refer to by name, so a typo fails at import time.
DANGEROUS_GLOBAL: Final = "AIR-PKL-001"
UNSAFE_CALL: Final = "AIR-PKL-002"
UNKNOWN_GLOBAL: Final = "AIR-PKL-003"
DYNAMIC_CALL: Final = "AIR-PKL-004"
BUILD_ON_GLOBAL: Final = "AIR-PKL-005"
DYNAMIC_GLOBAL: Final = "AIR-PKL-006"
EXTENSION_CODE: Final = "AIR-PKL-007"
PICKLE_PARSE: Final = "AIR-PKL-008"
FRAME_STRADDLE: Final = "AIR-PKL-009"
TRAILING_DATA: Final = "AIR-PKL-010"
NESTED_PICKLE: Final = "AIR-PKL-011"
FILE_OUTSIDE: Final = "AIR-PKL-012"
FILE_BESIDE: Final = "AIR-PKL-013"
LIMIT: Final = "AIR-LIM-001"
TIMEOUT: Final = "AIR-LIM-002"
INTERNAL_ERROR: Final = "AIR-ERR-001"
EMPTY: Final = "AIR-ERR-002"
ARC_TRAVERSAL: Final = "AIR-ARC-001"
ARC_NAME_MISMATCH: Final = "AIR-ARC-002"
ARC_CRC: Final = "AIR-ARC-003"
ARC_EXTRA_BYTES: Final = "AIR-ARC-004"
ARC_BOMB: Final = "AIR-ARC-005"
ARC_ENCRYPTED: Final = "AIR-ARC-006"
ARC_UNSUPPORTED: Final = "AIR-ARC-007"
ARC_MALFORMED: Final = "AIR-ARC-008"
ARC_LINK: Final = "AIR-ARC-009"
ARC_FLAGS: Final = "AIR-ARC-010"
NPY_HEADER: Final = "AIR-NPY-001"
SFT_HEADER: Final = "AIR-SFT-001"
SFT_OFFSETS: Final = "AIR-SFT-002"
GGUF_BOUNDS: Final = "AIR-GGUF-001"
GGUF_TEMPLATE_ESCAPE: Final = "AIR-GGUF-002"
GGUF_TEMPLATE_ODD: Final = "AIR-GGUF-003"
ONNX_EXTERNAL_PATH: Final = "AIR-ONNX-001"
ONNX_CUSTOM_DOMAIN: Final = "AIR-ONNX-002"
ONNX_MALFORMED: Final = "AIR-ONNX-003"
KERAS_LAMBDA: Final = "AIR-KRS-001"
KERAS_MODULE: Final = "AIR-KRS-002"
KERAS_TFSM: Final = "AIR-KRS-003"
KERAS_MALFORMED: Final = "AIR-KRS-004"
KERAS_UNREGISTERED: Final = "AIR-KRS-005"
TF_PYTHON_OR_WRITE: Final = "AIR-TF-001"
TF_FILE_READ: Final = "AIR-TF-002"
TF_MALFORMED: Final = "AIR-TF-003"
TF_OP: Final = "AIR-TF-004"
_NAMED: Final = [v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str)]
# A rule id constant without a catalogue entry would crash at scan time; fail at import instead.
_MISSING: Final = [r for r in _NAMED if r.startswith("AIR-") and r not in RULES]
if _MISSING:
    raise RuntimeError(f"rule ids without a catalogue entry: {_MISSING}")
