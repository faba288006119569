"""A failed job's log line names where it failed (code), never the data it held."""

from __future__ import annotations

from airlock.core.jobs import failed_at


def _boom(secret: str) -> None:
    raise ValueError(secret)


def test_failed_at_names_the_file_line_and_function_but_not_the_message() -> None:
    try:
        _boom("confidential-marker")
    except ValueError as exc:
        where = failed_at(exc)
    assert where.startswith("test_jobs_failed_at.py:") and where.endswith(" in _boom")
    assert "confidential-marker" not in where


def test_an_exception_never_raised_has_no_place() -> None:
    assert failed_at(ValueError("x")) == "unknown place"
