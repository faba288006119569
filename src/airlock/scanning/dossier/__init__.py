"""Dossier checks: compute and thresholds, declared versus actual, integrity and signatures,
safeguards coverage against MITRE ATLAS, personal data and secrets in training-data samples.

Pure engines with no database and no web; each returns a `CheckReport` whose `CheckResult`s
the platform stores as scan results. Imports nothing from Airlock but the artifact engine's
public API.
"""

from __future__ import annotations

from .results import CheckReport, CheckResult, DossierView

__all__ = ["CheckReport", "CheckResult", "DossierView"]
