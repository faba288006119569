"""Fixtures for the artifact scanner tests: generated benign and malicious files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import sample_files


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[sample_files.Sample]:
    """Every generated sample (real writers for benign files, hand-written opcodes otherwise)."""
    return sample_files.generate_all(tmp_path_factory.mktemp("generated"))
