"""Count the tensors a PyTorch checkpoint declares, through the emulated pickle machine.

Nothing is unpickled: the pickle is followed by `pickle_vm.Machine`, which records the
persistent ids `torch.save` writes for every storage, `('storage', torch.FloatStorage, key,
location, numel)`, and the `_rebuild_tensor_v2(storage, offset, size, stride, ...)` calls that
give each tensor its shape. The storage sizes are checked against the archive's `data/<key>`
members, so a pickle that lies about its storages is reported, not believed.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .model import LimitExceeded
from .pickle_values import Global
from .pickle_vm import Machine

__all__ = ["StorageInfo", "TorchCensus", "census_torch_bytes", "census_torch_file"]

# Legacy typed-storage class names -> (dtype name as safetensors writes it, bytes per element).
STORAGE_DTYPES: Final[dict[str, tuple[str, int]]] = {
    "DoubleStorage": ("F64", 8),
    "FloatStorage": ("F32", 4),
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
    "ComplexFloatStorage": ("C64", 8),
    "ComplexDoubleStorage": ("C128", 16),
    "Float8_e4m3fnStorage": ("F8_E4M3", 1),
    "Float8_e5m2Storage": ("F8_E5M2", 1),
    "UntypedStorage": ("U8", 1),
}

_MAX_PICKLE: Final = 256 * 1024 * 1024
_MAX_MEMBERS: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """One storage the pickle declares: its key, dtype, element count and bytes on disk."""

    key: str
    dtype: str
    numel: int
    itemsize: int
    stored_bytes: int | None  # size of archive member data/<key>, None when absent


@dataclass(slots=True)
class TorchCensus:
    """Storages and tensor shapes one checkpoint declares, and what could not be read."""

    storages: list[StorageInfo] = field(default_factory=list)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> int:
        """Elements over unique storages (tensors sharing a storage count once)."""
        return sum(s.numel for s in self.storages)

    def dtypes(self) -> dict[str, int]:
        """Element count per dtype."""
        out: dict[str, int] = {}
        for s in self.storages:
            out[s.dtype] = out.get(s.dtype, 0) + s.numel
        return out


def _deadline_check(deadline: float) -> Any:
    def check() -> None:
        if time.monotonic() > deadline:
            raise LimitExceeded("time_seconds", "tensor census took too long")

    return check


def _storage(pid: Any) -> tuple[str, str, int, int] | None:
    # ('storage', <Global torch.FloatStorage>, key, location, numel)
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
        return None
    cls, key, numel = pid[1], pid[2], pid[4]
    if not isinstance(cls, Global) or not isinstance(key, str) or not isinstance(numel, int):
        return None
    dtype, size = STORAGE_DTYPES.get(cls.name, (cls.name, 0))
    return key, dtype, numel, size


def _shapes(calls: list[Any]) -> Iterator[tuple[int, ...]]:
    for call in calls:
        func = call.func
        if not isinstance(func, Global) or func.module != "torch._utils":
            continue
        if not func.name.startswith("_rebuild_tensor") or not isinstance(call.args, tuple):
            continue
        if len(call.args) >= 3 and isinstance(call.args[2], tuple):
            size = call.args[2]
            if all(isinstance(d, int) and d >= 0 for d in size):
                yield tuple(size)


def census_pickle(
    data: bytes | memoryview, *, member_sizes: dict[str, int], time_seconds: float = 30.0
) -> TorchCensus:
    """Census of one torch pickle; member_sizes maps storage keys to their bytes on disk."""
    out = TorchCensus()
    buf = memoryview(data)
    machine = Machine(buf, 1 << 20, 1 << 20, _deadline_check(time.monotonic() + time_seconds))
    try:
        res = machine.run(0, len(buf))
    except LimitExceeded as exc:
        out.problems.append(f"pickle could not be followed: {exc}")
        return out
    if res.error:
        out.problems.append(f"pickle could not be fully followed: {res.error}")
    seen: set[str] = set()
    for pid in res.persistent:
        info = _storage(pid)
        if info is None:
            out.problems.append(f"persistent id is not a storage: {str(pid)[:80]}")
            continue
        key, dtype, numel, size = info
        if key in seen:
            continue
        seen.add(key)
        stored = member_sizes.get(key)
        out.storages.append(StorageInfo(key, dtype, numel, size, stored))
        if stored is None:
            out.problems.append(f"storage {key!r} has no data/{key} member")
        elif size and stored != numel * size:
            out.problems.append(
                f"storage {key!r} declares {numel} x {size} bytes but data/{key} holds "
                f"{stored} bytes"
            )
    out.shapes.extend(_shapes(res.calls))
    return out


def census_torch_file(path: Path, *, time_seconds: float = 30.0) -> TorchCensus:
    """Census of a PyTorch zip checkpoint (torch.save since 1.6) without unpickling it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_MEMBERS:
                return TorchCensus(problems=[f"archive has more than {_MAX_MEMBERS} members"])
            pickles = [
                i for i in infos if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"
            ]
            if not pickles:
                return TorchCensus(problems=["no data.pkl: not a PyTorch zip checkpoint"])
            main = pickles[0]
            prefix = main.filename[: -len("data.pkl")]
            sizes = {
                i.filename[len(prefix) + len("data/") :]: i.file_size
                for i in infos
                if i.filename.startswith(prefix + "data/")
            }
            if main.file_size > _MAX_PICKLE:
                return TorchCensus(problems=[f"data.pkl is larger than {_MAX_PICKLE} bytes"])
            with zf.open(main) as fh:
                data = fh.read(_MAX_PICKLE + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return TorchCensus(problems=[f"not a readable PyTorch zip checkpoint: {exc}"])
    return census_pickle(data, member_sizes=sizes, time_seconds=time_seconds)


def census_torch_bytes(data: bytes, *, time_seconds: float = 30.0) -> TorchCensus:
    """Census of a raw pickle (no archive): storage sizes cannot be checked against data."""
    return census_pickle(data, member_sizes={}, time_seconds=time_seconds)
