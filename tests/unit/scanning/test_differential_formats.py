"""Differential tests: the scanner's view equals what the real library's safe parser reads.

Files are generated with the real writers and mutated structure-aware (member splits, padding,
trailing bytes, prepended bytes, end-record counts, duplicate names, header bytes, field order,
unknown fields, text-format spellings, key order). `make test` runs a modest number per family;
AIRLOCK_LONG_TESTS=1 runs ten times more. Each test prints how many files it compared.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import random
import struct
import tarfile
import zipfile
from collections import Counter

import pytest
from adversarial import chat_templates, tfproto

from airlock.scanning.engine import views
from airlock.scanning.engine.model import ParseError

N = 400 if os.environ.get("AIRLOCK_LONG_TESTS") == "1" else 40


def _report(capsys: pytest.CaptureFixture[str], family: str, **counts: int) -> None:
    with capsys.disabled():
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"\ndifferential {family}: {parts}")


def _payload(rng: random.Random) -> bytes:
    n = rng.choice([0, 1, 100, 5000, 70_000])
    return bytes(rng.choice(b"abc\x00\xff") for _ in range(n // 2)) + rng.randbytes(n // 2)


def _reference_stream(kind: str, data: bytes) -> bytes:
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "bz2":
        return bz2.decompress(data)
    if kind == "xz":
        return lzma.decompress(data)
    if kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(data), read_across_frames=True
        )
        return reader.read()
    import lz4.frame

    return lz4.frame.LZ4FrameFile(io.BytesIO(data)).read()


def _compress(kind: str, data: bytes) -> bytes:
    import lz4.frame
    import zstandard

    return {
        "gzip": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zstd": zstandard.ZstdCompressor().compress,
        "lz4": lz4.frame.compress,
    }[kind](data)


def test_streams_decompress_like_pythons_modules(capsys):
    rng = random.Random(8)
    compared = rejected_by_both = 0
    for _ in range(N):
        kind = rng.choice(["gzip", "bz2", "xz", "zstd", "lz4"])
        parts = [_compress(kind, _payload(rng)) for _ in range(rng.randint(1, 4))]
        glue = {"gzip": b"\x00" * rng.randint(0, 8), "zstd": struct.pack("<II", 0x184D2A5E, 3)}
        data = (glue.get(kind, b"") if rng.random() < 0.5 else b"").join(parts)
        if rng.random() < 0.2:
            data += rng.randbytes(rng.randint(1, 40))  # trailing bytes: read or refused alike
        try:
            expected = _reference_stream(kind, data)
        except Exception:
            expected = None
        try:
            got = views.stream_bytes(data, kind)
        except ParseError:
            got = None
        if expected is None:
            rejected_by_both += got is None
            # The scanner may read what precedes the bad bytes (a loader streams them too).
            continue
        assert got == expected, kind
        compared += 1
    _report(capsys, "streams", compared=compared, refused=rejected_by_both)
    assert compared >= N // 2


class _Unseekable(io.RawIOBase):
    """A sink zipfile cannot seek in, so it writes data descriptors after each member."""

    def __init__(self) -> None:
        self.out = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.out += b
        return len(b)


def _zip(rng: random.Random) -> bytes:
    seekable = rng.random() < 0.7
    sink: io.BytesIO | _Unseekable = io.BytesIO() if seekable else _Unseekable()
    methods = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    with zipfile.ZipFile(sink, "w") as zf:
        for i in range(rng.randint(0, 6)):
            name = rng.choice(["a", "dir/b", "archive/data.pkl", "é/ü.npy", "x/"]) + str(i)
            if rng.random() < 0.15:
                name += "/"
            info = zipfile.ZipInfo(name)
            info.compress_type = rng.choice(methods)
            with zf.open(info, "w", force_zip64=rng.random() < 0.2) as f:
                f.write(_payload(rng)[:2000])
        if rng.random() < 0.3:
            zf.comment = b"comment"
    return sink.getvalue() if isinstance(sink, io.BytesIO) else bytes(sink.out)


def _mutate_zip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    m = rng.choice(["none", "prepend", "append", "count", "dup"])
    if m == "prepend":
        return rng.randbytes(rng.randint(1, 300)) + data, m
    if m == "append":
        return data + rng.randbytes(rng.randint(1, 30)), m
    if m == "count" and b"PK\x05\x06" in data:
        b = bytearray(data)
        i = b.rfind(b"PK\x05\x06")
        struct.pack_into("<HH", b, i + 8, rng.randint(0, 9), rng.randint(0, 9))
        return bytes(b), m
    if m == "dup":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("same.pkl", b"1")
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                zf.writestr("same.pkl", b"2")
        return buf.getvalue(), m
    return data, "none"


def test_zip_members_are_the_ones_zipfile_lists(capsys):
    rng = random.Random(9)
    compared = refused = 0
    kinds: Counter[str] = Counter()
    for _ in range(N * 2):
        data, how = _mutate_zip(rng, _zip(rng))
        try:
            expected = [i.filename for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
        except (zipfile.BadZipFile, ValueError, EOFError):
            refused += 1
            continue
        assert views.zip_names(data) == expected, how
        compared += 1
        kinds[how] += 1
    _report(capsys, "zip", compared=compared, zipfile_refused=refused, **kinds)
    assert compared >= N


def test_tar_reading_is_taken_exactly_when_tarfile_opens_it(capsys):
    rng = random.Random(10)
    agree = 0
    opened = 0
    for _ in range(N * 3):
        fmt = rng.choice([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            name = rng.choice(["a.pkl", '{"k": 1}', "\x80\x02x", "d/" * 60 + "f"])
            info = tarfile.TarInfo(name)
            info.size = 10
            tf.addfile(info, io.BytesIO(b"0123456789"))
        data = bytearray(buf.getvalue())
        for _ in range(rng.randint(0, 3)):
            data[rng.randrange(512)] = rng.randrange(256)
        if rng.random() < 0.5:  # half the mutations keep a valid checksum (V7-like headers)
            data[148:156] = b" " * 8
            data[148:156] = b"%06o\x00 " % (sum(data[:512]) & 0o777777)
        try:
            with tarfile.open(fileobj=io.BytesIO(bytes(data)), mode="r:"):
                expected = True
        except tarfile.TarError:
            expected = False
        assert views.is_tar(bytes(data)) == expected
        agree += 1
        opened += expected
    _report(capsys, "tar headers", compared=agree, tarfile_opened=opened)


def _keras_spellings(name: str, modules: frozenset[str]) -> list[dict[str, object]]:
    internal = sorted(m for m in modules if m.startswith("keras.src"))
    public = sorted(m for m in modules if not m.startswith("keras.src"))
    spell: list[tuple[object, object]] = [(m, None) for m in public + internal]
    if internal:
        spell.append((internal[0].rsplit(".", 1)[0], None))
    spell += [("tensorflow.keras.layers", None), ("mylib.layers", None), (public[0] if public
              else "keras", f"pkg>{name}"), ("keras.layers", "Lambda")]  # fmt: skip
    return [{"module": m, "class_name": name, "config": {}, "registered_name": r} for m, r in spell]


def test_keras_names_resolve_like_keras(capsys):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from keras.src.saving import serialization_lib as sl

    from airlock.scanning.engine.keras_registry import CLASSES, KERAS_VERSION

    assert keras.__version__ == KERAS_VERSION  # the registry was derived from this Keras
    rng = random.Random(11)
    names = sorted(CLASSES)
    compared = keras_refused = 0
    for name in rng.sample(names, min(len(names), N * 3)):
        for node in _keras_spellings(name, CLASSES[name]):
            verdict, _ = views.keras_objects(node)[0]
            try:
                obj = sl._retrieve_class_or_fn(
                    name, node["registered_name"], node["module"], "class", node, {}
                )
            except (TypeError, ValueError, AttributeError):
                obj = None
            compared += 1
            if obj is None:
                keras_refused += 1
                continue
            loaded = getattr(obj, "__name__", "")
            # What the scanner allows, Keras resolves to a registered class (or its alias,
            # e.g. GroupQueryAttention -> GroupedQueryAttention), never to Lambda or TFSMLayer.
            if verdict == "ok":
                assert loaded in CLASSES and loaded not in ("Lambda", "TFSMLayer"), node
            elif loaded == name and node["registered_name"] is None:
                raise AssertionError(f"scanner denies what Keras resolves: {node}")
    _report(capsys, "keras names", compared=compared, keras_refused=keras_refused)


def _random_graph(rng: random.Random) -> object:
    ops = ["MatMul", "AddV2", "Relu", "Const", "Placeholder", "PyFunc", "WriteFile", "Identity"]
    g = tfproto.message("GraphDef")
    for i in range(rng.randint(0, 8)):
        tfproto.node(g, f"n{i}", rng.choice(ops), (f"n{i - 1}",) if i else ())
    for j in range(rng.randint(0, 3)):
        f = g.library.function.add()
        f.signature.name = f"f{j}"
        for k in range(rng.randint(0, 4)):
            tfproto.node(f, f"m{k}", rng.choice(ops))
    return g


def _shuffle_fields(rng: random.Random, data: bytes) -> bytes:
    """Re-emit the top-level fields in a random order with unknown fields between them."""
    from google.protobuf.internal.encoder import _VarintBytes

    from airlock.scanning.engine import protobuf as pb

    buf = memoryview(data)
    chunks = []
    for num, wt, a, b in pb.fields(buf, 0, len(buf)):
        if wt == pb.LEN:
            chunks.append(_VarintBytes(num << 3 | 2) + _VarintBytes(b - a) + bytes(buf[a:b]))
        else:
            chunks.append(_VarintBytes(num << 3 | wt) + _VarintBytes(a))
    rng.shuffle(chunks)
    junk = _VarintBytes(1234 << 3 | 2) + b"\x03abc"
    return b"".join(c + (junk if rng.random() < 0.3 else b"") for c in chunks)


def test_tensorflow_ops_are_the_ones_protobuf_reads(capsys):
    rng = random.Random(12)
    counts: Counter[str] = Counter()
    for _ in range(N * 2):
        g = _random_graph(rng)
        kind = rng.choice(["graphdef", "savedmodel", "text", "shuffled"])
        if kind == "text":
            text = tfproto.to_text(g)
            if rng.random() < 0.5:
                text = "# exported\n" + text.replace('"', "'")
            assert views.tf_ops(text.encode(), "text") == tfproto.ops_of_text(text)
        elif kind == "savedmodel":
            data = tfproto.saved_model(g).SerializeToString()
            assert views.tf_ops(data, "savedmodel") == tfproto.ops_of(data, "savedmodel")
        else:
            data = g.SerializeToString()
            if kind == "shuffled":
                data = _shuffle_fields(rng, data)
            assert views.tf_ops(data, "graphdef") == tfproto.ops_of(data, "graphdef")
        counts[kind] += 1
    _report(capsys, "tensorflow", compared=sum(counts.values()), **counts)


def _onnx_paths_reference(model: object) -> list[str]:
    """Every external location, walking the onnx objects protobuf parsed."""
    out: list[str] = []

    def tensor(t: object) -> None:
        out.extend(e.value for e in t.external_data if e.key == "location")  # type: ignore[attr-defined]

    def graph(g: object) -> None:
        for n in g.node:  # type: ignore[attr-defined]
            node(n)
        for t in g.initializer:  # type: ignore[attr-defined]
            tensor(t)
        for s in g.sparse_initializer:  # type: ignore[attr-defined]
            tensor(s.values)
            tensor(s.indices)

    def node(n: object) -> None:
        for a in n.attribute:  # type: ignore[attr-defined]
            if a.HasField("t"):
                tensor(a.t)
            for t in a.tensors:
                tensor(t)
            if a.HasField("g"):
                graph(a.g)
            for sub in a.graphs:
                graph(sub)

    graph(model.graph)  # type: ignore[attr-defined]
    for f in model.functions:  # type: ignore[attr-defined]
        for n in f.node:
            node(n)
    return out


def test_onnx_external_paths_are_the_ones_onnx_reads(capsys):
    import onnx
    from onnx import TensorProto, helper

    rng = random.Random(13)
    locs = ["w.bin", "/etc/passwd", "../x", "a/b.bin", "C:\\x", "sub/../../y"]

    def tensor(name: str) -> object:
        t = helper.make_tensor(name, TensorProto.FLOAT, [1], [1.0])
        if rng.random() < 0.7:
            t.ClearField("float_data")
            t.data_location = TensorProto.EXTERNAL
            for _ in range(rng.randint(1, 2)):
                e = t.external_data.add()
                e.key, e.value = "location", rng.choice(locs)
        return t

    def graph(depth: int) -> object:
        nodes = []
        for i in range(rng.randint(0, 3)):
            kw: dict[str, object] = {}
            r = rng.random()
            if r < 0.3:
                kw["value"] = tensor(f"c{i}")
            elif r < 0.5 and depth < 3:
                kw["then_branch"] = graph(depth + 1)
                kw["else_branch"] = graph(depth + 1)
            nodes.append(helper.make_node(rng.choice(["Constant", "If"]), [], [f"o{i}"], **kw))
        g = helper.make_graph(nodes, f"g{depth}", [], [], [tensor(f"i{k}") for k in range(2)])
        if rng.random() < 0.4:
            g.sparse_initializer.append(
                helper.make_sparse_tensor(tensor("sv"), helper.make_tensor(
                    "si", TensorProto.INT64, [1], [0]), [4]))  # fmt: skip
        return g

    compared = 0
    for _ in range(N * 2):
        model = helper.make_model(graph(0))
        data = model.SerializeToString()
        if rng.random() < 0.3:
            data = b"\xfa\x3e\x03abc" + data  # an unknown field before everything
        parsed = onnx.load_from_string(data)
        assert sorted(views.onnx_external_paths(data)) == sorted(_onnx_paths_reference(parsed))
        compared += 1
    _report(capsys, "onnx external paths", compared=compared)


def test_gguf_templates_are_the_ones_gguf_reads(tmp_path, monkeypatch, capsys):
    gguf = pytest.importorskip("gguf")
    import numpy as np

    from airlock.scanning.engine import scan_path, templates

    seen: list[str] = []
    real = templates.template_view

    def record(source: str) -> object:
        seen.append(source)
        return real(source)

    monkeypatch.setattr(templates, "template_view", record)
    rng = random.Random(14)
    pool = [*chat_templates.BENIGN.values(), *chat_templates.MALICIOUS.values()]
    compared = 0
    for i in range(N):
        p = tmp_path / f"m{i}.gguf"
        w = gguf.GGUFWriter(str(p), "llama")
        kvs = [("general.name", "x" * rng.randint(0, 50)), ("tokenizer.chat_template",
               rng.choice(pool)), ("general.description", "ü" * rng.randint(0, 9))]  # fmt: skip
        rng.shuffle(kvs)
        for k, v in kvs:
            w.add_string(k, v)
        w.add_array("tokenizer.ggml.tokens", ["a", "bb", ""] * rng.randint(0, 3) or ["a"])
        w.add_uint32("general.file_type", rng.choice([0, 1]))
        w.add_tensor("t", np.zeros(rng.randint(1, 40), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        field = gguf.GGUFReader(str(p)).fields["tokenizer.chat_template"]
        expected = bytes(field.parts[field.data[0]]).decode("utf-8")
        seen.clear()
        scan_path(p)
        assert seen == [expected]
        compared += 1
    _report(capsys, "gguf templates", compared=compared)


def test_template_filters_and_tests_match_jinjas_tree(capsys):
    import jinja2
    from jinja2 import nodes

    from airlock.scanning.engine.templates import template_view

    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
    compared = 0
    for source in [*chat_templates.BENIGN.values(), *chat_templates.MALICIOUS.values()]:
        tree = env.parse(source)
        view = template_view(source)
        assert Counter(view.filters) == Counter(n.name for n in tree.find_all(nodes.Filter))
        assert Counter(view.tests) == Counter(n.name for n in tree.find_all(nodes.Test))
        assert Counter(view.attributes) == Counter(n.attr for n in tree.find_all(nodes.Getattr))
        compared += 1
    _report(capsys, "template nodes", compared=compared)
