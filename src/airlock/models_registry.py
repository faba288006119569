"""Imports every stage's tables so the metadata (Alembic, tests) sees the whole schema."""

from __future__ import annotations

import importlib
import importlib.util

from airlock.core.db import Base

_MODULES = (
    "airlock.core.audit",
    "airlock.core.jobs",
    "airlock.core.transitions",
    "airlock.accounts.models",
    "airlock.enrollment.models",
    "airlock.submissions.models",
    "airlock.vault.models",
    "airlock.scanning.models",
    "airlock.coverage.models",
)

for _name in _MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)

metadata = Base.metadata
