"""Differential tests: the scanner's view of pickles, torch, joblib and NumPy files equals the
view of the real libraries' safe readers, on files from the real writers and structure-aware
mutations of them.

References: CPython's pure-Python unpickler with stubbed imports (`reference_pickle`) for
streams, globals and call sites; `pickletools.genops` for stream boundaries; `zipfile` for
torch archives; joblib's own decompressor; `numpy.lib.format` for `.npy` headers.
AIRLOCK_LONG_TESTS=1 runs many more mutations. The counts are printed.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import io
import os
import pickle
import pickletools
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import reference_pickle as ref

from airlock.scanning.engine import Limits, scan_bytes
from airlock.scanning.engine.containers import decompress
from airlock.scanning.engine.context import ScanContext
from airlock.scanning.engine.npyheader import read_header
from airlock.scanning.engine.pickle_vm import Global, Machine

LONG = os.environ.get("AIRLOCK_LONG_TESTS") == "1"
RNG = random.Random(8)


def _objects() -> list[object]:
    import torch

    return [
        {"a": 1, "b": [1, 2, (3, 4)], "c": {"x": None}},
        collections.OrderedDict(a=1, b=2),
        collections.defaultdict(list, {"k": [1]}),
        {1, 2, 3},
        frozenset({"a"}),
        (datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.timedelta(days=2)),
        decimal.Decimal("1.25"),
        b"\x00\x01bytes",
        bytearray(b"abc"),
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([1, "x", None], dtype=object),
        np.zeros(2, dtype=[("O", "f8"), ("b", "i4")]),
        np.random.default_rng(3),
        torch.ones(2, 2),
        torch.nn.Linear(2, 2).state_dict(),
        list(range(300)),
        "x" * 300,
        [1.5, -2, 2**70, True],
        Path("/tmp/x"),
    ]


# ---- the scanner's view ------------------------------------------------------------------
def scanner_streams(
    data: bytes,
) -> list[tuple[int, int, list[tuple[str, str]], list[tuple[str, str]]]]:
    """Streams as the scanner's emulator follows them: (start, end, globals, direct calls)."""
    buf = memoryview(data)
    vm = Machine(buf, 1 << 20, 1 << 20, lambda: None)
    out = []
    pos = 0
    while pos < len(data) and len(out) < 64:
        res = vm.run(pos, len(data))
        if res.error is not None or res.end < 0:
            break
        globs = [(g.module, g.name) for g in res.globals]
        calls = [
            (s.func.module, s.func.name) if isinstance(s.func, Global) else ref.DYNAMIC
            for s in res.calls
            if s.op != "BUILD"
        ]
        out.append((res.start, res.end, globs, calls))
        pos = res.end
    return out


def reference_streams(
    data: bytes,
) -> list[tuple[int, int, list[tuple[str, str]], list[tuple[str, str]]]]:
    return [(s, e, rec.seen, rec.calls) for s, e, rec in ref.streams(data)]


def compare(data: bytes) -> str | None:
    """None when the views agree; else what differs."""
    mine, theirs = scanner_streams(data), reference_streams(data)
    bounds_mine = [(s, e) for s, e, *_ in mine]
    bounds_theirs = [(s, e) for s, e, *_ in theirs]
    if bounds_mine[: len(theirs)] != bounds_theirs:
        return f"stream bounds differ: {bounds_mine} vs {bounds_theirs}"
    for (s, _e, g1, c1), (_s, _e2, g2, c2) in zip(mine, theirs, strict=False):
        if sorted(set(g1)) != sorted(set(g2)):
            return f"globals differ at {s}: {sorted(set(g1))} vs {sorted(set(g2))}"
        if sorted(c1) != sorted(c2):
            return f"calls differ at {s}: {sorted(c1)} vs {sorted(c2)}"
    return None


def genops_globals(data: bytes) -> set[tuple[str, str]]:
    """GLOBAL/INST names as pickletools lists them (a second, opcode-level reference)."""
    out = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            m, n = str(arg).split(" ", 1)
            out.add((m, n))
    return out


# ---- structure-aware mutations -------------------------------------------------------------
def mutate(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Mutations a loader still reads: stacked streams, memo renumbering, opcode swaps."""
    yield "stacked", data + data
    yield "stacked-proto0", data + pickle.dumps({"k": [1, 2]}, protocol=0)
    ops = list(pickletools.genops(data))
    # MEMOIZE -> BINPUT n (same memo index)
    out, memo = bytearray(), 0
    last = 0
    for op, arg, pos in ops:
        if op.name == "MEMOIZE":
            out += data[last:pos] + (
                b"q" + bytes([memo]) if memo < 256 else b"r" + memo.to_bytes(4, "little")
            )
            last = pos + 1
            memo += 1
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo += 1
    if memo:
        out += data[last:]
        no_frames = _strip_frames(bytes(out))
        if no_frames is not None:
            yield "memoize-to-binput", no_frames
    # protocol byte changes (the loader accepts any opcode whatever the declared protocol)
    if data[:1] == b"\x80":
        yield "proto-2", b"\x80\x02" + data[2:]
        yield "proto-5", b"\x80\x05" + data[2:]
    # STACK_GLOBAL -> GLOBAL where the names are the two preceding SHORT_BINUNICODE ops
    for i in range(2, len(ops)):
        (o1, a1, p1), (o2, a2, _p2), (o3, _a3, p3) = ops[i - 2], ops[i - 1], ops[i]
        if (
            o3.name == "STACK_GLOBAL"
            and o1.name == "SHORT_BINUNICODE"
            and o2.name == "SHORT_BINUNICODE"
        ):
            swapped = data[:p1] + b"c" + a1.encode() + b"\n" + a2.encode() + b"\n" + data[p3 + 1 :]
            stripped = _strip_frames(swapped)
            if stripped is not None:
                yield "stack-global-to-global", stripped
            break


_NAMES = [
    "os",
    "system",
    "collections",
    "OrderedDict",
    "builtins",
    "getattr",
    "__builtin__",
    "set",
    "copy_reg",
    "_reconstructor",
    "commands",
    "getoutput",
    "numpy",
    "dtype",
    "torch",
    "Size",
    "exceptions",
    "ValueError",
    "UserDict",
    "UserDict",
    "itertools",
    "izip",
]


def random_mutations(data: bytes, count: int) -> Iterator[tuple[str, bytes]]:
    """Rename strings (module and attribute names, memo contents) and re-point memo reads."""
    base = _strip_frames(data)
    if base is None:
        return
    ops = list(pickletools.genops(base))
    strings = [(pos, arg) for op, arg, pos in ops if op.name == "SHORT_BINUNICODE"]
    gets = [(pos, arg) for op, arg, pos in ops if op.name == "BINGET"]
    puts = [arg for op, arg, _ in ops if op.name in ("BINPUT",)] or list(range(4))
    for k in range(count):
        if strings and (k % 3 or not gets):
            pos, old = RNG.choice(strings)
            new = RNG.choice(_NAMES).encode()
            size = 2 + len(old.encode())
            yield f"rename{k}", base[:pos] + b"\x8c" + bytes([len(new)]) + new + base[pos + size :]
        elif gets:
            pos, _old = RNG.choice(gets)
            yield f"reget{k}", base[:pos] + b"h" + bytes([RNG.choice(puts) % 256]) + base[pos + 2 :]


def _strip_frames(data: bytes) -> bytes | None:
    """Remove FRAME opcodes so edited streams keep valid framing."""
    try:
        ops = list(pickletools.genops(data))
    except Exception:
        return None
    out, last = bytearray(), 0
    for op, _arg, pos in ops:
        if op.name == "FRAME":
            out += data[last:pos]
            last = pos + 9
    out += data[last:]
    return bytes(out)


def _pickle_corpus() -> Iterator[tuple[str, bytes]]:
    objs = _objects()
    for i, obj in enumerate(objs):
        for proto in range(6):
            try:
                data = pickle.dumps(obj, protocol=proto)
            except Exception:
                continue
            yield f"obj{i}-p{proto}", data
            if LONG or (i + proto) % 3 == 0:
                for how, mutated in mutate(data):
                    yield f"obj{i}-p{proto}-{how}", mutated
            for how, mutated in random_mutations(data, 60 if LONG else 2):
                yield f"obj{i}-p{proto}-{how}", mutated


def test_pickle_streams_globals_and_calls_match_the_reference_unpickler():
    compared, loadable, differ = 0, 0, []
    for name, data in _pickle_corpus():
        compared += 1
        loadable += bool(ref.streams(data, limit=1))
        problem = compare(data)
        if problem is not None:
            differ.append((name, problem))
        else:
            # pickletools' GLOBAL names are a subset of what the loader imports.
            mine = scanner_streams(data)
            if mine and data[:2] in (b"\x80\x03", b"\x80\x04", b"\x80\x05"):
                first = data[: mine[0][1]]
                assert genops_globals(first) <= set(mine[0][2]), name
    print(
        f"\ndifferential pickles: {compared} generated files compared "
        f"({loadable} loadable by the reference), {len(differ)} differ"
    )
    for name, problem in differ[:10]:
        print(f"  {name}: {problem}")
    assert compared >= (2000 if LONG else 150)
    assert not differ


def test_torch_files_members_and_pickles_match_zipfile_and_the_reference(tmp_path):
    import torch

    compared = 0
    items = [torch.ones(3), torch.nn.Linear(2, 2).state_dict(), {"step": 3, "t": torch.zeros(2, 2)}]
    items += [torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())]
    for i, obj in enumerate(items):
        for legacy in (False, True):
            buf = io.BytesIO()
            torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
            data = buf.getvalue()
            compared += 1
            if legacy:
                # five stacked pickles, then raw storages: the same stream bounds and globals
                mine = scanner_streams(data)[:5]
                theirs = reference_streams(data)[:5]
                assert [(s, e, sorted(set(g))) for s, e, g, _ in mine] == [
                    (s, e, sorted(set(g))) for s, e, g, _ in theirs
                ], i
            else:
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
                    assert compare(z.read(pkl)) is None, i
            report = scan_bytes(data, name=f"t{i}.pt")
            assert report.verdict == "pass", [f.message for f in report.findings]
    print(f"\ndifferential torch: {compared} files compared")


@pytest.mark.parametrize(
    "compress", [0, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)]
)
def test_joblib_decompression_and_stream_match_joblib(tmp_path, compress):
    import joblib
    from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

    path = tmp_path / "m.joblib"
    joblib.dump({"w": np.arange(10.0), "n": "x"}, path, compress=compress)
    raw = path.read_bytes()
    with open(path, "rb") as fh, _validate_fileobject_and_memmap(fh, str(path)) as (f, _mode):
        theirs = f.read()
    if compress:
        kind = {"zlib": "zlib", "gzip": "gzip", "bz2": "bz2", "lzma": "lzma", "xz": "xz"}[
            compress[0]
        ]
        ctx = ScanContext(Limits())
        mine = bytes(decompress(ctx, memoryview(raw), kind, "m"))
        assert mine == theirs
    assert scan_bytes(raw, name="m.joblib").verdict == "pass"


# ---- NumPy headers ------------------------------------------------------------------------
_DESCRS = [
    "'<f8'",
    "'|u1'",
    "'<U3'",
    "'|S2'",
    "'<M8[ns]'",
    "'|b1'",
    "'O'",
    "'|O'",
    "'<O'",
    "'O8'",
    "'O4'",
    "'O16'",
    "'object'",
    "'object_'",
    "'Object'",
    "'i4,O'",
    "'(2,)O'",
    "'2O'",
    "'<c16'",
    "[('O', '<f8')]",
    "[('Obj', '<i4'), ('b', '<f8')]",
    "[('a', 'O')]",
    "[('a', [('b', 'O')])]",
    "[('a', '<f8', (2,))]",
    "[('a', 'O', (2,))]",
    "[(('t', 'a'), 'O')]",
    "[(('Ot', 'O'), '<f8')]",
    "('O', (2,))",
    "('<f8', (3,))",
    "['aO']",
    "['af8']",
    "{'aO': 1}",
    "[('', '|V4'), ('O', '<i4')]",
    "[('a', '<i4'), ('b', [('c', '<f8'), ('d', 'O8')])]",
    "'?'",
    "'<m8[s]'",
    "7",
    "None",
    "[('a',)]",
    "[('a', 'O', (2,), 1)]",
    "'V8'",
]


def _npy(descr: str, version: tuple[int, int], shape: str = "(1,)", order: str = "False") -> bytes:
    keys = [f"'descr': {descr}", f"'fortran_order': {order}", f"'shape': {shape}"]
    RNG.shuffle(keys)
    text = "{" + ", ".join(keys) + ", }"
    raw = text.encode("latin1" if version < (3, 0) else "utf8")
    fmt = "<H" if version == (1, 0) else "<I"
    import struct

    raw += b" " * RNG.randrange(0, 16) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(raw)) + raw + b"\x00" * 64


def _numpy_view(data: bytes) -> tuple[tuple[int, ...], bool, bool] | None:
    from numpy.lib import _format_impl as npf  # read_magic and the header reader of all versions

    f = io.BytesIO(data)
    try:
        version = npf.read_magic(f)
        shape, order, dtype = npf._read_array_header(f, version, max_header_size=1 << 20)
    except Exception:
        return None
    return shape, order, dtype.hasobject


def test_npy_headers_match_numpy_lib_format():
    compared, conservative, differ = 0, 0, []
    versions = [(1, 0), (2, 0), (3, 0)]
    cases = [(d, v, s) for d in _DESCRS for v in versions for s in ("(1,)", "(2, 3)", "()")]
    if not LONG:
        cases = cases[::3]
    for descr, version, shape in cases:
        data = _npy(descr, version, shape)
        compared += 1
        theirs = _numpy_view(data)
        try:
            h = read_header(data)
            mine = (h.shape, h.fortran_order, h.has_object)
        except Exception:
            mine = None
        if theirs == mine:
            continue
        if theirs is None and mine is not None and mine[2]:
            conservative += 1  # NumPy refuses the file; the scanner still scans it as a pickle
            continue
        differ.append((descr, version, shape, mine, theirs))
    # real writers
    for arr in (np.zeros(3), np.array([1, None], dtype=object), np.zeros(2, dtype=[("O", "f8")])):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=True)
        compared += 1
        h = read_header(buf.getvalue())
        assert (h.shape, h.fortran_order, h.has_object) == _numpy_view(buf.getvalue())
    print(
        f"\ndifferential npy: {compared} headers compared, {len(differ)} differ, "
        f"{conservative} refused by NumPy but scanned as object arrays"
    )
    for d in differ[:10]:
        print("  ", d)
    assert not differ
