"""Reading a public registry of known AI models (Epoch AI's datasets and look-alikes).

Column names drift between releases of the same dataset ("Organization" becomes
"Organisation(s)", "Training compute (FLOP)" loses its unit), so columns are found through
aliases and the importer reports which header it took for each field. Parsing is bounded
(bytes, rows, columns, field length) because the file comes from outside the agency.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TextIO

from airlock.coverage.rules import Confidence, dense_training_flop, parse_confidence


class RegistryFileInvalid(ValueError):
    """The file cannot be read as a registry of known models; the message says why."""


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on an imported registry file."""

    max_bytes: int = 64 * 1024 * 1024
    max_rows: int = 100_000
    max_columns: int = 400
    max_field_chars: int = 200_000


# Canonical field -> header spellings seen in Epoch AI releases and similar registries,
# compared after normalising case, spaces and punctuation.
COLUMN_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "name": ("model", "system", "model name", "name"),
    "organisation": (
        "organization",
        "organisation",
        "organization(s)",
        "organisation(s)",
        "developer",
        "organizations",
    ),
    "country": ("country (from organization)", "country", "country (of organization)"),
    "published_on": ("publication date", "release date", "date", "published"),
    "parameters": ("parameters", "parameter count", "params", "number of parameters"),
    "training_flop": (
        "training compute (flop)",
        "training compute",
        "training compute flop",
        "training flop",
        "compute (flop)",
    ),
    "finetune_flop": ("finetune compute (flop)", "fine-tune compute (flop)", "finetune compute"),
    "dataset_size": (
        "training dataset size (datapoints)",
        "training dataset size (tokens)",
        "training dataset size",
        "dataset size (tokens)",
        "dataset size",
    ),
    "confidence": ("confidence", "compute confidence", "training compute confidence"),
    "accessibility": ("model accessibility", "accessibility", "availability"),
    "domain": ("domain", "domains"),
    "frontier": ("frontier model", "frontier"),
    "link": ("link", "url", "reference link"),
}
REQUIRED: Final = ("name",)


def _normalise_header(text: str) -> str:
    text = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", " ", text)


@dataclass(frozen=True)
class KnownModelRecord:
    """One model as the registry states it, with the figures parsed."""

    source_key: str
    name: str
    organisation: str
    country: str
    published_on: date | None
    parameters: float | None
    training_flop: float | None
    finetune_flop: float | None
    dataset_size: float | None
    training_flop_estimated: bool
    confidence: Confidence
    accessibility: str
    domain: str
    frontier: bool
    link: str
    line: int


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped or a value that was ignored, with the reason (row 1 is the
    header, as a spreadsheet numbers them)."""

    line: int
    column: str
    message: str


@dataclass
class RegistryImport:
    """What a registry file held: records, problems, and which header fed each field."""

    records: list[KnownModelRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    rows_read: int = 0


def map_columns(headers: Iterable[str]) -> dict[str, str]:
    """Canonical field -> the header that supplies it; raises if a required one is missing."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(_normalise_header(header), header)
    found: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in by_norm:
                found[canonical] = by_norm[alias]
                break
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        shown = ", ".join(repr(h) for h in list(by_norm.values())[:12])
        raise RegistryFileInvalid(
            f"no column for {', '.join(missing)} (looked for "
            f"{', '.join(repr(a) for a in COLUMN_ALIASES[missing[0]])}; the file has {shown})"
        )
    return found


def source_key(name: str, organisation: str) -> str:
    """A stable key for a model across releases of a registry: name and developer, folded."""

    def fold(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")

    return f"{fold(name)}|{fold(organisation)}"[:300]


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# "~1e25", "1.2e25 (est.)", "about 3e24", "<1e23": a figure with words around it.
_HEDGED = re.compile(
    r"^(?P<before>[~≈<>]|about|approx\.?|approximately|circa|ca\.)?\s*"
    r"(?P<number>[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)\s*"
    r"(?P<after>\(?(est\.?|estimated|estimate|approx\.?|approximate)\)?)?$",
    re.IGNORECASE,
)


def parse_figure(text: str) -> float | None:
    """A non-negative finite number written like "4.64e+26", "1,000" or "" (None)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return None
    if len(cleaned) > 40 or not _NUMBER.match(cleaned):
        raise ValueError(f"not a number: {text[:40]!r}")
    return _finite(float(cleaned), text)


def _finite(value: float, text: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not a finite non-negative number: {text[:40]!r}")
    return value


def parse_hedged_figure(text: str) -> tuple[float | None, str]:
    """A figure that may carry a hedge ("~1e25", "1.2e25 (est.)"): the value and a warning
    saying how it was read ("" when it was a plain number). Raises ValueError otherwise."""
    try:
        return parse_figure(text), ""
    except ValueError:
        cleaned = text.strip().replace(",", "")
        match = _HEDGED.match(cleaned) if len(cleaned) <= 60 else None
        if not match or not (match.group("before") or match.group("after")):
            raise
        if match.group("before") in {"<", ">"}:
            raise ValueError(f"a bound, not a figure: {text[:40]!r}") from None
        value = _finite(float(match.group("number")), text)
        return value, f"read {text.strip()[:40]!r} as {value:.3g} (stated as approximate)"


def parse_day(text: str) -> date | None:
    """A date written as YYYY-MM-DD, YYYY-MM or YYYY (the first day of the period)."""
    cleaned = text.strip()
    if not cleaned:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(?:[T ].*)?", cleaned)
    if not match:
        raise ValueError(f"not a date: {cleaned[:40]!r}")
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    return date(int(year), int(month), int(day))


def _truthy(text: str) -> bool:
    return text.strip().casefold() in {"true", "yes", "1", "y", "x", "checked"}


def read_registry(stream: TextIO, *, limits: ImportLimits | None = None) -> RegistryImport:
    """Parse a registry CSV given as text: every row becomes a record or a problem.

    The file as a whole is refused (RegistryFileInvalid) when it is too large, has no name
    column, or is not CSV.
    """
    limits = limits or ImportLimits()
    text = stream.read(limits.max_bytes + 1)
    if len(text) > limits.max_bytes:
        raise RegistryFileInvalid(f"the file is larger than {limits.max_bytes} bytes")
    return _read_text(text, limits)


def read_registry_bytes(data: bytes, *, limits: ImportLimits | None = None) -> RegistryImport:
    """Parse a registry CSV given as bytes: UTF-8 (with or without a BOM), else Windows-1252
    or Latin-1, which the result names so the reader knows how it was read."""
    limits = limits or ImportLimits()
    if len(data) > limits.max_bytes:
        raise RegistryFileInvalid(f"the file is larger than {limits.max_bytes} bytes")
    if b"\x00" in data[:65536]:
        raise RegistryFileInvalid("the file is binary (it holds NUL bytes), not CSV")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        result = _read_text(text, limits)
        result.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        return result
    raise RegistryFileInvalid("the file is not text")  # latin-1 decodes anything


def _read_text(text: str, limits: ImportLimits) -> RegistryImport:
    if "\x00" in text:
        raise RegistryFileInvalid("the file holds NUL characters; it is not CSV")
    previous = csv.field_size_limit()
    csv.field_size_limit(limits.max_field_chars)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            headers = next(reader)
        except StopIteration:
            raise RegistryFileInvalid("the file is empty") from None
        except csv.Error as exc:
            raise RegistryFileInvalid(f"line 1: not CSV ({exc})") from None
        if len(headers) > limits.max_columns:
            raise RegistryFileInvalid(f"more than {limits.max_columns} columns")
        columns = map_columns(headers)
        index = {canonical: headers.index(header) for canonical, header in columns.items()}
        used = set(columns.values())
        result = RegistryImport(
            columns=columns,
            unknown_columns=[h for h in headers if h not in used and h.strip()],
            missing_columns=[name for name in COLUMN_ALIASES if name not in columns],
        )
        seen: dict[str, int] = {}
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise RegistryFileInvalid(f"line {reader.line_num}: not CSV ({exc})") from None
            result.rows_read += 1
            if result.rows_read > limits.max_rows:
                raise RegistryFileInvalid(f"more than {limits.max_rows} rows")
            if not any(cell.strip() for cell in row):
                continue
            # rows are numbered as a spreadsheet shows them: the header is row 1
            record = _record(row, index, result.rows_read + 1, result.problems)
            if record is None:
                continue
            if record.source_key in seen:
                result.problems.append(
                    RowProblem(
                        record.line,
                        "name",
                        f"repeats {record.name!r} of row {seen[record.source_key]}; kept the first",
                    )
                )
                continue
            seen[record.source_key] = record.line
            result.records.append(record)
        return result
    finally:
        csv.field_size_limit(previous)


def _record(
    row: list[str], index: Mapping[str, int], line: int, problems: list[RowProblem]
) -> KnownModelRecord | None:
    def cell(name: str) -> str:
        position = index.get(name)
        if position is None or position >= len(row):
            return ""
        return row[position]

    name = cell("name").strip()
    if not name:
        problems.append(RowProblem(line, "name", "no model name; row skipped"))
        return None
    organisation = cell("organisation").strip()

    def figure(column: str) -> float | None:
        try:
            value, warning = parse_hedged_figure(cell(column))
        except ValueError as exc:
            problems.append(RowProblem(line, column, f"{exc}; left empty"))
            return None
        if warning:
            problems.append(RowProblem(line, column, warning))
        return value

    try:
        published = parse_day(cell("published_on"))
    except ValueError as exc:
        problems.append(RowProblem(line, "published_on", f"{exc}; left empty"))
        published = None
    parameters = figure("parameters")
    dataset_size = figure("dataset_size")
    training_flop = figure("training_flop")
    estimated = False
    confidence = parse_confidence(cell("confidence"))
    if training_flop is None and parameters and dataset_size:
        # The registry's confidence speaks of its own figure, not of this estimate, and its
        # "datapoints" are tokens only for language models: the widest range applies.
        training_flop = dense_training_flop(parameters, dataset_size)
        estimated = True
        confidence = Confidence.UNKNOWN
    return KnownModelRecord(
        source_key=source_key(name, organisation),
        name=name[:300],
        organisation=organisation[:300],
        country=cell("country").strip()[:200],
        published_on=published,
        parameters=parameters,
        training_flop=training_flop,
        finetune_flop=figure("finetune_flop"),
        dataset_size=dataset_size,
        training_flop_estimated=estimated,
        confidence=confidence,
        accessibility=cell("accessibility").strip()[:120],
        domain=cell("domain").strip()[:200],
        frontier=_truthy(cell("frontier")),
        link=cell("link").strip()[:500],
        line=line,
    )
