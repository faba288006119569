"""TensorFlow graphs: SavedModel, frozen GraphDef (.pb) and text format (.pbtxt), allowlisted.

Every NodeDef is read, wherever it is: the graph's nodes, every function of the function
library, in every meta graph. The wire format is walked field by field, so unknown fields and
any field order leave nodes visible. Ops are judged against an allowlist (`tf_ops.py`: the
TensorFlow.js op lists plus SavedModel infrastructure), not against a list of bad ones:

* block: ops that run Python or write files (PyFunc, EagerPyFunc, WriteFile, summary writers,
  PrintV2 to a file, Save*/checkpoint merges whose path is a constant instead of the saver's
  filename argument), function attributes that name such an op;
* review: ops that read files (ReadFile, MatchingFiles, Restore* from a constant path,
  ImmutableConst...), and any op outside the allowlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from . import protobuf as pb
from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError
from .tf_ops import INFRASTRUCTURE_OPS, TFJS_OPS

ALLOWED: Final = TFJS_OPS | INFRASTRUCTURE_OPS
_RUNS_CODE_OR_WRITES: Final = frozenset(
    {
        "PyFunc", "PyFuncStateless", "EagerPyFunc", "WriteFile", "DebugIdentityV2",
        "DebugIdentityV3", "CreateSummaryFileWriter", "CreateSummaryDbWriter",
        "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary",
        "WriteGraphSummary", "WriteRawProtoSummary", "WriteSummary", "ImportEvent",
        "SaveDataset", "SaveDatasetV2", "LoadLibrary", "SystemCall",
    }
)  # fmt: skip
_READS: Final = frozenset(
    {
        "ReadFile", "MatchingFiles", "MatchingFilesDataset", "ImmutableConst",
        "TFRecordDataset", "TFRecordDatasetV2", "TextLineDataset", "FixedLengthRecordDataset",
        "LoadDataset", "LoadAndRemapMatrix", "ReaderReadV2", "WholeFileReaderV2",
    }
)  # fmt: skip
_CHECKPOINT_WRITE: Final = frozenset({"SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints"})
_CHECKPOINT_READ: Final = frozenset({"RestoreV2", "Restore", "RestoreSlice"})
_PASS_THROUGH: Final = frozenset(
    {"Identity", "StringJoin", "ShardedFilename", "Select", "SelectV2", "StaticRegexFullMatch",
     "StatelessIf", "If", "Pack", "ConcatV2", "IdentityN"}
)  # fmt: skip
_ROOTS: Final = frozenset({"Placeholder", "PlaceholderWithDefault", "_Arg"})
_PRINT_STREAMS: Final = frozenset(
    {"stderr", "stdout", "log(info)", "log(warning)", "log(error)", ""}
)


@dataclass
class Node:
    """The parts of a NodeDef the judgement needs."""

    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    strings: dict[str, str] = field(default_factory=dict)  # attr name -> string value
    funcs: list[str] = field(default_factory=list)  # function names in attrs
    offset: int = 0


@dataclass
class Graph:
    """One node list: a graph or a function body, with its function arguments."""

    where: str
    nodes: list[Node] = field(default_factory=list)
    args: set[str] = field(default_factory=set)


# ---- binary protobuf -------------------------------------------------------------------


def _node(buf: memoryview, s: int, e: int) -> Node:
    n = Node("", "", offset=s)
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 1:
            n.name = pb.text(buf, a, b)
        elif num == 2:
            n.op = pb.text(buf, a, b)
        elif num == 3:
            n.inputs.append(pb.text(buf, a, b))
        elif num == 5:
            _attr_entry(buf, a, b, n)
    return n


def _attr_entry(buf: memoryview, s: int, e: int, n: Node) -> None:
    key = ""
    for num, wt, a, b in pb.fields(buf, s, e):
        if num == 1 and wt == pb.LEN:
            key = pb.text(buf, a, b)
        elif num == 2 and wt == pb.LEN:
            _attr_value(buf, a, b, n, key, 0)


def _attr_value(buf: memoryview, s: int, e: int, n: Node, key: str, depth: int) -> None:
    if depth > 8:
        raise LimitExceeded("max_depth", "TensorFlow attribute values nested too deep")
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 2:
            n.strings[key] = pb.text(buf, a, b)
        elif num == 10:  # NameAttrList: the function (or op) a call op runs
            for fnum, fwt, x, y in pb.fields(buf, a, b):
                if fnum == 1 and fwt == pb.LEN:
                    n.funcs.append(pb.text(buf, x, y))
                elif fnum == 2 and fwt == pb.LEN:
                    _attr_entry(buf, x, y, n)
        elif num == 1:  # ListValue: func (9) and s (2) lists
            for lnum, lwt, x, y in pb.fields(buf, a, b):
                if lnum == 9 and lwt == pb.LEN:
                    for fnum, fwt, p, q in pb.fields(buf, x, y):
                        if fnum == 1 and fwt == pb.LEN:
                            n.funcs.append(pb.text(buf, p, q))


def _function(buf: memoryview, s: int, e: int, where: str) -> Graph:
    g = Graph(where)
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 3:
            g.nodes.append(_node(buf, a, b))
        elif num == 1:  # OpDef signature: name (1), input_arg (2)
            for snum, swt, x, y in pb.fields(buf, a, b):
                if snum == 1 and swt == pb.LEN:
                    g.where = f"{where} function {pb.text(buf, x, y)!r}"
                elif snum == 2 and swt == pb.LEN:
                    for anum, awt, p, q in pb.fields(buf, x, y):
                        if anum == 1 and awt == pb.LEN:
                            g.args.add(pb.text(buf, p, q))
    return g


def graphdef(buf: memoryview, s: int, e: int, where: str = "graph") -> list[Graph]:
    """GraphDef: nodes (field 1) and the function library (field 2), in any order."""
    main = Graph(where)
    out = [main]
    for num, wt, a, b in pb.fields(buf, s, e):
        if wt != pb.LEN:
            continue
        if num == 1:
            main.nodes.append(_node(buf, a, b))
        elif num == 2:
            for fnum, fwt, x, y in pb.fields(buf, a, b):
                if fnum == 1 and fwt == pb.LEN:
                    out.append(_function(buf, x, y, where))
    return out


def savedmodel(buf: memoryview) -> list[Graph]:
    """SavedModel: every meta graph's GraphDef (field 2 of MetaGraphDef)."""
    out: list[Graph] = []
    for num, wt, s, e in pb.fields(buf, 0, len(buf)):
        if num == 2 and wt == pb.LEN:
            for mnum, mwt, a, b in pb.fields(buf, s, e):
                if mnum == 2 and mwt == pb.LEN:
                    out.extend(graphdef(buf, a, b, f"meta graph {len(out)}"))
    return out


def looks_like_savedmodel(buf: memoryview) -> bool:
    """A SavedModel: MetaGraphDefs (field 2) holding a GraphDef with named ops."""
    try:
        for num, wt, s, e in pb.fields(buf, 0, len(buf)):
            if num == 1 and wt != pb.VARINT:
                return False
            if num == 2 and wt == pb.LEN:
                for mnum, mwt, a, b in pb.fields(buf, s, e):
                    if mnum == 2 and mwt == pb.LEN:
                        return looks_like_graphdef(buf[a:b]) or b == a
                return False
    except ParseError:
        return False
    return False


def json_strings(buf: memoryview, limit: int = 100_000) -> list[str]:
    """JSON texts in the nested messages of a keras_metadata.pb (SavedMetadata.nodes.metadata)."""
    out: list[str] = []
    try:
        for num, wt, s, e in pb.fields(buf, 0, len(buf)):
            if num != 1 or wt != pb.LEN:
                return []
            for _, fwt, a, b in pb.fields(buf, s, e):
                if fwt == pb.LEN and bytes(buf[a : a + 1]) in (b"{", b"["):
                    out.append(pb.text(buf, a, b))
                    if len(out) > limit:
                        raise LimitExceeded("max_members", "too many metadata entries")
    except ParseError:
        return []
    return out


_TEXT_GRAPH: Final = re.compile(
    rb"^\s*(?:#[^\n]*\n\s*)*(?:node|node_def|meta_graphs|saved_model_schema_version|library|"
    rb"versions|graph_def|meta_info_def)\s*[:{<]"
)


def looks_like_text_graph(head: bytes) -> bool:
    """A text-format GraphDef or SavedModel starts with one of their field names."""
    return bool(_TEXT_GRAPH.match(head))


def looks_like_graphdef(buf: memoryview) -> bool:
    """A GraphDef: field 1 holds NodeDefs (a name and an op string), other fields any."""
    try:
        for num, wt, s, e in pb.fields(buf, 0, len(buf)):
            if num == 1 and wt == pb.LEN:
                node = _node(buf, s, e)
                return bool(node.op) and node.op.isprintable() and len(node.op) < 200
            if num not in (2, 3, 4) and num < 1000:
                return False
    except ParseError:
        return False
    return False


# ---- text format -------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""\s+|\#[^\n]*|(?P<str>(?:(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*)+)"""
    r"""|(?P<id>\[[^\]]*\]|[A-Za-z_][\w.]*)|(?P<num>[-+]?[\w.+-]+)|(?P<p>[{}<>:\[\],;])""",
)
_PIECE: Final = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'""")


def _unescape(raw: str) -> str:
    """C escapes as protobuf's text format reads them, adjacent strings joined."""
    out = bytearray()
    for m in _PIECE.finditer(raw):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                out += c.encode("utf-8")
                i += 1
                continue
            nxt = body[i + 1 : i + 2]
            simple = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11}
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
            elif nxt in ("x", "X"):
                m2 = re.match(r"[0-9A-Fa-f]{1,2}", body[i + 2 :])
                out.append(int(m2.group(0), 16) if m2 else 0)
                i += 2 + (len(m2.group(0)) if m2 else 0)
            elif nxt.isdigit():
                m2 = re.match(r"[0-7]{1,3}", body[i + 1 :])
                out.append(int(m2.group(0), 8) & 0xFF if m2 else 0)
                i += 1 + (len(m2.group(0)) if m2 else 1)
            elif nxt in ("u", "U"):
                width = 4 if nxt == "u" else 8
                out += chr(int(body[i + 2 : i + 2 + width] or "0", 16)).encode("utf-8")
                i += 2 + width
            else:
                out += nxt.encode("utf-8")
                i += 2
    return out.decode("utf-8", "replace")


def _text_message(text: str, limit: int) -> list[tuple[str, object]]:
    """Parse text format into nested (field, value) lists; values are str or sub-lists."""
    root: list[tuple[str, object]] = []
    stack: list[list[tuple[str, object]]] = [root]
    pending: str | None = None
    count = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        count += 1
        if count > limit:
            raise LimitExceeded("max_header_bytes", "text-format graph has too many tokens")
        tok = m.group(kind)
        if kind == "p":
            if tok in "{<":
                child: list[tuple[str, object]] = []
                stack[-1].append((pending or "", child))
                stack.append(child)
                pending = None
                if len(stack) > 100:
                    raise LimitExceeded("max_depth", "text-format graph nested too deep")
            elif tok in "}>":
                if len(stack) > 1:
                    stack.pop()
                pending = None
            continue
        if kind == "id" and pending is None:
            pending = tok
            continue
        value = _unescape(tok) if kind == "str" else tok
        stack[-1].append((pending or "", value))
        # A repeated scalar in [a, b] keeps the field name until the list ends.
        if not _in_list(text, m.end()):
            pending = None
    return root


def _in_list(text: str, pos: int) -> bool:
    rest = text[pos : pos + 2].lstrip()
    return rest[:1] == ","


def _text_nodes(msg: list[tuple[str, object]], out: list[Node], depth: int = 0) -> None:
    for key, value in msg:
        if not isinstance(value, list):
            continue
        if key in ("node", "node_def"):
            out.append(_text_node(value))
        _text_nodes(value, out, depth + 1)


def _text_node(msg: list[tuple[str, object]]) -> Node:
    n = Node("", "")
    for key, value in msg:
        if key == "name" and isinstance(value, str):
            n.name = value
        elif key == "op" and isinstance(value, str):
            n.op = value
        elif key == "input" and isinstance(value, str):
            n.inputs.append(value)
        elif key == "attr" and isinstance(value, list):
            _text_attr(value, n)
    return n


def _text_attr(msg: list[tuple[str, object]], n: Node) -> None:
    attr_key = next((v for k, v in msg if k == "key" and isinstance(v, str)), "")
    for key, value in msg:
        if key == "value" and isinstance(value, list):
            for vk, vv in _flatten(value):
                if vk == "s" and isinstance(vv, str):
                    n.strings[attr_key] = vv
                elif vk == "name" and isinstance(vv, str):
                    n.funcs.append(vv)


def _flatten(msg: list[tuple[str, object]]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for k, v in msg:
        if isinstance(v, list):
            if k in ("func", "list", "attr", "value"):
                out.extend(_flatten(v))
        else:
            out.append((k, v))
    return out


def text_graphs(text: str, limit: int = 5_000_000) -> list[Graph]:
    """Graphs of a .pbtxt (GraphDef or SavedModel text): every node at any depth."""
    g = Graph("text graph")
    _text_nodes(_text_message(text, limit), g.nodes)
    return [g]


# ---- judgement ---------------------------------------------------------------------------


def view(graphs: list[Graph]) -> list[str]:
    """Every op of every node, in order (what the differential tests compare)."""
    return [n.op for g in graphs for n in g.nodes]


def judge(ctx: ScanContext, graphs: list[Graph], location: str) -> None:
    """Apply the op allowlist and the checkpoint-path and output-stream rules."""
    functions = {g.where.rsplit("function ", 1)[-1].strip("'") for g in graphs[1:]}
    for g in graphs:
        by_name = {n.name: n for n in g.nodes}
        for n in g.nodes:
            ctx.check_time()
            _judge_node(ctx, g, by_name, n, location)
            for f in n.funcs:
                if f not in functions and f not in ALLOWED:
                    rule = rules.TF_PYTHON_OR_WRITE if f in _RUNS_CODE_OR_WRITES else rules.TF_OP
                    msg = f"node {n.name!r} ({n.op}) calls {f!r}, not a function of the graph"
                    ctx.add(rule, msg, location, offset=n.offset, global_name=f)


def _judge_node(
    ctx: ScanContext, g: Graph, by_name: dict[str, Node], n: Node, location: str
) -> None:
    op = n.op
    where = f"node {n.name!r} in {g.where}"
    if op in _RUNS_CODE_OR_WRITES:
        ctx.add(rules.TF_PYTHON_OR_WRITE, f"{where} uses the op {op}", location, global_name=op)
    elif op in _READS:
        ctx.add(rules.TF_FILE_READ, f"{where} uses the op {op}", location, global_name=op)
    elif op == "PrintV2" and n.strings.get("output_stream", "") not in _PRINT_STREAMS:
        stream = n.strings.get("output_stream", "")
        msg = f"{where} prints to {stream!r}, which writes a file"
        ctx.add(rules.TF_PYTHON_OR_WRITE, msg, location, global_name=op, detail=stream)
    elif op in _CHECKPOINT_WRITE | _CHECKPOINT_READ:
        if n.inputs and not _from_argument(g, by_name, n.inputs[0], 0):
            write = op in _CHECKPOINT_WRITE
            rule = rules.TF_PYTHON_OR_WRITE if write else rules.TF_FILE_READ
            what = "writes" if write else "reads"
            msg = f"{where} {what} a checkpoint at a path fixed in the graph, not the saver's"
            ctx.add(rule, msg, location, global_name=op)
    elif op not in ALLOWED:
        ctx.add(rules.TF_OP, f"{where} uses the op {op!r}, outside the allowlist", location,
                global_name=op)  # fmt: skip


def _from_argument(g: Graph, by_name: dict[str, Node], ref: str, depth: int) -> bool:
    """True when a checkpoint path comes from a placeholder or function argument."""
    if depth > 32:
        return False
    name = ref.lstrip("^").split(":", 1)[0]
    if name in g.args:
        return True
    node = by_name.get(name)
    if node is None:
        return False
    if node.op in _ROOTS:
        return True
    if node.op in _PASS_THROUGH:
        return any(_from_argument(g, by_name, i, depth + 1) for i in node.inputs)
    return False


def scan_tf(ctx: ScanContext, buf: memoryview, location: str, kind: str) -> None:
    """Read a SavedModel, GraphDef or text graph and judge every node."""
    try:
        if kind == "savedmodel":
            graphs = savedmodel(buf)
        elif kind == "graphdef":
            graphs = graphdef(buf, 0, len(buf))
        else:
            graphs = text_graphs(bytes(buf).decode("utf-8", "replace"))
    except ParseError as exc:
        ctx.add(rules.TF_MALFORMED, f"TensorFlow protobuf is malformed: {exc}", location,
                offset=exc.offset)  # fmt: skip
        return
    judge(ctx, graphs, location)
