"""Benign files written by the real libraries, the way firms save their models.

Every scikit-learn estimator, many torch.nn modules (whole and as state dicts, new and legacy
format, TorchScript), quantised tensors, NumPy arrays and generators, pandas objects, scipy
sparse matrices, xgboost and lightgbm models, transformers training arguments and configs,
Lightning checkpoints, joblib dumps with every compressor. None may be flagged.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from . import Case

_JOBLIB_COMPRESS: list[Any] = [0, 3, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)]


@cache
def _objects() -> dict[str, list[tuple[str, Any]]]:
    import benign_objects

    return benign_objects.objects_by_library()


def _obj(lib: str, name: str) -> Any:
    return dict(_objects()[lib])[name]


def _pickler(lib: str, name: str, proto: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(pickle.dumps(_obj(lib, name), protocol=proto))

    return build


def _joblib(lib: str, name: str, compress: Any) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import joblib

        joblib.dump(_obj(lib, name), path, compress=compress)

    return build


def _torch_save(
    lib: str, name: str, *, legacy: bool = False, state: bool = False
) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import torch

        obj = _obj(lib, name)
        if state:
            obj = obj.state_dict()
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)

    return build


def _names(lib: str) -> list[str]:
    return [n for n, _ in _objects()[lib]]


def _sklearn_cases() -> list[Case]:
    out = []
    for i, name in enumerate(_names("sklearn")):
        if i % 3 == 0:
            comp = _JOBLIB_COMPRESS[(i // 3) % len(_JOBLIB_COMPRESS)]
            build, fname = _joblib("sklearn", name, comp), "model.joblib"
        else:
            build, fname = _pickler("sklearn", name, (2, 3, 4, 5)[i % 4]), "model.pkl"
        out.append(Case(f"benign/{name}", "false-positive:sklearn", "benign", fname, build))
    return out


def _torch_cases() -> list[Case]:
    import torch

    out = []
    for i, name in enumerate(_names("torch")):
        obj = _obj("torch", name)
        is_module = isinstance(obj, torch.nn.Module)
        legacy = i % 7 == 3
        out.append(
            Case(
                f"benign/{name}",
                "false-positive:torch",
                "benign",
                "model.pt" if not legacy else "model.pth",
                _torch_save("torch", name, legacy=legacy),
            )
        )
        if is_module and i % 2 == 0:
            out.append(
                Case(
                    f"benign/{name}-state-dict",
                    "false-positive:torch",
                    "benign",
                    "pytorch_model.bin",
                    _torch_save("torch", name, state=True),
                )
            )
    # pickle.dumps and joblib.dump of torch objects (skorch-style pipelines): storages are
    # written as torch.storage._load_from_bytes(<torch.save bytes>).
    for i, name in enumerate(
        ("torch-sequential", "torch-nn-Linear", "torch-tensors", "torch-qtensor")
    ):
        out.append(
            Case(
                f"benign/{name}-pickled",
                "false-positive:torch",
                "benign",
                "model.pkl",
                _pickler("torch", name, (2, 3, 4, 5)[i]),
            )
        )
        out.append(
            Case(
                f"benign/{name}-joblib",
                "false-positive:torch",
                "benign",
                "model.joblib",
                _joblib("torch", name, (0, 3)[i % 2]),
            )
        )
    out += _torchscript_cases()
    return out


def _torchscript_cases() -> list[Case]:
    def scripted(kind: str) -> Callable[[Path], None]:
        def build(path: Path) -> None:
            import warnings

            import torch

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "sequential":
                    m = torch.jit.script(
                        torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU())
                    )
                elif kind == "trace":
                    m = torch.jit.trace(torch.nn.Linear(3, 3), torch.randn(1, 3))
                else:
                    _script_main_class(path)
                    return
                torch.jit.save(m, str(path))

        return build

    return [
        Case(
            f"benign/torchscript-{k}",
            "false-positive:torchscript",
            "benign",
            "model.pt",
            scripted(k),
        )
        for k in ("sequential", "trace", "main-class")
    ]


_MAIN_SCRIPT = """
import sys, warnings
import torch

class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x).relu()

warnings.simplefilter("ignore")
torch.jit.save(torch.jit.script(TinyNet()), sys.argv[1])
"""


def _script_main_class(path: Path) -> None:
    """A class scripted from __main__ is named `__torch__.TinyNet` (module `__torch__`)."""
    import subprocess
    import sys

    script = path.with_name("make_scripted_model.py")  # TorchScript reads the class source
    script.write_text(_MAIN_SCRIPT)
    try:
        subprocess.run([sys.executable, str(script), str(path)], check=True, timeout=300)
    finally:
        script.unlink()


def _numpy_cases() -> list[Case]:
    def save(name: str, kind: str) -> Callable[[Path], None]:
        def build(path: Path) -> None:
            import numpy as np

            obj = _obj("numpy", name)
            if kind == "npy":
                np.save(path, obj, allow_pickle=True)
            elif kind == "npz":
                np.savez(path, a=obj, b=np.arange(3))
            else:
                np.savez_compressed(path, a=obj)

        return build

    out = []
    for i, name in enumerate(_names("numpy")):
        obj = _obj("numpy", name)
        import numpy as np

        if isinstance(obj, np.ndarray) and not isinstance(obj, np.ma.MaskedArray):
            kind = ("npy", "npz", "npzc")[i % 3]
            ext = {"npy": "array.npy", "npz": "arrays.npz", "npzc": "arrays.npz"}[kind]
            out.append(
                Case(
                    f"benign/{name}-{kind}", "false-positive:numpy", "benign", ext, save(name, kind)
                )
            )
        out.append(
            Case(
                f"benign/{name}",
                "false-positive:numpy",
                "benign",
                "state.pkl",
                _pickler("numpy", name, 5),
            )
        )
    return out


def _pandas_cases() -> list[Case]:
    def to_pickle(name: str, ext: str) -> Callable[[Path], None]:
        def build(path: Path) -> None:
            import pandas as pd

            obj = _obj("pandas", name)
            if isinstance(obj, pd.DataFrame | pd.Series):
                obj.to_pickle(path)  # compression inferred from the extension, as users do
            else:
                path.write_bytes(pickle.dumps(obj, protocol=4))

        return build

    exts = ["frame.pkl", "frame.pkl.gz", "frame.pkl.bz2", "frame.pkl.xz"]
    return [
        Case(
            f"benign/{name}",
            "false-positive:pandas",
            "benign",
            exts[i % 4],
            to_pickle(name, exts[i % 4]),
        )
        for i, name in enumerate(_names("pandas"))
    ]


def _other_cases() -> list[Case]:
    out = []
    for lib, klass in (
        ("scipy", "scipy"),
        ("boosting", "xgboost-lightgbm"),
        ("transformers", "transformers"),
        ("lightning", "lightning"),
    ):
        for i, name in enumerate(_names(lib)):
            if lib in ("transformers", "lightning"):
                fname = "training_args.bin" if "args" in name else "last.ckpt"
                build = _torch_save(lib, name)
            elif i % 2:
                fname, build = "model.joblib", _joblib(lib, name, ("zlib", 3) if i % 4 == 1 else 0)
            else:
                fname, build = "model.pkl", _pickler(lib, name, 4)
            out.append(Case(f"benign/{name}", f"false-positive:{klass}", "benign", fname, build))

    def sparse_npz(path: Path) -> None:
        from scipy import sparse

        sparse.save_npz(path, _obj("scipy", "scipy-csr-matrix"))

    def lightning_ckpt(path: Path) -> None:
        import torch

        ck = dict(_obj("lightning", "lightning-checkpoint-dict"))
        ck["state_dict"] = torch.nn.Linear(2, 2).state_dict()
        ck["optimizer_states"] = [_obj("torch", "torch-optimizer-state")]
        ck["callbacks"] = {"ModelCheckpoint": _obj("lightning", "lightning-checkpoint-callback")}
        torch.save(ck, path)

    def safetensors_like_pickle(path: Path, target: int = 640) -> None:
        # A header of 640 bytes is written 80 02 00 00..., which also reads as PROTO 2.
        import numpy as np
        from safetensors.numpy import save

        for k in range(2000):
            data = save({"w": np.zeros(2, dtype=np.float32)}, metadata={"note": "x" * k})
            if int.from_bytes(data[:8], "little") == target:
                path.write_bytes(data)
                return
        raise AssertionError("no metadata length gives the wanted header length")

    def booster_native(kind: str) -> Callable[[Path], None]:
        def build(path: Path) -> None:
            model = _obj("boosting", "xgboost-booster" if "xgb" in kind else "lightgbm-booster")
            model.save_model(str(path))  # xgboost picks JSON or UBJSON from the suffix

        return build

    for kind, fname in (
        ("xgb-json", "model.json"),
        ("xgb-ubj", "model.ubj"),
        ("lgb-txt", "model.txt"),
    ):
        out.append(
            Case(
                f"benign/{kind}",
                "false-positive:xgboost-lightgbm",
                "benign",
                fname,
                booster_native(kind),
            )
        )
    out.append(
        Case("benign/scipy-save-npz", "false-positive:scipy", "benign", "matrix.npz", sparse_npz)
    )
    for target in (640, 0x380, 0x480):
        out.append(
            Case(
                f"benign/safetensors-header-{target}",
                "false-positive:safetensors",
                "benign",
                "model.safetensors",
                lambda path, t=target: safetensors_like_pickle(path, t),
            )
        )
    out.append(
        Case(
            "benign/lightning-full-checkpoint",
            "false-positive:lightning",
            "benign",
            "epoch=1.ckpt",
            lightning_ckpt,
        )
    )
    return out


def cases() -> list[Case]:
    """Every benign case (objects are built once, on first use)."""
    return _sklearn_cases() + _torch_cases() + _numpy_cases() + _pandas_cases() + _other_cases()
