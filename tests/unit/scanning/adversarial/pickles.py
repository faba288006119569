"""Malicious pickle cases: gadgets, obfuscation, stacked and nested streams, NumPy headers,
and the loading paths of torch (zip, legacy, legacy tar) and joblib.

Drawn from the published bypass classes: picklescan, modelscan, fickling and modelaudit
advisories (memo confusion, INST, STACK_GLOBAL from the memo, BUILD on a global, pip.main,
pkgutil.resolve_name, importlib, marshal, mailcap, asyncio, debuggers, profilers, torch.load
and numpy.load nested), the JFrog, Sonatype, ReversingLabs and Trail of Bits write-ups, and
the loading paths of "The Art of Hide and Seek". Every payload only echoes a marker; the
tests never load them.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from . import Case

CMD = "echo airlock-test-marker"


# ---- opcode helpers ---------------------------------------------------------------------
def su(s: str) -> bytes:
    raw = s.encode()
    return (
        b"\x8c" + bytes([len(raw)]) + raw
        if len(raw) < 256
        else b"X" + struct.pack("<I", len(raw)) + raw
    )


def bu(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def s0(s: str) -> bytes:
    return b"S'" + s.encode() + b"'\n"


def g0(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sg(module: str, name: str) -> bytes:
    return su(module) + su(name) + b"\x93"


def frame(body: bytes) -> bytes:
    return b"\x95" + struct.pack("<Q", len(body)) + body


def p(n: int, body: bytes) -> bytes:
    """A stream at protocol n ending in STOP (framed from protocol 4)."""
    if n >= 4:
        return b"\x80" + bytes([n]) + frame(body + b".")
    if n >= 2:
        return b"\x80" + bytes([n]) + body + b"."
    return body + b"."


def reduce_call(callable_ops: bytes, args: bytes) -> bytes:
    return callable_ops + b"(" + args + b"tR"


def w(data: bytes) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(data)

    return build


# ---- gadgets: (module, name, args) that run a command, load code or open files ------------
GADGETS: list[tuple[str, str, bytes]] = [
    ("os", "system", su(CMD)),
    ("posix", "system", su(CMD)),
    ("nt", "system", su(CMD)),
    ("os", "popen", su(CMD)),
    ("os", "execv", su("/bin/echo") + b"]" + su("x") + b"a"),
    ("subprocess", "Popen", su(CMD)),
    ("subprocess", "check_output", su(CMD)),
    ("subprocess", "getoutput", su(CMD)),
    ("_posixsubprocess", "fork_exec", su(CMD)),
    ("builtins", "eval", su("1+1")),
    ("builtins", "exec", su("x=1")),
    ("builtins", "__import__", su("os")),
    ("builtins", "compile", su("1") + su("f") + su("eval")),
    ("builtins", "open", su("/etc/hostname")),
    ("builtins", "breakpoint", b""),
    ("__builtin__", "eval", su("1+1")),
    ("__builtins__", "exec", su("x=1")),
    ("_operator", "attrgetter", su("system")),
    ("operator", "methodcaller", su("system") + su(CMD)),
    ("functools", "partial", sg("os", "system") + su(CMD)),
    ("_functools", "reduce", b""),
    ("runpy", "run_path", su("/tmp/x.py")),
    ("runpy", "_run_code", su("x=1") + b"}"),
    ("pydoc", "locate", su("os.system")),
    ("pydoc", "pipepager", su("x") + su(CMD)),
    ("importlib", "import_module", su("os")),
    ("pkgutil", "resolve_name", su("os:system")),
    ("code", "InteractiveInterpreter", b""),
    ("pickle", "loads", b"C\x02N."),
    ("_pickle", "loads", b"C\x02N."),
    ("torch", "load", su("/tmp/other.pt")),
    ("torch.serialization", "load", su("/tmp/other.pt")),
    ("numpy", "load", su("/tmp/other.npy")),
    ("numpy.lib.format", "read_array", b""),
    ("pip", "main", b"]" + su("install") + b"a"),
    ("pty", "spawn", su("/bin/sh")),
    ("timeit", "timeit", su("x=1")),
    ("cProfile", "run", su("x=1")),
    ("profile", "run", su("x=1")),
    ("trace", "Trace", b""),
    ("pdb", "run", su("x=1")),
    ("bdb", "Bdb", b""),
    ("asyncio.subprocess", "create_subprocess_shell", su(CMD)),
    ("ctypes", "CDLL", su("libc.so.6")),
    ("shutil", "rmtree", su("/tmp/none")),
    ("webbrowser", "open", su("http://127.0.0.1/")),
    ("socket", "create_connection", su("127.0.0.1") + b"K\x50\x86"),
    ("urllib.request", "urlopen", su("http://127.0.0.1/")),
    ("_io", "FileIO", su("/etc/hostname")),
    ("io", "open", su("/etc/hostname")),
    ("codecs", "open", su("/etc/hostname")),
    ("linecache", "getline", su("/etc/hostname") + b"K\x01"),
    ("mailcap", "findmatch", b"}" + su("text/plain")),
    ("venv", "create", su("/tmp/v")),
    ("ensurepip", "_run_pip", b"]"),
    ("imaplib", "IMAP4_stream", su(CMD)),
    ("_osx_support", "_read_output", su(CMD)),
    ("_aix_support", "_read_cmd_output", su(CMD)),
    ("numpy.testing._private.utils", "runstring", su("x=1") + b"}"),
    ("numpy.f2py.crackfortran", "myeval", su("1")),
    ("torch.utils.bottleneck.__main__", "run_cprofile", su("x=1")),
    ("torch.fx.experimental.symbolic_shapes", "ShapeEnv", b""),
    ("torch._inductor.codecache", "compile_file", su("x")),
    ("torch.jit", "load", su("/tmp/x")),
    ("torch.hub", "load", su("a/b") + su("m")),
    ("uuid", "_get_command_stdout", su("echo")),
    ("platform", "popen", su(CMD)),
    ("marshal", "loads", b"C\x01N"),
    ("types", "FunctionType", b""),
    ("sys", "modules", b""),
    ("multiprocessing.util", "spawnv_passfds", su("/bin/echo")),
    ("logging.config", "listen", b""),
    ("tempfile", "mkdtemp", b""),
    ("glob", "glob", su("/etc/*")),
    ("distutils.file_util", "write_file", su("/tmp/x") + b"]"),
    ("setuptools.sandbox", "run_setup", su("/tmp/setup.py")),
    ("lib2to3.pgen2.pgen", "generate_grammar", su("/tmp/x")),
    ("idlelib.pyshell", "ModifiedInterpreter", b""),
    ("dill", "loads", b"C\x02N."),
    ("joblib", "load", su("/tmp/x.joblib")),
    ("pandas", "read_pickle", su("/tmp/x.pkl")),
    ("pandas.io.pickle", "read_pickle", su("/tmp/x.pkl")),
    ("transformers.dynamic_module_utils", "get_class_from_dynamic_module", su("x")),
    ("keras.src.utils", "get_file", su("x")),
    ("yaml", "unsafe_load", su("!!python/object/apply:os.system []")),
    ("jinja2", "Template", su("{{ x }}")),
    ("mypkg.unlisted", "do_things", su("x")),
    ("sklearn.utils._testing", "assert_run_python_script", su("x=1")),
]


def _gadget_cases() -> list[Case]:
    out: list[Case] = []
    for i, (mod, name, args) in enumerate(GADGETS):
        proto = (0, 2, 3, 4, 5)[i % 5]
        if proto < 2:
            body = g0(mod, name) + b"(" + args + b"tR"
        else:
            body = reduce_call(sg(mod, name) if proto >= 4 else g0(mod, name), args)
        out.append(
            Case(
                f"pickle/gadget_{mod}.{name}",
                "pickle-gadgets",
                "malicious",
                ("model.pkl", "pytorch_model.bin", "model.pt", "weights.ckpt", "est.joblib")[i % 5],
                w(p(proto, body)),
            )
        )
    return out


def _opcode_cases() -> list[Case]:
    """The same call through every opcode that imports or calls."""
    sysname = ("os", "system")
    c: list[tuple[str, bytes]] = [
        (
            "inst",
            b"(" + su(CMD) + b"i" + sysname[0].encode() + b"\n" + sysname[1].encode() + b"\n.",
        ),
        ("obj", b"\x80\x02(" + g0(*sysname) + su(CMD) + b"o."),
        ("newobj", b"\x80\x02" + g0("subprocess", "Popen") + su(CMD) + b"\x85\x81."),
        ("newobj_ex", p(4, sg("subprocess", "Popen") + su(CMD) + b"\x85}\x92")),
        ("global_proto0", g0(*sysname) + b"(" + s0(CMD) + b"tR."),
        ("stack_global_proto2", b"\x80\x02" + sg(*sysname) + su(CMD) + b"\x85R."),
        ("binunicode_names", p(4, bu("os") + bu("system") + b"\x93" + bu(CMD) + b"\x85R")),
        ("unicode_proto0_names", b"Vos\nVsystem\n\x93(V" + CMD.encode() + b"\ntR."),
        ("short_binstring_names", b"\x80\x02U\x02osU\x06system\x93U\x04echo\x85R."),
        (
            "binstring_names",
            b"\x80\x02T\x02\x00\x00\x00osT\x06\x00\x00\x00system\x93" + su(CMD) + b"\x85R.",
        ),
        ("string_escape_names", b"S'o\\x73'\nS'sy\\x73tem'\n\x93(" + s0(CMD) + b"tR."),
        ("tuple1_reduce", p(4, sg(*sysname) + su(CMD) + b"\x85R")),
        (
            "tuple3_reduce",
            p(4, sg("os", "execl") + su("/bin/echo") + su("echo") + su("x") + b"\x87R"),
        ),
        ("empty_tuple_reduce", p(4, sg("os", "getcwd") + b")R")),
        ("reduce_in_dict_value", p(4, b"}" + su("k") + sg(*sysname) + su(CMD) + b"\x85Rs")),
        ("reduce_in_list", p(4, b"](" + sg(*sysname) + su(CMD) + b"\x85Re")),
        ("reduce_nested_tuple_arg", p(4, sg(*sysname) + b"(" + su(CMD) + b"t\x85R")),
        (
            "build_setstate_call",
            p(4, sg("mypkg.evil", "Thing") + b")\x81}" + su("cmd") + su(CMD) + b"sb"),
        ),
    ]
    return [
        Case(f"pickle/opcode_{n}", "pickle-opcodes", "malicious", "model.pkl", w(data))
        for n, data in c
    ]


def _obfuscation_cases() -> list[Case]:
    memo_mix = (
        su("os")
        + b"q\x00"
        + su("system")
        + b"q\x01"
        + su("torch._utils")
        + b"\x94"
        + su("_rebuild_tensor_v2")
        + b"\x94"
        + b"0000"
        + b"h\x00h\x01\x93"
        + su(CMD)
        + b"\x85R"
    )
    long_memo = (
        su("os")
        + b"r\xff\xff\x00\x00"
        + su("system")
        + b"r\x00\x00\x01\x00"
        + b"00"
        + b"j\xff\xff\x00\x00j\x00\x00\x01\x00\x93"
        + su(CMD)
        + b"\x85R"
    )
    text_memo = b"Vos\np7\n0Vsystem\np9\n0g7\ng9\n\x93(V" + CMD.encode() + b"\ntR."
    memo_overwrite = (
        su("collections")
        + b"q\x00"
        + su("OrderedDict")
        + b"q\x01"
        + b"00"
        + su("os")
        + b"q\x00"
        + su("system")
        + b"q\x01"
        + b"00"
        + b"h\x00h\x01\x93"
        + su(CMD)
        + b"\x85R"
    )
    dup_trick = su("os") + b"2" + b"0" + su("system") + b"\x93" + su(CMD) + b"\x85R"
    pop_mark = (
        b"(" + sg("collections", "OrderedDict") + b"1" + sg("os", "system") + su(CMD) + b"\x85R"
    )
    # getattr chain: getattr(importlib.import_module("os"), "system")(CMD)
    getattr_chain = (
        sg("builtins", "getattr")
        + b"("
        + sg("importlib", "import_module")
        + su("os")
        + b"\x85R"
        + su("system")
        + b"tR"
        + su(CMD)
        + b"\x85R"
    )
    # a harmless class's attribute set by BUILD, then the global name computed from it
    build_global = (
        g0("numpy", "prod")
        + b"N(Va\nVos\nd\x86b"
        + b"0"
        + g0("numpy", "prod.a")
        + b"p0\n0"
        + b"g0\nVsystem\n\x93(V"
        + CMD.encode()
        + b"\ntR."
    )
    computed_name = (
        sg("builtins", "str")
        + b"("
        + su("o")
        + su("s")
        + b"tR"
        + su("system")
        + b"\x93"
        + su(CMD)
        + b"\x85R"
    )
    join_name = (
        su("")
        + su("join")
        + b"\x86"
        + b"0"
        + sg("_operator", "add")
        + su("o")
        + su("s")
        + b"\x86R"
        + su("system")
        + b"\x93"
        + su(CMD)
        + b"\x85R"
    )
    dotted_via_torch = sg("torch.serialization", "os.system") + su(CMD) + b"\x85R"
    dotted_via_collections = sg("collections", "_sys.modules") + b"0" + sg("os", "getcwd") + b")R"
    dunder_chain = (
        sg("collections", "OrderedDict.__init__.__globals__") + b"0" + sg("os", "getcwd") + b")R"
    )
    partial = sg("functools", "partial") + sg("os", "system") + su(CMD) + b"\x86R" + b")R"
    reconstructor_base = (
        g0("copyreg", "_reconstructor")
        + b"("
        + g0("mypkg.evil", "Thing")
        + g0("subprocess", "Popen")
        + s0(CMD)
        + b"tR"
    )
    ext_code = b"\x80\x02\x82\x01" + su(CMD) + b"\x85R."
    ext2_code = b"\x80\x02\x83\x01\x01)R."
    ext4_code = b"\x80\x02\x84\x01\x00\x00\x01)R."
    compat_commands = g0("commands", "getoutput") + b"(" + s0(CMD) + b"tR."
    compat_copy_reg = (
        g0("copy_reg", "_reconstructor")
        + b"("
        + g0("os", "system")
        + g0("__builtin__", "object")
        + b"NtR."
    )
    reduce_on_call = sg("collections", "OrderedDict") + b")R" + b")R"
    builtins_alias_getattr = (
        g0("__builtin__", "getattr")
        + b"("
        + g0("__builtin__", "__import__")
        + b"("
        + s0("os")
        + b"tR"
        + s0("system")
        + b"tR("
        + s0(CMD)
        + b"tR."
    )
    nested_bytes = pickle.dumps(b"") and (
        sg("pickle", "loads")
        + b"C"
        + bytes([len(p(2, g0("os", "system") + b"(" + s0(CMD) + b"tR"))])
        + p(2, g0("os", "system") + b"(" + s0(CMD) + b"tR")
        + b"\x85R"
    )
    # SHORT_BINUNICODE "os" starts in the first frame and ends after it.
    straddle = (
        b"\x80\x04"
        + b"\x95"
        + struct.pack("<Q", 3)
        + b"\x8c\x02o"
        + b"s"
        + su("system")
        + b"\x93"
        + su(CMD)
        + b"\x85R."
    )
    # "GGUF" + version is also BINFLOAT + 8 bytes: the rest is an ordinary pickle.
    gguf_polyglot = b"GGUF\x03\x00\x00\x00\x00" + b"0" + sg("os", "system") + su(CMD) + b"\x85R."
    many_streams = b"".join(p(4, b"K\x01") for _ in range(70)) + p(
        4, sg("os", "system") + su(CMD) + b"\x85R"
    )
    cases = [
        ("memo_binput_memoize_mix", p(4, memo_mix)),
        ("memo_long_binput", p(4, long_memo)),
        ("memo_text_put_get", text_memo),
        ("memo_overwrite", p(4, memo_overwrite)),
        ("dup_pop_names", p(4, dup_trick)),
        ("pop_mark_hides_global", p(4, pop_mark)),
        ("getattr_import_module_chain", p(4, getattr_chain)),
        ("build_sets_attribute_on_global", build_global),
        ("stack_global_computed_by_call", p(4, computed_name)),
        ("stack_global_computed_by_operator", p(4, join_name)),
        ("dotted_name_through_torch", p(4, dotted_via_torch)),
        ("dotted_name_through_collections", p(4, dotted_via_collections)),
        ("dunder_attribute_chain", p(4, dunder_chain)),
        ("functools_partial_reduce", p(4, partial)),
        ("copyreg_reconstructor_base_popen", p(2, reconstructor_base)),
        ("ext1_copyreg_registry", ext_code),
        ("ext2_copyreg_registry", ext2_code),
        ("ext4_copyreg_registry", ext4_code),
        ("py2_commands_module_name", compat_commands),
        ("py2_copy_reg_reconstructor", compat_copy_reg),
        ("reduce_on_a_call_result", p(4, reduce_on_call)),
        ("builtins_alias_getattr_import", builtins_alias_getattr),
        ("nested_pickle_loads_bytes", p(4, nested_bytes)),
        ("frame_straddle_names", straddle),
        ("seventy_stacked_streams", many_streams),
        ("gguf_magic_pickle_polyglot", gguf_polyglot),
    ]
    return [
        Case(f"pickle/obfuscation_{n}", "pickle-obfuscation", "malicious", "model.pkl", w(data))
        for n, data in cases
    ]


def _payload() -> bytes:
    return p(2, g0("os", "system") + b"(" + s0(CMD) + b"tR")


# ---- NumPy headers ---------------------------------------------------------------------
def npy(descr: str, body: bytes, version: tuple[int, int] = (1, 0), shape: str = "(1,)") -> bytes:
    text = "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }"
    raw = text.encode("latin1" if version < (3, 0) else "utf8")
    fmt = "<H" if version == (1, 0) else "<I"
    head = 6 + 2 + struct.calcsize(fmt)
    pad = (64 - (head + len(raw) + 1) % 64) % 64
    raw = raw + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(raw)) + raw + body


NPY_OBJECT_DESCRS = [
    "'O'",
    "'|O'",
    "'<O'",
    "'>O'",
    "'=O'",
    "'O8'",
    "'O4'",
    "'object'",
    "'object_'",
    "'i4,O'",
    "'(2,)O'",
    "'2O'",
    "[('a', 'O')]",
    "[('a', '<f8'), ('b', '|O')]",
    "[('a', [('b', 'O')])]",
    "[('a', 'O', (2,))]",
    "[(('title', 'a'), 'O')]",
    "('O', (2,))",
    "['aO']",
    "{'aO': 1}",
    "[('a', '<i4'), ('b', [('c', '<f8'), ('d', 'O8')])]",
]


def _npy_cases() -> list[Case]:
    out: list[Case] = []
    for i, descr in enumerate(NPY_OBJECT_DESCRS):
        version = ((1, 0), (2, 0), (3, 0))[i % 3]
        out.append(
            Case(
                f"numpy/object_descr_{i:02}",
                "numpy-headers",
                "malicious",
                "array.npy",
                w(npy(descr, _payload(), version)),
            )
        )
    py2 = npy("u'O'", _payload(), (1, 0), "(1L,)")
    out.append(Case("numpy/py2_long_header", "numpy-headers", "malicious", "array.npy", w(py2)))

    def npz(descr: str, compress: bool) -> Callable[[Path], None]:
        def build(path: Path) -> None:
            mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zipfile.ZipFile(path, "w", mode) as z:
                z.writestr("ok.npy", npy("'<f8'", b"\x00" * 8))
                z.writestr("x.npy", npy(descr, _payload()))

        return build

    for i, descr in enumerate(("'O'", "[('a', 'O')]", "'i4,O'", "'|O'")):
        out.append(
            Case(
                f"numpy/npz_object_{i}",
                "numpy-headers",
                "malicious",
                "arrays.npz",
                npz(descr, i % 2 == 1),
            )
        )
    out.append(
        Case("numpy/raw_pickle_named_npy", "numpy-headers", "malicious", "array.npy", w(_payload()))
    )
    return out


# ---- torch loading paths -----------------------------------------------------------------
def _torch_zip(
    data_pkl: bytes, prefix: str = "archive", extra: dict[str, bytes] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", data_pkl)
        z.writestr(f"{prefix}/byteorder", b"little")
        z.writestr(f"{prefix}/version", b"3\n")
        for k, v in (extra or {}).items():
            z.writestr(f"{prefix}/{k}", v)
        z.writestr(f"{prefix}/data/0", b"\x00" * 16)
    return buf.getvalue()


LEGACY_MAGIC = bytes.fromhex("8a0a6cfc9c46f9206aa850192e")


def _streams(data: bytes, count: int) -> tuple[list[bytes], bytes]:
    """Split the first count pickle streams off data (opcode walk of pickletools)."""
    import pickletools

    out, pos = [], 0
    for _ in range(count):
        end = pos
        for op, _arg, at in pickletools.genops(data[pos:]):
            if op.name == "STOP":
                end = pos + at + 1
                break
        out.append(data[pos:end])
        pos = end
    return out, data[pos:]


def _legacy_parts(bad_at: int) -> Callable[[Path], None]:
    """A real torch.save(_use_new_zipfile_serialization=False) file with one of its five
    pickles (magic, protocol, sys info, object, storage keys) replaced by the payload."""

    def build(path: Path) -> None:
        import torch

        buf = io.BytesIO()
        torch.save({"w": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
        parts, tail = _streams(buf.getvalue(), 5)
        payload = _payload()
        if bad_at == 3:
            # the object pickle keeps its storages: the payload is stacked in front of it
            parts[3] = payload + parts[3]
        else:
            parts[bad_at] = payload
        path.write_bytes(b"".join(parts) + tail)

    return build


def _legacy_tar(member: str) -> bytes:
    """The legacy tar format: storages, tensors and pickle members, each a pickle sequence."""
    count1 = pickle.dumps(1, protocol=2)
    args = p(2, b"(X\x01\x00\x00\x000X\x03\x00\x00\x00cpu" + g0("torch", "FloatStorage") + b"t")
    storage = struct.pack("<q", 2) + b"\x00" * 8
    views = pickle.dumps([], protocol=2)
    storages = count1 + args + storage + views
    tensors = pickle.dumps(0, protocol=2)
    main = pickle.dumps({"a": 1}, protocol=2)
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001}, protocol=2),
        "storages": storages,
        "tensors": tensors,
        "pickle": main,
    }
    if member == "storages_second_args":
        members["storages"] = (
            pickle.dumps(2, protocol=2) + args + storage + _payload() + storage + views
        )
    elif member == "storages_views":
        members["storages"] = count1 + args + storage + _payload()
    elif member == "tensors_args":
        members["tensors"] = (
            pickle.dumps(1, protocol=2)
            + _payload()
            + struct.pack("<ii", 1, 0)
            + struct.pack("<qqq", 2, 1, 0)
        )
    elif member != "clean":
        members[member] = _payload()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _load_from_bytes(inner: bytes, proto: int) -> bytes:
    """What pickle.dumps of a tensor writes: torch.storage._load_from_bytes(<torch.save>)."""
    if proto >= 3:
        arg = b"B" + struct.pack("<I", len(inner)) + inner
    else:
        arg = g0("_codecs", "encode") + b"(" + bu(inner.decode("latin-1")) + su("latin1") + b"tR"
    head = (
        g0("torch.storage", "_load_from_bytes")
        if proto < 4
        else sg("torch.storage", "_load_from_bytes")
    )
    return p(proto, head + b"(" + arg + b"tR")


def _torch_cases() -> list[Case]:
    bad = _payload()
    out = [
        Case("torch/zip_data_pkl", "torch-paths", "malicious", "model.pt", w(_torch_zip(bad))),
        Case(
            "torch/zip_renamed_folder",
            "torch-paths",
            "malicious",
            "pytorch_model.bin",
            w(_torch_zip(bad, "weights_v2")),
        ),
        Case(
            "torch/zip_stacked_after_data_pkl",
            "torch-paths",
            "malicious",
            "model.pt",
            w(_torch_zip(pickle.dumps({}, protocol=2) + bad)),
        ),
        Case(
            "torch/torchscript_constants_pkl",
            "torch-paths",
            "malicious",
            "model.pt",
            w(
                _torch_zip(
                    pickle.dumps({}, protocol=2),
                    extra={"constants.pkl": bad, "code/__torch__.py": b"x"},
                )
            ),
        ),
        Case(
            "torch/torchscript_prefix_plus_os",
            "torch-paths",
            "malicious",
            "scripted.pt",
            w(
                _torch_zip(
                    p(
                        2,
                        g0("__torch__.Net", "Net")
                        + b")\x81"
                        + g0("os", "system")
                        + b"("
                        + s0(CMD)
                        + b"tR0",
                    ),
                    extra={"constants.pkl": pickle.dumps((), protocol=2)},
                )
            ),
        ),
        Case(
            "torch/zip_nested_in_tar",
            "torch-paths",
            "malicious",
            "bundle.tar",
            _tar_with("model.pt", _torch_zip(bad)),
        ),
        Case("torch/raw_pickle_named_pt", "torch-paths", "malicious", "model.pt", w(bad)),
        # ReversingLabs "nullifAI": the payload runs, then the stream breaks (the loader
        # fails only after the call).
        Case(
            "torch/broken_stream_after_payload",
            "torch-paths",
            "malicious",
            "pytorch_model.bin",
            w(_torch_zip(bad[:-1] + b"\xff\xfe" + b"garbage")),
        ),
        Case(
            "torch/broken_raw_pickle_after_payload",
            "torch-paths",
            "malicious",
            "model.pkl",
            w(b"\x80\x02" + g0("os", "system") + b"(" + s0(CMD) + b"tR" + b"\x00\x01\x02"),
        ),
        Case(
            "torch/zip_extra_pickle_member",
            "torch-paths",
            "malicious",
            "model.pt",
            w(_torch_zip(pickle.dumps({}, protocol=2), extra={"extra/state.pkl": bad})),
        ),
    ]
    out += [
        Case(
            "torch/load_from_bytes_zip",
            "torch-paths",
            "malicious",
            "model.pkl",
            w(_load_from_bytes(_torch_zip(bad), 4)),
        ),
        Case(
            "torch/load_from_bytes_pickle_p2",
            "torch-paths",
            "malicious",
            "model.pkl",
            w(_load_from_bytes(bad, 2)),
        ),
        Case(
            "torch/load_from_bytes_pickle_p5",
            "torch-paths",
            "malicious",
            "model.pkl",
            w(_load_from_bytes(bad, 5)),
        ),
        Case(
            "torch/load_from_bytes_computed",
            "torch-paths",
            "malicious",
            "model.pkl",
            w(
                p(
                    4,
                    sg("torch.storage", "_load_from_bytes")
                    + sg("builtins", "bytes")
                    + b"(K\x80K\x02tR\x85R",
                )
            ),
        ),
    ]
    for i, name in enumerate(("protocol", "sys_info", "main", "storage_keys")):
        out.append(
            Case(
                f"torch/legacy_{name}",
                "torch-paths",
                "malicious",
                "model.pth",
                _legacy_parts(i + 1),
            )
        )
    for member in ("sys_info", "pickle", "storages_second_args", "storages_views", "tensors_args"):
        out.append(
            Case(
                f"torch/legacy_tar_{member}",
                "torch-paths",
                "malicious",
                "model.tar",
                w(_legacy_tar(member)),
            )
        )
    return out


def _tar_with(name: str, data: bytes) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with tarfile.open(path, "w") as tf:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))

    return build


# ---- joblib loading paths ----------------------------------------------------------------
def _joblib_wrapper(dtype_ops: bytes, shape: int, after: bytes) -> bytes:
    """A NumpyArrayWrapper whose array body follows the BUILD, then `after`."""
    state = (
        b"}("
        + su("subclass")
        + sg("numpy", "ndarray")
        + su("shape")
        + b"K"
        + bytes([shape])
        + b"\x85"
        + su("order")
        + su("C")
        + su("dtype")
        + dtype_ops
        + su("allow_mmap")
        + b"\x89u"
    )
    head = b"\x80\x04" + sg("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b"
    return head + after


def _joblib_cases() -> list[Case]:
    f8 = (
        sg("numpy", "dtype")
        + su("f8")
        + b"\x89\x88\x87R"
        + b"(K\x03"
        + su("<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    obj = (
        sg("numpy", "dtype")
        + su("O8")
        + b"\x89\x88\x87R"
        + b"(K\x03"
        + su("|")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"
    )
    struct_obj = (
        sg("numpy", "dtype")
        + su("V16")
        + b"\x89\x88\x87R"
        + b"(K\x03"
        + su("|")
        + b"N("
        + su("a")
        + su("b")
        + b"t}("
        + su("a")
        + sg("numpy", "dtype")
        + su("f8")
        + b"\x89\x88\x87R"
        + b"K\x00\x86"
        + su("b")
        + sg("numpy", "dtype")
        + su("O8")
        + b"\x89\x88\x87R"
        + b"K\x08\x86uK\x10K\x08K\x1btb"
    )
    bad = _payload()
    data_then_bad = _joblib_wrapper(f8, 2, b"\x00" * 16) + b"0" + bad[2:]

    def compat(cls: str, filename: str) -> bytes:
        # joblib <= 0.9 wrapper: joblib.load opens the named file (np.load, allow_pickle=True)
        state = (
            b"}("
            + su("filename")
            + su(filename)
            + su("subclass")
            + sg("numpy", "ndarray")
            + su("allow_mmap")
            + b"\x88u"
        )
        return p(4, sg("joblib.numpy_pickle_compat", cls) + b")\x81" + state + b"b")

    cases = [
        ("compat_wrapper_absolute_path", compat("NDArrayWrapper", "/tmp/payload.npy")),
        ("compat_wrapper_parent_path", compat("NDArrayWrapper", "../../shared/payload.npy")),
        ("compat_zwrapper_absolute_path", compat("ZNDArrayWrapper", "/etc/passwd")),
        ("object_array_payload", _joblib_wrapper(obj, 1, bad) + b"."),
        ("structured_object_fields", _joblib_wrapper(struct_obj, 1, bad) + b"."),
        ("payload_after_array_bytes", data_then_bad),
        ("second_stream", pickle.dumps({"a": 1}, protocol=4) + bad),
    ]
    out = [Case(f"joblib/{n}", "joblib-paths", "malicious", "model.joblib", w(d)) for n, d in cases]
    import bz2
    import gzip
    import lzma
    import zlib

    comp = {
        "zlib": lambda d: zlib.compress(d),
        "gzip": lambda d: gzip.compress(d),
        "bz2": lambda d: bz2.compress(d),
        "xz": lambda d: lzma.compress(d),
        "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    }
    for cname, fn in comp.items():
        out.append(
            Case(
                f"joblib/compressed_{cname}",
                "joblib-paths",
                "malicious",
                f"model.joblib.{cname[:2]}",
                w(fn(cases[0][1])),
            )
        )
    return out


def cases() -> list[Case]:
    """Every malicious pickle-track case."""
    return (
        _gadget_cases()
        + _opcode_cases()
        + _obfuscation_cases()
        + _npy_cases()
        + _torch_cases()
        + _joblib_cases()
    )
