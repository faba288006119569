"""Training-data samples: personal data and secrets, and datasets without licence or provenance.

Samples (JSON Lines, CSV, Parquet, plain text) are streamed with limits on bytes, rows, line
length and time; every string value goes through `detectors.Detector`. Reports carry counts per
kind and redacted examples with their row and field, never a raw value.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .detectors import PERSONAL, SECRET, Detector, Hit, redact
from .manifests import check_manifests
from .results import CheckReport, CheckResult, DossierView, Severity

CHECK: Final = "datasamples"
VERSION: Final = "1.0.0"
SAMPLE_SUFFIXES: Final = frozenset({".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".txt"})
EXAMPLES_PER_KIND: Final = 3
MAX_JSON_DEPTH: Final = 32


@dataclass(frozen=True, slots=True)
class SampleLimits:
    """Bounds on one sample: bytes read, rows, one line's length, and wall time."""

    max_bytes: int = 256 * 1024 * 1024
    max_rows: int = 1_000_000
    max_line: int = 1024 * 1024
    time_seconds: float = 120.0


@dataclass(slots=True)
class SampleReport:
    """What one sample holds: counts per kind, redacted examples, and why it stopped."""

    path: str
    format: str
    rows: int = 0
    rows_seen: int = 0
    bytes_read: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {PERSONAL: {}, SECRET: {}})
    examples: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def add(self, hit: Hit, where: str) -> None:
        """Count one hit and keep a redacted example of the first few of each kind."""
        bucket = self.counts[hit.category]
        bucket[hit.kind] = bucket.get(hit.kind, 0) + 1
        ex = self.examples.setdefault(hit.kind, [])
        if len(ex) < EXAMPLES_PER_KIND:
            ex.append(f"{where}: {redact(hit)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (no raw values exist here to leak)."""
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "bytes_read": self.bytes_read,
            "encoding": self.encoding,
            "counts": self.counts,
            "examples": self.examples,
            "problems": self.problems,
        }


class _Stop(Exception):
    """A limit was reached: the sample is reported as partly scanned."""


def _strings(value: Any, key: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(field path, string) for every string in a decoded JSON value, bounded in depth."""
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{key}.{k}" if key else str(k), depth + 1)
        for k in value:  # keys can hold data too (emails as keys of a contacts map)
            if isinstance(k, str) and len(k) > 5:
                yield f"{key}(key)", k
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{key}[{i}]", depth + 1)


def _sniff_encoding(head: bytes) -> tuple[str | None, str]:
    """(codec, why) from a file's first bytes; codec None means binary."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return codec, f"byte-order mark says {codec}"
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le", "UTF-16 (little-endian) without a byte-order mark"
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be", "UTF-16 (big-endian) without a byte-order mark"
        return None, "contains NUL bytes: binary, not text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sniff
            return "latin-1", f"not UTF-8 (byte {exc.start}); read as Latin-1"
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if head and controls / len(head) > 0.05:
        return None, "mostly control bytes: binary, not text"
    return "utf-8", ""


def _lines(
    path: Path, report: SampleReport, limits: SampleLimits, deadline: float
) -> Iterator[str]:
    with path.open("rb") as raw:
        head = raw.read(64 * 1024)
        codec, why = _sniff_encoding(head)
        if codec is None:
            report.problems.append(why)
            return
        if why and codec == "latin-1":
            report.problems.append(why)
        report.encoding = codec
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="")
        while True:
            line = text.readline(limits.max_line + 1)
            if not line:
                return
            report.rows_seen += 1
            if report.rows_seen % 64 == 0:  # tell() is a system call: check now and then
                report.bytes_read = raw.tell()
                _bounds(report, limits, deadline, report.bytes_read)
            if len(line) > limits.max_line:
                report.problems.append(
                    f"line {report.rows + 1} is longer than {limits.max_line}; cut"
                )
                while line and not line.endswith("\n"):
                    line = text.readline(limits.max_line)
                    if raw.tell() > limits.max_bytes:
                        break
                line = ""
            if report.rows >= limits.max_rows:
                _bounds(report, limits, deadline, 0)
            yield line
        report.bytes_read = raw.tell()


def _bounds(report: SampleReport, limits: SampleLimits, deadline: float, pos: int) -> None:
    if pos > limits.max_bytes:
        report.problems.append(f"stopped after {limits.max_bytes} bytes (limit)")
        raise _Stop
    if report.rows >= limits.max_rows:
        report.problems.append(f"stopped after {limits.max_rows} rows (limit)")
        raise _Stop
    if time.monotonic() > deadline:
        report.problems.append("stopped at the time limit")
        raise _Stop


def _scan_fields(
    det: Detector, rep: SampleReport, fields: list[tuple[str, str]], where: str, label: str
) -> None:
    """Scan a row's strings in one call (newline-joined, so no match spans two fields); each
    hit is then attributed to the field that holds it."""
    if not fields:
        return
    joined = "\n".join(s for _, s in fields)
    for hit in det.scan(joined):
        name = next((k for k, s in fields if hit.value in s), "")
        rep.add(hit, f"{where} {label} {name}" if name else where)


def _scan_jsonl(path: Path, rep: SampleReport, det: Detector, lim: SampleLimits, dl: float) -> None:
    bad = 0
    for line in _lines(path, rep, lim, dl):
        rep.rows += 1
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            bad += 1
            value = line  # still scan the text of a malformed row
        _scan_fields(det, rep, list(_strings(value, "")), f"row {rep.rows}", "field")
    if bad:
        rep.problems.append(f"{bad} row(s) are not valid JSON (scanned as text)")


def _scan_csv(path: Path, rep: SampleReport, det: Detector, lim: SampleLimits, dl: float) -> None:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    csv.field_size_limit(lim.max_line)
    reader = csv.reader(_lines(path, rep, lim, dl), delimiter=delimiter)
    header: list[str] = []
    try:
        for row in reader:
            rep.rows += 1
            if rep.rows == 1:
                header = [h[:40] for h in row]
            cells = [
                (header[i] if i < len(header) else str(i + 1), cell) for i, cell in enumerate(row)
            ]
            _scan_fields(det, rep, cells, f"row {rep.rows}", "column")
    except csv.Error as exc:
        rep.problems.append(f"CSV stops being readable at row {rep.rows + 1}: {exc}")


def _scan_text(path: Path, rep: SampleReport, det: Detector, lim: SampleLimits, dl: float) -> None:
    for line in _lines(path, rep, lim, dl):
        rep.rows += 1
        for hit in det.scan(line):
            rep.add(hit, f"line {rep.rows}")


def _scan_parquet(
    path: Path, rep: SampleReport, det: Detector, lim: SampleLimits, dl: float
) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        rep.problems.append("pyarrow is not installed: Parquet not scanned")
        return
    try:
        pf = pq.ParquetFile(path)
        cols = [
            f.name
            for f in pf.schema_arrow
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        if not cols:
            rep.problems.append("no string columns to scan")
            return
        for batch in pf.iter_batches(batch_size=1024, columns=cols):
            start = rep.rows
            rep.rows += batch.num_rows
            rep.bytes_read += batch.nbytes
            for name in cols:
                for i, cell in enumerate(batch.column(name).to_pylist()):
                    if isinstance(cell, str):
                        for hit in det.scan(cell[: lim.max_line]):
                            rep.add(hit, f"row {start + i + 1} column {name[:40]}")
            _bounds(rep, lim, dl, rep.bytes_read)
    except (pa.ArrowException, OSError, ValueError) as exc:
        rep.problems.append(f"Parquet is not readable: {str(exc)[:160]}")


def scan_sample(
    path: Path, *, detector: Detector | None = None, limits: SampleLimits | None = None
) -> SampleReport:
    """Scan one sample file; never raises on bad content."""
    limits = limits or SampleLimits()
    det = detector or Detector()
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1" or suffix == ".parquet":
        fmt, scan = "parquet", _scan_parquet
    elif suffix in (".jsonl", ".ndjson"):
        fmt, scan = "jsonl", _scan_jsonl
    elif suffix in (".csv", ".tsv"):
        fmt, scan = "csv", _scan_csv
    else:
        fmt, scan = "text", _scan_text
    rep = SampleReport(str(path), fmt)
    deadline = time.monotonic() + limits.time_seconds
    try:
        scan(path, rep, det, limits, deadline)
    except _Stop:
        pass
    except OSError as exc:
        rep.problems.append(f"cannot be read: {exc.strerror}")
    return rep


def find_samples(folder: Path) -> list[Path]:
    """Data samples under folder, by suffix (links are not followed)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SAMPLE_SUFFIXES and p.is_file() and not p.is_symlink()
    )


def _dataset_results(view: DossierView) -> list[CheckResult]:
    out: list[CheckResult] = []
    for i, ds in enumerate(view.items("E", "datasets")):
        where = f"sections.E.datasets.{i}"
        name = DossierView.unwrap(ds.get("name"))
        label = name[:80] if isinstance(name, str) else f"dataset {i + 1}"
        for fld, rule, what in (
            ("licence", "DOS-DAT-003", "licence"),
            ("provenance", "DOS-DAT-004", "provenance"),
        ):
            value = DossierView.unwrap(ds.get(fld))
            if not (isinstance(value, str) and value.strip()):
                out.append(
                    CheckResult(
                        rule,
                        CHECK,
                        Severity.LOW,
                        f"Dataset has no {what}",
                        f"{where}.{fld}: dataset {label!r} states no {what}",
                        f"{where}.{fld}",
                        label,
                        {"dataset": label},
                    )
                )
    return out


def check_datasamples(
    samples: Sequence[Path],
    doc: Mapping[str, Any] | None,
    *,
    root: Path | None = None,
    limits: SampleLimits | None = None,
    manifests: Sequence[Path] = (),
) -> CheckReport:
    """Scan samples, dataset manifests and the dossier's dataset list; counts, never values."""
    view = DossierView(doc)
    det = Detector()
    declared_none = any(
        DossierView.unwrap(ds.get("personal_data")) == "none_known"
        for ds in view.items("E", "datasets")
    )
    results = _dataset_results(view) + check_manifests(manifests, root=root)
    reports = []
    for path in samples:
        rep = scan_sample(path, detector=det, limits=limits)
        rel = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else path.name
        rep.path = rel
        reports.append(rep)
        for category, rule, title, sev in (
            (PERSONAL, "DOS-DAT-001", "Personal data in a training-data sample", Severity.MEDIUM),
            (SECRET, "DOS-DAT-002", "Secrets in a training-data sample", Severity.HIGH),
        ):
            counts = rep.counts[category]
            if not counts:
                continue
            if category == PERSONAL and declared_none:
                sev = Severity.HIGH
            listed = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            results.append(
                CheckResult(
                    rule,
                    CHECK,
                    sev,
                    title,
                    f"{rel}: {listed}"
                    + (
                        "; the dossier declares no known personal data"
                        if category == PERSONAL and declared_none
                        else ""
                    ),
                    rel,
                    category,
                    {
                        "counts": dict(counts),
                        "examples": {k: rep.examples.get(k, []) for k in counts},
                    },
                )
            )
        for problem in rep.problems:
            results.append(
                CheckResult(
                    "DOS-DAT-005",
                    CHECK,
                    Severity.LOW,
                    "Sample not fully scanned",
                    f"{rel}: {problem}",
                    rel,
                    problem.split(" ")[0],
                    {},
                )
            )
    summary = {
        "samples": [r.to_dict() for r in reports],
        "datasets": len(view.items("E", "datasets")),
    }
    return CheckReport(CHECK, VERSION, summary, tuple(results))
