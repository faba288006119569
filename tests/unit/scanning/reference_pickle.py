"""A safe reference view of a pickle: CPython's own pure-Python unpickler with every import
replaced by a recording stub, so nothing named in the data is imported or run.

It reads opcodes, the memo, marks, frames, Python 2 name mapping and getattr chains exactly
as `pickle.load` does, and records which globals are resolved and which are called. The
differential tests compare the scanner's emulator with it, stream by stream.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

DYNAMIC = ("<dynamic>", "<dynamic>")


class _Stub:
    _where: tuple[str, str] = DYNAMIC
    _calls: list[tuple[str, str]] | None = None

    def __new__(cls, *args: object, **kwargs: object) -> _Stub:
        if cls._calls is not None:
            cls._calls.append(cls._where)
        return super().__new__(cls)

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        if self._calls is not None:
            self._calls.append(DYNAMIC)
        return _Stub()

    def __setstate__(self, state: object) -> None:
        pass

    def append(self, item: object) -> None:
        pass

    def extend(self, items: object) -> None:
        pass

    def __setitem__(self, key: object, value: object) -> None:
        pass


class Recorder(pickle._Unpickler):  # type: ignore[name-defined,misc]
    """Unpickler whose find_class records (module, name) and returns a stub class."""

    def __init__(self, data: bytes | io.BytesIO) -> None:
        super().__init__(io.BytesIO(data) if isinstance(data, bytes) else data)
        self.seen: list[tuple[str, str]] = []
        self.calls: list[tuple[str, str]] = []

    def persistent_load(self, pid: Any) -> Any:
        # torch's legacy loader returns the class of a ("module", cls, ...) record.
        if isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "module":
            return pid[1]
        return _Stub()

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3 and self.fix_imports:
            import _compat_pickle

            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.seen.append((module, name))
        if (module, name) in (("builtins", "getattr"),):
            return self._getattr
        return type(
            name.replace(".", "_") or "_",
            (_Stub,),
            {"_where": (module, name), "_calls": self.calls},
        )

    def _getattr(self, obj: object, attr: object) -> object:
        where = getattr(obj, "_where", None)
        if (
            isinstance(obj, type)
            and where is not None
            and isinstance(attr, str)
            and attr.isidentifier()
            and not attr.startswith("__")
        ):
            pair = (where[0], f"{where[1]}.{attr}")
            self.seen.append(pair)
            return type(attr, (_Stub,), {"_where": pair, "_calls": self.calls})
        self.calls.append(("builtins", "getattr"))
        return _Stub()


def streams(data: bytes, limit: int = 64) -> list[tuple[int, int, Recorder]]:
    """Follow stacked streams as repeated pickle.load calls would: (start, end, recorder)."""
    out = []
    f = io.BytesIO(data)
    while f.tell() < len(data) and len(out) < limit:
        start = f.tell()
        rec = Recorder(f)
        try:
            rec.load()
        except Exception:
            break
        out.append((start, f.tell(), rec))
    return out
