"""The adversarial corpus: malicious and benign files per class, shared by both scanner tracks.

Each case module (`pickles`, `benign`, and `formats` from the container track) exposes
`cases() -> list[Case]`. A case writes one file; malicious payloads are harmless (they would
only echo or read a marker) and are never loaded or executed by the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Case:
    """One file of the corpus."""

    name: str  # unique, e.g. "pickle/stack_global_memo_indirection"
    klass: str  # the class reported on, e.g. "pickle-gadgets", "false-positive:sklearn"
    label: Literal["malicious", "benign"]
    filename: str  # the file name a user would have (extension matters)
    build: Callable[[Path], None]  # writes the file at the given path


def build_all(cases: list[Case], root: Path) -> dict[Path, Case]:
    """Write every case under root (one folder per case, keeping the user's file name)."""
    out: dict[Path, Case] = {}
    names: set[str] = set()
    for case in cases:
        if case.name in names:
            raise ValueError(f"duplicate case name {case.name!r}")
        names.add(case.name)
        folder = root / case.name.replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / case.filename
        case.build(path)
        out[path] = case
    return out
