"""Behavioural probes of a shared model's endpoint (the engine lives in `probes.engine`)."""
