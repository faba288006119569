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
    if issubclass(cls, type):
        return False  # a metaclass: "constructing" it builds a new class from the state
    if issubclass(cls, BaseException):
        return False  # exceptions pickle through their args (a call), never as plain state
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


Uses = dict[str, set[tuple[str, str]]]


def _recorder(data: bytes, uses: Uses) -> pickle._Unpickler:  # type: ignore[name-defined]
    """CPython's pure-Python unpickler with find_class replaced by recording stubs.

    Used only on pickles this script just wrote from real objects. A stub's __new__ records
    "constructed" (NEWOBJ), its __init__ records "called" (REDUCE, INST, OBJ run __init__).
    """

    class Stub:
        _where: tuple[str, str] = ("", "")

        def __new__(cls, *args: object, **kwargs: object) -> Stub:
            uses["constructed"].add(cls._where)
            return super().__new__(cls)

        def __init__(self, *args: object, **kwargs: object) -> None:
            uses["called"].add(type(self)._where)
            # A helper handed a global (a class, a singleton) by real pickles: the scanner
            # lets such helpers receive profiled globals without counting them as called.
            if _holds_stub_class((*args, *kwargs.values()), Stub):
                uses["class_helpers"].add(type(self)._where)

        def __setstate__(self, state: object) -> None:
            pass

        def __call__(self, *args: object, **kwargs: object) -> Stub:
            return Stub()

        def append(self, item: object) -> None:
            pass

        def extend(self, items: object) -> None:
            pass

        def __setitem__(self, key: object, value: object) -> None:
            pass

    def stub_class(pair: tuple[str, str]) -> type:
        uses["referenced"].add(pair)
        return type(pair[1].replace(".", "_") or "_", (Stub,), {"_where": pair})

    class Recorder(pickle._Unpickler):  # type: ignore[name-defined,misc]
        def persistent_load(self, pid: object) -> object:
            return Stub.__new__(Stub)  # torch storages: data, not code

        def find_class(self, module: str, name: str) -> object:
            if self.proto < 3 and self.fix_imports:
                import _compat_pickle

                if (module, name) in _compat_pickle.NAME_MAPPING:
                    module, name = _compat_pickle.NAME_MAPPING[(module, name)]
                elif module in _compat_pickle.IMPORT_MAPPING:
                    module = _compat_pickle.IMPORT_MAPPING[module]
            if (module, name) == ("builtins", "getattr"):
                uses["referenced"].add((module, name))
                return self._getattr
            return stub_class((module, name))

        def _getattr(self, obj: object, attr: str) -> object:
            # getattr(SomeClass, "name") is how pickle writes bound class methods; the
            # scanner judges it as the dotted global, so record that.
            where = getattr(obj, "_where", None)
            if where is None:
                return Stub.__new__(Stub)
            return stub_class((where[0], f"{where[1]}.{attr}"))

    return Recorder(io.BytesIO(data))


def _holds_stub_class(args: tuple[object, ...], stub: type, depth: int = 0) -> bool:
    # The same reach as the scanner's view of call arguments: the tuple and tuples in it.
    for a in args:
        if isinstance(a, type) and issubclass(a, stub):
            return True
        if isinstance(a, tuple) and depth < 1 and _holds_stub_class(a, stub, depth + 1):
            return True
    return False


def record(data: bytes, uses: Uses) -> None:
    """Read one of our own pickles with the recording unpickler (nothing real is imported)."""
    try:
        _recorder(data, uses).load()
    except Exception:
        # Fall back on the opcode listing for GLOBAL/INST names (referenced only).
        for op, arg, _pos in pickletools.genops(data):
            if op.name in ("GLOBAL", "INST"):
                module, name = str(arg).split(" ", 1)
                uses["referenced"].add((module, name))


def emitted(objects: Iterable[object]) -> Uses:
    """How pickling real objects (pickle 2/4/5 and torch.save) uses each global."""
    uses: Uses = {
        "called": set(),
        "constructed": set(),
        "referenced": set(),
        "class_helpers": set(),
    }
    for obj in objects:
        for proto in (2, 4, 5):
            try:
                data = pickle.dumps(obj, protocol=proto)
            except Exception:  # noqa: S112 - a module or object the library cannot build here
                continue
            record(data, uses)
        if type(obj).__module__.split(".")[0] == "torch" or isinstance(obj, dict):
            record_torch_save(obj, uses)
    for key in uses:
        uses[key] = {p for p in uses[key] if not is_dangerous(*p) and p[0] != "__main__"}
    uses["constructed"] -= uses["called"]
    uses["referenced"] -= uses["called"] | uses["constructed"] | {("builtins", "getattr")}
    return uses


def record_torch_save(obj: object, uses: Uses) -> None:
    """torch.save writes data.pkl with persistent ids for storages: read it the same way."""
    import zipfile

    try:
        import torch

        buf = io.BytesIO()
        torch.save(obj, buf)
    except Exception:
        return
    with zipfile.ZipFile(buf) as z:
        for name in z.namelist():
            if name.endswith("/data.pkl"):
                record(z.read(name), uses)


def sample_objects() -> dict[str, list[object]]:
    """The real objects the benign test corpus pickles, grouped by library."""
    import benign_objects

    return benign_objects.objects_by_library()


def render(
    versions: dict[str, str],
    classes: dict[str, set[tuple[str, str]]],
    emitted_pairs: dict[str, set[tuple[str, str]]],
    referenced: dict[str, set[tuple[str, str]]],
    helpers: dict[str, set[tuple[str, str]]],
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
    comments = {
        "EMITTED": "# Globals that pickling real objects of each library calls "
        "(REDUCE, INST, OBJ).",
        "REFERENCED": "# Globals real pickles only name "
        "(held as attributes, rebuild-helper arguments).",
        "CLASS_HELPERS": "# Called globals that real pickles hand a class "
        "or singleton as an argument.",
    }
    for title, table in (
        ("STATE_CLASSES", classes),
        ("EMITTED", emitted_pairs),
        ("REFERENCED", referenced),
        ("CLASS_HELPERS", helpers),
    ):
        if title in comments:
            lines += ["", comments[title]]
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
    proc = subprocess.run(  # noqa: S603 - the virtual environment's own ruff
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
    referenced: dict[str, set[tuple[str, str]]] = {}
    helpers: dict[str, set[tuple[str, str]]] = {}
    for lib, objs in sample_objects().items():
        uses = emitted(o for _, o in objs)
        emitted_pairs[lib] = uses["called"]
        helpers[lib] = uses["class_helpers"]
        # Classes real pickles only construct join the state classes of their library.
        classes.setdefault(lib, set()).update(uses["constructed"])
        referenced[lib] = uses["referenced"]
        counts = ", ".join(f"{len(v)} {k}" for k, v in uses.items())
        print(f"{lib}: {len(objs)} objects; globals {counts}", file=sys.stderr)
    text = _formatted(render(versions, classes, emitted_pairs, referenced, helpers))
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else f"{OUT} differs from the installed libraries")
        sys.exit(0 if same else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
