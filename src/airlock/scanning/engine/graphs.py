"""Graph formats: ONNX, TensorFlow SavedModel / GraphDef, and Keras configs (JSON and HDF5)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from . import protobuf as pb
from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError

_ONNX_DOMAINS: Final = frozenset(
    {
        "",
        "ai.onnx",
        "ai.onnx.ml",
        "ai.onnx.training",
        "ai.onnx.preview.training",
        "com.microsoft",
        "com.microsoft.nchwc",
        "com.microsoft.experimental",
        "pkg.onnxscript.torch_lib",
        "pkg.onnxscript.torch_lib.common",
    }
)
_ONNX_TOP: Final = frozenset({3, 4, 5, 6, 7, 8, 14, 20, 25})


def is_onnx(buf: memoryview) -> bool:
    """ModelProto: a graph (field 7) and an IR version or opset imports, nothing else odd."""
    try:
        top = pb.top_level(buf, 10_000)
    except ParseError:
        return False
    return (
        top.get(7) == pb.LEN
        and (top.get(1) == pb.VARINT or top.get(8) == pb.LEN)
        and set(top) <= (_ONNX_TOP | {1, 2})
    )


def scan_onnx(ctx: ScanContext, buf: memoryview, location: str, base_dir: Path | None) -> None:
    """Check external data locations and operator domains, through subgraphs too."""
    try:
        for num, _, s, e in pb.fields(buf, 0, len(buf)):
            if num == 7:
                _onnx_graph(ctx, buf, s, e, location, base_dir, 0)
            elif num == 8:
                dom = _onnx_str_field(buf, s, e, 1)
                _onnx_domain(ctx, dom, location, s, "opset import")
            elif num == 25:
                _onnx_function(ctx, buf, s, e, location, base_dir)
    except ParseError as exc:
        ctx.add(
            rules.ONNX_MALFORMED, f"ONNX protobuf is malformed: {exc}", location, offset=exc.offset
        )


def _onnx_str_field(buf: memoryview, s: int, e: int, want: int) -> str:
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == want and wt == pb.LEN:
            return pb.text(buf, a, b)
    return ""


def _onnx_domain(ctx: ScanContext, dom: str, location: str, off: int, what: str) -> None:
    if dom not in _ONNX_DOMAINS:
        ctx.add(
            rules.ONNX_CUSTOM_DOMAIN,
            f"{what} uses the custom operator domain {dom!r}",
            location,
            offset=off,
            detail=dom,
        )


def _onnx_function(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None
) -> None:
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == 7 and wt == pb.LEN:
            _onnx_node(ctx, buf, a, b, location, base, 1)


def _onnx_graph(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None, depth: int
) -> None:
    if depth > ctx.limits.max_depth * 4:
        raise LimitExceeded("max_depth", "ONNX subgraphs nested too deep")
    ctx.check_time()
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 1:
            _onnx_node(ctx, buf, a, b, location, base, depth)
        elif num in (5, 15):
            _onnx_tensor(ctx, buf, a, b, location, base)


def _onnx_node(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None, depth: int
) -> None:
    op = ""
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 4:
            op = pb.text(buf, a, b)
        elif num == 7:
            _onnx_domain(ctx, pb.text(buf, a, b), location, a, f"operator {op or '?'}")
        elif num == 5:
            for anum, awt, x, y in pb.fields(buf, a, b):
                if awt != pb.LEN:
                    continue
                if anum in (6, 11):
                    _onnx_graph(ctx, buf, x, y, location, base, depth + 1)
                elif anum in (5, 10):
                    _onnx_tensor(ctx, buf, x, y, location, base)


def _onnx_tensor(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None
) -> None:
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == 13 and wt == pb.LEN:
            key = _onnx_str_field(buf, a, b, 1)
            if key == "location":
                _external_path(ctx, _onnx_str_field(buf, a, b, 2), location, a, base)


def _external_path(ctx: ScanContext, path: str, location: str, off: int, base: Path | None) -> None:
    p = path.replace("\\", "/")
    bad = ""
    if p.startswith("/") or re.match(r"^[A-Za-z]:", p) or p.startswith("~"):
        bad = "is absolute"
    elif any(part == ".." for part in p.split("/")):
        bad = "climbs out with '..'"
    elif base is not None:
        target = base / p
        if target.is_symlink():
            bad = "is a symbolic link"
        elif target.exists() and not target.resolve().is_relative_to(base.resolve()):
            bad = "resolves outside the model folder"
    if bad:
        ctx.add(
            rules.ONNX_EXTERNAL_PATH,
            f"external data location {path!r} {bad}",
            location,
            offset=off,
            detail=path,
        )


# TensorFlow ops: the first set runs Python or writes files, the second reads the filesystem.
_TF_BLOCK: Final = frozenset(
    {"PyFunc", "PyFuncStateless", "EagerPyFunc", "WriteFile", "DebugIdentityV3"}
)
_TF_REVIEW: Final = frozenset(
    {"ReadFile", "MatchingFiles", "ImmutableConst", "LoadLibrary", "SystemCall"}
)


def is_savedmodel(buf: memoryview) -> bool:
    """SavedModel: only fields 1 (schema version) and 2 (meta graphs), with field 2 present."""
    try:
        top = pb.top_level(buf, 10_000)
    except ParseError:
        return False
    return top.get(2) == pb.LEN and set(top) <= {1, 2} and top.get(1, pb.VARINT) == pb.VARINT


def scan_savedmodel(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Walk every node of every meta graph and function for ops that run Python or touch files."""
    try:
        for num, wt, s, e in pb.fields(buf, 0, len(buf)):
            if num == 2 and wt == pb.LEN:
                for mnum, mwt, a, b in pb.fields(buf, s, e):
                    if mnum == 2 and mwt == pb.LEN:
                        scan_graphdef(ctx, buf, location, a, b)
    except ParseError as exc:
        ctx.add(
            rules.TF_MALFORMED,
            f"TensorFlow protobuf is malformed: {exc}",
            location,
            offset=exc.offset,
        )


def scan_graphdef(ctx: ScanContext, buf: memoryview, location: str, s: int, e: int) -> None:
    """GraphDef: nodes (field 1) and the function library (field 2)."""
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 1:
            _tf_node(ctx, buf, a, b, location)
        elif num == 2:
            for fnum, fwt, x, y in pb.fields(buf, a, b):
                if fnum == 1 and fwt == pb.LEN:
                    for dnum, dwt, p, q in pb.fields(buf, x, y):
                        if dnum == 3 and dwt == pb.LEN:
                            _tf_node(ctx, buf, p, q, location)


def _tf_node(ctx: ScanContext, buf: memoryview, s: int, e: int, location: str) -> None:
    name = op = ""
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt == pb.LEN and num == 1:
            name = pb.text(buf, a, b)
        elif wt == pb.LEN and num == 2:
            op = pb.text(buf, a, b)
    if op in _TF_BLOCK:
        ctx.add(
            rules.TF_PYTHON_OR_WRITE,
            f"node {name!r} uses the op {op}",
            location,
            offset=s,
            global_name=op,
        )
    elif op in _TF_REVIEW:
        ctx.add(
            rules.TF_FILE_READ,
            f"node {name!r} uses the op {op}",
            location,
            offset=s,
            global_name=op,
        )


def scan_keras_config(ctx: ScanContext, cfg: Any, location: str) -> None:
    """Judge a Keras model config against the Keras registry (see keras_config.py)."""
    from . import keras_config

    keras_config.judge(ctx, cfg, location)


def keras_json(ctx: ScanContext, raw: bytes | str, location: str) -> bool:
    """Parse JSON and scan it as a Keras config when it looks like one; False when it does not."""
    from . import keras_config

    return keras_config.keras_json(ctx, raw, location)


def scan_hdf5(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Judge every Keras config an HDF5 file holds (attributes and stale copies)."""
    from . import keras_config

    keras_config.scan_hdf5(ctx, buf, location)
