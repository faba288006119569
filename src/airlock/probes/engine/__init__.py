"""Behavioural probe engine: packs, targets, detectors, scoring and runs.

It imports nothing from the rest of Airlock, so `airlock probe run` works with no server and
no database.
"""

ENGINE_NAME = "airlock-probes"
ENGINE_VERSION = "1.0.0"
