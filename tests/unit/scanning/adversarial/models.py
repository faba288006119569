"""Adversarial and benign cases for Keras, TensorFlow graphs, ONNX and GGUF chat templates."""

from __future__ import annotations

import codecs
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import Case, chat_templates, tfproto

MAL = "malicious"
BEN = "benign"
os.environ.setdefault("KERAS_BACKEND", "torch")

# ---- Keras -------------------------------------------------------------------------------


def _layer(cls: str, module: str | None = "keras.layers", **cfg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"class_name": cls, "config": {"name": cls.lower(), **cfg}}
    if module is not None:
        out["module"] = module
        out["registered_name"] = None
    return out


def _sequential(*layers: dict[str, Any]) -> dict[str, Any]:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": [_layer("InputLayer", batch_shape=[None, 4]), *layers]},
        "registered_name": None,
    }


def _fn(module: str, name: str, registered: str | None = None) -> dict[str, Any]:
    return {
        "module": module,
        "class_name": "function",
        "config": name,
        "registered_name": registered,
    }


_LAMBDA_CODE = {"class_name": "__lambda__", "config": {"value": "4wEAAAAAAAAA", "closure": None}}


def _keras_zip(cfg: dict[str, Any] | bytes, extra: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    import io

    raw = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        for name, data in extra:
            zf.writestr(name, data)
        zf.writestr("config.json", raw)
        zf.writestr("model.weights.h5", b"")
    return buf.getvalue()


def _h5(attrs: dict[str, str], stale: str | None = None) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        import h5py

        with h5py.File(p, "w") as f:
            if stale is not None:
                f.attrs["model_config"] = stale
                del f.attrs["model_config"]  # the bytes stay in the file
            for k, v in attrs.items():
                f.attrs[k] = v
            f.create_group("model_weights").attrs["layer_names"] = [b"dense"]

    return build


def keras_cases() -> list[Case]:
    """Keras configs naming code through every spelling, and real saved models."""
    lam = _layer("Lambda", function=_LAMBDA_CODE)
    benign_cfg = _sequential(_layer("Dense", units=2, activation="relu"))
    cases: list[tuple[str, str, Callable[[], bytes]]] = [
        ("lambda_public_module", "model.keras", lambda: _keras_zip(_sequential(lam))),
        (
            "lambda_internal_module",
            "model.keras",
            lambda: _keras_zip(
                _sequential(
                    _layer("Lambda", "keras.src.layers.core.lambda_layer", function=_LAMBDA_CODE)
                )
            ),
        ),
        (
            "lambda_via_registered_name",
            "model.keras",
            lambda: _keras_zip(
                _sequential({**_layer("Dense", units=1), "registered_name": "Lambda"})
            ),
        ),
        (
            "custom_package_object",
            "model.keras",
            lambda: _keras_zip(
                _sequential({**_layer("Evil", None), "registered_name": "pkg>Evil", "module": None})
            ),
        ),
        (
            "activation_os_system",
            "model.keras",
            lambda: _keras_zip(
                _sequential(_layer("Dense", units=1, activation=_fn("os", "system", "system")))
            ),
        ),
        (
            "activation_builtins_eval",
            "model.keras",
            lambda: _keras_zip(
                _sequential(_layer("Dense", units=1, activation=_fn("builtins", "eval")))
            ),
        ),
        (
            "activation_custom_string",
            "model.keras",
            lambda: _keras_zip(_sequential(_layer("Dense", units=1, activation="pkg>swish2"))),
        ),
        (
            "activation_lambda_code",
            "model.keras",
            lambda: _keras_zip(_sequential(_layer("Dense", units=1, activation=_LAMBDA_CODE))),
        ),
        (
            "lambda_in_bidirectional",
            "model.keras",
            lambda: _keras_zip(_sequential(_layer("Bidirectional", layer=lam))),
        ),
        (
            "lambda_in_timedistributed_functional",
            "model.keras",
            lambda: _keras_zip(
                {
                    "module": "keras",
                    "class_name": "Functional",
                    "registered_name": None,
                    "config": {
                        "layers": [
                            {
                                "class_name": "TimeDistributed",
                                "module": "keras.layers",
                                "config": {"layer": lam},
                            }
                        ]
                    },
                }
            ),
        ),
        (
            "tfsm_layer",
            "model.keras",
            lambda: _keras_zip(_sequential(_layer("TFSMLayer", filepath="/tmp/sm"))),
        ),
        (
            "config_utf8_bom",
            "model.keras",
            lambda: _keras_zip(codecs.BOM_UTF8 + json.dumps(_sequential(lam)).encode()),
        ),
        (
            "config_utf16",
            "model.keras",
            lambda: _keras_zip(json.dumps(_sequential(lam)).encode("utf-16")),
        ),
        (
            "config_duplicate_last_wins",
            "model.keras",
            lambda: _keras_zip(
                _sequential(lam), [("config.json", json.dumps(benign_cfg).encode())]
            ),
        ),
        (
            "map_op_in_functional",
            "model.keras",
            lambda: _keras_zip(
                _sequential(
                    {
                        "module": "keras.src.ops.core",
                        "class_name": "Map",
                        "config": {},
                        "registered_name": "Map",
                    }
                )
            ),
        ),
        (
            "loss_subprocess_function",
            "model.keras",
            lambda: _keras_zip(
                {
                    **benign_cfg,
                    "compile_config": {
                        "loss": _fn("subprocess", "run", "run"),
                        "optimizer": "adam",
                    },
                }
            ),
        ),
        (
            "optimizer_custom_class",
            "model.keras",
            lambda: _keras_zip(
                {
                    **benign_cfg,
                    "compile_config": {
                        "optimizer": {
                            "module": None,
                            "class_name": "Opt",
                            "config": {},
                            "registered_name": "evil>Opt",
                        }
                    },
                }
            ),
        ),
        (
            "initializer_foreign_module",
            "model.keras",
            lambda: _keras_zip(
                _sequential(
                    _layer(
                        "Dense",
                        units=1,
                        kernel_initializer={"module": "numpy", "class_name": "load", "config": {}},
                    )
                )
            ),
        ),
        (
            "legacy_string_activation",
            "config.json",
            lambda: json.dumps(
                {
                    "class_name": "Sequential",
                    "config": {
                        "layers": [{"class_name": "Dense", "config": {"activation": "os.system"}}]
                    },
                }
            ).encode(),
        ),
        (
            "typespec_unknown",
            "config.json",
            lambda: json.dumps(
                _sequential(
                    {
                        "class_name": "__typespec__",
                        "spec_name": "EvilSpec",
                        "module": "evil",
                        "registered_name": None,
                        "config": [],
                    }
                )
            ).encode(),
        ),
    ]
    out = [Case(f"keras/{n}", "keras", MAL, f, _bytes(b)) for n, f, b in cases]
    lam_text = json.dumps(_sequential(lam))
    reordered = json.dumps(
        {
            "config": {"layers": [{"config": {"name": "l"}, "class\u005fname": "Lambda"}]},
            "class_name": "Sequential",
        },
        ensure_ascii=True,
    ).replace('class_name": "Lambda', 'class\\u005fname": "Lambda')
    out += [
        Case(
            "keras/h5_model_config_lambda",
            "keras",
            MAL,
            "model.h5",
            _h5({"model_config": lam_text}),
        ),
        Case(
            "keras/h5_escaped_reordered_keys",
            "keras",
            MAL,
            "model.h5",
            _h5({"model_config": reordered}),
        ),
        Case(
            "keras/h5_stale_copy",
            "keras",
            MAL,
            "model.h5",
            _h5({"model_config": json.dumps(benign_cfg)}, stale=lam_text),
        ),
        Case(
            "keras/h5_training_config",
            "keras",
            MAL,
            "model.hdf5",
            _h5(
                {
                    "model_config": json.dumps(benign_cfg),
                    "training_config": json.dumps({"loss": _fn("os", "system", "system")}),
                }
            ),
        ),
        Case("keras/h5_attr_on_group", "keras", MAL, "model.h5", _h5_group_attr(lam_text)),
        Case(
            "keras/savedmodel_keras_metadata",
            "keras",
            MAL,
            "keras_metadata.pb",
            _keras_metadata(lam_text),
        ),
    ]
    out += [Case(f"keras/benign_{n}", "keras", BEN, f, b) for n, f, b in _real_keras()]
    return out


def _bytes(fn: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(fn())


def _h5_group_attr(text: str) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        import h5py

        with h5py.File(p, "w") as f:
            f.create_group("model_weights").create_group("x").attrs["config"] = text

    return build


def _keras_metadata(text: str) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        from google.protobuf.internal.encoder import _VarintBytes

        raw = text.encode()
        node = b"\x10\x01" + b"\x2a" + _VarintBytes(len(raw)) + raw  # node_id, metadata
        p.write_bytes(b"\x0a" + _VarintBytes(len(node)) + node)

    return build


def _real_keras() -> list[tuple[str, str, Callable[[Path], None]]]:
    def seq(p: Path) -> None:
        import keras
        from keras import layers

        m = keras.Sequential(
            [
                keras.Input((8,)),
                layers.Dense(16, activation="relu", kernel_regularizer="l2"),
                layers.Dropout(0.1),
                layers.Dense(2, activation="softmax"),
            ]
        )
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        m.save(p)

    def func(p: Path) -> None:
        import keras
        from keras import layers

        inp = keras.Input((10, 4))
        x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(inp)
        x = layers.TimeDistributed(layers.Dense(3, activation=keras.activations.gelu))(x)
        x2 = layers.Conv1D(
            3,
            2,
            padding="same",
            kernel_initializer=keras.initializers.HeNormal(),
            kernel_constraint=keras.constraints.MaxNorm(2),
        )(inp)
        y = layers.LayerNormalization()(layers.Add()([x, x2]))
        y = keras.ops.add(layers.GlobalAveragePooling1D()(y), 1.0)
        m = keras.Model(inp, y)
        sched = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
        m.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=sched),
            loss=keras.losses.Huber(),
            metrics=[keras.metrics.AUC(), "mae"],
        )
        m.save(p)

    def conv(p: Path) -> None:
        import keras
        from keras import layers

        m = keras.Sequential(
            [
                keras.Input((16, 16, 3)),
                layers.Conv2D(4, 3, activation="swish"),
                layers.BatchNormalization(),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(3),
            ]
        )
        m.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
        m.save(p)

    def emb(p: Path) -> None:
        import keras
        from keras import layers

        m = keras.Sequential(
            [
                keras.Input((5,), dtype="int32"),
                layers.Embedding(50, 8),
                layers.GRU(4),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        m.save(p)

    def weights(p: Path) -> None:
        import keras

        keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save_weights(p)

    return [
        ("sequential_keras", "seq.keras", seq),
        ("sequential_h5", "seq.h5", seq),
        ("functional_keras", "func.keras", func),
        ("functional_h5", "func.h5", func),
        ("conv_keras", "conv.keras", conv),
        ("conv_h5", "conv.h5", conv),
        ("embedding_gru_keras", "emb.keras", emb),
        ("weights_only", "model.weights.h5", weights),
    ]


# ---- TensorFlow --------------------------------------------------------------------------


def _graph(*nodes: tuple[Any, ...], functions: list[Any] | None = None) -> Any:
    g = tfproto.message("GraphDef")
    g.versions.producer = 1700
    for spec in nodes:
        inputs = spec[2] if len(spec) > 2 else ()
        attrs = spec[3] if len(spec) > 3 else {}
        tfproto.node(g, spec[0], spec[1], tuple(inputs), **attrs)
    for f in functions or []:
        g.library.function.add().CopyFrom(f)
    return g


def _fn_def(name: str, *nodes: tuple[str, str], args: tuple[str, ...] = ()) -> Any:
    f = tfproto.message("FunctionDef")
    f.signature.name = name
    for a in args:
        f.signature.input_arg.add(name=a)
    for node_name, op in nodes:
        tfproto.node(f, node_name, op)
    return f


def _math() -> list[tuple[Any, ...]]:
    return [
        ("x", "Placeholder"),
        ("w", "Const"),
        ("mm", "MatMul", ["x", "w"]),
        ("b", "Const"),
        ("add", "AddV2", ["mm", "b"]),
        ("y", "Relu", ["add"]),
        ("out", "Identity", ["y"]),
    ]


def _saver(prefix_const: bool = False, op: str = "SaveV2") -> list[tuple[Any, ...]]:
    src = "saver_const" if prefix_const else "saver_filename"
    first: tuple[Any, ...] = (
        ("saver_const", "Const", [], {"value": "/tmp/evil/ckpt"})
        if prefix_const
        else ("saver_filename", "Placeholder")
    )
    return [
        first,
        ("suffix", "Const"),
        ("join", "StringJoin", [src, "suffix"]),
        ("shard", "ShardedFilename", ["join", "suffix", "suffix"]),
        ("names", "Const"),
        ("save", op, ["shard", "names", "names", "w"]),
    ]


def _ser(kind: str, g: Any) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        if kind == "savedmodel":
            p.write_bytes(tfproto.saved_model(g).SerializeToString())
        elif kind == "graphdef":
            p.write_bytes(g.SerializeToString())
        else:
            p.write_text(tfproto.to_text(g))

    return build


def tensorflow_cases() -> list[Case]:
    """Graph files whose ops run Python, write or read files, or are outside the allowlist."""
    m = _math()
    sm, gd, tx = "savedmodel", "graphdef", "text"
    cases: list[tuple[str, str, str, Any]] = [
        ("savedmodel_pyfunc", "saved_model.pb", sm, _graph(*m, ("py", "PyFunc", ["x"]))),
        ("graphdef_writefile", "frozen.pb", gd, _graph(*m, ("wf", "WriteFile", ["x", "y"]))),
        ("pbtxt_eager_pyfunc", "graph.pbtxt", tx, _graph(*m, ("py", "EagerPyFunc", ["x"]))),
        (
            "printv2_to_file",
            "saved_model.pb",
            sm,
            _graph(*m, ("p", "PrintV2", ["y"], {"output_stream": "file:///tmp/leak.txt"})),
        ),
        ("savev2_constant_path", "saved_model.pb", sm, _graph(*m, *_saver(True))),
        ("restorev2_constant_path", "saved_model.pb", sm, _graph(*m, *_saver(True, "RestoreV2"))),
        ("readfile", "frozen.pb", gd, _graph(*m, ("rf", "ReadFile", ["x"]))),
        ("matching_files", "saved_model.pb", sm, _graph(*m, ("mf", "MatchingFiles", ["x"]))),
        (
            "pyfunc_in_function_library",
            "saved_model.pb",
            sm,
            _graph(
                *m,
                ("call", "StatefulPartitionedCall", ["x"], {"f": ("func", "inner")}),
                functions=[_fn_def("inner", ("a", "Identity"), ("py", "PyFunc"))],
            ),
        ),
        (
            "func_attr_names_op",
            "saved_model.pb",
            sm,
            _graph(*m, ("call", "PartitionedCall", ["x"], {"f": ("func", "WriteFile")})),
        ),
        ("custom_op", "frozen.pb", gd, _graph(*m, ("c", "MyCustomKernel", ["x"]))),
        (
            "summary_writer",
            "saved_model.pb",
            sm,
            _graph(*m, ("w", "CreateSummaryFileWriter", ["x"])),
        ),
        ("immutable_const", "frozen.pb", gd, _graph(*m, ("ic", "ImmutableConst"))),
        (
            "pbtxt_pyfunc_in_library",
            "graph.pbtxt",
            tx,
            _graph(*m, functions=[_fn_def("f", ("py", "PyFuncStateless"))]),
        ),
    ]
    out = [Case(f"tensorflow/{n}", "tensorflow", MAL, f, _ser(k, g)) for n, f, k, g in cases]
    out += [
        Case(
            "tensorflow/second_meta_graph_pyfunc",
            "tensorflow",
            MAL,
            "saved_model.pb",
            lambda p: p.write_bytes(
                tfproto.saved_model(_graph(*m), _graph(*m, ("py", "PyFunc"))).SerializeToString()
            ),
        ),
        Case(
            "tensorflow/unknown_and_reordered_fields",
            "tensorflow",
            MAL,
            "frozen.pb",
            lambda p: p.write_bytes(_reordered_pyfunc()),
        ),
        Case(
            "tensorflow/pbtxt_escaped_op_name",
            "tensorflow",
            MAL,
            "graph.pbtxt",
            lambda p: p.write_text('node { name: "a" op: "Wri\\164e" "File" input: "x" }\n'),
        ),
        Case(
            "tensorflow/pbtxt_angle_brackets_comments",
            "tensorflow",
            MAL,
            "graph.pbtxt",
            lambda p: p.write_text("# exported\nnode < name: 'p' # c\n op: 'PyFunc' >\n"),
        ),
    ]
    benign = [
        ("math_graphdef", "frozen.pb", gd, _graph(*m)),
        ("math_pbtxt", "graph.pbtxt", tx, _graph(*m)),
        ("saver_pattern", "saved_model.pb", sm, _graph(*m, *_saver())),
        ("restore_pattern", "saved_model.pb", sm, _graph(*m, *_saver(op="RestoreV2"))),
        (
            "function_call",
            "saved_model.pb",
            sm,
            _graph(
                *m,
                ("call", "StatefulPartitionedCall", ["x"], {"f": ("func", "inner")}),
                functions=[_fn_def("inner", ("a", "Tanh"), ("s", "Softmax"), args=("x",))],
            ),
        ),
        (
            "print_stderr",
            "saved_model.pb",
            sm,
            _graph(*m, ("p", "PrintV2", ["y"], {"output_stream": "stderr"})),
        ),
    ]
    out += [
        Case(f"tensorflow/benign_{n}", "tensorflow", BEN, f, _ser(k, g)) for n, f, k, g in benign
    ]
    return out


def _reordered_pyfunc() -> bytes:
    from google.protobuf.internal.encoder import _VarintBytes

    def ld(num: int, payload: bytes) -> bytes:
        return _VarintBytes(num << 3 | 2) + _VarintBytes(len(payload)) + payload

    # op before name, an unknown varint field 99 and an unknown message field 77 in the node.
    node = ld(2, b"PyFunc") + _VarintBytes(99 << 3) + b"\x01" + ld(77, b"\x08\x01") + ld(1, b"p")
    head = _graph(*_math()).SerializeToString()
    return ld(3000, b"junk") + ld(1, node) + head


# ---- ONNX --------------------------------------------------------------------------------


def _onnx_model(
    ext: dict[str, str] | None = None,
    *,
    sparse_ext: str | None = None,
    attr_ext: str | None = None,
    subgraph_ext: str | None = None,
    training_ext: str | None = None,
    domain: str = "",
    unknown_field: bool = False,
    dup_location: tuple[str, str] | None = None,
) -> bytes:
    import onnx
    from onnx import TensorProto, helper

    def external(t: Any, location: str) -> None:
        t.ClearField("float_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", "0"), ("length", "8")):
            e = t.external_data.add()
            e.key, e.value = k, v

    w = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    if ext:
        external(w, ext["w"])
    if dup_location:
        external(w, dup_location[0])
        e = w.external_data.add()
        e.key, e.value = "location", dup_location[1]
    nodes = [helper.make_node("Add", ["x", "w"], ["y"])]
    if attr_ext:
        c = helper.make_tensor("c", TensorProto.FLOAT, [2], [0.0, 0.0])
        external(c, attr_ext)
        nodes.append(helper.make_node("Constant", [], ["k"], value=c))
    if subgraph_ext:
        t = helper.make_tensor("s", TensorProto.FLOAT, [1], [1.0])
        external(t, subgraph_ext)
        branch = helper.make_graph(
            [helper.make_node("Identity", ["s"], ["o"])],
            "then",
            [],
            [helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])],
            [t],
        )
        nodes.append(
            helper.make_node("If", ["cond"], ["o"], then_branch=branch, else_branch=branch)
        )
    if domain:
        nodes.append(helper.make_node("Evil", ["x"], ["z"], domain=domain))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [w],
    )
    if sparse_ext:
        vals = helper.make_tensor("sv", TensorProto.FLOAT, [1], [3.0])
        external(vals, sparse_ext)
        idx = helper.make_tensor("si", TensorProto.INT64, [1], [0])
        graph.sparse_initializer.append(helper.make_sparse_tensor(vals, idx, [4]))
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=opsets)
    if training_ext:
        t = helper.make_tensor("tr", TensorProto.FLOAT, [1], [1.0])
        external(t, training_ext)
        init = helper.make_graph([], "init", [], [], [t])
        model.training_info.add().initialization.CopyFrom(init)
    data = model.SerializeToString()
    if unknown_field:
        data = b"\xfa\x3e\x04junk" + data  # field 1999, length-delimited: unknown to onnx
    onnx.load_from_string(data)  # the real parser accepts it
    return data


def _onnx_with_link(target: str, via_dir: bool = False) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        if via_dir:
            (p.parent / "sub").symlink_to(target)
            p.write_bytes(_onnx_model({"w": "sub/hostname"}))
        else:
            (p.parent / "weights.bin").symlink_to(target)
            p.write_bytes(_onnx_model({"w": "weights.bin"}))

    return build


def onnx_cases() -> list[Case]:
    """External data that leaves the model folder, wherever a tensor can hold it."""
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("initializer_absolute", lambda: _onnx_model({"w": "/etc/passwd"})),
        ("initializer_dotdot", lambda: _onnx_model({"w": "../../secrets/key.bin"})),
        ("initializer_windows_drive", lambda: _onnx_model({"w": "C:\\Windows\\win.ini"})),
        ("initializer_backslash_dotdot", lambda: _onnx_model({"w": "..\\..\\x.bin"})),
        ("sparse_initializer_values", lambda: _onnx_model(sparse_ext="/etc/shadow")),
        ("constant_attribute_tensor", lambda: _onnx_model(attr_ext="../outside.bin")),
        ("if_subgraph_initializer", lambda: _onnx_model(subgraph_ext="/proc/self/environ")),
        ("training_info_graph", lambda: _onnx_model(training_ext="/etc/hosts")),
        ("unknown_top_field", lambda: _onnx_model({"w": "/etc/passwd"}, unknown_field=True)),
        ("custom_domain_and_path", lambda: _onnx_model({"w": "/x"}, domain="com.evil")),
        (
            "duplicate_location_last_wins",
            lambda: _onnx_model(dup_location=("w.bin", "/etc/passwd")),
        ),
        ("custom_domain_only", lambda: _onnx_model(domain="com.evil.ops")),
    ]
    out = [Case(f"onnx/{n}", "onnx", MAL, "model.onnx", _bytes(b)) for n, b in cases]
    out += [
        Case("onnx/symlink_by_name", "onnx", MAL, "model.onnx", _onnx_with_link("/etc/hostname")),
        Case(
            "onnx/symlinked_directory",
            "onnx",
            MAL,
            "model.onnx",
            _onnx_with_link("/etc", via_dir=True),
        ),
    ]
    out += [Case(f"onnx/benign_{n}", "onnx", BEN, "model.onnx", b) for n, b in _real_onnx()]
    return out


def _real_onnx() -> list[tuple[str, Callable[[Path], None]]]:
    def external(p: Path) -> None:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        w = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "w")
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"])],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
            [w],
        )
        onnx.save_model(
            helper.make_model(g),
            str(p),
            save_as_external_data=True,
            location="weights.bin",
            size_threshold=0,
        )

    def plain(p: Path) -> None:
        p.write_bytes(_onnx_model())

    def subgraph(p: Path) -> None:
        import onnx
        from onnx import TensorProto, helper

        data = _onnx_model()
        m = onnx.load_from_string(data)
        branch = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["o"])],
            "b",
            [],
            [helper.make_tensor_value_info("o", TensorProto.FLOAT, [2])],
        )
        m.graph.node.append(
            helper.make_node("If", ["c"], ["o"], then_branch=branch, else_branch=branch)
        )
        p.write_bytes(m.SerializeToString())

    def ml_domain(p: Path) -> None:
        import onnx
        from onnx import TensorProto, helper

        node = helper.make_node(
            "Scaler", ["x"], ["y"], domain="ai.onnx.ml", scale=[2.0], offset=[0.0]
        )
        g = helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        )
        m = helper.make_model(
            g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
        )
        onnx.save(m, str(p))

    def sparse(p: Path) -> None:
        import onnx
        from onnx import TensorProto, helper

        m = onnx.load_from_string(_onnx_model())
        vals = helper.make_tensor("sv", TensorProto.FLOAT, [1], [3.0])
        idx = helper.make_tensor("si", TensorProto.INT64, [1], [0])
        m.graph.sparse_initializer.append(helper.make_sparse_tensor(vals, idx, [4]))
        p.write_bytes(m.SerializeToString())

    return [
        ("plain", plain),
        ("external_data_in_folder", external),
        ("if_subgraph", subgraph),
        ("ml_domain", ml_domain),
        ("sparse_inline", sparse),
    ]


# ---- GGUF --------------------------------------------------------------------------------


def _gguf(template: str | None, key: str = "tokenizer.chat_template") -> Callable[[Path], None]:
    def build(p: Path) -> None:
        import gguf
        import numpy as np

        w = gguf.GGUFWriter(str(p), "llama")
        w.add_string("general.name", "tiny")
        w.add_string("general.description", "Never run os.system('rm -rf /'); __import__ is bad.")
        if template is not None:
            w.add_string(key, template)
        w.add_tensor("t", np.zeros(8, dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

    return build


def gguf_cases() -> list[Case]:
    """Template injection without literal dunders, and real chat templates."""
    out = [
        Case(f"gguf/{n}", "gguf-jinja", MAL, "model.gguf", _gguf(t))
        for n, t in chat_templates.MALICIOUS.items()
    ]
    out.append(
        Case(
            "gguf/named_tool_use_template",
            "gguf-jinja",
            MAL,
            "model.gguf",
            _gguf(chat_templates.MALICIOUS["concat_key"], "tokenizer.chat_template.tool_use"),
        )
    )
    out += [
        Case(f"gguf/benign_{n}", "gguf-jinja", BEN, "model.gguf", _gguf(t))
        for n, t in chat_templates.BENIGN.items()
    ]
    out.append(Case("gguf/benign_no_template", "gguf-jinja", BEN, "model.gguf", _gguf(None)))
    return out
