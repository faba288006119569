"""The scanner's view of a file, for differential tests against the real libraries' parsers.

Each function returns what the scanner reads (decompressed bytes, zip member names, whether a
buffer is a tar, Keras objects, TensorFlow ops, ONNX external paths) without judging it, so a
test can compare it with `gzip`, `zipfile`, `tarfile`, Keras, protobuf or `onnx`.
"""

from __future__ import annotations

from typing import Any

from .context import ScanContext
from .model import Limits


def stream_bytes(data: bytes, kind: str, limits: Limits | None = None) -> bytes:
    """Every member/frame of a gzip, bz2, xz, lzma, zlib, zstd or lz4 file, decompressed."""
    from .streams import Spool, decompress_to

    ctx = ScanContext(limits or Limits())
    ctx.root_size = len(data)
    with Spool() as spool:
        decompress_to(ctx, memoryview(data), kind, "<view>", spool)
        view = spool.view()
        try:
            return bytes(view)
        finally:
            view.release()


def zip_names(data: bytes) -> list[str]:
    """Central-directory member names in order (ParseError when the scanner cannot read it)."""
    from .zipfmt import read_entries

    ctx = ScanContext(Limits())
    return [e.name for e in read_entries(ctx, memoryview(data), "<view>")]


def is_tar(data: bytes) -> bool:
    """Whether the scanner takes the tar reading of these bytes."""
    from .polyglot import is_tar as _is_tar

    return _is_tar(memoryview(data))


def keras_objects(cfg: Any) -> list[tuple[str, str]]:
    """(verdict, name) for every object a Keras config names: ok, lambda, tfsm or deny."""
    from .keras_config import resolve

    out: list[tuple[str, str]] = []
    stack = [cfg]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if "class_name" in node:
                out.append(resolve(node))
            stack.extend(reversed(list(node.values())))
    return out


def tf_ops(data: bytes, kind: str) -> list[str]:
    """Ops of every node (graph first, then each library function) of a TensorFlow file;
    kind is savedmodel, graphdef or text."""
    from . import tf_graph

    buf = memoryview(data)
    if kind == "savedmodel":
        graphs = tf_graph.savedmodel(buf)
    elif kind == "graphdef":
        graphs = tf_graph.graphdef(buf, 0, len(buf))
    else:
        graphs = tf_graph.text_graphs(data.decode("utf-8", "replace"))
    return tf_graph.view(graphs)


def onnx_external_paths(data: bytes) -> list[str]:
    """Every external data location of every tensor of an ONNX model, wherever it sits."""
    from .graphs import scan_onnx

    ctx = ScanContext(Limits())
    ctx.onnx_paths = []  # type: ignore[attr-defined]
    scan_onnx(ctx, memoryview(data), "<view>", None)
    return list(ctx.onnx_paths)  # type: ignore[attr-defined]
