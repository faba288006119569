"""Airlock: software for a voluntary AI model sharing and pre-release security review program."""

__version__ = "0.1.0"
