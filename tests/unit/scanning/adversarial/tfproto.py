"""TensorFlow's graph messages, built with protobuf's descriptor pool (TensorFlow is not installed).

Field numbers and types follow tensorflow/core/framework/{attr_value,node_def,op_def,function,
graph}.proto and tensorflow/core/protobuf/{meta_graph,saved_model}.proto; only the fields the
scanner reads are declared, so the real protobuf library writes (and parses) them exactly as
TensorFlow would, and anything else is an unknown field to both.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

_T = descriptor_pb2.FieldDescriptorProto
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    # name: [(field, number, type, label, type_name)]
    "NameAttrList": [
        ("name", 1, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("attr", 2, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.NameAttrList.AttrEntry"),
    ],
    "ListValue": [
        ("s", 2, _T.TYPE_BYTES, _T.LABEL_REPEATED, ""),
        ("func", 9, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.NameAttrList"),
    ],
    "AttrValue": [
        ("list", 1, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.ListValue"),
        ("s", 2, _T.TYPE_BYTES, _T.LABEL_OPTIONAL, ""),
        ("i", 3, _T.TYPE_INT64, _T.LABEL_OPTIONAL, ""),
        ("type", 6, _T.TYPE_INT32, _T.LABEL_OPTIONAL, ""),
        ("placeholder", 9, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("func", 10, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.NameAttrList"),
    ],
    "NodeDef": [
        ("name", 1, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("op", 2, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("input", 3, _T.TYPE_STRING, _T.LABEL_REPEATED, ""),
        ("device", 4, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("attr", 5, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.NodeDef.AttrEntry"),
    ],
    "ArgDef": [("name", 1, _T.TYPE_STRING, _T.LABEL_OPTIONAL, "")],
    "OpDef": [
        ("name", 1, _T.TYPE_STRING, _T.LABEL_OPTIONAL, ""),
        ("input_arg", 2, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.ArgDef"),
        ("output_arg", 3, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.ArgDef"),
    ],
    "FunctionDef": [
        ("signature", 1, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.OpDef"),
        ("node_def", 3, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.NodeDef"),
    ],
    "FunctionDefLibrary": [
        ("function", 1, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.FunctionDef"),
    ],
    "VersionDef": [("producer", 1, _T.TYPE_INT32, _T.LABEL_OPTIONAL, "")],
    "GraphDef": [
        ("node", 1, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.NodeDef"),
        ("library", 2, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.FunctionDefLibrary"),
        ("versions", 4, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.VersionDef"),
    ],
    "MetaInfoDef": [("meta_graph_version", 1, _T.TYPE_STRING, _T.LABEL_OPTIONAL, "")],
    "MetaGraphDef": [
        ("meta_info_def", 1, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.MetaInfoDef"),
        ("graph_def", 2, _T.TYPE_MESSAGE, _T.LABEL_OPTIONAL, ".tf.GraphDef"),
    ],
    "SavedModel": [
        ("saved_model_schema_version", 1, _T.TYPE_INT64, _T.LABEL_OPTIONAL, ""),
        ("meta_graphs", 2, _T.TYPE_MESSAGE, _T.LABEL_REPEATED, ".tf.MetaGraphDef"),
    ],
}


@cache
def _classes() -> dict[str, Any]:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="airlock_test_tf.proto", package="tf", syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        msg = fdp.message_type.add(name=name)
        for fname, num, ftype, label, tname in fields:
            f = msg.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                f.type_name = tname
        if name in ("NodeDef", "NameAttrList"):
            entry = msg.nested_type.add(name="AttrEntry")
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=_T.TYPE_STRING, label=_T.LABEL_OPTIONAL)
            entry.field.add(
                name="value",
                number=2,
                type=_T.TYPE_MESSAGE,
                label=_T.LABEL_OPTIONAL,
                type_name=".tf.AttrValue",
            )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tf.{name}"))
        for name in _MESSAGES
    }


def message(name: str) -> Any:
    """A new, empty message of the given TensorFlow type."""
    return _classes()[name]()


def node(graph_or_fn: Any, name: str, op: str, inputs: tuple[str, ...] = (), **attrs: Any) -> Any:
    """Append a NodeDef; attrs: str/bytes -> s, int -> i, ("func", name) -> func."""
    nodes = graph_or_fn.node if hasattr(graph_or_fn, "node") else graph_or_fn.node_def
    n = nodes.add(name=name, op=op)
    n.input.extend(inputs)
    for key, value in attrs.items():
        if isinstance(value, tuple) and value[0] == "func":
            n.attr[key].func.name = value[1]
        elif isinstance(value, int):
            n.attr[key].i = value
        else:
            n.attr[key].s = value.encode() if isinstance(value, str) else value
    return n


def saved_model(*graphs: Any) -> Any:
    """A SavedModel holding one meta graph per GraphDef."""
    sm = message("SavedModel")
    sm.saved_model_schema_version = 1
    for g in graphs:
        mg = sm.meta_graphs.add()
        mg.meta_info_def.meta_graph_version = "v2.16.0"
        mg.graph_def.CopyFrom(g)
    return sm


def to_text(msg: Any) -> str:
    """Protobuf text format, as TensorFlow writes .pbtxt."""
    return text_format.MessageToString(msg)


def ops_of(data: bytes, kind: str) -> list[str]:
    """The ops protobuf itself reads from bytes (GraphDef or SavedModel), graph then library."""
    out: list[str] = []

    def graph_ops(g: Any) -> None:
        out.extend(n.op for n in g.node)
        for f in g.library.function:
            out.extend(n.op for n in f.node_def)

    if kind == "savedmodel":
        sm = message("SavedModel")
        sm.ParseFromString(data)
        for mg in sm.meta_graphs:
            graph_ops(mg.graph_def)
    else:
        g = message("GraphDef")
        g.ParseFromString(data)
        graph_ops(g)
    return out


def ops_of_text(text: str) -> list[str]:
    """The ops protobuf's text parser reads from a .pbtxt GraphDef."""
    g = message("GraphDef")
    text_format.Parse(text, g, allow_unknown_field=True)
    out = [n.op for n in g.node]
    for f in g.library.function:
        out.extend(n.op for n in f.node_def)
    return out
