"""Derive the scanner's framework allowlists from the installed libraries.

    .venv/bin/python scripts/gen_allowlists.py [--check]

Writes `src/airlock/scanning/engine/profiles_generated.py` with the library versions it ran
on and two sets per library:

* STATE_CLASSES: classes the library defines that pickling rebuilds the ordinary way: the
  class is created without running `__init__` (NEWOBJ / `copyreg._reconstructor`) and given
  its state (`__setstate__` of the library itself, or a `__dict__` update). Their own
  `__reduce__`/`__reduce_ex__` is the one from `object`, and their `__new__` is a built-in
  type's or the library's own. The scanner lets them be constructed and given state; calling
  one with arguments (REDUCE, INST, OBJ) runs `__init__` and stays `block`.
* EMITTED: every global that pickling real objects of the library writes (rebuild functions
  such as `torch._utils._rebuild_tensor_v2`, `numpy.core.multiarray._reconstruct`,
  `pandas._libs...` unpicklers, classes pickled with a custom `__reduce__`), found by
  pickling the same objects the benign test corpus builds and reading the pickles with
  `pickletools.genops` (never loading them).

Nothing here is written from memory: rerun after upgrading a library and commit the result.
`--check` exits 1 when the committed file differs from what the installed libraries give.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import io
import pickle
import pickletools
import pkgutil
import sys
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "airlock" / "scanning" / "engine" / "profiles_generated.py"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "scanning"))

from airlock.scanning.engine.allowlist import is_dangerous  # noqa: E402

# Library -> distribution name (for the version) and the packages walked for classes.
LIBRARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "torch": (
        "torch",
        (
            "torch.nn",
            "torch.ao.nn",
            "torch.ao.quantization",
            "torch.optim",
            "torch.distributions",
            "torch.utils.data",
        ),
    ),
    "numpy": ("numpy", ("numpy.random", "numpy.ma", "numpy.polynomial")),
    "pandas": ("pandas", ("pandas.core", "pandas._libs", "pandas.tseries")),
    "sklearn": ("scikit-learn", ("sklearn",)),
    "scipy": ("scipy", ("scipy.sparse", "scipy.stats._distn_infrastructure", "scipy.interpolate")),
    "xgboost": ("xgboost", ("xgboost",)),
    "lightgbm": ("lightgbm", ("lightgbm",)),
    "joblib": ("joblib", ("joblib.numpy_pickle", "joblib.numpy_pickle_compat")),
    "transformers": (
        "transformers",
        (
            "transformers.training_args",
            "transformers.training_args_seq2seq",
            "transformers.trainer_utils",
            "transformers.trainer_callback",
            "transformers.trainer_pt_utils",
            "transformers.debug_utils",
            "transformers.configuration_utils",
            "transformers.generation.configuration_utils",
            "transformers.utils.generic",
            "transformers.models.*.configuration_*",
        ),
    ),
    "lightning": (
        "lightning",
        (
            "lightning.fabric.utilities.data",
            "lightning.pytorch.utilities.parsing",
            "lightning.pytorch.callbacks",
            "pytorch_lightning.utilities.parsing",
            "pytorch_lightning.callbacks",
            "lightning_fabric.utilities.data",
        ),
    ),
}

# Sub-packages never walked: they start servers, compile code, load files or need hardware.
_SKIP = (
    "test",
    "tests",
    "testing",
    "conftest",
    "_pytest",
    "setup",
    "__main__",
    "benchmarks",
    "cuda",
    "distributed",
    "_dynamo",
    "_inductor",
    "onnx",
    "hub",
    "serialization",
    "jit",
    "utils.data.datapipes",
    "dask",
    "spark",
    "pyspark",
    "plotting",
    "externals",
)
_BUILTIN_NEW = {
    t.__new__
    for t in (object, int, float, str, bytes, tuple, list, dict, set, frozenset, complex, bool)
}


def _wanted(name: str) -> bool:
    parts = name.split(".")
    return not any(p in _SKIP or p.startswith("test") for p in parts) and not any(
        s in name for s in ("utils.data.datapipes",)
    )


def _modules(spec: str) -> Iterator[str]:
    if "*" in spec:
        # transformers.models.*.configuration_*: every model family's configuration module.
        base = spec.split(".*", 1)[0]
        pkg = importlib.import_module(base)
        for info in pkgutil.iter_modules(pkg.__path__):
            sub = f"{base}.{info.name}"
            try:
                sp = importlib.import_module(sub)
            except Exception:  # noqa: S112 - a module or object the library cannot build here
                continue
            for inner in pkgutil.iter_modules(getattr(sp, "__path__", [])):
                if inner.name.startswith("configuration_"):
                    yield f"{sub}.{inner.name}"
        return
    yield spec
    try:
        mod = importlib.import_module(spec)
    except Exception:
        return
    path = getattr(mod, "__path__", None)
    if path is None:
        return
    for info in pkgutil.walk_packages(path, spec + ".", onerror=lambda _n: None):
        if _wanted(info.name):
            yield info.name


def _ordinary(cls: type, top: str) -> bool:
    """Pickled as class + state, nothing run but the library's own __new__/__setstate__."""
    if cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__:
        return False
    new = cls.__new__
    if new not in _BUILTIN_NEW:
        owner = next((k for k in cls.__mro__ if "__new__" in vars(k)), object)
        if (owner.__module__ or "").split(".")[0] not in (top, "builtins", "enum", "typing"):
            return False
    setstate = getattr(cls, "__setstate__", None)
    if setstate is not None and not isinstance(setstate, type(object.__reduce__)):
        owner = next((k for k in cls.__mro__ if "__setstate__" in vars(k)), object)
        if (owner.__module__ or "").split(".")[0] not in (top, "builtins", "collections", "enum"):
            return False
    return True


def state_classes(top: str, packages: Iterable[str]) -> set[tuple[str, str]]:
    """Classes of the library rebuilt by pickling the ordinary way."""
    out: set[tuple[str, str]] = set()
    for spec in packages:
        for name in _modules(spec):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mod = importlib.import_module(name)
            except Exception:  # noqa: S112 - a module or object the library cannot build here
                continue
            for _attr, obj in vars(mod).items():
                if not inspect.isclass(obj):
                    continue
                module = getattr(obj, "__module__", "") or ""
                if module.split(".")[0] not in (top, spec.split(".")[0]):
                    continue
                qual = obj.__qualname__
                if "<" in qual or is_dangerous(module, qual):
                    continue
                if _ordinary(obj, module.split(".")[0]):
                    out.add((module, qual))
    return out


class _Stub:
    """Stands in for every global while reading our own pickles: nothing real is imported."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        return _Stub()

    def append(self, item: object) -> None:
        pass

    def extend(self, items: object) -> None:
        pass

    def __setitem__(self, key: object, value: object) -> None:
        pass


class _Recorder(pickle._Unpickler):  # type: ignore[name-defined]
    """The pure-Python unpickler with find_class replaced: records (module, name), returns a
    stub class. Used only on pickles this script itself just wrote from real objects."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.seen: set[tuple[str, str]] = set()

    def find_class(self, module: str, name: str) -> type:
        if self.proto < 3 and self.fix_imports:
            import _compat_pickle

            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.seen.add((module, name))
        if (module, name) == ("builtins", "getattr"):
            return self._getattr  # type: ignore[return-value]
        return type(name.replace(".", "_"), (_Stub,), {"_where": (module, name)})

    def _getattr(self, obj: object, attr: str) -> object:
        # getattr(SomeClass, "name") is how pickle writes bound class methods; the scanner
        # judges it as the dotted global, so record that.
        where = getattr(obj, "_where", None)
        if where is None:
            return _Stub()
        pair = (where[0], f"{where[1]}.{attr}")
        self.seen.add(pair)
        return type(attr, (_Stub,), {"_where": pair})


def pickled_globals(data: bytes) -> set[tuple[str, str]]:
    """Every global a pickle imports (as the loader names them), recorded with stubs."""
    rec = _Recorder(data)
    try:
        rec.load()
    except Exception:
        # Fall back on the opcode listing for GLOBAL/INST names.
        for op, arg, _pos in pickletools.genops(data):
            if op.name in ("GLOBAL", "INST"):
                module, name = str(arg).split(" ", 1)
                rec.seen.add((module, name))
    return rec.seen


def emitted(objects: Iterable[object]) -> set[tuple[str, str]]:
    """Globals written when pickling real objects at protocols 2 to 5."""
    out: set[tuple[str, str]] = set()
    for obj in objects:
        for proto in (2, 4, 5):
            try:
                data = pickle.dumps(obj, protocol=proto)
            except Exception:  # noqa: S112 - a module or object the library cannot build here
                continue
            out |= pickled_globals(data)
    return {p for p in out if not is_dangerous(*p) and p[0] != "__main__"}


def sample_objects() -> dict[str, list[object]]:
    """The real objects the benign test corpus pickles, grouped by library."""
    import benign_objects

    return benign_objects.objects_by_library()


def render(
    versions: dict[str, str],
    classes: dict[str, set[tuple[str, str]]],
    emitted_pairs: dict[str, set[tuple[str, str]]],
) -> str:
    """The generated module's source text, sorted so reruns give the same file."""
    lines = [
        '"""Generated by scripts/gen_allowlists.py from the installed libraries: do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        "LIBRARY_VERSIONS: Final[dict[str, str]] = {",
    ]
    lines += [f"    {k!r}: {v!r}," for k, v in sorted(versions.items())]
    lines += ["}", "", "# Classes rebuilt as class + state (no __init__, no custom __reduce__)."]
    for title, table in (("STATE_CLASSES", classes), ("EMITTED", emitted_pairs)):
        if title == "EMITTED":
            lines += ["", "# Globals that pickling real objects of each library writes."]
        lines.append(f"{title}: Final[dict[str, tuple[tuple[str, str], ...]]] = {{")
        for lib in sorted(table):
            lines.append(f"    {lib!r}: (")
            lines += [f"        ({m!r}, {n!r})," for m, n in sorted(table[lib])]
            lines.append("    ),")
        lines.append("}")
    lines += [
        "",
        "# Top-level packages profiled above: an unknown class inside one of them that is only",
        "# constructed and given state is 'review', not 'block'.",
        "NAMESPACES: Final[frozenset[str]] = frozenset(",
        "    {",
    ]
    tops = sorted(set(versions) | {"pytorch_lightning", "lightning_fabric"})
    lines += [f"        {t!r}," for t in tops]
    lines += ["    }", ")", ""]
    return "\n".join(lines)


def _formatted(text: str) -> str:
    """The text as `ruff format` leaves it, so the committed file passes `make check`."""
    import subprocess

    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(OUT), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return proc.stdout


def main() -> None:
    """Inspect, pickle, write (or compare with --check)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    versions: dict[str, str] = {}
    classes: dict[str, set[tuple[str, str]]] = {}
    for lib, (dist, packages) in LIBRARIES.items():
        try:
            versions[lib] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            print(f"{lib}: not installed, skipped", file=sys.stderr)
            continue
        classes[lib] = state_classes(lib.split(".")[0], packages)
        print(f"{lib} {versions[lib]}: {len(classes[lib])} state classes", file=sys.stderr)
    emitted_pairs: dict[str, set[tuple[str, str]]] = {}
    for lib, objs in sample_objects().items():
        emitted_pairs[lib] = emitted(o for _, o in objs)
        print(f"{lib}: {len(objs)} objects, {len(emitted_pairs[lib])} globals", file=sys.stderr)
    text = _formatted(render(versions, classes, emitted_pairs))
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else f"{OUT} differs from the installed libraries")
        sys.exit(0 if same else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
