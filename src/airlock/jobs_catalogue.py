"""Imports every module that registers job handlers, so web and worker processes know them all."""

from __future__ import annotations

import importlib
import importlib.util

_MODULES = (
    "airlock.submissions.jobs",
    "airlock.vault.jobs",
    "airlock.scanning.jobs",
)

for _name in _MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)

import airlock.checks_catalogue  # noqa: E402, F401 - registers every check and its jobs
