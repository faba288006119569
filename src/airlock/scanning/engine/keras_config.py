"""Keras configs, deny by default: only objects Keras itself registers may be named.

`keras.saving.deserialize_keras_object` rebuilds every dict with a `class_name` from its
`module`, `class_name` and `registered_name` (a registered custom object wins over both), and
functions (`class_name: "function"`) from `config` or `registered_name`; legacy configs (HDF5,
tf.keras) name activations, initializers, losses... by string. The scanner resolves every
spelling the same way against the registry derived from the installed Keras
(`keras_registry.py`): a class or function outside it, a custom `package>name`, `Lambda`,
`__lambda__` and `TFSMLayer` are `block`, at any depth (activations, wrappers, functional
graphs, compile configs). HDF5 files are read with h5py when it is installed (every attribute
of every object), and the raw bytes are searched for JSON objects as well, so a stale copy of a
config left in free space is judged too.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from . import rules
from .context import ScanContext
from .keras_registry import CLASSES, FUNCTIONS, NAMES
from .model import LimitExceeded

# Values Keras rebuilds as plain data (tensors, arrays, bytes, slices, Ellipsis, KerasTensors).
_DATA: Final = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
)
# compile_utils resolves these metric strings itself, before any registry lookup.
_METRIC_ALIASES: Final = frozenset(
    {"accuracy", "acc", "crossentropy", "ce", "binary_accuracy", "categorical_accuracy"}
)
_PACKAGE_PREFIXES: Final = ("tensorflow.keras", "tensorflow.python.keras", "tf_keras", "tf.keras")
_CALLABLE_KEYS: Final = ("activation", "initializer", "regularizer", "constraint")
_CALLABLE_NAMES: Final = frozenset({"loss", "losses", "optimizer", "metrics", "weighted_metrics"})
_JSON_START: Final = re.compile(rb'\{\s*"')
_MAX_ATTEMPTS: Final = 256
_WINDOW: Final = 16 << 20


def _keras_module(module: str) -> str:
    for prefix in _PACKAGE_PREFIXES:
        if module == prefix or module.startswith(prefix + "."):
            return "keras" + module[len(prefix) :]
    return module


def _module_ok(module: Any, allowed: frozenset[str]) -> bool:
    if module is None:
        return True  # legacy configs carry no module: Keras looks the name up in its registry
    if not isinstance(module, str):
        return False
    name = _keras_module(module)
    if name in allowed:
        return True
    # Other Keras versions write other internal paths for the same registered class
    # (tf-keras 2.15: keras.src.engine.functional). Whatever Keras then imports, it only takes
    # a class of this registered name from a Keras module; any other package is denied.
    return name == "keras" or name.startswith("keras.")


def _registered_ok(registered: Any, names: tuple[str, ...]) -> bool:
    return registered is None or registered == "" or registered in names


def resolve(node: dict[str, Any]) -> tuple[str, str]:
    """Name the object a config dict makes Keras build: ('ok'|'lambda'|'tfsm'|'deny', name)."""
    cls = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    if not isinstance(cls, str):
        return "deny", repr(cls)
    if cls in _DATA:
        return "ok", cls
    if cls == "__lambda__":
        return "lambda", cls
    if cls == "__typespec__":
        spec = node.get("spec_name")
        return ("ok" if spec in CLASSES else "deny"), f"__typespec__ {spec!r}"
    shown = f"{module}.{cls}" if isinstance(module, str) else cls
    if cls == "function":
        fn = node.get("config")
        name = fn if module == "builtins" or registered is None else registered
        if not isinstance(fn, str) or not isinstance(name, str):
            return "deny", f"function {fn!r}"
        if module == "builtins" and fn in NAMES:
            return "ok", fn
        allowed = FUNCTIONS.get(name)
        if allowed is not None and _module_ok(module, allowed) and name == fn:
            return "ok", name
        return "deny", f"{module}.{fn}" if isinstance(module, str) else fn
    if cls == "Lambda" or (
        isinstance(registered, str) and registered.rpartition(">")[2] == "Lambda"
    ):
        return "lambda", shown
    if cls == "TFSMLayer" or registered == "TFSMLayer":
        return "tfsm", shown
    allowed = CLASSES.get(cls)
    if allowed is None or not _module_ok(module, allowed):
        return "deny", shown
    if not _registered_ok(registered, (cls,)):
        return "deny", f"{shown} registered as {registered!r}"
    return "ok", shown


def _name_ok(value: str) -> bool:
    return value in NAMES or value in CLASSES or value in FUNCTIONS or value in _METRIC_ALIASES


def _callable_key(key: str) -> bool:
    return key.endswith(_CALLABLE_KEYS) or key in _CALLABLE_NAMES


def view(cfg: Any, max_depth: int = 200) -> list[str]:
    """Every object a config names, in walk order (what the differential tests compare)."""
    out: list[str] = []
    stack: list[tuple[Any, int]] = [(cfg, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise LimitExceeded("max_json_depth", "Keras config is nested too deep")
        if isinstance(node, list):
            stack.extend((v, depth + 1) for v in reversed(node))
        elif isinstance(node, dict):
            if "class_name" in node:
                out.append(resolve(node)[1])
            stack.extend((v, depth + 1) for v in reversed(list(node.values())))
    return out


def judge(ctx: ScanContext, cfg: Any, location: str) -> None:
    """Walk a Keras config: every object it names must be one Keras registers."""
    stack: list[tuple[Any, int, str]] = [(cfg, 0, "")]
    count = 0
    while stack:
        node, depth, key = stack.pop()
        count += 1
        if depth > ctx.limits.max_json_depth or count > 10_000_000:
            raise LimitExceeded("max_json_depth", "Keras config is nested too deep or too large")
        if isinstance(node, str):
            if key and _callable_key(key) and not _name_ok(node):
                ctx.add(
                    rules.KERAS_UNREGISTERED,
                    f"{key!r} names {node!r}, which Keras does not register",
                    location,
                    global_name=node,
                )
            continue
        if isinstance(node, list):
            stack.extend((v, depth + 1, key) for v in node)
            continue
        if not isinstance(node, dict):
            continue
        if "class_name" in node:
            _judge_object(ctx, node, location)
        stack.extend(
            (v, depth + 1, str(k)) for k, v in node.items() if isinstance(v, dict | list | str)
        )


def _judge_object(ctx: ScanContext, node: dict[str, Any], location: str) -> None:
    verdict, name = resolve(node)
    if verdict == "lambda":
        inner = node.get("config")
        layer = inner.get("name") if isinstance(inner, dict) else None
        msg = f"{name} {layer!r} carries Python code that runs on load"
        ctx.add(rules.KERAS_LAMBDA, msg, location, global_name=name)
    elif verdict == "tfsm":
        ctx.add(
            rules.KERAS_TFSM,
            "TFSMLayer loads a SavedModel (and its ops) from a path on load",
            location,
            global_name=name,
        )
    elif verdict == "deny":
        ctx.add(
            rules.KERAS_UNREGISTERED,
            f"config names {name}, which is not a class or function Keras registers",
            location,
            global_name=name,
        )


def loads(raw: bytes | str) -> Any:
    """json.loads as Keras calls it: bytes in UTF-8 (with or without BOM), UTF-16 or UTF-32."""
    if isinstance(raw, str):
        raw = raw.lstrip("\ufeff")
    return json.loads(raw)


def keras_json(ctx: ScanContext, raw: bytes | str, location: str) -> bool:
    """Parse JSON and judge it as a Keras config when it looks like one; False when not."""
    try:
        cfg = loads(raw)
    except RecursionError:
        raise LimitExceeded("max_json_depth", "JSON is nested too deep to read") from None
    except ValueError:
        return False
    if not isinstance(cfg, dict | list):
        return False
    found = False
    for inner in _configs(cfg):
        judge(ctx, inner, location)
        found = True
    return found


def _configs(cfg: Any) -> list[Any]:
    """The Keras configs in a JSON document: the object itself and configs held as strings."""
    out: list[Any] = []
    if isinstance(cfg, dict):
        if any(k in cfg for k in ("class_name", "config", "model_config", "training_config")):
            out.append(cfg)
        for k in ("model_config", "training_config", "config"):
            v = cfg.get(k)
            if isinstance(v, str) and v.lstrip()[:1] in ("{", "["):
                try:
                    out.extend(_configs(json.loads(v)) or [json.loads(v)])
                except ValueError:
                    continue
    elif isinstance(cfg, list) and any(isinstance(v, dict) and "class_name" in v for v in cfg):
        out.append(cfg)
    return out


def scan_hdf5(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Every attribute h5py reads, then every JSON object in the raw bytes (stale copies too)."""
    seen: set[str] = set()
    for text in _h5_attributes(ctx, buf):
        if text not in seen:
            seen.add(text)
            _judge_text(ctx, text, location)
    _raw_json_objects(ctx, buf, location, seen)


def _judge_text(ctx: ScanContext, text: str, location: str) -> None:
    """An HDF5 attribute holding JSON is a config Keras may read (model_config, training_config,
    layer configs): judged whole, whatever its top-level keys."""
    try:
        cfg = loads(text)
    except RecursionError:
        raise LimitExceeded("max_json_depth", "JSON is nested too deep to read") from None
    except ValueError:
        return
    judge(ctx, cfg, location)
    for inner in _configs(cfg):
        if inner is not cfg:
            judge(ctx, inner, location)


def scan_embedded_json(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Judge the Keras configs a binary file holds as JSON text (SavedModel metadata)."""
    _raw_json_objects(ctx, buf, location, set())


def _h5_attributes(ctx: ScanContext, buf: memoryview) -> list[str]:
    try:
        import h5py  # optional: without it the byte search below still finds the configs
    except ImportError:
        return []
    from .containers import _View

    texts: list[str] = []
    budget = [10_000]

    def attrs(obj: Any) -> None:
        for name in list(obj.attrs.keys())[:1000]:
            budget[0] -= 1
            if budget[0] < 0:
                raise LimitExceeded("max_members", "HDF5 file holds too many attributes")
            try:
                value = obj.attrs[name]
            except Exception:  # noqa: S112 - an unreadable attribute is skipped, bytes search it
                continue
            for item in value if isinstance(value, list | tuple) else [value]:
                if hasattr(item, "tolist") and not isinstance(item, bytes | str):
                    item = item.tolist()
                for piece in item if isinstance(item, list) else [item]:
                    if isinstance(piece, bytes):
                        piece = piece.decode("utf-8", "replace")
                    if isinstance(piece, str) and piece.lstrip("\ufeff \n\t")[:1] in "{[":
                        texts.append(piece)

    try:
        with h5py.File(_View(buf), "r") as f:
            attrs(f)

            def visit(_name: str, obj: Any) -> None:
                ctx.check_time()
                attrs(obj)

            f.visititems(visit)
    except LimitExceeded:
        raise
    except Exception:  # noqa: S110 - h5py refuses broken files; the byte search still runs
        pass
    return texts


def _raw_json_objects(ctx: ScanContext, buf: memoryview, location: str, seen: set[str]) -> None:
    decoder = json.JSONDecoder()
    covered_to = -1
    for attempt, m in enumerate(_JSON_START.finditer(buf)):
        if attempt >= _MAX_ATTEMPTS:
            break
        if m.start() < covered_to:
            continue
        ctx.check_time()
        window = bytes(buf[m.start() : m.start() + _WINDOW]).decode("utf-8", "replace")
        try:
            cfg, end = decoder.raw_decode(window)
        except (ValueError, RecursionError):
            continue
        covered_to = m.start() + len(window[:end].encode("utf-8", "replace"))
        text = window[:end]
        if text in seen or not isinstance(cfg, dict):
            continue
        seen.add(text)
        _judge_text(ctx, text, location)
