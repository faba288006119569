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
    """ModelProto: a graph (field 7) and an IR version or opset imports.

    Fields onnx does not know are ignored by its parser, so they do not change the reading.
    """
    try:
        top = pb.top_level(buf, 10_000)
    except ParseError:
        return False
    known = {k: v for k, v in top.items() if k in _ONNX_TOP | {1, 2}}
    return known.get(7) == pb.LEN and (known.get(1) == pb.VARINT or known.get(8) == pb.LEN)


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
            elif num == 20:  # TrainingInfoProto: initialization and algorithm graphs
                for tnum, twt, a, b in pb.fields(buf, s, e):
                    if tnum in (1, 2) and twt == pb.LEN:
                        _onnx_graph(ctx, buf, a, b, location, base_dir, 1)
    except ParseError as exc:
        ctx.add(
            rules.ONNX_MALFORMED, f"ONNX protobuf is malformed: {exc}", location, offset=exc.offset
        )


def _onnx_str_field(buf: memoryview, s: int, e: int, want: int) -> str:
    # A repeated scalar field is legal on the wire and protobuf keeps the last one.
    out = ""
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == want and wt == pb.LEN:
            out = pb.text(buf, a, b)
    return out


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
        elif num == 5:
            _onnx_tensor(ctx, buf, a, b, location, base)
        elif num == 15:
            _onnx_sparse(ctx, buf, a, b, location, base)


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
                elif anum in (22, 23):
                    _onnx_sparse(ctx, buf, x, y, location, base)


def _onnx_sparse(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None
) -> None:
    """SparseTensorProto: its values (1) and indices (2) are tensors with their own data."""
    for num, wt, a, b in pb.fields(buf, s, e):
        if num in (1, 2) and wt == pb.LEN:
            _onnx_tensor(ctx, buf, a, b, location, base)


def external_locations(buf: memoryview, s: int, e: int) -> list[str]:
    """The external data locations of a TensorProto, as onnx reads them (last entry wins)."""
    out: list[str] = []
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == 13 and wt == pb.LEN:
            key = _onnx_str_field(buf, a, b, 1)
            if key == "location":
                out.append(_onnx_str_field(buf, a, b, 2))
    return out


def _onnx_tensor(
    ctx: ScanContext, buf: memoryview, s: int, e: int, location: str, base: Path | None
) -> None:
    for path in external_locations(buf, s, e):
        seen = getattr(ctx, "onnx_paths", None)
        if seen is not None:  # views.onnx_external_paths records every path it meets
            seen.append(path)
        _external_path(ctx, path, location, s, base)


def _external_path(ctx: ScanContext, path: str, location: str, off: int, base: Path | None) -> None:
    p = path.replace("\\", "/")
    bad = ""
    if p.startswith("/") or re.match(r"^[A-Za-z]:", p) or p.startswith("~"):
        bad = "is absolute"
    elif any(part == ".." for part in p.split("/")):
        bad = "climbs out with '..'"
    elif "\x00" in p:
        bad = "holds a NUL byte"
    elif base is not None:
        target = base / p
        parts = [base / Path(*p.split("/")[: i + 1]) for i in range(len(p.split("/")))]
        if any(part.is_symlink() for part in parts):
            bad = "goes through a symbolic link"
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


def is_savedmodel(buf: memoryview) -> bool:
    """SavedModel: MetaGraphDefs (field 2) with a GraphDef; unknown fields do not matter."""
    from . import tf_graph

    return tf_graph.looks_like_savedmodel(buf)


def scan_savedmodel(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Judge every node of every meta graph and function against the op allowlist."""
    from . import tf_graph

    tf_graph.scan_tf(ctx, buf, location, "savedmodel")


def scan_protobuf(ctx: ScanContext, buf: memoryview, location: str, base: Path | None) -> str:
    """Every reading of a protobuf a loader could take: ONNX, SavedModel, GraphDef, Keras
    metadata (a file valid as two of them is scanned as both)."""
    from . import tf_graph

    found: list[str] = []
    if is_onnx(buf):
        scan_onnx(ctx, buf, location, base)
        found.append("onnx")
    named_sm = location.endswith("saved_model.pb")
    if named_sm or tf_graph.looks_like_savedmodel(buf):
        tf_graph.scan_tf(ctx, buf, location, "savedmodel")
        found.append("tf-savedmodel")
        # tf.keras SavedModels keep each layer's Keras config as JSON in the object graph.
        from .keras_config import scan_embedded_json

        scan_embedded_json(ctx, buf, location)
    elif tf_graph.looks_like_graphdef(buf):
        tf_graph.scan_tf(ctx, buf, location, "graphdef")
        found.append("tf-graphdef")
    if not found:
        texts = tf_graph.json_strings(buf)
        for text in texts:
            keras_json(ctx, text, location)
        if texts:
            found.append("keras-metadata")
    return "+".join(found) or "unknown"


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
